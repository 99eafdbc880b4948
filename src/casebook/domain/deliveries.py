"""What was sent: a project's deliveries and their attempts, for an admin debugging a webhook.

The worker stores each delivery's destination as it sends it (``events.plan``); some of
those are secrets -- a Slack or Microsoft Teams incoming-webhook URL, a PagerDuty routing
key -- so the listing shows a destination only as ``redact_target`` makes it: a webhook's
name and an email address as they are, a URL as its scheme and host and a long secret as
its last four characters, as a notification rule's answers show its recipients. The
listing is for admins (the user's role; the key needs ``cases_read``); a project of
another organisation is not found, as everywhere.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from casebook.core.entities import Actor, Scope
from casebook.core.errors import InvalidRequestError
from casebook.domain import limits
from casebook.domain.access import require_admin, require_scope
from casebook.domain.notification_rules import SECRETS, masked_value
from casebook.domain.rules import access_project
from casebook.storage.base import Store
from casebook.storage.outbox import Attempt, Delivery

STATES = ("pending", "delivered", "failed")
SHOWN = ("webhook", "to")
"""Members of a delivery's target shown as they are: a webhook's name, an email address."""


def redact_target(target: dict[str, Any]) -> dict[str, str]:
    """A delivery's destination as an admin may see it: ``webhook`` and ``to`` as they are,
    ``url`` and ``routing_key`` masked as notification rules' answers mask them
    (``https://hooks.slack.com/…Xa9Q``, ``…abcd``), anything else left out."""
    shown = {key: str(target[key]) for key in SHOWN if key in target}
    for key in SECRETS:
        if key in target:
            shown[key] = masked_value(str(target[key]))
    return shown


@dataclasses.dataclass(frozen=True, slots=True)
class DeliveryLog:
    """One delivery as listed: its destination redacted, its body left out, its attempts."""

    delivery: Delivery
    attempts: list[Attempt]


def list_deliveries(
    store: Store,
    project_id: str,
    *,
    actor: Actor,
    state: str | None = None,
    page_size: int = 10,
    page_number: int = 1,
) -> tuple[list[DeliveryLog], int]:
    """One page (1-based; 0 also means the first) of the project's deliveries, newest first,
    of ``state`` only when given, and how many there are. Raises PermissionDeniedError for
    a caller who is not an admin, ProjectNotFoundError for a project the organisation does
    not have."""
    require_scope(actor, Scope.CASES_READ)
    require_admin(actor)
    if state is not None and state not in STATES:
        raise InvalidRequestError(
            f"invalid filter[state] {state!r}: use one of {', '.join(STATES)}"
        )
    if not 1 <= page_size <= limits.MAX_PAGE_SIZE:
        raise InvalidRequestError(
            f"page[size] must be between 1 and {limits.MAX_PAGE_SIZE}, got {page_size}"
        )
    if page_number < 0:
        raise InvalidRequestError(f"page[number] must not be negative, got {page_number}")
    offset = min((max(page_number, 1) - 1) * page_size, limits.MAX_OFFSET)
    with store.read(snapshot=True) as tx:
        project = access_project(tx, actor.org_id, project_id)
        found = tx.deliveries.recent(
            actor.org_id, project.id, page_size, offset=offset, state=state
        )
        total = tx.deliveries.count(actor.org_id, project.id, state=state)
        attempts = tx.deliveries.attempts_of(actor.org_id, [d.id for d in found])
    return [
        DeliveryLog(
            dataclasses.replace(d, target=redact_target(d.target), body={}),
            attempts.get(d.id, []),
        )
        for d in found
    ], total


@dataclasses.dataclass(frozen=True, slots=True)
class Backlog:
    """Work the delivery worker has not done yet, over every organisation (for monitoring)."""

    outbox_events: int  # case changes not yet turned into deliveries
    pending_deliveries: int  # deliveries not yet sent, retries included


def backlog(store: Store) -> Backlog:
    """Two counts in one read; both use an index (the outbox is short when the worker runs)."""
    with store.read(snapshot=True) as tx:
        return Backlog(tx.outbox.pending(), tx.deliveries.pending_total())
