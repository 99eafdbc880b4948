"""casebook's own OpenAPI 3.1 document, served at ``/api/v2/openapi.json``, and the docs' table.

Both are built from the operation registry (``http/registry.py``); schemas come
from the msgspec Structs that decode requests and encode responses, so neither
can drift from the code. Paths, operationIds and parameters match
``shared/spec/case-management.openapi.yaml`` (``tests/http/test_registry.py``
checks), with the real service's content types and error bodies.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path
from typing import Any

import msgspec

from casebook import __version__
from casebook.http.errors import JSON, JSONAPI
from casebook.http.registry import NOT_YET, OPERATIONS, PATH_PARAMS, Operation, case_id_pattern

_ERROR_TITLES = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
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


def _error(status: int, style: str) -> dict[str, Any]:
    # Authentication failures answer Datadog's legacy body everywhere.
    legacy = style == "legacy" or status == 403
    media, schema = (JSON, "APIErrorResponse") if legacy else (JSONAPI, "JSONAPIErrorResponse")
    return {
        "description": _ERROR_TITLES[status],
        "content": {media: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _operation(op: Operation, refs: dict[Any, dict[str, str]]) -> dict[str, Any]:
    media = JSON if op.style == "legacy" else JSONAPI
    responses: dict[str, Any] = {}
    if op.response is None:  # no body: a 204, WatchCase's 201, BulkUpdateCases's 200
        responses[str(op.success)] = {"description": "OK" if op.success == 200 else "No Content"}
    else:
        responses[str(op.success)] = {
            "description": "OK" if op.success == 200 else "CREATED",
            "content": {media: {"schema": refs[op.response]}},
        }
    # A case_id outside its pattern (``link``) makes the path another route's: 405 there.
    sibling = (405,) if "case_id" in op.path_params and 405 not in op.errors else ()
    for status in (*op.errors, *sibling, 503):
        responses[str(status)] = _error(status, op.style)
    spec: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [_TAGS.get(op.source) or ("Users" if op.style == "legacy" else "Case Management")],
        "responses": responses,
        "security": [{"apiKeyAuth": [], "appKeyAuth": []}],
        "x-scope": op.scope.value,
    }
    if op.extension:
        spec["x-casebook-extension"] = True
    if op.admin:
        spec["x-casebook-admin"] = True  # the caller's role must be admin, besides the scope
    if op.source != "cases":
        spec["x-casebook-source"] = op.source
    parameters = [_path_param(name) for name in op.path_params]
    parameters += [
        {
            "name": q.name,
            "in": "query",
            "required": q.required,
            "schema": q.schema,
            "description": q.description,
        }
        for q in op.query
    ]
    if parameters:
        spec["parameters"] = parameters
    if op.request is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": refs[op.request]}},
        }
    return spec


@functools.cache
def document() -> dict[str, Any]:
    """The whole document (built once per process)."""
    kinds = list(
        dict.fromkeys(k for op in OPERATIONS for k in (op.request, op.response) if k is not None)
    )
    schemas, components = msgspec.json.schema_components(
        kinds, ref_template="#/components/schemas/{name}"
    )
    refs = dict(zip(kinds, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs)
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


def _path_param(name: str) -> dict[str, Any]:
    param = PATH_PARAMS[name]
    schema: dict[str, Any] = {"type": "string", "maxLength": param.max_length}
    if param.convertor == "caseref":
        # Never a name the routes beside case ids use: /api/v2/cases/link/... is the links'.
        schema["pattern"] = f"^{case_id_pattern()}$"
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": param.description,
        "schema": schema,
    }


_TAGS = {"webhooks": "Webhooks Integration"}


def docs_table() -> str:
    """The operation table of ``docs/api.md`` (a test checks the page holds exactly this)."""
    lines = ["| Operation | Method and path | Success | Scope |", "|---|---|---|---|"]
    for op in OPERATIONS:
        name = f"{op.operation_id} (extension)" if op.extension else op.operation_id
        scope = f"{op.scope.value} (admins only)" if op.admin else op.scope.value
        lines.append(f"| {name} | `{op.method} {op.path}` | {op.success} | {scope} |")
    return "\n".join(lines) + "\n"


def docs_not_yet() -> str:
    """The list of ``docs/api.md`` of the spec's operations not served yet, by the work that
    brings them."""
    by_work: dict[str, list[str]] = {}
    for operation_id, work in NOT_YET.items():
        by_work.setdefault(work, []).append(operation_id)
    return "".join(
        f"- {work.capitalize()} ({len(ids)}): {', '.join(ids)}.\n" for work, ids in by_work.items()
    )


def write_docs(page: Path) -> bool:
    """Rewrite the generated sections of ``page`` (``docs/api.md``); True if it changed."""
    text = page.read_text()
    new = text
    for marker, body in (("operations", docs_table()), ("not-yet", docs_not_yet())):
        section = re.compile(rf"(<!-- {marker}[^>]*-->\n).*?(<!-- /{marker} -->)", re.S)
        new = section.sub(lambda m: f"{m[1]}{body}{m[2]}", new)  # noqa: B023 -- used at once
    if new != text:
        page.write_text(new)
    return new != text


if __name__ == "__main__":  # python -m casebook.http.openapi docs/api.md
    for name in sys.argv[1:]:
        print(f"{name}: {'rewritten' if write_docs(Path(name)) else 'up to date'}")
