"""The ceiling: the fastest this stack can answer with no database behind it.

Starlette on uvicorn (uvloop, httptools) with orjson. ``GET /api/v2/cases/{id}``
answers a fixed case document (about 1.5 KB, the shape casebook answers) built
once at start and encoded per request; ``POST /api/v2/cases`` reads and
validates a case-creation body (about 400 B) and answers the same document
with 201. Both check that the two key headers are present, as casebook must.

Run it like casebook's workers::

    python -m uvicorn bench.ceiling:create_app --factory --workers 2 \
        --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

STANDARD_TYPE = "00000000-0000-0000-0000-000000000001"
JSONAPI = "application/vnd.api+json"

# Filler shared by the seeded cases and the ceiling document, so both answers
# are about the same size.
DESCRIPTION = (
    "Repeated failed logins from an unfamiliar network were followed by a successful"
    " login and a new API key. The key was used from two countries within an hour."
    " Check the identity provider's audit log, rotate the key, and confirm with the"
    " owner whether the access was expected. If it was not, disable the account, revoke"
    " its sessions, and open a follow-up case for the team that owns the integration."
)
CREATE_DESCRIPTION = (
    "Brute force alert from the identity provider, then a login from a new country;"
    " see the linked signal."
)


def case_document() -> dict[str, Any]:
    """A case as casebook renders one (``GET /api/v2/cases/{id}``)."""
    user = "8f9a2c1e-5b7d-4e3f-9a1b-2c3d4e5f6a7b"
    return {
        "data": {
            "id": "3b1f0c2a-9d8e-4f7a-b6c5-d4e3f2a1b0c9",
            "type": "case",
            "attributes": {
                "attributes": {},
                "comment_count": 0,
                "created_at": "2026-01-02T03:04:05.678901Z",
                "creation_source": "MANUAL",
                "custom_attributes": {},
                "description": DESCRIPTION,
                "insights": [],
                "internal_id": "3b1f0c2a-9d8e-4f7a-b6c5-d4e3f2a1b0c9",
                "key": "BENCH-4242",
                "merge_status": "NOT_MERGED",
                "modified_at": "2026-01-02T04:05:06.789012Z",
                "priority": "P2",
                "public_id": "4242",
                "status": "OPEN",
                "status_group": "SG_OPEN",
                "status_name": "Open",
                "title": "Suspicious login followed by API key creation (case 4242)",
                "type": "STANDARD",
                "type_id": STANDARD_TYPE,
            },
            "relationships": {
                "project": {
                    "data": {"id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "type": "project"}
                },
                "created_by": {"data": {"id": user, "type": "user"}},
                "modified_by": {"data": {"id": user, "type": "user"}},
            },
        },
        "included": [
            {
                "id": user,
                "type": "user",
                "attributes": {
                    "active": True,
                    "email": "admin@casebook.local",
                    "handle": "admin@casebook.local",
                    "name": "",
                },
            }
        ],
    }


def create_body(project_id: str) -> dict[str, Any]:
    """The ``POST /api/v2/cases`` body both servers get (about 400 bytes encoded)."""
    return {
        "data": {
            "type": "case",
            "attributes": {
                "title": "Suspicious login from a new country",
                "type_id": STANDARD_TYPE,
                "priority": "P2",
                "description": CREATE_DESCRIPTION,
            },
            "relationships": {"project": {"data": {"id": project_id, "type": "project"}}},
        }
    }


def _error(status: int, detail: str) -> Response:
    body = orjson.dumps({"errors": [{"status": str(status), "detail": detail}]})
    return Response(body, status, media_type=JSONAPI)


def _authenticated(request: Request) -> bool:
    headers = request.headers
    return bool(headers.get("dd-api-key")) and bool(headers.get("dd-application-key"))


def _valid_create(body: Any) -> str | None:
    """None if ``body`` is a well-formed case creation, else what is wrong."""
    if not isinstance(body, dict):
        return "body must be an object"
    data = body.get("data")
    if not isinstance(data, dict) or data.get("type") != "case":
        return "data.type must be case"
    attrs = data.get("attributes")
    if not isinstance(attrs, dict):
        return "data.attributes is required"
    title = attrs.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 1000:
        return "title must be a non-empty string"
    for name in ("type_id", "priority", "description"):
        if name in attrs and not isinstance(attrs[name], str):
            return f"{name} must be a string"
    project = (((data.get("relationships") or {}).get("project") or {}).get("data")) or {}
    if not isinstance(project.get("id"), str) or project.get("type") != "project":
        return "relationships.project.data is required"
    return None


def create_app() -> Starlette:
    document = case_document()

    async def get_case(request: Request) -> Response:
        if not _authenticated(request):
            return _error(401, "missing keys")
        return Response(orjson.dumps(document), media_type=JSONAPI)

    async def create_case(request: Request) -> Response:
        if not _authenticated(request):
            return _error(401, "missing keys")
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error(400, "malformed JSON")
        problem = _valid_create(body)
        if problem is not None:
            return _error(400, problem)
        return Response(orjson.dumps(document), 201, media_type=JSONAPI)

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/api/v2/cases", create_case, methods=["POST"]),
            Route("/api/v2/cases/{case_id}", get_case, methods=["GET"]),
        ]
    )
