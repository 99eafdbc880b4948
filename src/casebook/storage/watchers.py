"""Who watches each case: ``case_watchers``, one row per (case, user)."""

from __future__ import annotations

from typing import Protocol

from casebook.core.entities import Watcher
from casebook.storage.columns import Column, Join, Table
from casebook.storage.executor import Repository
from casebook.storage.users import USER_REFS

WATCHERS = Table(
    "case_watchers",
    Watcher,
    (
        Column("case_id", read=False),
        Column("org_id", read=False),
        Column("case_seq", read=False),
        Join("user_id", "user", "u", USER_REFS),
        Column("created_at", field="since"),
    ),
)

_LIST = (
    f"SELECT {WATCHERS.select('w')} FROM case_watchers w{WATCHERS.joins('w')}"
    " WHERE w.org_id = ? AND w.case_id = ? ORDER BY w.created_at, w.user_id"
)
_ADD = (
    "INSERT INTO case_watchers (case_id, org_id, case_seq, user_id, created_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (case_id, user_id) DO NOTHING"
)
_REMOVE = "DELETE FROM case_watchers WHERE org_id = ? AND case_id = ? AND user_id = ?"
_COUNT = "SELECT count(*) FROM case_watchers WHERE org_id = ? AND case_id = ?"


class Watchers(Protocol):
    def list(self, org_id: str, case_id: str) -> list[Watcher]:
        """The case's watchers, longest-standing first."""
        ...

    def add(self, org_id: str, case_id: str, case_seq: int, user_id: str, at: int) -> bool:
        """Make the user a watcher; False if they already were."""
        ...

    def remove(self, org_id: str, case_id: str, user_id: str) -> bool:
        """Stop the user watching; False if they were not."""
        ...

    def count(self, org_id: str, case_id: str) -> int: ...


class SqlWatchers(Repository):
    """Implements ``Watchers``."""

    __slots__ = ()

    def list(self, org_id: str, case_id: str) -> list[Watcher]:
        seen: dict[object, object] = {}
        return [WATCHERS.load(row, seen) for row in self._sql.all(_LIST, (org_id, case_id))]

    def add(self, org_id: str, case_id: str, case_seq: int, user_id: str, at: int) -> bool:
        return self._sql.execute(_ADD, (case_id, org_id, case_seq, user_id, at)) == 1

    def remove(self, org_id: str, case_id: str, user_id: str) -> bool:
        return self._sql.execute(_REMOVE, (org_id, case_id, user_id)) == 1

    def count(self, org_id: str, case_id: str) -> int:
        row = self._sql.one(_COUNT, (org_id, case_id))
        assert row is not None
        return int(row[0])
