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

Email deliveries (``send_email``) go through the operator's SMTP server
(``CASEBOOK_SMTP_*``): a plain-text message whose ``Message-ID`` and
``X-Casebook-Delivery`` come from the delivery's id. The server accepting it delivers
(status 250); a 4xx reply, a timeout or a lost connection is tried again like an HTTP
5xx; a 5xx reply, a refused login or a server that cannot do what the settings ask
fails at once. The SMTP reply code is the attempt's status.
"""

from __future__ import annotations

import email.errors
import email.utils
import hashlib
import hmac
import json
import random
import re
import ssl
import time
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from casebook.config import SmtpSettings
from casebook.core.errors import UnsafeUrlError
from casebook.egress.guard import check_url

if TYPE_CHECKING:  # the clients are loaded by the first attempt, not by every process
    import httpx2 as httpx

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
    import httpx2 as httpx

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


# Email.

SMTP_ACCEPTED = 250
SUBJECT_TITLE_CHARS = 120
_VALUE_CHARS = 40  # longer values are said to have changed, not spelled out, in a subject
_BODY_VALUE_CHARS = 500
_HAPPENED = {"CASE_CREATED": "created", "COMMENT_ADDED": "new comment"}
_LONG_FIELDS = ("description", "attributes", "insights")


def _one_line(text: object, limit: int | None = None) -> str:
    line = " ".join(str(text or "").split())
    if limit is not None and len(line) > limit:
        return line[: limit - 1] + "…"
    return line


def what_happened(event: dict[str, Any]) -> str:
    """A few words on what the event did: ``created``, ``status OPEN → CLOSED; assigned``."""
    kind = str(event.get("type", ""))
    if kind in _HAPPENED:
        return _HAPPENED[kind]
    parts = []
    for change in event.get("changes", []):
        field, old, new = change.get("field"), change.get("old"), change.get("new")
        if field == "watcher":
            continue
        if field == "assignee":
            parts.append("assigned" if new else "unassigned")
        elif field in _LONG_FIELDS or any(
            len(str(v or "")) > _VALUE_CHARS or "\n" in str(v or "") for v in (old, new)
        ):
            parts.append(f"{field} changed")
        else:
            parts.append(f"{field} {old or '∅'} → {new or '∅'}")
    return "; ".join(parts[:3]) or kind.lower().replace("_", " ") or "changed"


def email_subject(event: dict[str, Any]) -> str:
    """``[SEC-42] Phishing wave: status OPEN → IN_PROGRESS``, on one line."""
    case = event.get("case", {})
    title = _one_line(case.get("title"), SUBJECT_TITLE_CHARS)
    key = _one_line(case.get("key")) or "casebook"
    what = _one_line(what_happened(event))
    return f"[{key}] {title}: {what}" if title else f"[{key}] {what}"


def email_text(event: dict[str, Any], delivery_id: str) -> str:
    """The message's plain-text body: the case, what changed, and why this was sent."""
    case = event.get("case", {})
    lines = [
        f"{_one_line(case.get('key'))} {_one_line(case.get('title'))}".strip(),
        f"What happened: {_one_line(what_happened(event))}",
        "",
        f"Status:   {_one_line(case.get('status_name') or case.get('status'))}",
        f"Priority: {_one_line(case.get('priority'))}",
    ]
    changes = [c for c in event.get("changes", []) if c.get("field") != "watcher"]
    if changes:
        lines += ["", "Changes:"]
        for change in changes:
            old = _one_line(change.get("old"), _BODY_VALUE_CHARS) or "∅"
            new = _one_line(change.get("new"), _BODY_VALUE_CHARS) or "∅"
            lines.append(f"  {change.get('field')}: {old} → {new}")
    lines += [
        "",
        f"Event: {event.get('type', '')} at {event.get('at', '')} ({event.get('id', '')})",
        "",
        "-- ",
        "casebook sent this because a notification rule of the case's project names this",
        f"address. Delivery {delivery_id}.",
    ]
    return "\n".join(lines) + "\n"


