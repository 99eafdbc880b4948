"""Error class -> HTTP status and body, in one table, looked up along the class hierarchy.

Two body styles, as Datadog's own services answer:
- ``jsonapi`` (case and project endpoints, ``application/vnd.api+json``):
  ``{"errors": [{"status": "400", "title": "Bad Request", "detail": "..."}]}``;
  404s are ``{"errors": [{"code": "resource_not_found", "title": "case not found", ...}]}``
  and domain validation is ``{"errors": [{"title": "Generic Error", "detail": "..."}]}``.
- ``legacy`` (Users API, and every authentication failure, ``application/json``):
  ``{"errors": ["..."]}``.

Bad keys always answer exactly ``{"errors": ["Forbidden"]}``, whatever was wrong
with them.

A JSON:API error item names the request it answers in ``meta.request_id`` (the
spec's ``JSONAPIErrorItem.meta`` is an open object), so a user can quote it; the
legacy string arrays have no member to carry it, and every answer has the
``X-Request-Id`` header anyway (``http.observe``).

Anything unexpected is a 500 whose body says nothing of the cause; the traceback
goes to the log.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any, Literal

import msgspec
from starlette.responses import Response

from casebook.core import errors

Style = Literal["jsonapi", "legacy"]
JSONAPI = "application/vnd.api+json"
JSON = "application/json"

log = logging.getLogger("casebook.http")

_STATUS: list[tuple[type[errors.CasebookError], int, str]] = [
    # Order matters: subclasses before their bases.
    (errors.IdMismatchError, 422, "Unprocessable Entity"),
    (errors.InvalidQueryError, 400, "Bad Request"),
    (errors.InvalidParameterError, 400, "Invalid Parameter"),
    (errors.InvalidValueError, 400, "Generic Error"),
    (errors.InvalidRequestError, 400, "Bad Request"),
    (errors.NotFoundError, 404, "Not Found"),
    (errors.ConflictError, 409, "Conflict"),
    (errors.AuthenticationError, 403, "Forbidden"),
    (errors.PermissionDeniedError, 403, "Forbidden"),
    (errors.PreconditionFailedError, 412, "Precondition Failed"),
    (errors.PayloadTooLargeError, 413, "Payload Too Large"),
    (errors.RateLimitedError, 429, "Too Many Requests"),
    (errors.UnavailableError, 503, "Service Unavailable"),
    (errors.ExternalTimeoutError, 504, "Gateway Timeout"),
    (errors.ExternalServiceError, 502, "Bad Gateway"),
]

current_request_id: ContextVar[str | None] = ContextVar("casebook_request_id", default=None)
"""The id of the request being served (set by ``http.observe``), for error bodies."""

FORBIDDEN_BODY = b'{"errors":["Forbidden"]}'


def status_for(exc: errors.CasebookError) -> tuple[int, str]:
    for cls, status, title in _STATUS:
        if isinstance(exc, cls):
            return status, title
    return 500, "Internal Server Error"


def _jsonapi_item(exc: errors.CasebookError, status: int, title: str) -> dict[str, Any]:
    item: dict[str, Any]
    if isinstance(exc, errors.NotFoundError):
        item = {
            "code": exc.code,
            "title": exc.message,
            "detail": f"{exc.resource} {exc.ref!r} not found",
        }
    elif isinstance(exc, errors.InvalidValueError):
        # Datadog's domain-validation errors carry no status member.
        item = {"title": title, "detail": exc.message}
    else:
        item = {"status": str(status), "title": title, "detail": exc.message}
    return _with_request_id(item, exc.meta)


def _with_request_id(item: dict[str, Any], meta: dict[str, str] | None) -> dict[str, Any]:
    request_id = current_request_id.get()
    if request_id is not None:
        item["meta"] = {**meta, "request_id": request_id} if meta else {"request_id": request_id}
    elif meta is not None:
        item["meta"] = meta
    return item


def _legacy_message(exc: errors.CasebookError) -> str:
    if isinstance(exc, errors.NotFoundError):
        return f"{exc.ref} not found"
    return exc.message


def error_response(exc: errors.CasebookError, style: Style) -> Response:
    status, title = status_for(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, errors.RateLimitedError):
        headers = {
            "X-RateLimit-Limit": str(exc.limit),
            "X-RateLimit-Period": str(exc.period),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(exc.reset_after),
            "X-RateLimit-Name": exc.name,
        }
    elif isinstance(exc, errors.UnavailableError):
        headers = {"Retry-After": "1"}
    if isinstance(exc, errors.AuthenticationError):
        return Response(FORBIDDEN_BODY, 403, media_type=JSON)
    if isinstance(exc, errors.PermissionDeniedError):
        body = msgspec.json.encode({"errors": [f"Forbidden: {exc.message}"]})
        return Response(body, 403, media_type=JSON)
    if style == "legacy":
        body = msgspec.json.encode({"errors": [_legacy_message(exc)]})
        return Response(body, status, headers=headers, media_type=JSON)
    body = msgspec.json.encode({"errors": [_jsonapi_item(exc, status, title)]})
    return Response(body, status, headers=headers, media_type=JSONAPI)


def http_error(status: int, title: str, detail: str, style: Style, **headers: str) -> Response:
    """An error the HTTP layer itself raises (unknown route, wrong method, ...)."""
    if style == "legacy":
        body = msgspec.json.encode({"errors": [detail]})
        return Response(body, status, headers=headers, media_type=JSON)
    item = _with_request_id({"status": str(status), "title": title, "detail": detail}, None)
    body = msgspec.json.encode({"errors": [item]})
    return Response(body, status, headers=headers, media_type=JSONAPI)


def internal_error(exc: BaseException, style: Style) -> Response:
    log.error("unexpected error", exc_info=exc)
    return http_error(500, "Internal Server Error", "an unexpected error occurred", style)
