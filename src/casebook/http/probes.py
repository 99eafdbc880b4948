"""Probes for load balancers and orchestrators, and the metrics endpoint.

- ``GET /healthz`` (liveness): 200 once the database answers, 503 while it does not.
- ``GET /readyz`` (readiness): 200 only when the database answers *and* its schema is
  at this code's migration head; else 503 with the reason, e.g. during a rolling
  upgrade before ``casebook migrate`` ran, or after a newer casebook migrated it.
- ``GET /metrics``: Prometheus text format, to an admin user's keys (``http.observe``).

The probes need no credentials: they say nothing an outsider could use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import Actor
from casebook.core.errors import CasebookError
from casebook.http.endpoint import Context, Handler, json
from casebook.http.errors import error_response, internal_error
from casebook.storage.revision import code_head

if TYPE_CHECKING:
    from casebook.http.metrics import Metrics

_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


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


def _not_ready(reason: str) -> Response:
    return json({"status": "unavailable", "reason": reason}, 503)


async def readyz(request: Request) -> Response:
    """200 when the database answers and its schema is at the code's head; else 503."""
    ctx: Context = request.app.state.ctx
    try:
        ctx.store.ping()
    except CasebookError as exc:
        return _not_ready(f"the database does not answer: {exc.message}")
    except Exception as exc:
        return _not_ready(f"the database does not answer: {type(exc).__name__}")
    try:
        with ctx.store.read() as tx:
            found = tx.meta.schema_revision()
    except Exception:
        # The database answers but has no alembic_version table: it was never migrated.
        found = None
    head = code_head()
    if found is None:
        return _not_ready(
            f"the database has no schema version (not migrated): run `casebook migrate` ({head})"
        )
    if found != head:
        return _not_ready(
            f"the database schema is at revision {found}, this casebook needs {head}:"
            " run `casebook migrate` with this version (or run the version that migrated it)"
        )
    return json({"status": "ready", "schema": head})


def metrics_handler(metrics: Metrics) -> Handler:
    async def metrics_text(request: Request, ctx: Context, actor: Actor) -> Response:
        """Prometheus text format: every worker's counters together, process metrics,
        and the delivery backlog."""
        return Response(metrics.exposition(), media_type=_CONTENT_TYPE)

    return metrics_text
