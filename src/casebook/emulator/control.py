"""The control plane, under ``/_casebook/``: reset, seed, clock, outbox, faults, requests.

Each route acts on the caller's organisation, named by its ``DD-API-KEY`` (made on
first use, as any request's), or with ``?all=true`` on every organisation. Answers
are JSON; errors are the API's JSON:API error document. docs/emulator.md is the
reference; ``paths()`` describes the routes in the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from casebook.core.errors import CasebookError, InvalidRequestError
from casebook.emulator import outbox, seed
from casebook.emulator.tenants import (
    Fault,
    Tenant,
    Tenants,
    parse_duration,
    parse_instant,
    well_formed,
)
from casebook.http import openapi
from casebook.http.errors import error_response, http_error

PREFIX = "/_casebook/"
MAX_BODY = 16 * 1024 * 1024
_YAML = ("application/yaml", "application/x-yaml", "text/yaml", "application/x-yml")

Handler = Callable[[Request, list[Tenant], bool], Awaitable[Response]]


def _json(document: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(document), status, media_type="application/json")


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidRequestError(f"invalid {what}: expected a JSON object")
    return body


async def _body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise InvalidRequestError(f"the body is larger than {MAX_BODY} bytes")
    if not raw.strip():
        return {}
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media in _YAML:
        import yaml  # type: ignore[import-untyped]

        try:
            return plain(yaml.safe_load(raw))
        except yaml.YAMLError as exc:
            raise InvalidRequestError(f"malformed YAML: {exc}") from None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise InvalidRequestError(f"malformed JSON: {exc}") from None


def plain(value: Any) -> Any:
    """YAML's dates and times as the strings JSON would have carried."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def _ids_seed(body: dict[str, Any]) -> tuple[bool, int | None]:
    if "ids_seed" not in body:
        return False, None
    value = body["ids_seed"]
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise InvalidRequestError("invalid ids_seed: an integer, or null for random ids")
    return True, value


def openapi_document() -> dict[str, Any]:
    """casebook's OpenAPI document with the control plane's paths (``x-casebook-emulator``)."""
    document: dict[str, Any] = json.loads(openapi.document_bytes())
    document["paths"].update(paths())
    return document


@functools.cache
def _openapi_bytes() -> bytes:
    return json.dumps(openapi_document()).encode()


def openapi_response() -> Response:
    return Response(_openapi_bytes(), media_type="application/json")


def _op(summary: str, *, body: bool = False, all_: bool = True) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "summary": summary,
        "tags": ["Emulator control plane"],
        "x-casebook-emulator": True,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {}}}},
            "400": {"description": "Bad Request"},
            "403": {"description": "No DD-API-KEY (and no ?all=true)"},
        },
    }
    if all_:
        spec["parameters"] = [
            {
                "name": "all",
                "in": "query",
                "required": False,
                "schema": {"type": "boolean"},
                "description": "act on every organisation, not only the caller's",
            }
        ]
    if body:
        spec["requestBody"] = {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/yaml": {"schema": {"type": "object"}},
            }
        }
    return spec


def paths() -> dict[str, Any]:
    """The control plane's routes as OpenAPI paths (docs/emulator.md has the details)."""
    return {
        "/_casebook/reset": {"post": _op("Empty the organisation (all: every one)")},
        "/_casebook/seed": {
            "post": _op("Load a state document (all or nothing)", body=True, all_=False)
        },
        "/_casebook/clock": {
            "get": _op("The organisation's time"),
            "post": _op("Freeze, advance or release the organisation's time", body=True),
        },
        "/_casebook/outbox": {
            "get": _op("What deliveries would have sent"),
            "delete": _op("Clear the outbox"),
        },
        "/_casebook/faults": {
            "get": _op("The injected faults"),
            "post": _op("Inject a fault", body=True, all_=False),
            "delete": _op("Remove the injected faults"),
        },
        "/_casebook/requests": {
            "get": _op("The journal of requests received"),
            "delete": _op("Clear the journal"),
        },
    }


class _NoKeysError(Exception):
    """A control-plane request that names no organisation."""