def email_message(event: dict[str, Any], *, to: str, sender: str, delivery_id: str) -> EmailMessage:
    """The message one email delivery sends. Its ``Message-ID`` is made of the delivery's
    id (and the sender's domain), so every attempt sends the same one and a mail server or
    reader that has it already can drop the copy. Raises ValueError on an address that
    cannot be written in a header."""
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2]
    if not domain.isascii() or not domain:
        domain = "casebook"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = Address(addr_spec=to)
    message["Subject"] = email_subject(event)
    message["Date"] = email.utils.formatdate(usegmt=True)
    message["Message-ID"] = f"<{delivery_id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    message[DELIVERY_HEADER] = delivery_id
    message.set_content(email_text(event, delivery_id))
    return message


def _refused(code: int, message: str, what: str) -> Outcome:
    """An SMTP reply other than acceptance: 4xx is worth another attempt, the rest is not."""
    retry = 400 <= code < 500
    return Outcome(code, f"the SMTP server refused {what}: {code} {_one_line(message)}", retry)


def _untrusted(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _smtp_attempt(
    smtp: SmtpSettings, target: dict[str, Any], event: dict[str, Any], delivery_id: str
) -> Outcome:
    import aiosmtplib

    to = str(target.get("to", ""))
    try:
        message = email_message(event, to=to, sender=smtp.sender, delivery_id=delivery_id)
    except (ValueError, email.errors.MessageError) as exc:
        return Outcome(None, f"cannot build the message to {to!r}: {exc}", retry=False)
    where = f"{smtp.host}:{smtp.port}"
    try:
        await aiosmtplib.send(
            message,
            sender=smtp.sender_address,
            recipients=[to],
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.username or None,
            password=smtp.password or None,
            use_tls=smtp.tls,
            start_tls=smtp.starttls,
            timeout=smtp.timeout_seconds,
        )
    except aiosmtplib.SMTPAuthenticationError as exc:
        outcome = _refused(exc.code, exc.message, f"the login of {smtp.username!r}")
        return Outcome(
            outcome.status,
            f"{outcome.error} (check CASEBOOK_SMTP_USERNAME and CASEBOOK_SMTP_PASSWORD)",
            outcome.retry,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        first = exc.recipients[0]
        return _refused(first.code, first.message, f"the recipient {to}")
    except aiosmtplib.SMTPSenderRefused as exc:
        return _refused(exc.code, exc.message, f"the sender {exc.sender}")
    except aiosmtplib.SMTPResponseException as exc:
        return _refused(exc.code, exc.message, "the message")
    except aiosmtplib.SMTPTimeoutError:
        return Outcome(None, f"{where} gave no answer within {smtp.timeout_seconds:g} s", True)
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, OSError) as exc:
        if _untrusted(exc):
            return Outcome(None, f"{where}'s TLS certificate is not trusted: {exc}", False)
        return Outcome(None, f"cannot reach the SMTP server {where}: {exc}", retry=True)
    except aiosmtplib.SMTPException as exc:
        # STARTTLS or AUTH asked for and not offered, SMTPUTF8 needed and not offered:
        # the settings or the server must change before an attempt can do better.
        return Outcome(None, f"the SMTP server {where} cannot send this: {exc}", retry=False)
    except ValueError as exc:
        return Outcome(None, f"cannot send to {to!r}: {exc}", retry=False)
    return Outcome(SMTP_ACCEPTED, None, retry=False)


async def send_email(
    smtp: SmtpSettings | None, target: dict[str, Any], event: dict[str, Any], *, delivery_id: str
) -> Outcome:
    """One attempt of one email delivery (``target``: ``{"to": address}``) through the
    configured SMTP server; with none configured, it fails at once, saying so. The SMTP
    host is the operator's own setting, so it does not pass the SSRF guard."""
    if smtp is None:
        return Outcome(None, "email is not configured: set CASEBOOK_SMTP_HOST", retry=False)
    outcome = await _smtp_attempt(smtp, target, event, delivery_id)
    if outcome.error is not None and smtp.password and smtp.password in outcome.error:
        # No server should echo it; if one does, the record still must not keep it.
        return Outcome(
            outcome.status, outcome.error.replace(smtp.password, "********"), outcome.retry
        )
    return outcome
