"""Routing: one route per path that dispatches on the method, and the ASGI entry point.

casebook runs on Starlette's ``Router`` without the ``Starlette`` application's
middleware stack: every handler already turns errors into responses
(``endpoint.endpoint``), so the extra layers only cost time on the hot path.
Unknown paths and methods answer in the error style of their API family.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from itertools import chain
from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, Router
from starlette.types import Receive, Scope, Send

from casebook.http.errors import Style, http_error

Endpoint = Callable[[Request], Awaitable[Response]]

MAX_HEADERS = 100
MAX_HEADER_BYTES = 32 * 1024


class CaseRefConvertor(Convertor[str]):
    """A case UUID or key; never ``projects``, so case routes may come first."""

    regex = "(?!projects(?:/|$))[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("caseref", CaseRefConvertor())


def _style(path: str) -> Style:
    return "legacy" if path.startswith("/api/v2/users") else "jsonapi"


class _Dispatch:
    """An ASGI app for one path: the handler of the request's method, or 405."""

    def __init__(self, table: dict[str, Endpoint]) -> None:
        self.table = table
        self.allow = ", ".join(sorted(table))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        handler = self.table.get(request.method)
        if handler is None:
            response = http_error(
                405,
                "Method Not Allowed",
                f"method {request.method} is not allowed here; allowed: {self.allow}",
                _style(request.url.path),
                Allow=self.allow,
            )
        else:
            response = await handler(request)
        await response(scope, receive, send)


def route(path: str, **handlers: Endpoint) -> Route:
    """``route("/x", GET=list_x, POST=create_x)``; other methods get 405 with ``Allow``."""
    table = {method.upper(): handler for method, handler in handlers.items()}
    if "GET" in table:
        table.setdefault("HEAD", table["GET"])
    # An ASGI app (not a function) as endpoint: Starlette then passes every method through.
    return Route(path, _Dispatch(table))


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    response = http_error(404, "Not Found", f"no endpoint at {path}", _style(path))
    await response(scope, receive, send)


class CasebookApp:
    """The ASGI application: a router plus ``state`` (``request.app.state.ctx``)."""

    def __init__(self, routes: list[BaseRoute], **state: Any) -> None:
        self.router = Router(routes=routes, default=_not_found)
        self.state = State(state)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if scope["type"] == "http":
            headers = scope["headers"]
            if (
                len(headers) > MAX_HEADERS
                or sum(map(len, chain.from_iterable(headers))) > MAX_HEADER_BYTES
            ):
                detail = f"request headers exceed {MAX_HEADERS} fields or {MAX_HEADER_BYTES} bytes"
                response = http_error(
                    431, "Request Header Fields Too Large", detail, _style(scope["path"])
                )
                await response(scope, receive, send)
                return
        await self.router(scope, receive, send)
