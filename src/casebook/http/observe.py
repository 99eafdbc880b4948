"""What every request leaves behind: its id, one log line, and its metrics.

``Observer.serve`` wraps the whole ASGI application (``routing.CasebookApp``):

- **Request id**: a sane ``X-Request-Id`` of the request (1 to 128 letters, digits and
  ``._:/+=-``) is kept, any other one replaced by a fresh id; the answer carries it in
  its ``X-Request-Id`` header and JSON:API error bodies in ``meta.request_id``.
- **Log line** (logger ``casebook.access``, INFO): ``request_id``, ``method``, ``path``
  (never the query string), ``operation`` (the registry's operation id), ``status``,
  ``duration_ms``, ``db_ms``, ``org`` and ``user`` (ids, once the keys were accepted),
  ``bytes`` (of the response body). Never a header, a key or a body.
- **Metrics** (``http/metrics.py``'s ``Metrics``, when ``CASEBOOK_METRICS=1``; loaded only
  then, as prometheus-client costs a process ~60 ms to import).

The handlers tell the observer what they learnt through the ASGI scope:
``casebook.operation`` (set by the router), ``casebook.actor`` and ``casebook.rejected``
(set by ``endpoint.endpoint``). docs/operations.md lists the fields and the metrics.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import sys
from collections.abc import Awaitable, Callable, Iterable
from time import perf_counter
from typing import TYPE_CHECKING

from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casebook.config import LogFormat
from casebook.http.errors import current_request_id
from casebook.storage.timing import DbClock, db_clock

if TYPE_CHECKING:
    from casebook.http.metrics import Metrics

access_log = logging.getLogger("casebook.access")

OPERATION = "casebook.operation"
ACTOR = "casebook.actor"
REJECTED = "casebook.rejected"
UNMATCHED = "none"  # the operation label of requests no route took (404, 405, 431)

_SANE_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
_MAX_LOGGED_PATH = 512

TEXT_ACCESS_FORMAT = (
    "%(asctime)s %(request_id)s %(method)s %(path)s %(status)s %(duration_ms).2fms"
    " operation=%(operation)s org=%(org)s user=%(user)s bytes=%(bytes)s db_ms=%(db_ms).2f"
)
ACCESS_FIELDS = (  # what each request line carries besides time, level and name
    "request_id",
    "method",
    "path",
    "operation",
    "status",
    "duration_ms",
    "db_ms",
    "org",
    "user",
    "bytes",
)


def json_formatter() -> logging.Formatter:
    """python-json-logger's formatter: the record's extra fields, ``time`` in UTC ISO 8601."""
    return JsonFormatter("%(levelname)s %(name)s %(message)s", timestamp="time")


def access_formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "json":
        return json_formatter()
    return logging.Formatter(TEXT_ACCESS_FORMAT)


def resolve_log_format(log_format: LogFormat | None) -> LogFormat:
    """The setting, or (unset) text on a terminal and JSON otherwise."""
    if log_format is not None:
        return log_format
    return "text" if sys.stderr.isatty() else "json"


def configure_logging(log_format: LogFormat | None) -> None:
    """Request lines on ``casebook.access``, and casebook's other records, to standard error."""
    chosen = resolve_log_format(log_format)
    access = logging.StreamHandler(sys.stderr)
    access.setFormatter(access_formatter(chosen))
    access_log.handlers[:] = [access]
    access_log.setLevel(logging.INFO)
    access_log.propagate = False
    general = logging.StreamHandler(sys.stderr)
    general.setFormatter(
        json_formatter()
        if chosen == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    casebook = logging.getLogger("casebook")
    casebook.handlers[:] = [general]
    casebook.propagate = False


def _loggable_path(path: str) -> str:
    """The path as logged: bounded, and with control characters escaped (text logs)."""
    if len(path) > _MAX_LOGGED_PATH:
        path = path[:_MAX_LOGGED_PATH] + "..."
    if not path.isprintable():
        path = path.encode("unicode_escape").decode("ascii")
    return path


class Observer:
    """Request ids, request log lines and metrics for every HTTP request."""

    def __init__(self, metrics: Metrics | None) -> None:
        self.metrics = metrics
        self._prefix = secrets.token_hex(6)  # unique per process; a counter after it
        self._count = itertools.count(1)

    def _request_id(self, headers: Iterable[tuple[bytes, bytes]]) -> str:
        for name, value in headers:
            if name == b"x-request-id":
                given = value.decode("latin-1")
                if _SANE_ID.fullmatch(given):
                    return given
                break
        return f"{self._prefix}{next(self._count):08x}"

    async def serve(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]] | ASGIApp,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        started = perf_counter()
        request_id = self._request_id(scope["headers"])
        id_header = (b"x-request-id", request_id.encode("ascii"))
        clock = DbClock()
        clock_token = db_clock.set(clock)
        id_token = current_request_id.set(request_id)
        status = 500
        size = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status, size
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            elif kind == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(id_token)
            db_clock.reset(clock_token)
            seconds = perf_counter() - started
            operation = scope.get(OPERATION, UNMATCHED)
            metrics = self.metrics
            if metrics is not None:
                metrics.observe(operation, status, seconds, clock.seconds)
                rejected = scope.get(REJECTED)
                if rejected is not None:
                    metrics.rejected(rejected)
            if access_log.isEnabledFor(logging.INFO):
                actor = scope.get(ACTOR)
                access_log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": _loggable_path(scope["path"]),
                        "operation": operation,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 3),
                        "db_ms": round(clock.seconds * 1000, 3),
                        "org": None if actor is None else actor.org_id,
                        "user": None if actor is None else actor.user_id,
                        "bytes": size,
                    },
                )
