"""Sending one delivery: the request each channel takes, the signature, the retry plan.

HTTP deliveries (a webhook of the Webhooks integration, an automation rule's
``execute_workflow``) are POSTed with two headers: ``X-Casebook-Delivery``, the
delivery's id (the same on every attempt: receivers dedupe on it), and
``X-Casebook-Signature: t=<unix seconds>,v1=<hex>``, where ``v1`` is
HMAC-SHA256 over ``"<t>." + body`` with the organisation's signing secret
(``casebook webhooks secret --org NAME`` prints it). A receiver checks it as
``docs/deliveries.md`` shows, and refuses a ``t`` too far from its clock.
Slack, Microsoft Teams and PagerDuty get their own shapes, unsigned (their URLs and
routing keys are the secrets). Every URL passes the SSRF guard before each attempt.

An attempt that gets a 2xx delivers. A 5xx, a 429, a timeout or a network error is
tried again after ``backoff_seconds`` (exponential, with jitter), up to
``MAX_ATTEMPTS`` in all (about six hours); any other answer, or a destination that
is refused or does not exist, fails at once. Every attempt is recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx2 as httpx

from casebook.core.errors import UnsafeUrlError
from casebook.egress.guard import check_url

SIGNATURE_HEADER = "X-Casebook-Signature"
DELIVERY_HEADER = "X-Casebook-Delivery"
MAX_ATTEMPTS = 10
FIRST_RETRY_SECONDS = 5.0
LONGEST_WAIT_SECONDS = 3_600.0
TIMEOUT_SECONDS = 10.0
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
_RETRIED = {408, 425, 429}
_VARIABLE = re.compile(r"\$([A-Z_]+)")
_SEVERITY = {"P1": "critical", "P2": "error", "P3": "warning"}


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt went: its status (None: no answer), what went wrong, and whether
    another attempt may do better."""

    status: int | None
    error: str | None
    retry: bool

    @property
    def delivered(self) -> bool:
        return self.error is None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Casebook-Signature`` value of ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def backoff_seconds(
    attempts: int, rng: random.Random | None = None, *, first: float = FIRST_RETRY_SECONDS
) -> float:
    """How long to wait after ``attempts`` failed attempts: ``first`` (5 s), then twice as
    long each time, at most an hour; each between half and one and a half times that."""
    base = min(first * 2 ** max(attempts - 1, 0), LONGEST_WAIT_SECONDS)
    return float(base * (rng or random).uniform(0.5, 1.5))


def _variables(event: dict[str, Any]) -> dict[str, str]:
    case = event.get("case", {})
    return {
        "EVENT_ID": str(event.get("id", "")),
        "EVENT_TYPE": str(event.get("type", "")),
        "CASE_ID": str(case.get("id", "")),
        "CASE_KEY": str(case.get("key", "")),
        "CASE_NUMBER": str(case.get("number", "")),
        "CASE_TITLE": str(case.get("title", "")),
        "CASE_STATUS": str(case.get("status", "")),
        "CASE_PRIORITY": str(case.get("priority", "")),
        "PROJECT_ID": str(case.get("project_id", "")),
        "DATE": str(event.get("at", "")),
        "ORG_ID": str(event.get("org_id", "")),
        "SUMMARY": summary(event),
    }


def render_payload(template: str, event: dict[str, Any]) -> bytes:
    """A webhook's payload template with its ``$VARIABLES`` replaced: inside a JSON string
    a value is escaped for it, elsewhere it stands as a JSON string (``$CASE_NUMBER``
    unquoted stays a bare number). An unknown variable stays as written."""
    values = _variables(event)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        return json.dumps(values[name])[1:-1]

    return _VARIABLE.sub(fill, template).encode()


def summary(event: dict[str, Any]) -> str:
    """One line a person reads: ``SEC-12 Phishing wave: status OPEN → IN_PROGRESS``."""
    case = event.get("case", {})
    parts = [
        f"{c['field']} {c.get('old') or '∅'} → {c.get('new') or '∅'}"
        for c in event.get("changes", [])
        if c.get("field") not in ("watcher",)
    ]
    what = "; ".join(parts[:3]) or str(event.get("type", "changed"))
    return f"{case.get('key', '')} {case.get('title', '')}: {what}"


def request_of(
    channel: str, target: dict[str, Any], event: dict[str, Any], *, secret: str, delivery_id: str
) -> tuple[str, dict[str, str], bytes]:
    """(url, headers, body) of one delivery on ``channel``."""
    headers = {"User-Agent": "casebook", DELIVERY_HEADER: delivery_id}
    if channel in ("http", "workflow"):
        template = target.get("payload")
        if target.get("encode_as") == "form":
            fields = json.loads(render_payload(template, event)) if template else event
            body = urlencode(
                {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
            ).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            body = render_payload(template, event) if template else json.dumps(event).encode()
            headers["Content-Type"] = "application/json"
        headers.update(target.get("headers") or {})
        headers[SIGNATURE_HEADER] = sign(secret, int(time.time()), body)
        return str(target["url"]), headers, body
    headers["Content-Type"] = "application/json"
    text = summary(event)
    if channel == "slack":
        return str(target["url"]), headers, json.dumps({"text": text}).encode()
    if channel == "teams":
        card = {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": text,
            "text": text,
        }
        return str(target["url"]), headers, json.dumps(card).encode()
    if channel == "pagerduty":
        case = event.get("case", {})
        alert = {
            "routing_key": target["routing_key"],
            "event_action": "trigger",
            "dedup_key": f"casebook-{case.get('id', '')}",
            "payload": {
                "summary": text[:1024],
                "source": "casebook",
                "severity": _SEVERITY.get(str(case.get("priority")), "info"),
                "custom_details": event,
            },
        }
        url = str(target.get("url") or PAGERDUTY_EVENTS_URL)
        return url, headers, json.dumps(alert).encode()
    raise ValueError(f"unknown channel {channel!r}")


async def attempt(
    client: httpx.AsyncClient,
    channel: str,
    target: dict[str, Any],
    event: dict[str, Any],
    *,
    secret: str,
    delivery_id: str,
    allow_private: bool,
) -> Outcome:
    """One attempt of one delivery."""
    try:
        url, headers, body = request_of(
            channel, target, event, secret=secret, delivery_id=delivery_id
        )
        check_url(url, allow_private=allow_private)
    except UnsafeUrlError as exc:
        return Outcome(None, str(exc), retry=False)
    except (KeyError, ValueError) as exc:
        return Outcome(None, f"cannot build the request: {exc}", retry=False)
    try:
        response = await client.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.TimeoutException:
        return Outcome(None, f"no answer within {TIMEOUT_SECONDS:g} s", retry=True)
    except httpx.HTTPError as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}", retry=True)
    status = response.status_code
    if 200 <= status < 300:
        return Outcome(status, None, retry=False)
    retry = status >= 500 or status in _RETRIED
    return Outcome(status, f"answered {status}", retry=retry)
