"""Routing: the API's routes built from the registry, and the ASGI entry point.

casebook runs on Starlette's ``Router`` without the ``Starlette`` application's
middleware stack: every handler already turns errors into responses
(``endpoint.endpoint``), so the extra layers only cost time on the hot path.
Each path gets one route that dispatches on the method (others answer 405 with
``Allow``). Unknown paths and methods answer in the error style of their API
family, which ``style_for_paths`` derives from the registry too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import State
from starlette.requests import Request
from starlette.routing import BaseRoute, Route, Router
from starlette.types import Receive, Scope, Send

from casebook.http.endpoint import Endpoint
from casebook.http.errors import Style, http_error
from casebook.http.observe import OPERATION, Observer
from casebook.http.registry import PATH_PARAMS, Operation, case_id_pattern

StyleFor = Callable[[str], Style]

MAX_HEADERS = 100
MAX_HEADER_BYTES = 32 * 1024


def case_ref_convertor() -> Convertor[str]:
    """A case UUID or key, never one of the fixed names beside it (``projects``, ...).

    So the case routes, the hottest, may come first without hiding the others.
    """

    class CaseRef(Convertor[str]):
        regex = case_id_pattern()

        def convert(self, value: str) -> str:
            return value

        def to_string(self, value: str) -> str:
            return value

    return CaseRef()


def style_for_paths(operations: Iterable[Operation]) -> StyleFor:
    """The error style of any path: that of the operations under its first two segments."""
    legacy = tuple({"/".join(op.path.split("/")[:4]) for op in operations if op.style == "legacy"})

    def style_for(path: str) -> Style:
        return "legacy" if legacy and path.startswith(legacy) else "jsonapi"

    return style_for


def _router_path(op: Operation) -> str:
    path = op.path
    for name in op.path_params:
        convertor = PATH_PARAMS[name].convertor
        if convertor != "str":
            path = path.replace(f"{{{name}}}", f"{{{name}:{convertor}}}")
    return path


def api_routes(operations: Iterable[Operation], style_for: StyleFor) -> list[Route]:
    """One route per path of ``operations``, in their order."""
    operations = list(operations)
    # Registered before the routes compile their paths.
    register_url_convertor("caseref", case_ref_convertor())
    table: dict[str, dict[str, Endpoint]] = {}
    names: dict[str, dict[str, str]] = {}
    for op in operations:
        table.setdefault(_router_path(op), {})[op.method] = op.endpoint()
        names.setdefault(_router_path(op), {})[op.method] = op.operation_id
    routes = [
        route(path, style_for, names=names[path], **handlers) for path, handlers in table.items()
    ]
    for i, later in enumerate(routes):
        # A literal path must not be hidden by an earlier one with a parameter there
        # (``/types/custom_attributes`` behind ``/types/{case_type_id}``).
        if "{" not in later.path:
            hidden = [r.path for r in routes[:i] if r.path_regex.match(later.path)]
            assert not hidden, f"{later.path} is hidden by {hidden}: put it first"
    return routes


class _Dispatch:
    """An ASGI app for one path: the handler of the request's method, or 405. It names the
    operation in the scope (``casebook.operation``) for the request's log line and metrics."""

    def __init__(
        self, table: dict[str, Endpoint], style_for: StyleFor, names: dict[str, str]
    ) -> None:
        self.table = table
        self.names = names
        self.allow = ", ".join(sorted(table))
        self.style_for = style_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        handler = self.table.get(request.method)
        if handler is None:
            response = http_error(
                405,
                "Method Not Allowed",
                f"method {request.method} is not allowed here; allowed: {self.allow}",
                self.style_for(request.url.path),
                Allow=self.allow,
            )
        else:
            scope[OPERATION] = self.names[request.method]
            response = await handler(request)
        await response(scope, receive, send)


def route(
    path: str, style_for: StyleFor, *, names: dict[str, str] | None = None, **handlers: Endpoint
) -> Route:
    """``route("/x", style_for, GET=list_x, POST=create_x)``; other methods get 405.

    ``names``: each method's operation id (default: the handler's name)."""
    table = {method.upper(): handler for method, handler in handlers.items()}
    named = {method.upper(): name for method, name in (names or {}).items()}
    for method, handler in table.items():
        named.setdefault(method, handler.__name__)
    if "GET" in table:
        table.setdefault("HEAD", table["GET"])
        named.setdefault("HEAD", named["GET"])
    # An ASGI app (not a function) as endpoint: Starlette then passes every method through.
    return Route(path, _Dispatch(table, style_for, named))


class CasebookApp:
    """The ASGI application: a router plus ``state`` (``request.app.state.ctx``)."""

    def __init__(
        self,
        routes: list[BaseRoute],
        style_for: StyleFor,
        lifespan: Any = None,
        observer: Observer | None = None,
        **state: Any,
    ) -> None:
        self.router = Router(routes=routes, default=self._not_found, lifespan=lifespan)
        self.state = State(state)
        self.style_for = style_for
        self.observer = observer

    async def _not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        response = http_error(404, "Not Found", f"no endpoint at {path}", self.style_for(path))
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if scope["type"] == "http" and self.observer is not None:
            await self.observer.serve(self._serve, scope, receive, send)
        else:
            await self._serve(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            if (
                len(headers) > MAX_HEADERS
                or sum(map(len, chain.from_iterable(headers))) > MAX_HEADER_BYTES
            ):
                detail = f"request headers exceed {MAX_HEADERS} fields or {MAX_HEADER_BYTES} bytes"
                response = http_error(
                    431, "Request Header Fields Too Large", detail, self.style_for(scope["path"])
                )
                await response(scope, receive, send)
                return
        await self.router(scope, receive, send)
