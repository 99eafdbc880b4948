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

from typing import Any

import msgspec

from casebook.core.entities import OutboxEvent
from casebook.storage.base import Store, Transaction
from casebook.storage.outbox import Attempt, Delivery


def plan(tx: Transaction, event: OutboxEvent) -> list[Delivery]:
    """The deliveries one event causes: one per recipient of each enabled notification
    rule of the case's project that the event triggers and whose query the case matches.
    The rules are served from the rules-and-integrations work, which is in progress: until
    it lands, no organisation has rules and an event causes nothing."""
    return []


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
