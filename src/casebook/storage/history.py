"""The history of cases: ``case_events``, one row per field changed, what timelines read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from casebook.core.entities import (
    AUTOMATION_ACTOR,
    COMMENT_ADDED,
    AutomationRef,
    CaseChange,
    TimelineEntry,
)
from casebook.storage.columns import Column, Table, json_text
from casebook.storage.comments import COMMENTS
from casebook.storage.executor import Repository
from casebook.storage.users import USER_REFS

CHANGES = Table(
    "case_events",
    CaseChange,
    (
        Column("case_id", read=False),
        Column("org_id", read=False),
        Column("actor_id", read=False),
        Column("at", read=False),
        Column("field"),
        Column("old_value", field="old"),
        Column("new_value", field="new"),
    ),
)

_LIST = (
    f"SELECT at, actor_id, {CHANGES.select()} FROM case_events"
    " WHERE org_id = ? AND case_id = ? ORDER BY seq"
)


# A row written by automation names it (``AUTOMATION_ACTOR``): an automation rule's id,
# whose name is read while the rule exists.
_CELLS = (
    f"SELECT e.seq, e.at, e.actor_id, r.name, {CHANGES.select('e')}, {USER_REFS.select('u')},"
    f" {COMMENTS.select('cm')} FROM case_events e"
    " LEFT JOIN users u ON u.id = e.actor_id"
    f" LEFT JOIN automation_rules r ON e.actor_id LIKE '{AUTOMATION_ACTOR}%'"
    f" AND r.id = substr(e.actor_id, {len(AUTOMATION_ACTOR) + 1}) AND r.org_id = e.org_id"
    f" LEFT JOIN case_comments cm ON e.field = '{COMMENT_ADDED}' AND cm.id = e.new_value"
    " WHERE e.org_id = ? AND e.case_id = ? ORDER BY e.seq {order} LIMIT ? OFFSET ?"
)
Cells = list[TimelineEntry]
_OUTBOX_INSERT = (
    "INSERT INTO case_outbox (org_id, case_id, actor_id, at, changes, depth)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_OUTBOX_INSERT_MANY = (
    "INSERT INTO case_outbox (org_id, case_id, actor_id, at, changes, depth) VALUES {}"
)


def outbox_changes(changes: Sequence[CaseChange]) -> str:
    """The outbox's form of one command's changes: ``[[field, old, new], ...]``."""
    return json_text([[c.field, c.old, c.new] for c in changes])


_TIMELINE = {True: _CELLS.format(order="ASC"), False: _CELLS.format(order="DESC")}
_COUNT = "SELECT count(*) FROM case_events WHERE org_id = ? AND case_id = ?"
_ROWS_PER_INSERT = 250  # 1,750 values: well within both back ends' limits
_EVENTS_OF = (
    "SELECT case_id, at, field, old_value, new_value FROM case_events"
    " WHERE org_id = ? AND case_id IN ({cases}) AND field IN ({fields}) ORDER BY case_id, seq"
)
Event = tuple[int, str, str | None, str | None]
"""(time, field, old value, new value): one row of a case's history."""
EventsOf = dict[str, list[Event]]
"""Rows of history by case id."""
_CHANGE_START = 4
_CHANGE_END = _CHANGE_START + CHANGES.width
_USER_END = _CHANGE_END + USER_REFS.width


class History(Protocol):
    """What happened to each case (``case_events``): the rows of its timeline."""

    def record(
        self,
        org_id: str,
        case_id: str,
        actor_id: str | None,
        at: int,
        changes: Sequence[CaseChange],
        *,
        depth: int = 0,
    ) -> None:
        """Write the rows of one command's changes to one case, and its outbox row (one per
        command: what the delivery worker reads), in the caller's transaction."""
        ...

    def record_many(
        self,
        org_id: str,
        actor_id: str | None,
        at: int,
        changes: Sequence[tuple[str, Sequence[CaseChange]]],
        *,
        depth: int = 0,
    ) -> None:
        """``record`` for several cases, (case id, changes) each, in a few statements; each
        case's rows in their order, and an outbox row per case."""
        ...

    def list(self, org_id: str, case_id: str) -> list[tuple[int, str | None, CaseChange]]:
        """The case's history, oldest first: (time, actor id, change)."""
        ...

    def events_of(self, org_id: str, case_ids: Sequence[str], fields: Sequence[str]) -> EventsOf:
        """The history rows of ``fields`` of each case of ``case_ids`` (at least one), oldest
        first; a case without any has no entry."""
        ...

    def timeline(
        self, org_id: str, case_id: str, *, ascending: bool, limit: int, offset: int
    ) -> tuple[Cells, int]:
        """A page of the case's history as timeline cells (with their authors and, for
        comments, the comment), and the number of cells."""
        ...


