"""What happens after a change: the outbox, read by the delivery worker.

Every command that writes a case's history also writes one ``case_outbox`` row in
its transaction (``storage/history.py``): an acknowledged change always has its
event, a rolled-back one never does. ``handle_events`` takes the oldest events, asks
what each causes (``plan``: the deliveries of the notification rules and the actions
of the automation rules that match it, none while an active maintenance window covers
the case), stores the deliveries, carries out casebook's own actions
(``automation.carry_out``: their changes write events of their own) and deletes the
event, in one transaction: an event is handled once, or not at all and again later.
Nothing here touches the network; the worker (``casebook.worker``) sends what is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as default
from typing import Any

import msgspec

from casebook.core.clock import new_id, now_us, rfc3339
from casebook.core.entities import COMMENT_ADDED, AutomationRule, Case, CaseChange, OutboxEvent
from casebook.domain import automation, limits, rules
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
        # The outbox's seq alone may come again (SQLite reuses it once the outbox drains);
        # with the case and the time of the change it cannot.
        "id": str(uuid.uuid5(_EVENTS, f"{event.org_id}:{event.case_id}:{event.at}:{event.seq}")),
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


@dataclass(slots=True)
class Plan:
    """What one event causes: deliveries to store, and automation rules whose own action
    (assign, priority, status, comment) to carry out on the case, in the rules' order."""

    deliveries: list[Delivery] = default(default_factory=list)
    actions: list[AutomationRule] = default(default_factory=list)
    case: Case | None = None
    document: dict[str, Any] = default(default_factory=dict)


def _delivery(
    case: Case,
    document: dict[str, Any],
    rule_id: str,
    channel: str,
    target: dict[str, Any],
    at: int,
) -> Delivery:
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


def plan(tx: Transaction, event: OutboxEvent) -> Plan:
    """What one event causes: one delivery per recipient of each enabled notification
    rule of the case's project that the event fires and whose query the case matches
    (``rules.notification_rules_for``); for each enabled automation rule it fires
    (``rules.automation_rules_for``), a delivery when its action is ``EXECUTE_WORKFLOW``
    (a signed call to the webhook its ``handle`` names), else its own action to carry
    out. Nothing while an active maintenance window's query matches the case; no
    automation on changes made ``limits.MAX_RULE_DEPTH`` rules deep."""
    case = tx.cases.get(event.org_id, event.case_id)
    if case is None or rules.muting_window(tx, case, event.at) is not None:
        return Plan()
    document = event_document(event, case)
    at = now_us()
    planned = Plan(case=case, document=document)
    for notification in rules.notification_rules_for(tx, case, event.changes):
        for recipient in notification.recipients:
            channel, member, key = _CHANNELS[recipient.type]
            target = {key: recipient.data.get(member, "")}
            sent = _delivery(case, document, notification.id, channel, target, at)
            planned.deliveries.append(sent)
    if event.depth < limits.MAX_RULE_DEPTH:
        for rule in rules.automation_rules_for(tx, case, event.changes):
            if rule.action.type == "EXECUTE_WORKFLOW":
                target = {"webhook": rule.action.data.get("handle", "")}
                workflow = _delivery(case, document, rule.id, "workflow", target, at)
                planned.deliveries.append(workflow)
            else:
                planned.actions.append(rule)
    return planned


def _not_applied(planned: Plan, rule: AutomationRule, error: str) -> Delivery:
    """The record of an action that could not be applied: a failed delivery on the
    ``action`` channel, which the delivery log lists with its error."""
    assert planned.case is not None
    target = {"action": rule.action.type, **rule.action.data}
    failed = _delivery(planned.case, planned.document, rule.id, "action", target, now_us())
    failed.state, failed.next_attempt_at, failed.last_error = "failed", None, error
    return failed


def handle_events(store: Store, *, limit: int = 100) -> int:
    """Handle up to ``limit`` of the oldest events; how many were handled."""
    with store.write() as tx:
        events = tx.outbox.next(limit)
        for event in events:
            planned = plan(tx, event)
            for delivery in planned.deliveries:
                tx.deliveries.insert(delivery)
            for rule in planned.actions:
                error = automation.carry_out(tx, rule, event.case_id, depth=event.depth + 1)
                if error is not None:
                    tx.deliveries.insert(_not_applied(planned, rule, error))
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
