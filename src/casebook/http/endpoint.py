"""What every API handler shares: identifying the caller, body decoding, error rendering.

A mount decides how a caller is identified and how its errors look: the API
mount identifies callers by their Datadog key pair (``keys_caller``) and
renders errors in the operation's style (``http.errors``). ``endpoint`` wraps a
handler with exactly that; a second mount (the web UI) brings its own.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from casebook.config import Settings
from casebook.core.entities import Actor, Scope
from casebook.core.errors import (
    AuthenticationError,
    CasebookError,
    InvalidRequestError,
    PayloadTooLargeError,
    RateLimitedError,
    UnavailableError,
)
from casebook.core.faults import Faults
from casebook.domain.access import require_admin, require_scope
from casebook.domain.integrations import JiraConnector, ServiceNowConnector
from casebook.domain.keys import Authenticator
from casebook.http.errors import JSONAPI, Style, error_response, internal_error
from casebook.http.observe import ACTOR, REJECTED
from casebook.ratelimit import Decision, RateLimiter
from casebook.storage.base import Store

T = TypeVar("T")
Handler = Callable[[Request, "Context", Actor], Awaitable[Response]]
"""What an operation's code is: the request, the app's context and the identified caller."""
Endpoint = Callable[[Request], Awaitable[Response]]
Identify = Callable[[Request, "Context"], Actor]

_JSON_TYPES = ("application/json", "application/vnd.api+json")
# A \u0000 escape that is not itself an escaped backslash followed by "u0000".
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


@dataclass(slots=True)
class Context:
    settings: Settings
    store: Store
    auth: Authenticator
    limiter: RateLimiter | None
    faults: Faults
    secret: bytes  # the server's secret: key digests, sealed credentials
    jira: JiraConnector
    service_now: ServiceNowConnector


def _limit_headers(decision: Decision) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Period": str(decision.period),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(decision.reset_after),
        "X-RateLimit-Name": "cases",
    }


def _failure_bucket(request: Request) -> str:
    client = request.scope.get("client")
    return f"authfail:{client[0] if client else 'unknown'}"


def _presented_keys(request: Request) -> tuple[str | None, str | None]:
    """The first ``DD-API-KEY`` and ``DD-APPLICATION-KEY`` (ASGI names are lower case)."""
    api_key: str | None = None
    app_key: str | None = None
    for name, value in request.scope["headers"]:
        if name == b"dd-api-key":
            if api_key is None:
                api_key = value.decode("latin-1")
        elif name == b"dd-application-key" and app_key is None:
            app_key = value.decode("latin-1")
    return api_key, app_key


def refuse_if_throttled(ctx: Context, request: Request, message: str) -> None:
    """RateLimitedError with ``message`` once the client address has failed to authenticate
    too often (the API's keys and the UI's sign-ins count together); costs nothing."""
    limit = ctx.settings.auth_failure_limit
    if ctx.limiter is None or limit is None:
        return
    seen = ctx.limiter.hit(_failure_bucket(request), limit, cost=0)
    if not seen.allowed:
        raise RateLimitedError(
            message,
            limit=seen.limit,
            period=seen.period,
            reset_after=seen.reset_after,
            name="auth_failures",
        )


def count_auth_failure(ctx: Context, request: Request) -> None:
    """Count one failed authentication against the client address."""
    limit = ctx.settings.auth_failure_limit
    if ctx.limiter is not None and limit is not None:
        ctx.limiter.hit(_failure_bucket(request), limit)


def keys_caller(request: Request, ctx: Context) -> Actor:
    """The owner of the presented Datadog keys; failures count against the client address."""
    api_key, app_key = _presented_keys(request)
    if ctx.limiter is None or ctx.settings.auth_failure_limit is None:
        return ctx.auth.authenticate(api_key, app_key)

    def throttled() -> None:
        refuse_if_throttled(ctx, request, "too many failed authentications from this address")

    try:
        return ctx.auth.authenticate(api_key, app_key, before_lookup=throttled)
    except AuthenticationError:
        count_auth_failure(ctx, request)
        raise


def limit_calls(ctx: Context, actor: Actor, *, message: str, name: str) -> Decision | None:
    """Count a call against its key's rate limit (the API's and the UI's: one counter per
    key); past it, RateLimitedError with ``message``. The decision, None without a limit."""
    limit = ctx.settings.rate_limit
    if ctx.limiter is None or limit is None:
        return None
    decision = ctx.limiter.hit(f"key:{actor.key_id}", limit)
    if not decision.allowed:
        raise RateLimitedError(
            message,
            limit=decision.limit,
            period=decision.period,
            reset_after=decision.reset_after,
            name=name,
        )
    return decision


def endpoint(
    handler: Handler,
    *,
    style: Style,
    scope: Scope,
    admin: bool = False,
    identify: Identify = keys_caller,
) -> Endpoint:
    """Wrap a handler: identify and rate-limit the caller, require ``scope`` (and, with
    ``admin``, a caller whose role is admin), render every error in ``style``. The domain
    checks them too; checking them here first makes the registry's declaration the rule
    the API enforces."""

    async def run(request: Request) -> Response:
        ctx: Context = request.app.state.ctx
        decision: Decision | None = None
        try:
            if ctx.faults and ctx.faults.fire("request_503"):
                raise UnavailableError("injected fault: request refused before any work")
            actor = identify(request, ctx)
            request.scope[ACTOR] = actor
            decision = limit_calls(
                ctx, actor, message="rate limit exceeded for this application key", name="cases"
            )
            require_scope(actor, scope)
            if admin:
                require_admin(actor)
            response = await handler(request, ctx, actor)
        except CasebookError as exc:
            if isinstance(exc, AuthenticationError):
                request.scope[REJECTED] = "auth_failure"
            elif isinstance(exc, RateLimitedError):
                request.scope[REJECTED] = (
                    "auth_throttled" if exc.name == "auth_failures" else "rate_limit"
                )
            response = error_response(exc, style)
        except Exception as exc:
            response = internal_error(exc, style)
        if decision is not None and decision.allowed:
            # Every answer that counted against the limit says how much is left.
            response.headers.update(_limit_headers(decision))
        return response

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


async def read_body(request: Request, ctx: Context) -> bytes:
    """The request body, refusing one over the cap before reading it all (413)."""
    limit = ctx.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InvalidRequestError("invalid Content-Length header")
        if int(declared) > limit:
            raise PayloadTooLargeError(f"request body is larger than {limit} bytes")
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in _JSON_TYPES:
        raise InvalidRequestError(
            f"unsupported Content-Type {content_type!r}: send application/json"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


# One decoder per request struct: msgspec caches what it learns of a class on the class,
# but not on a generic alias such as CaseActionRequest[TitleAttributes].
_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}


async def decode(request: Request, ctx: Context, kind: type[T]) -> T:
    body = await read_body(request, ctx)
    if not body:
        raise InvalidRequestError("a JSON request body is required")
    if b"u0000" in body and _JSON_NUL.search(body):
        # PostgreSQL cannot store NUL in text; refuse it on every back end alike.
        raise InvalidRequestError("invalid request body: NUL characters (\\u0000) are not allowed")
    decoder = _DECODERS.get(kind)
    if decoder is None:
        decoder = _DECODERS[kind] = msgspec.json.Decoder(kind)
    try:
        return decoder.decode(body)  # type: ignore[no-any-return]
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(f"invalid request body: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InvalidRequestError(f"malformed JSON: {exc}") from None
    except RecursionError:
        raise InvalidRequestError("malformed JSON: nested too deeply") from None


def require_type(actual: str, expected: str) -> None:
    if actual != expected:
        raise InvalidRequestError(f'got type "{actual}" expected one of "{expected}"')


def present(value: T | None, path: str) -> T:
    """A member the request must carry (checked after ``data.type``)."""
    if value is None:
        raise InvalidRequestError(f"invalid request body: {path} is required")
    return value


def query_int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidRequestError(f"invalid {name} {raw!r}: expected an integer") from None


def query_bool(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    folded = raw.lower()
    if folded in ("true", "1"):
        return True
    if folded in ("false", "0"):
        return False
    raise InvalidRequestError(f"invalid {name} {raw!r}: expected true or false")


class EncodedResponse(Response):
    """An encoded JSON body with its two headers built directly (the hot path's response)."""

    def __init__(self, body: bytes, status: int, content_type: bytes) -> None:
        self.status_code = status
        self.background = None
        self.body = body
        self.raw_headers = [
            (b"content-length", b"%d" % len(body)),
            (b"content-type", content_type),
        ]


_JSONAPI_BYTES = JSONAPI.encode()


def jsonapi(document: Any, status: int = 200) -> Response:
    return EncodedResponse(msgspec.json.encode(document), status, _JSONAPI_BYTES)


def json(document: Any, status: int = 200) -> Response:
    return EncodedResponse(msgspec.json.encode(document), status, b"application/json")
