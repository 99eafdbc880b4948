"""The history of cases: ``case_events``, one row per field changed, what timelines read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from casebook.core.entities import CaseChange
from casebook.storage.columns import Column, Table
from casebook.storage.executor import Repository

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


class History(Protocol):
    """What happened to each case (``case_events``): the rows of its timeline."""

    def record(
        self,
        org_id: str,
        case_id: str,
        actor_id: str | None,
        at: int,
        changes: Sequence[CaseChange],
    ) -> None: ...
    def list(self, org_id: str, case_id: str) -> list[tuple[int, str | None, CaseChange]]:
        """The case's history, oldest first: (time, actor id, change)."""
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
    ) -> None:
        # One multi-row INSERT: one round trip (executemany would switch psycopg
        # into pipeline mode, which costs more for the usual single row).
        if not changes:
            return
        params = [
            value
            for change in changes
            for value in CHANGES.row(
                change, case_id=case_id, org_id=org_id, actor_id=actor_id, at=at
            )
        ]
        self._sql.execute(CHANGES.insert_many(len(changes)), params)

    def list(self, org_id: str, case_id: str) -> list[tuple[int, str | None, CaseChange]]:
        changes = []
        for at, actor_id, *change in self._sql.all(_LIST, (org_id, case_id)):
            changes.append((at, actor_id, CHANGES.load(change)))
        return changes
