"""Deliveries that never leave the machine: the emulator's stand-in for the worker.

After each request that may have changed an organisation, ``deliver`` does what the
delivery worker (``worker/runner.py``) would: it handles the organisation's pending
events through the domain (``events.handle_events``: rules, automation, deliveries),
then makes each due delivery's request exactly as ``worker/send.py`` would — URL,
headers, signature, body — and, instead of sending it, records it in the
organisation's outbox and records a delivered attempt (status 200, or 250 for email),
so the delivery log reads as if it had gone out. Running before the answer is sent
makes the outbox exact the moment a client has its answer: no polling.
"""

from __future__ import annotations

import json
from typing import Any

from casebook.core.clock import now_us, rfc3339
from casebook.domain import automation, events
from casebook.domain.webhooks import signing_secret
from casebook.emulator.tenants import SECRET, Tenant
from casebook.storage.outbox import Delivery
from casebook.worker import send

_BATCH = 100


def _decoded(body: bytes, content_type: str) -> Any:
    if content_type == "application/json":
        try:
            return json.loads(body)
        except ValueError:
            pass
    return body.decode("utf-8", "replace")


def _message(tenant: Tenant, delivery: Delivery) -> tuple[dict[str, Any], int | None, str | None]:
    """What the delivery would send, and the status and error of its attempt."""
    entry: dict[str, Any] = {
        "id": delivery.id,
        "channel": delivery.channel,
        "rule_id": delivery.rule_id,
        "case_id": delivery.case_id,
        "project_id": delivery.project_id,
        "event": delivery.body,
        "at": rfc3339(now_us()),
    }
    target = delivery.target
    if delivery.channel in ("http", "workflow"):
        name = str(target.get("webhook", ""))
        entry["webhook"] = name or None
        resolved = events.webhook_target(tenant.store, delivery.org_id, name)
        if resolved is None:
            return entry, None, f"no webhook named {name!r}"
        target = resolved
    if delivery.channel == "email":
        entry["to"] = target.get("to") or target.get("address") or target
        entry["subject"] = send.email_subject(delivery.body)
        entry["text"] = send.email_text(delivery.body, delivery.id)
        return entry, send.SMTP_ACCEPTED, None
    try:
        url, headers, body = send.request_of(
            delivery.channel,
            target,
            delivery.body,
            secret=signing_secret(SECRET.encode(), delivery.org_id),
            delivery_id=delivery.id,
        )
    except (KeyError, ValueError) as exc:
        return entry, None, f"cannot build the request: {exc}"
    entry["request"] = {
        "method": "POST",
        "url": url,
        "headers": headers,
        "body": _decoded(body, headers.get("Content-Type", "")),
    }
    return entry, 200, None


def deliver(tenant: Tenant) -> int:
    """Handle every pending event of the organisation and record every due delivery in
    its outbox; how many were recorded. Call it inside ``tenant.context()``."""
    store = tenant.store
    while events.handle_events(store, limit=_BATCH) == _BATCH:
        pass
    recorded = 0
    while True:
        due = events.due_deliveries(store, now_us(), _BATCH)
        for delivery in due:
            entry, status, error = _message(tenant, delivery)
            events.record_attempt(
                store,
                delivery,
                at=now_us(),
                status=status,
                error=error,
                retry_after_us=None,
                duration_ms=0,
            )
            if error is None:
                tenant.outbox.append(entry)
                recorded += 1
        if len(due) < _BATCH:
            return recorded


def close_inactive(tenant: Tenant) -> None:
    """Close the cases the organisation's projects call inactive by now (after the clock
    moved), and deliver what that causes. Call it inside ``tenant.context()``."""
    automation.close_inactive_cases(tenant.store, proceed=lambda: True)
    deliver(tenant)
