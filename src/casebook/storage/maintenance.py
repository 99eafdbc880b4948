"""Maintenance windows: ``maintenance_windows``, an organisation's muted time ranges."""

from __future__ import annotations

import builtins
from typing import Protocol

from casebook.core.entities import MaintenanceWindow
from casebook.storage.columns import Column, Table
from casebook.storage.executor import Repository

WINDOWS = Table(
    "maintenance_windows",
    MaintenanceWindow,
    (
        Column("id"),
        Column("org_id"),
        Column("name"),
        Column("query"),
        Column("start_at"),
        Column("end_at"),
        Column("created_at"),
        Column("created_by"),
        Column("modified_at"),
        Column("modified_by"),
    ),
)

_CHANGEABLE = ("name", "query", "start_at", "end_at", "modified_at", "modified_by")
_SELECT = f"SELECT {WINDOWS.select()} FROM maintenance_windows"
_GET = f"{_SELECT} WHERE org_id = ? AND id = ?"
_LIST = f"{_SELECT} WHERE org_id = ? ORDER BY start_at, created_at, id"
# end_at first: the index skips the windows that are over, which pile up.
_ACTIVE = f"{_SELECT} WHERE org_id = ? AND end_at > ? AND start_at <= ? ORDER BY start_at, id"
_COUNT = "SELECT count(*) FROM maintenance_windows WHERE org_id = ?"
_UPDATE = (
    f"UPDATE maintenance_windows SET {WINDOWS.assignments(_CHANGEABLE)} WHERE org_id = ? AND id = ?"
)
_DELETE = "DELETE FROM maintenance_windows WHERE org_id = ? AND id = ?"


class MaintenanceWindows(Protocol):
    def insert(self, window: MaintenanceWindow) -> None: ...
    def get(self, org_id: str, window_id: str) -> MaintenanceWindow | None: ...
    def list(self, org_id: str) -> builtins.list[MaintenanceWindow]:
        """Every window of the organisation, past ones included, by start time."""
        ...

    def active(self, org_id: str, at: int) -> builtins.list[MaintenanceWindow]:
        """The windows ``at`` (microseconds) falls in: ``start_at <= at < end_at``."""
        ...

    def count(self, org_id: str) -> int: ...
    def update(self, window: MaintenanceWindow) -> None: ...
    def delete(self, org_id: str, window_id: str) -> None: ...


class SqlMaintenanceWindows(Repository):
    """Implements ``MaintenanceWindows``."""

    __slots__ = ()

    def insert(self, window: MaintenanceWindow) -> None:
        self._sql.execute(WINDOWS.insert, WINDOWS.row(window))

    def get(self, org_id: str, window_id: str) -> MaintenanceWindow | None:
        row = self._sql.one(_GET, (org_id, window_id))
        return None if row is None else WINDOWS.load(row)

    def list(self, org_id: str) -> builtins.list[MaintenanceWindow]:
        return [WINDOWS.load(row) for row in self._sql.all(_LIST, (org_id,))]

    def active(self, org_id: str, at: int) -> builtins.list[MaintenanceWindow]:
        return [WINDOWS.load(row) for row in self._sql.all(_ACTIVE, (org_id, at, at))]

    def count(self, org_id: str) -> int:
        row = self._sql.one(_COUNT, (org_id,))
        assert row is not None
        return int(row[0])

    def update(self, window: MaintenanceWindow) -> None:
        values = WINDOWS.dump(window, _CHANGEABLE)
        self._sql.execute(_UPDATE, (*values, window.org_id, window.id))

    def delete(self, org_id: str, window_id: str) -> None:
        self._sql.execute(_DELETE, (org_id, window_id))
