"""One Starlette route per path, dispatching on the method, so 405 answers list every method."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Endpoint = Callable[[Request], Awaitable[Response]]


def route(path: str, **handlers: Endpoint) -> Route:
    """``route("/x", GET=list_x, POST=create_x)``."""
    table = {method.upper(): handler for method, handler in handlers.items()}
    if "GET" in table:
        table.setdefault("HEAD", table["GET"])
    if len(table) == 1 or set(table) == {"GET", "HEAD"}:
        only = next(iter(table.values()))
        return Route(path, only, methods=list(table))

    async def dispatch(request: Request) -> Response:
        return await table[request.method](request)

    return Route(path, dispatch, methods=list(table))
