"""One outbound JSON call, as every client of this package makes it.

The URL passes the SSRF guard right before the call; redirects are not followed (a
checked host cannot hand the request on to an unchecked one); proxies and netrc files
of the environment are not read; the call takes at most the timeout in all, and reads
at most ``MAX_ANSWER_BYTES`` of the answer. Every
failure becomes ExternalServiceError (ExternalTimeoutError for a timeout) naming the
system, with at most a short excerpt of what it answered, never the credentials: a
system that echoes them (the password, or the whole ``Authorization`` header) has them
blanked out of its answer before anything reads it.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import msgspec

from casebook import __version__
from casebook.core.errors import ExternalServiceError, ExternalTimeoutError, UnsafeUrlError
from casebook.egress.guard import check_url

MAX_ANSWER_BYTES = 1_048_576
EXCERPT_CHARS = 300
USER_AGENT = f"casebook/{__version__}"


REDACTED = "[redacted]"


def redact(text: str, auth: tuple[str, str]) -> str:
    """``text`` without the password of ``auth``, nor the basic credentials it makes."""
    user, password = auth
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    for secret in (token, password):
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def excerpt(text: str) -> str:
    """At most ``EXCERPT_CHARS`` characters of a system's answer, on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def post_json(
    system: str,
    url: str,
    body: dict[str, Any],
    *,
    auth: tuple[str, str],
    timeout: float,
    allow_private: bool,
) -> tuple[int, Any, str]:
    """POST ``body`` as JSON with basic ``auth``; the answer's status, its JSON (None if it
    is not JSON) and its text. Raises ExternalServiceError when the call cannot be made."""
    try:
        check_url(url, allow_private=allow_private)
    except UnsafeUrlError as exc:
        raise ExternalServiceError(system, f"the connection's {exc.message}") from None
    import httpx2 as httpx  # here: the HTTP client costs every process ~50 ms to load

    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    deadline = time.monotonic() + timeout
    try:
        with (
            httpx.Client(
                timeout=timeout, follow_redirects=False, trust_env=False, headers=headers
            ) as client,
            client.stream("POST", url, json=body, auth=auth) as response,
        ):
            # Read at most MAX_ANSWER_BYTES, and no longer than the timeout in all: a system
            # that answers slowly, or without end, holds up only this request, and not long.
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= MAX_ANSWER_BYTES:
                    break
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the answer took too long")
            status = response.status_code
    except httpx.TimeoutException:
        raise ExternalTimeoutError(system, f"no answer within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        host = httpx.URL(url).host
        raise ExternalServiceError(system, f"cannot reach {host}: {type(exc).__name__}") from None
    content = b"".join(chunks)[:MAX_ANSWER_BYTES]
    text = redact(content.decode("utf-8", "replace"), auth)
    try:
        data = msgspec.json.decode(text)
    except msgspec.DecodeError:
        data = None
    return status, data, text
