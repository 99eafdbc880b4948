"""What happens after a change: the outbox, read by the delivery worker.

Every command that writes a case's history also writes one ``case_outbox`` row in
its transaction (``storage/history.py``): an acknowledged change always has its
event, a rolled-back one never does. ``handle_events`` takes the oldest events, asks
what each causes (``plan``: the deliveries of the notification rules and the actions
of the automation rules that match it, none while an active maintenance window covers
the case) and stores that while deleting the event, in one transaction: an event is
handled once, or not at all and again later. Nothing here touches the network; the
worker (``casebook.worker``) sends what is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import msgspec

from casebook.core.clock import new_id, now_us, rfc3339
from casebook.core.entities import COMMENT_ADDED, Case, CaseChange, OutboxEvent
from casebook.domain import limits, rules
from casebook.storage.base import Store, Transaction
from casebook.storage.outbox import Attempt, Delivery

_EVENT_TYPES = (
    ("created", "CASE_CREATED"),
    ("status", "STATUS_TRANSITIONED"),
    ("status_name", "STATUS_TRANSITIONED"),
    (COMMENT_ADDED, "COMMENT_ADDED"),
    ("assignee", "CASE_ASSIGNED"),
)
# A recipient's type: the delivery's channel, the recipient's member, the target's key.
_CHANNELS = {
    "HTTP": ("http", "name", "webhook"),
    "SLACK_CHANNEL": ("slack", "url", "url"),
    "MS_TEAMS_CHANNEL": ("teams", "url", "url"),
    "PAGERDUTY_SERVICE": ("pagerduty", "routing_key", "routing_key"),
    "EMAIL": ("email", "email", "to"),
}
_EVENTS = uuid.UUID("4f0b7a52-6a8e-4c3e-9a63-2d2f8e8f1c11")


def event_type(changes: Sequence[CaseChange]) -> str:
    """What kind of event one command's changes make (the first that applies)."""
    fields = {change.field for change in changes}
    for field, kind in _EVENT_TYPES:
        if field in fields:
            return kind
    return "ATTRIBUTE_VALUE_CHANGED"


def event_document(event: OutboxEvent, case: Case) -> dict[str, Any]:
    """What a webhook receives when it has no payload template (docs/deliveries.md)."""
    return {
        "id": str(uuid.uuid5(_EVENTS, f"{event.org_id}:{event.seq}")),
        "type": event_type(event.changes),
        "at": rfc3339(event.at),
        "org_id": event.org_id,
        "actor_id": event.actor_id,
        "case": {
            "id": case.id,
            "key": case.key,
            "number": case.number,
            "title": case.title,
            "status": case.status.value,
            "status_name": case.status_name or case.status.display_name,
            "priority": case.priority.value,
            "project_id": case.project_id,
            "assignee_id": None if case.assignee is None else case.assignee.id,
        },
        "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in event.changes],
    }


def plan(tx: Transaction, event: OutboxEvent) -> list[Delivery]:
    """The deliveries one event causes: one per recipient of each enabled notification
    rule of the case's project that the event fires and whose query the case matches
    (``rules.notification_rules_for``), and one per enabled automation rule whose action
    is ``EXECUTE_WORKFLOW`` (a signed call to the webhook its ``handle`` names) -- none
    while an active maintenance window's query matches the case. Automation rules do not
    act on changes made ``limits.MAX_RULE_DEPTH`` rules deep. casebook's own automation
    actions (assign, priority, status, comment) are not carried out yet."""
    case = tx.cases.get(event.org_id, event.case_id)
    if case is None or rules.muting_window(tx, case, event.at) is not None:
        return []
    document = event_document(event, case)
    at = now_us()

    def delivery(rule_id: str, channel: str, target: dict[str, Any]) -> Delivery:
        return Delivery(
            id=new_id(),
            org_id=case.org_id,
            project_id=case.project_id,
            case_id=case.id,
            rule_id=rule_id,
            channel=channel,
            target=target,
            body=document,
            next_attempt_at=at,
            created_at=at,
        )

    found = []
    for rule in rules.notification_rules_for(tx, case, event.changes):
        for recipient in rule.recipients:
            channel, member, key = _CHANNELS[recipient.type]
            found.append(delivery(rule.id, channel, {key: recipient.data.get(member, "")}))
    if event.depth < limits.MAX_RULE_DEPTH:
        for automation in rules.automation_rules_for(tx, case, event.changes):
            if automation.action.type == "EXECUTE_WORKFLOW":
                target = {"webhook": automation.action.data.get("handle", "")}
                found.append(delivery(automation.id, "workflow", target))
    return found


def handle_events(store: Store, *, limit: int = 100) -> int:
    """Handle up to ``limit`` of the oldest events; how many were handled."""
    with store.write() as tx:
        events = tx.outbox.next(limit)
        for event in events:
            for delivery in plan(tx, event):
                tx.deliveries.insert(delivery)
            tx.outbox.done(event.seq)
    return len(events)


def pending_events(store: Store, *, at_least: int | None = None) -> int:
    """How many events wait; with ``at_least``, counting no further than that."""
    with store.read() as tx:
        if at_least is not None:
            return len(tx.outbox.next(at_least))
        return tx.outbox.pending()


def take_lease(store: Store, name: str, holder: str, now: int, ttl_us: int) -> bool:
    """Hold (or keep holding) the lease ``name`` for ``ttl_us`` from ``now``."""
    with store.write() as tx:
        return tx.leases.take(name, holder, now, now + ttl_us)


def release_lease(store: Store, name: str, holder: str) -> None:
    with store.write() as tx:
        tx.leases.release(name, holder)


def due_deliveries(store: Store, now: int, limit: int) -> list[Delivery]:
    """Pending deliveries whose next attempt is due, oldest first."""
    with store.read() as tx:
        return tx.deliveries.due(now, limit)


def webhook_target(store: Store, org_id: str, name: str) -> dict[str, Any] | None:
    """Where and how a webhook of the organisation is sent, as it is now (None: no such
    webhook: the delivery fails, visibly, in the delivery log)."""
    with store.read() as tx:
        webhook = tx.webhooks.get(org_id, name)
    if webhook is None:
        return None
    headers = {} if not webhook.custom_headers else msgspec.json.decode(webhook.custom_headers)
    return {
        "url": webhook.url,
        "payload": webhook.payload,
        "headers": headers,
        "encode_as": webhook.encode_as,
    }


def record_attempt(
    store: Store,
    delivery: Delivery,
    *,
    at: int,
    status: int | None,
    error: str | None,
    retry_after_us: int | None,
    duration_ms: int,
) -> Delivery:
    """Store one attempt and what it makes of the delivery: delivered (no error), pending
    again at ``at + retry_after_us``, or failed (no retry, or out of attempts)."""
    delivery.attempts += 1
    delivery.last_error = error
    if error is None:
        delivery.state, delivery.delivered_at, delivery.next_attempt_at = "delivered", at, None
    elif retry_after_us is not None:
        delivery.state, delivery.next_attempt_at = "pending", at + retry_after_us
    else:
        delivery.state, delivery.next_attempt_at = "failed", None
    attempt = Attempt(delivery.attempts, at, status, error, duration_ms)
    with store.write() as tx:
        tx.deliveries.record(delivery, attempt)
    return delivery
