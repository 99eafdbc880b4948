"""The outbox (``case_outbox``) and the deliveries it turns into (``deliveries``,
``delivery_attempts``), and the leases that keep one delivery worker per deployment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from casebook.core.entities import CaseChange, OutboxEvent
from casebook.storage.executor import Repository

_NEXT = (
    "SELECT seq, org_id, case_id, actor_id, at, changes, depth FROM case_outbox"
    " ORDER BY seq LIMIT ?"
)
_COUNT = "SELECT count(*) FROM case_outbox"
_DELETE = "DELETE FROM case_outbox WHERE seq = ?"


@dataclass(slots=True)
class Delivery:
    """One message to one destination; ``id`` is its idempotency id."""

    id: str
    org_id: str
    project_id: str
    case_id: str
    rule_id: str | None
    channel: str  # http, slack, teams, pagerduty, email, workflow
    target: dict[str, Any]  # where: url and headers, or addresses
    body: dict[str, Any]  # what: the event document (rendered per channel when sent)
    state: str = "pending"  # pending, delivered, failed
    attempts: int = 0
    next_attempt_at: int | None = None
    last_error: str | None = None
    created_at: int = 0
    delivered_at: int | None = None


@dataclass(slots=True)
class Attempt:
    attempt: int
    at: int
    status: int | None
    error: str | None
    duration_ms: int


_DELIVERY_COLUMNS = (
    "id, org_id, project_id, case_id, rule_id, channel, target, body, state, attempts,"
    " next_attempt_at, last_error, created_at, delivered_at"
)


def _delivery(row: Sequence[Any]) -> Delivery:
    values = list(row)
    values[6] = msgspec.json.decode(values[6])
    values[7] = msgspec.json.decode(values[7])
    return Delivery(*values)


class Outbox(Protocol):
    def next(self, limit: int) -> list[OutboxEvent]:
        """The oldest events not handled yet, of every organisation."""
        ...

    def done(self, seq: int) -> None:
        """Forget a handled event (in the transaction that stored what it caused)."""
        ...

    def pending(self) -> int: ...


class Deliveries(Protocol):
    def insert(self, delivery: Delivery) -> None: ...
    def due(self, now: int, limit: int) -> list[Delivery]:
        """Pending deliveries whose next attempt is due, oldest first."""
        ...

    def record(self, delivery: Delivery, attempt: Attempt) -> None:
        """Store an attempt and the delivery's new state."""
        ...

    def recent(
        self,
        org_id: str,
        project_id: str,
        limit: int,
        *,
        offset: int = 0,
        state: str | None = None,
    ) -> list[Delivery]:
        """The project's deliveries (of ``state`` only, when given), newest first, from the
        ``offset``-th; those made together (one event's) in the order of their ids."""
        ...

    def count(self, org_id: str, project_id: str, *, state: str | None = None) -> int:
        """How many deliveries ``recent`` pages through."""
        ...

    def pending_total(self) -> int:
        """Deliveries of every organisation still to be sent (or retried)."""
        ...

    def attempts(self, delivery_id: str) -> list[Attempt]: ...
    def attempts_of(self, org_id: str, delivery_ids: Sequence[str]) -> dict[str, list[Attempt]]:
        """The attempts of the organisation's deliveries among ``delivery_ids``, each
        delivery's in order (a delivery never tried has no entry)."""
        ...


class Leases(Protocol):
    def take(self, name: str, holder: str, now: int, until: int) -> bool:
        """Hold ``name`` until ``until`` if it is free, expired or already ours."""
        ...

    def release(self, name: str, holder: str) -> None: ...


class SqlOutbox(Repository):
    """Implements ``Outbox``."""

    __slots__ = ()

    def next(self, limit: int) -> list[OutboxEvent]:
        return [
            OutboxEvent(
                seq=int(seq),
                org_id=org_id,
                case_id=case_id,
                actor_id=actor_id,
                at=int(at),
                changes=[CaseChange(f, o, n) for f, o, n in msgspec.json.decode(changes)],
                depth=int(depth),
            )
            for seq, org_id, case_id, actor_id, at, changes, depth in self._sql.all(_NEXT, (limit,))
        ]

    def done(self, seq: int) -> None:
        self._sql.execute(_DELETE, (seq,))

    def pending(self) -> int:
        row = self._sql.one(_COUNT, ())
        assert row is not None
        return int(row[0])


