"""``create_app(settings, store)``: the ASGI application. Each test builds its own."""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casebook.config import Settings, load_settings
from casebook.domain.keys import Authenticator, load_secret
from casebook.errors import CasebookError
from casebook.http import openapi
from casebook.http.endpoint import Context, json
from casebook.http.errors import Style, error_response, http_error, internal_error
from casebook.http.routes import cases, projects, users
from casebook.ratelimit import RateLimiter, table_path
from casebook.storage import Store, open_store
from casebook.storage.faults import FaultInjectingStore


async def healthz(request: Request) -> Response:
    """200 once the database answers; 503 while it does not. No credentials needed."""
    ctx: Context = request.app.state.ctx
    try:
        ctx.store.ping()
    except CasebookError as exc:
        return error_response(exc, "jsonapi")
    except Exception as exc:
        return internal_error(exc, "jsonapi")
    return json({"status": "ok"})


async def openapi_json(request: Request) -> Response:
    """casebook's own OpenAPI document; public, like Datadog's published spec."""
    return Response(openapi.document_bytes(), media_type="application/json")


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    style: Style = "legacy" if request.url.path.startswith("/api/v2/users") else "jsonapi"
    if exc.status_code == 405:
        allow = (exc.headers or {}).get("Allow", "")
        return http_error(
            405,
            "Method Not Allowed",
            f"method {request.method} is not allowed here; allowed: {allow}",
            style,
            Allow=allow,
        )
    if exc.status_code == 404:
        return http_error(404, "Not Found", f"no endpoint at {request.url.path}", style)
    return http_error(exc.status_code, "Error", str(exc.detail), style)


def create_app(settings: Settings, store: Store) -> Starlette:
    """The API over ``store``, which must be migrated already."""
    openapi.document_bytes()  # build (and so check) every schema before serving
    if settings.faults:
        store = FaultInjectingStore(store, settings.faults)
    secret = load_secret(store, settings.secret_key)
    limiter = None
    if settings.rate_limit is not None or settings.auth_failure_limit is not None:
        url = settings.database_url
        limiter = RateLimiter(
            table_path(url.raw, url.sqlite_path.resolve() if url.is_sqlite else None)
        )
    ctx = Context(
        settings=settings,
        store=store,
        auth=Authenticator(store, secret, cache_seconds=settings.auth_cache_seconds),
        limiter=limiter,
        faults=settings.faults,
    )
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/api/v2/openapi.json", openapi_json, methods=["GET"]),
            # Projects before cases: /cases/projects is not a case id.
            *projects.routes,
            *cases.routes,
            *users.routes,
        ],
        exception_handlers={HTTPException: _http_exception},
    )
    app.state.ctx = ctx
    return app


def app_from_environment() -> Starlette:
    """Factory for ``uvicorn --factory``: each worker process builds its own app and store."""
    settings = load_settings(os.environ)
    store = open_store(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        busy_timeout_ms=settings.busy_timeout_ms,
    )
    return create_app(settings, store)