class SqlHistory(Repository):
    """Implements ``History``."""

    __slots__ = ()

    def record(
        self,
        org_id: str,
        case_id: str,
        actor_id: str | None,
        at: int,
        changes: Sequence[CaseChange],
        *,
        depth: int = 0,
    ) -> None:
        # One multi-row INSERT: one round trip (executemany would switch psycopg
        # into pipeline mode, which costs more for the usual single row). On PostgreSQL
        # the outbox row rides in the same statement.
        if not changes:
            return
        params = [
            value
            for change in changes
            for value in CHANGES.row(
                change, case_id=case_id, org_id=org_id, actor_id=actor_id, at=at
            )
        ]
        event = (org_id, case_id, actor_id, at, outbox_changes(changes), depth)
        if self._sql.dialect == "postgres":
            self._sql.execute(
                f"WITH e AS ({CHANGES.insert_many(len(changes))}) {_OUTBOX_INSERT}",
                [*params, *event],
            )
            return
        self._sql.execute(CHANGES.insert_many(len(changes)), params)
        self._sql.execute(_OUTBOX_INSERT, event)

    def record_many(
        self,
        org_id: str,
        actor_id: str | None,
        at: int,
        changes: Sequence[tuple[str, Sequence[CaseChange]]],
        *,
        depth: int = 0,
    ) -> None:
        events = [
            (org_id, case_id, actor_id, at, outbox_changes(some), depth)
            for case_id, some in changes
            if some
        ]
        for start in range(0, len(events), _ROWS_PER_INSERT):
            chunk_events = events[start : start + _ROWS_PER_INSERT]
            self._sql.execute(
                _OUTBOX_INSERT_MANY.format(", ".join(["(?, ?, ?, ?, ?, ?)"] * len(chunk_events))),
                [value for event in chunk_events for value in event],
            )
        rows = [(case_id, change) for case_id, some in changes for change in some]
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start : start + _ROWS_PER_INSERT]
            params = [
                value
                for case_id, change in chunk
                for value in CHANGES.row(
                    change, case_id=case_id, org_id=org_id, actor_id=actor_id, at=at
                )
            ]
            self._sql.execute(CHANGES.insert_many(len(chunk)), params)

    def list(self, org_id: str, case_id: str) -> list[tuple[int, str | None, CaseChange]]:
        changes = []
        for at, actor_id, *change in self._sql.all(_LIST, (org_id, case_id)):
            changes.append((at, actor_id, CHANGES.load(change)))
        return changes

    def events_of(self, org_id: str, case_ids: Sequence[str], fields: Sequence[str]) -> EventsOf:
        sql = _EVENTS_OF.format(
            cases=", ".join("?" * len(case_ids)), fields=", ".join("?" * len(fields))
        )
        found: EventsOf = {}
        for case_id, at, field, old, new in self._sql.all(sql, [org_id, *case_ids, *fields]):
            found.setdefault(case_id, []).append((int(at), field, old, new))
        return found

    def timeline(
        self, org_id: str, case_id: str, *, ascending: bool, limit: int, offset: int
    ) -> tuple[Cells, int]:
        rows = self._sql.all(_TIMELINE[ascending], (org_id, case_id, limit, offset))
        seen: dict[object, object] = {}
        entries = []
        for row in rows:
            actor = None if row[_CHANGE_END] is None else seen.get(row[_CHANGE_END])
            if actor is None and row[_CHANGE_END] is not None:
                actor = seen[row[_CHANGE_END]] = USER_REFS.load(row[_CHANGE_END:_USER_END])
            comment = None if row[_USER_END] is None else COMMENTS.load(row[_USER_END:])
            change = CHANGES.load(row[_CHANGE_START:_CHANGE_END])
            automation = AutomationRef.of(row[2], row[3])
            entries.append(TimelineEntry(row[0], row[1], actor, change, comment, automation))  # type: ignore[arg-type]
        if len(rows) < limit and (rows or offset == 0):
            total = offset + len(rows)
        else:
            count = self._sql.one(_COUNT, (org_id, case_id))
            total = 0 if count is None else int(count[0])
        return entries, total
