"""The emulator's ASGI application: organisations by key, faults, journal, outbox.

A request to the API is served by its organisation's ``create_app`` (the app of
``casebook serve``), inside that organisation's clock and id generator
(``core.clock.using``). Around it the emulator fires any matching injected fault,
records the request in the journal, and, after a request that may change something,
runs the deliveries into the outbox before the answer goes out. Paths under
``/_casebook/`` are the control plane (``control.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any

from starlette.routing import Match
from starlette.types import Message, Receive, Scope, Send

from casebook.core.clock import rfc3339
from casebook.emulator import control, outbox
from casebook.emulator.tenants import Fault, Tenant, Tenants, well_formed
from casebook.http.errors import http_error
from casebook.http.routing import CasebookApp

log = logging.getLogger("casebook.emulator")

MAX_JOURNAL_BODY = 64 * 1024
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_TITLES = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def presented_keys(scope: Scope) -> tuple[str | None, str | None]:
    """The first ``DD-API-KEY`` and ``DD-APPLICATION-KEY`` of the request."""
    api_key: str | None = None
    app_key: str | None = None
    for name, value in scope["headers"]:
        if name == b"dd-api-key" and api_key is None:
            api_key = value.decode("latin-1")
        elif name == b"dd-application-key" and app_key is None:
            app_key = value.decode("latin-1")
    return api_key, app_key


def operation_of(app: CasebookApp, scope: Scope) -> str | None:
    """The registry's operation id of the request, as the router will name it."""
    for route in app.router.routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            names = getattr(child.get("endpoint"), "names", {})
            name = names.get(scope["method"])
            return name if isinstance(name, str) else None
    return None


def _journal_body(body: bytes) -> Any:
    if not body:
        return None
    if len(body) > MAX_JOURNAL_BODY:
        return f"<{len(body)} bytes>"
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def fire(
    faults: list[Fault], rng: random.Random, operation_id: str | None, path: str
) -> Fault | None:
    """The first fault that matches the request and fires now (spending one of its count)."""
    for fault in list(faults):
        if not fault.matches(operation_id, path):
            continue
        if fault.probability is not None and rng.random() >= fault.probability:
            continue
        if fault.count is not None:
            fault.count -= 1
            if fault.count <= 0:
                faults.remove(fault)
        return fault
    return None


def fault_response(fault: Fault, style: Any) -> Any:
    assert fault.status is not None
    title = _TITLES.get(fault.status, "Error")
    headers: dict[str, str] = {}
    if fault.status == 429:
        headers = {
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Period": "60",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(fault.reset_seconds),
            "X-RateLimit-Name": "cases",
        }
    detail = f"injected fault {fault.id}: answered {fault.status}"
    return http_error(fault.status, title, detail, style, **headers)


class EmulatorApp:
    """The whole emulator as one ASGI application."""

    def __init__(self, tenants: Tenants) -> None:
        self.tenants = tenants
        self.control = control.ControlPlane(tenants)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith(control.PREFIX) or path == control.PREFIX.rstrip("/"):
            await self.control(scope, receive, send)
            return
        if path == "/api/v2/openapi.json" and scope["method"] in ("GET", "HEAD"):
            await control.openapi_response()(scope, receive, send)
            return
        api_key, app_key = presented_keys(scope)
        tenant: Tenant | None = None
        if well_formed(api_key) and well_formed(app_key):
            assert api_key is not None and app_key is not None
            tenant = self.tenants.get(api_key)
            if tenant is None or app_key not in tenant.app_keys:  # to make: off the loop
                tenant = await asyncio.to_thread(self.tenants.tenant, api_key, app_key)
        elif api_key is not None:
            tenant = self.tenants.get(api_key)  # its own 403, in its own journal
        if tenant is None:
            await self.tenants.anonymous(scope, receive, send)
            return
        await self._serve(tenant, scope, receive, send)

    async def _serve(self, tenant: Tenant, scope: Scope, receive: Receive, send: Send) -> None:
        app = tenant.app
        if not any(name == b"x-request-id" for name, _ in scope["headers"]):
            request_id = tenant.request_id().encode("ascii")
            scope["headers"] = [*scope["headers"], (b"x-request-id", request_id)]
        operation_id = operation_of(app, scope)
        chunks: list[bytes] = []

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        messages: list[Message] = []

        async def buffered_send(message: Message) -> None:
            messages.append(message)

        fault = fire(tenant.faults, tenant.rng, operation_id, scope["path"])
        if fault is not None and fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        with tenant.context():
            if fault is not None and fault.status is not None:
                while (await recording_receive()).get("more_body", False):
                    pass  # read for the journal, as the handler would have
                response = fault_response(fault, app.style_for(scope["path"]))
                await response(scope, recording_receive, buffered_send)
            else:
                await app(scope, recording_receive, buffered_send)
            if scope["method"] not in _READS:
                try:
                    outbox.deliver(tenant)
                except Exception:  # the answer stands; the delivery log shows what is left
                    log.exception("emulator: delivering into the outbox failed")
            status = next(
                (m["status"] for m in messages if m["type"] == "http.response.start"), 500
            )
            tenant.journal.append(
                {
                    "method": scope["method"],
                    "path": scope["path"],
                    "query": scope.get("query_string", b"").decode("latin-1"),
                    "body": _journal_body(b"".join(chunks)),
                    "status": status,
                    "operation_id": operation_id,
                    "fault": None if fault is None else fault.id,
                    "time": rfc3339(tenant.clock.now()),
                }
            )
        for message in messages:
            await send(message)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.tenants.save)
                await send({"type": "lifespan.shutdown.complete"})
                return