class SqlDeliveries(Repository):
    """Implements ``Deliveries``."""

    __slots__ = ()

    def insert(self, delivery: Delivery) -> None:
        self._sql.execute(
            f"INSERT INTO deliveries ({_DELIVERY_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                delivery.id,
                delivery.org_id,
                delivery.project_id,
                delivery.case_id,
                delivery.rule_id,
                delivery.channel,
                msgspec.json.encode(delivery.target).decode(),
                msgspec.json.encode(delivery.body).decode(),
                delivery.state,
                delivery.attempts,
                delivery.next_attempt_at,
                delivery.last_error,
                delivery.created_at,
                delivery.delivered_at,
            ),
        )

    def due(self, now: int, limit: int) -> list[Delivery]:
        rows = self._sql.all(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries"
            " WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
            (now, limit),
        )
        return [_delivery(row) for row in rows]

    def record(self, delivery: Delivery, attempt: Attempt) -> None:
        self._sql.execute(
            "INSERT INTO delivery_attempts (delivery_id, attempt, at, status, error, duration_ms)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                delivery.id,
                attempt.attempt,
                attempt.at,
                attempt.status,
                attempt.error,
                attempt.duration_ms,
            ),
        )
        self._sql.execute(
            "UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?,"
            " delivered_at = ? WHERE id = ?",
            (
                delivery.state,
                delivery.attempts,
                delivery.next_attempt_at,
                delivery.last_error,
                delivery.delivered_at,
                delivery.id,
            ),
        )

    def recent(
        self,
        org_id: str,
        project_id: str,
        limit: int,
        *,
        offset: int = 0,
        state: str | None = None,
    ) -> list[Delivery]:
        where, params = _of_project(org_id, project_id, state)
        rows = self._sql.all(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE {where}"
            " ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [_delivery(row) for row in rows]

    def count(self, org_id: str, project_id: str, *, state: str | None = None) -> int:
        where, params = _of_project(org_id, project_id, state)
        row = self._sql.one(f"SELECT count(*) FROM deliveries WHERE {where}", params)
        assert row is not None
        return int(row[0])

    def pending_total(self) -> int:
        row = self._sql.one("SELECT count(*) FROM deliveries WHERE state = 'pending'", ())
        assert row is not None
        return int(row[0])

    def attempts(self, delivery_id: str) -> list[Attempt]:
        rows = self._sql.all(
            "SELECT attempt, at, status, error, duration_ms FROM delivery_attempts"
            " WHERE delivery_id = ? ORDER BY attempt",
            (delivery_id,),
        )
        return [Attempt(*row) for row in rows]

    def attempts_of(self, org_id: str, delivery_ids: Sequence[str]) -> dict[str, list[Attempt]]:
        if not delivery_ids:
            return {}
        marks = ", ".join("?" * len(delivery_ids))
        rows = self._sql.all(
            "SELECT a.delivery_id, a.attempt, a.at, a.status, a.error, a.duration_ms"
            " FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id"
            f" WHERE d.org_id = ? AND a.delivery_id IN ({marks})"
            " ORDER BY a.delivery_id, a.attempt",
            (org_id, *delivery_ids),
        )
        found: dict[str, list[Attempt]] = {}
        for delivery_id, *attempt in rows:
            found.setdefault(delivery_id, []).append(Attempt(*attempt))
        return found


def _of_project(org_id: str, project_id: str, state: str | None) -> tuple[str, tuple[str, ...]]:
    """The condition (and its parameters) of one project's deliveries, of one state or all."""
    if state is None:
        return "org_id = ? AND project_id = ?", (org_id, project_id)
    return "org_id = ? AND project_id = ? AND state = ?", (org_id, project_id, state)


class SqlLeases(Repository):
    """Implements ``Leases`` with one conditional write, atomic on both back ends."""

    __slots__ = ()

    def take(self, name: str, holder: str, now: int, until: int) -> bool:
        self._sql.execute(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, 0)"
            " ON CONFLICT (name) DO NOTHING",
            (name, holder),
        )
        taken = self._sql.execute(
            "UPDATE leases SET holder = ?, expires_at = ?"
            " WHERE name = ? AND (holder = ? OR expires_at < ?)",
            (holder, until, name, holder, now),
        )
        return taken == 1

    def release(self, name: str, holder: str) -> None:
        self._sql.execute(
            "UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ?", (name, holder)
        )
