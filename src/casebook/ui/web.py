"""What every page shares: the session cookie, CSRF, security headers, error pages.

The UI mount's counterpart of ``http/endpoint.py``: a page identifies its caller by the
session cookie (``domain.sessions``) instead of a key pair, refuses a change (any POST)
whose CSRF token does not match the session's, and renders errors as HTML.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from casebook.core.entities import Actor
from casebook.core.errors import (
    AuthenticationError,
    CasebookError,
    PayloadTooLargeError,
    RateLimitedError,
)
from casebook.domain import sessions
from casebook.http.endpoint import Context, limit_calls
from casebook.http.errors import status_for
from casebook.http.observe import ACTOR, REJECTED
from casebook.ui.render import template

log = logging.getLogger("casebook.http")

SESSION_COOKIE = "casebook_session"
CSRF_COOKIE = "casebook_csrf"  # before sign-in: a double-submitted token
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 256 * 1024

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none';"
    " object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class CsrfError(CasebookError):
    code = "csrf"


@dataclass(slots=True)
class Visit:
    """One request to a page: the request, the app's context, the session and the form."""

    request: Request
    ctx: Context
    session: sessions.Session
    form: dict[str, str] = field(default_factory=dict)
    fields: list[tuple[str, str]] = field(default_factory=list)  # every field, in order

    def values(self, name: str) -> list[str]:
        """Every value of a field the form repeats (checkboxes)."""
        return [value for key, value in self.fields if key == name]

    @property
    def actor(self) -> Actor:
        return self.session.actor

    @property
    def htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    def render(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = template(name).render(
            actor=self.actor,
            org_name=self.session.org_name,
            csrf=self.session.csrf,
            path=self.request.url.path,
            **values,
        )
        return HTMLResponse(html, status)


PageHandler = Callable[[Visit], Awaitable[Response]]


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def with_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def read_fields(request: Request) -> list[tuple[str, str]]:
    """An urlencoded form (what forms and htmx send): its fields, in order."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise PayloadTooLargeError(f"a form is at most {MAX_FORM_BYTES} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PayloadTooLargeError(f"a form is at most {MAX_FORM_BYTES} bytes")
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if body and media != "application/x-www-form-urlencoded":
        return []
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return [(name, value.replace("\x00", "")) for name, value in pairs]


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form, each field's first value."""
    form: dict[str, str] = {}
    for name, value in await read_fields(request):
        form.setdefault(name, value)
    return form


def check_csrf(expected: str, request: Request, form: dict[str, str]) -> None:
    given = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfError("the form's security token is missing or stale: reload the page")


def error_page(exc: CasebookError, request: Request) -> Response:
    status, title = status_for(exc)
    if isinstance(exc, CsrfError):
        status, title = 403, "Forbidden"
    html = template("error.html").render(
        status=status, title=title, message=str(exc), actor=None, path=request.url.path
    )
    return with_headers(HTMLResponse(html, status))


def sign_in_redirect(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    url = "/signin" if target == "/" else f"/signin?next={quote(target, safe='')}"
    if request.headers.get("hx-request") == "true":
        return with_headers(Response(status_code=204, headers={"HX-Redirect": url}))
    return with_headers(RedirectResponse(url, 303))


def page(handler: PageHandler, *, touch: bool = True) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a page handler: resume the session (else send the browser to sign in), check
    the CSRF token of a POST, apply the rate limit, render errors as pages, and add the
    security headers. ``touch``: the request counts as the user's activity."""

    async def run(request: Request) -> Response:
        ctx: Context = request.app.state.ctx
        try:
            token = request.cookies.get(SESSION_COOKIE, "")
            try:
                session = sessions.resume(
                    ctx.store,
                    ctx.secret,
                    token,
                    idle_us=ctx.settings.session_idle_minutes * 60_000_000,
                    touch=touch,
                )
            except AuthenticationError:
                response = sign_in_redirect(request)
                if token:
                    response.delete_cookie(SESSION_COOKIE, path="/")
                return response
            request.scope[ACTOR] = session.actor
            limit_calls(ctx, session.actor, message="too many requests: slow down", name="ui")
            form: dict[str, str] = {}
            fields: list[tuple[str, str]] = []
            if request.method == "POST":
                fields = await read_fields(request)
                for name, value in fields:
                    form.setdefault(name, value)
                check_csrf(session.csrf, request, form)
            response = await handler(Visit(request, ctx, session, form, fields))
        except CasebookError as exc:
            if isinstance(exc, CsrfError):
                request.scope[REJECTED] = "csrf"
            elif isinstance(exc, RateLimitedError):
                request.scope[REJECTED] = "rate_limit"
            response = error_page(exc, request)
        except Exception as exc:
            log.error("unexpected error", exc_info=exc)
            response = error_page(CasebookError("an unexpected error occurred"), request)
            response.status_code = 500
        return with_headers(response)

    run.__name__ = handler.__name__
    return run