class ControlPlane:
    """The ASGI app of ``/_casebook/*``."""

    def __init__(self, tenants: Tenants) -> None:
        self.tenants = tenants
        self.routes: dict[tuple[str, str], Handler] = {
            ("POST", "reset"): self.reset,
            ("POST", "seed"): self.seed,
            ("GET", "clock"): self.get_clock,
            ("POST", "clock"): self.set_clock,
            ("GET", "outbox"): self.get_outbox,
            ("DELETE", "outbox"): self.clear_outbox,
            ("GET", "faults"): self.get_faults,
            ("POST", "faults"): self.add_fault,
            ("DELETE", "faults"): self.clear_faults,
            ("GET", "requests"): self.get_requests,
            ("DELETE", "requests"): self.clear_requests,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        name = scope["path"][len(PREFIX) :].strip("/")
        method = "GET" if request.method == "HEAD" else request.method
        handler = self.routes.get((method, name))
        if handler is None:
            allowed = sorted(m for m, n in self.routes if n == name)
            if allowed:
                response = http_error(
                    405,
                    "Method Not Allowed",
                    f"method {request.method} is not allowed here; allowed: {', '.join(allowed)}",
                    "jsonapi",
                    Allow=", ".join(allowed),
                )
            else:
                response = http_error(
                    404, "Not Found", f"no endpoint at {scope['path']}", "jsonapi"
                )
            await response(scope, receive, send)
            return
        try:
            every = request.query_params.get("all", "").lower() in ("true", "1")
            if every and name in ("seed", "faults") and method == "POST":
                raise InvalidRequestError(f"?all=true is not for POST /_casebook/{name}")
            response = await handler(request, await self._tenants(request, every), every)
        except CasebookError as exc:
            response = error_response(exc, "jsonapi")
        except _NoKeysError:
            detail = (
                "the control plane acts on the organisation of the DD-API-KEY and "
                "DD-APPLICATION-KEY presented (or on every one with ?all=true)"
            )
            response = http_error(403, "Forbidden", detail, "jsonapi")
        await response(scope, receive, send)

    async def _tenants(self, request: Request, every: bool) -> list[Tenant]:
        if every:
            return self.tenants.all()
        api_key = request.headers.get("dd-api-key")
        app_key = request.headers.get("dd-application-key")
        if not well_formed(api_key) or not well_formed(app_key):
            raise _NoKeysError
        assert api_key is not None and app_key is not None
        return [await asyncio.to_thread(self.tenants.tenant, api_key, app_key)]

    # --- routes ---------------------------------------------------------------
    async def reset(self, request: Request, tenants: list[Tenant], every: bool) -> Response:
        if every:
            return _json({"reset": self.tenants.drop_all()})
        for tenant in tenants:
            self.tenants.drop(tenant.api_key)
        return _json({"reset": len(tenants)})

    async def seed(self, request: Request, tenants: list[Tenant], every: bool) -> Response:
        body = _object(await _body(request), "state document")
        (tenant,) = tenants
        given, ids_seed = _ids_seed(body)
        if given:
            self.tenants.reseed(tenant, ids_seed)
        document = {k: v for k, v in body.items() if k != "ids_seed"}
        with tenant.context():
            created = await asyncio.to_thread(seed.load, tenant, document)
            await asyncio.to_thread(outbox.deliver, tenant)
        return _json(created, 201)

    async def get_clock(self, request: Request, tenants: list[Tenant], every: bool) -> Response:
        if every:
            return _json({"data": [t.clock.describe() for t in tenants]})
        return _json(tenants[0].clock.describe())

    async def set_clock(self, request: Request, tenants: list[Tenant], every: bool) -> Response:
        body = _object(await _body(request), "clock request")
        given, ids_seed = _ids_seed(body)
        unknown = set(body) - {"freeze", "advance", "real", "ids_seed"}
        if unknown:
            raise InvalidRequestError(f"unknown clock field {sorted(unknown)[0]!r}")
        actions = [k for k in ("freeze", "advance", "real") if k in body]
        if len(actions) > 1:
            raise InvalidRequestError("give one of freeze, advance and real")
        freeze = parse_instant(body["freeze"]) if "freeze" in body else None
        advance = parse_duration(body["advance"]) if "advance" in body else None
        if "real" in body and body["real"] is not True:
            raise InvalidRequestError('invalid real: true is the one value ("real": true)')
        for tenant in tenants:
            if given:
                self.tenants.reseed(tenant, ids_seed)
            if freeze is not None:
                tenant.clock.freeze(freeze)
            elif advance is not None:
                tenant.clock.advance(advance)
            elif "real" in body:
                tenant.clock.real()
            if actions:
                with tenant.context():
                    await asyncio.to_thread(outbox.close_inactive, tenant)
        if every:
            return _json({"data": [t.clock.describe() for t in tenants]})
        return _json(tenants[0].clock.describe())

    async def get_outbox(self, request: Request, tenants: list[Tenant], every: bool) -> Response:
        channel = request.query_params.get("channel")
        entries = [
            _owned(entry, tenant, every)
            for tenant in tenants
            for entry in tenant.outbox
            if channel is None or entry["channel"] == channel
        ]
        return _json({"data": entries})

    async def clear_outbox(self, request: Request, tenants: list[Tenant], every: bool) -> Response:
        for tenant in tenants:
            tenant.outbox.clear()
        return Response(status_code=204)

    async def get_faults(self, request: Request, tenants: list[Tenant], every: bool) -> Response:
        return _json({"data": [f.describe() for t in tenants for f in t.faults]})

    async def add_fault(self, request: Request, tenants: list[Tenant], every: bool) -> Response:
        fault = parse_fault(_object(await _body(request), "fault"))
        tenants[0].faults.append(fault)
        return _json(fault.describe(), 201)

    async def clear_faults(self, request: Request, tenants: list[Tenant], every: bool) -> Response:
        wanted = request.query_params.get("id")
        for tenant in tenants:
            tenant.faults[:] = [f for f in tenant.faults if wanted is not None and f.id != wanted]
        return Response(status_code=204)

    async def get_requests(self, request: Request, tenants: list[Tenant], every: bool) -> Response:
        operation = request.query_params.get("operation_id")
        method = request.query_params.get("method")
        entries = [
            _owned(entry, tenant, every)
            for tenant in tenants
            for entry in tenant.journal
            if (operation is None or entry["operation_id"] == operation)
            and (method is None or entry["method"] == method.upper())
        ]
        return _json({"data": entries})

    async def clear_requests(
        self, request: Request, tenants: list[Tenant], every: bool
    ) -> Response:
        for tenant in tenants:
            tenant.journal.clear()
        return Response(status_code=204)


def _owned(entry: dict[str, Any], tenant: Tenant, every: bool) -> dict[str, Any]:
    """An entry as ``?all=true`` lists it: with the organisation it belongs to."""
    return {**entry, "org_id": tenant.org_id()} if every else entry


def _int(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidRequestError(f"invalid {name} {value!r}: an integer from {low} to {high}")
    return value


def parse_fault(body: dict[str, Any]) -> Fault:
    """A fault from its JSON: what it matches, what it does, how often."""
    known = {"operation_id", "path", "status", "latency_ms", "count", "probability", "reset"}
    unknown = set(body) - known
    if unknown:
        raise InvalidRequestError(f"unknown fault field {sorted(unknown)[0]!r}")
    for name in ("operation_id", "path"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise InvalidRequestError(f"invalid {name}: a string")
    status = _int(body, "status", 400, 599)
    latency = _int(body, "latency_ms", 0, 60_000) or 0
    if status is None and not latency:
        raise InvalidRequestError("a fault needs a status (such as 429, 500, 503) or latency_ms")
    probability = body.get("probability")
    if probability is not None and (
        not isinstance(probability, int | float)
        or isinstance(probability, bool)
        or not 0 <= probability <= 1
    ):
        raise InvalidRequestError(f"invalid probability {probability!r}: a number from 0 to 1")
    return Fault(
        id=str(uuid.uuid4()),
        operation_id=body.get("operation_id"),
        path=body.get("path"),
        status=status,
        latency_ms=latency,
        count=_int(body, "count", 1, 1_000_000),
        probability=None if probability is None else float(probability),
        reset_seconds=(_int(body, "reset", 0, 3600) or 0) if "reset" in body else 1,
    )
