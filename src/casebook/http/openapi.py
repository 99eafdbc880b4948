"""casebook's own OpenAPI 3.1 document, served at ``/api/v2/openapi.json``.

Schemas come from the msgspec Structs in ``http/schemas.py`` (the same ones
that decode requests and encode responses), so the document cannot drift from
the code; ``OPERATIONS`` lists each operation once with its Datadog
operationId, status codes and scope. Paths, operationIds and parameters match
``shared/spec/case-management.openapi.yaml`` for the implemented operations
(a test checks), with the real service's content types and error bodies.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import msgspec

from casebook import __version__
from casebook.domain import limits
from casebook.http import schemas
from casebook.http.errors import JSON, JSONAPI, Style
from casebook.search import MAX_QUERY_LENGTH


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    method: str
    path: str
    summary: str
    scope: str
    success: int
    response: type | None
    request: type | None = None
    errors: tuple[int, ...] = (400, 403, 404, 429)
    style: Style = "jsonapi"  # "legacy": the Users API's string-array errors, application/json
    query: tuple[dict[str, Any], ...] = ()


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "maxLength": 64},
    }


_CASE_ID = _path_param("case_id", "Case's UUID or key")
_PROJECT_ID = _path_param("project_id", "Project UUID.")
_USER_ID = _path_param("user_id", "The ID of the user.")

_SEARCH_QUERY = (
    _param(
        "page[size]",
        {
            "type": "integer",
            "format": "int64",
            "default": 10,
            "minimum": 1,
            "maximum": limits.MAX_PAGE_SIZE,
        },
        "Number of items to return per page. The maximum allowed value is 100.",
    ),
    _param(
        "page[number]",
        {"type": "integer", "format": "int64", "default": 1, "minimum": 0},
        "Specific page number to return (1-based; 0 also means the first page).",
    ),
    _param(
        "sort[field]",
        {"type": "string", "enum": ["created_at", "priority", "status"]},
        "Specify which field to sort",
    ),
    _param(
        "filter",
        {"type": "string", "maxLength": MAX_QUERY_LENGTH},
        "Search query (see docs/search.md)",
    ),
    _param(
        "sort[asc]", {"type": "boolean", "default": False}, "Specify if order is ascending or not"
    ),
)

_USERS_QUERY = (
    _param(
        "page[size]",
        {
            "type": "integer",
            "format": "int64",
            "default": 10,
            "minimum": 1,
            "maximum": limits.MAX_USERS_PAGE_SIZE,
        },
        "Number of items to return per page.",
    ),
    _param(
        "page[number]",
        {"type": "integer", "format": "int64", "default": 0, "minimum": 0},
        "Specific page number to return (0-based).",
    ),
    _param(
        "sort",
        {
            "type": "string",
            "default": "name",
            "enum": ["name", "-name", "email", "-email", "modified_at", "-modified_at"],
        },
        "User attribute to order results by; prefix with - for descending.",
    ),
    _param("sort_dir", {"type": "string", "enum": ["asc", "desc"]}, "Direction of sort."),
    _param(
        "filter", {"type": "string", "maxLength": 2000}, "Filter all users by the given string."
    ),
    _param(
        "filter[status]",
        {"type": "string", "maxLength": 100},
        "Comma separated list of Active, Pending and Disabled.",
    ),
)

_CASE_CHANGE = (400, 403, 404, 413, 429)

OPERATIONS: tuple[Operation, ...] = (
    Operation("GetProjects", "get", "/api/v2/cases/projects", "Get all projects", "cases_read", 200, schemas.ProjectList, errors=(400, 403, 429)),
    Operation("CreateProject", "post", "/api/v2/cases/projects", "Create a project", "cases_write", 201, schemas.ProjectDocument, schemas.ProjectCreateRequest, errors=(400, 403, 404, 409, 413, 429)),
    Operation("GetProject", "get", "/api/v2/cases/projects/{project_id}", "Get the details of a project", "cases_read", 200, schemas.ProjectDocument),
    Operation("DeleteProject", "delete", "/api/v2/cases/projects/{project_id}", "Remove a project", "cases_write", 204, None, errors=(403, 404, 429)),
    Operation("SearchCases", "get", "/api/v2/cases", "Search cases", "cases_read", 200, schemas.CaseList, query=_SEARCH_QUERY, errors=(400, 403, 429)),
    Operation("CreateCase", "post", "/api/v2/cases", "Create a case", "cases_write", 201, schemas.CaseDocument, schemas.CaseCreateRequest, errors=_CASE_CHANGE),
    Operation("GetCase", "get", "/api/v2/cases/{case_id}", "Get the details of a case", "cases_read", 200, schemas.CaseDocument),
    Operation("UpdateStatus", "post", "/api/v2/cases/{case_id}/status", "Update case status", "cases_write", 200, schemas.CaseDocument, schemas.CaseStatusRequest, errors=_CASE_CHANGE),
    Operation("UpdatePriority", "post", "/api/v2/cases/{case_id}/priority", "Update case priority", "cases_write", 200, schemas.CaseDocument, schemas.CasePriorityRequest, errors=_CASE_CHANGE),
    Operation("AssignCase", "post", "/api/v2/cases/{case_id}/assign", "Assign case", "cases_write", 200, schemas.CaseDocument, schemas.CaseAssignRequest, errors=_CASE_CHANGE),
    Operation("UnassignCase", "post", "/api/v2/cases/{case_id}/unassign", "Unassign case", "cases_write", 200, schemas.CaseDocument, schemas.CaseEmptyRequest, errors=_CASE_CHANGE),
    Operation("ArchiveCase", "post", "/api/v2/cases/{case_id}/archive", "Archive case", "cases_write", 200, schemas.CaseDocument, schemas.CaseEmptyRequest, errors=_CASE_CHANGE),
    Operation("UnarchiveCase", "post", "/api/v2/cases/{case_id}/unarchive", "Unarchive case", "cases_write", 200, schemas.CaseDocument, schemas.CaseEmptyRequest, errors=_CASE_CHANGE),
    Operation("ListUsers", "get", "/api/v2/users", "List all users", "user_access_read", 200, schemas.UserList, query=_USERS_QUERY, errors=(400, 403, 429), style="legacy"),
    Operation("CreateUser", "post", "/api/v2/users", "Create a user", "user_access_invite", 201, schemas.UserDocument, schemas.UserCreateRequest, errors=(400, 403, 409, 413, 429), style="legacy"),
    Operation("GetUser", "get", "/api/v2/users/{user_id}", "Get user details", "user_access_read", 200, schemas.UserDocument, errors=(403, 404, 429), style="legacy"),
    Operation("UpdateUser", "patch", "/api/v2/users/{user_id}", "Update a user", "user_access_manage", 200, schemas.UserDocument, schemas.UserUpdateRequest, errors=(400, 403, 404, 409, 413, 422, 429), style="legacy"),
    Operation("DisableUser", "delete", "/api/v2/users/{user_id}", "Disable a user", "user_access_manage", 204, None, errors=(400, 403, 404, 429), style="legacy"),
)  # fmt: skip

_ERROR_TITLES = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    503: "Service Unavailable",
}

_ERROR_SCHEMAS: dict[str, Any] = {
    "APIErrorResponse": {
        "type": "object",
        "description": "Datadog's legacy error body: a list of messages.",
        "required": ["errors"],
        "properties": {"errors": {"type": "array", "items": {"type": "string"}}},
    },
    "JSONAPIErrorItem": {
        "type": "object",
        "properties": {
            "status": {"type": "string"},
            "title": {"type": "string"},
            "detail": {"type": "string"},
            "code": {"type": "string"},
            "meta": {"type": "object"},
        },
    },
    "JSONAPIErrorResponse": {
        "type": "object",
        "description": "JSON:API error objects, as the real Case Management service answers.",
        "required": ["errors"],
        "properties": {
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/JSONAPIErrorItem"}}
        },
    },
}


def _ref(kind: type) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{kind.__name__}"}


def _error(status: int, style: str) -> dict[str, Any]:
    # Authentication failures answer Datadog's legacy body everywhere.
    legacy = style == "legacy" or status == 403
    media, schema = (JSON, "APIErrorResponse") if legacy else (JSONAPI, "JSONAPIErrorResponse")
    return {
        "description": _ERROR_TITLES[status],
        "content": {media: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _operation(op: Operation) -> dict[str, Any]:
    media = JSON if op.style == "legacy" else JSONAPI
    responses: dict[str, Any] = {}
    if op.response is None:
        responses[str(op.success)] = {"description": "No Content"}
    else:
        responses[str(op.success)] = {
            "description": "OK" if op.success == 200 else "CREATED",
            "content": {media: {"schema": _ref(op.response)}},
        }
    for status in (*op.errors, 503):
        responses[str(status)] = _error(status, op.style)
    spec: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": ["Users" if op.style == "legacy" else "Case Management"],
        "responses": responses,
        "security": [{"apiKeyAuth": [], "appKeyAuth": []}],
        "x-scope": op.scope,
    }
    parameters = [
        p
        for name, p in (
            ("{case_id}", _CASE_ID),
            ("{project_id}", _PROJECT_ID),
            ("{user_id}", _USER_ID),
        )
        if name in op.path
    ]
    parameters += list(op.query)
    if parameters:
        spec["parameters"] = parameters
    if op.request is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": _ref(op.request)}},
        }
    return spec


@functools.cache
def document() -> dict[str, Any]:
    """The whole document (built once per process)."""
    kinds = [k for op in OPERATIONS for k in (op.request, op.response) if k is not None]
    _, components = msgspec.json.schema_components(
        kinds, ref_template="#/components/schemas/{name}"
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "casebook: Datadog Case Management API v2",
            "version": __version__,
            "description": "Self-hosted, wire-compatible subset of Datadog's Case Management"
            " API v2 and the Users API it relies on.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": {**components, **_ERROR_SCHEMAS},
            "securitySchemes": {
                "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "DD-API-KEY"},
                "appKeyAuth": {"type": "apiKey", "in": "header", "name": "DD-APPLICATION-KEY"},
            },
        },
    }


@functools.cache
def document_bytes() -> bytes:
    return msgspec.json.encode(document())
