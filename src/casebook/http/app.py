"""``create_app(settings, store)``: the ASGI application. Each test builds its own."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from casebook.config import Settings, load_settings
from casebook.core.entities import Scope
from casebook.domain.keys import Authenticator, load_secret
from casebook.egress.jira import JiraClient
from casebook.egress.servicenow import ServiceNowClient
from casebook.http import openapi
from casebook.http.endpoint import Context, endpoint
from casebook.http.observe import Observer, configure_logging
from casebook.http.probes import healthz, metrics_handler, readyz
from casebook.http.registry import OPERATIONS
from casebook.http.routing import CasebookApp, api_routes, route, style_for_paths
from casebook.ratelimit import RateLimiter, table_path
from casebook.storage import Store, open_store
from casebook.storage.faults import FaultInjectingStore
from casebook.ui.app import ui_routes
from casebook.worker.runner import running


async def openapi_json(request: Request) -> Response:
    """casebook's own OpenAPI document; public, like Datadog's published spec."""
    return Response(openapi.document_bytes(), media_type="application/json")


def _with_worker(
    store: Store, secret: bytes, settings: Settings
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async with running(
            store,
            server_secret=secret,
            allow_private=settings.allow_private_webhooks,
            first_retry=settings.delivery_first_retry_seconds,
            smtp=settings.smtp,
        ):
            yield

    return lifespan


def create_app(
    settings: Settings, store: Store, *, worker: bool = False, ui: bool = True
) -> CasebookApp:
    """The API, and with ``ui`` the web UI at ``/``, over ``store``, which must be migrated
    already; with ``worker``, the delivery worker runs for as long as the app does (its
    lifespan)."""
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
        secret=secret,
        jira=JiraClient(
            timeout=settings.egress_timeout_seconds,
            allow_private=settings.allow_private_webhooks,
        ),
        service_now=ServiceNowClient(
            timeout=settings.egress_timeout_seconds,
            allow_private=settings.allow_private_webhooks,
        ),
    )
    style_for = style_for_paths(OPERATIONS)
    routes: list[BaseRoute] = [
        *api_routes(OPERATIONS, style_for),
        route("/healthz", style_for, GET=healthz),
        route("/readyz", style_for, GET=readyz),
        route("/api/v2/openapi.json", style_for, GET=openapi_json),
    ]
    if ui:
        routes.extend(ui_routes(style_for))  # the web UI, the second mount (docs/ui.md)
    metrics = None
    if settings.metrics:
        from casebook.http.metrics import Metrics  # prometheus-client: loaded only when used

        metrics = Metrics(store)
    if metrics is not None:
        # An admin's keys (any scope that may read cases): the counters describe every org.
        scrape = endpoint(
            metrics_handler(metrics), style="jsonapi", scope=Scope.CASES_READ, admin=True
        )
        routes.append(route("/metrics", style_for, names={"GET": "metrics"}, GET=scrape))
    return CasebookApp(
        routes,
        style_for,
        lifespan=(_with_worker(store, secret, settings) if worker else None),
        observer=Observer(metrics),
        ctx=ctx,
    )


def app_from_environment() -> CasebookApp:
    """Factory for ``uvicorn --factory``: each worker process builds its own app and store."""
    settings = load_settings(os.environ)
    configure_logging(settings.log_format)
    store = open_store(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        busy_timeout_ms=settings.busy_timeout_ms,
    )
    return create_app(settings, store, worker=settings.delivery_worker)
