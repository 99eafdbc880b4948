"""Projects: ``projects``, the containers of cases, and the counter of their case numbers."""

from __future__ import annotations

from typing import Protocol

import msgspec

from casebook.core.entities import Project
from casebook.storage.columns import Column, Table, json_text
from casebook.storage.executor import Repository

PROJECTS = Table(
    "projects",
    Project,
    (
        Column("id"),
        Column("org_id"),
        Column("key"),
        Column("name"),
        # The last case number handed out: 0 at insert, then allocate_case_number's.
        Column("last_case_number", read=False),
        Column("enabled_custom_case_types", load=msgspec.json.decode, dump=json_text),
        Column("team_uuid"),
        Column("created_at"),
        Column("created_by"),
        Column("deleted_at"),
    ),
)

_SELECT = f"SELECT {PROJECTS.select()} FROM projects"
_LIVE = " AND deleted_at IS NULL"
_GET = f"{_SELECT} WHERE org_id = ? AND id = ?"
_GET_LIVE = _GET + _LIVE
_BY_KEY = f"{_SELECT} WHERE org_id = ? AND key = ?"
_BY_KEY_LIVE = _BY_KEY + _LIVE
_LIST = f"{_SELECT} WHERE org_id = ?{_LIVE} ORDER BY key"
# The row lock taken by this UPDATE is held until commit: concurrent creates in
# one project queue here, and a rollback returns the number.
_ALLOCATE = (
    "UPDATE projects SET last_case_number = last_case_number + 1"
    f" WHERE org_id = ? AND id = ?{_LIVE} RETURNING last_case_number, key"
)


class Projects(Protocol):
    def insert(self, project: Project) -> None:
        """Raise ConflictError if the key is taken in the organisation (deleted projects too)."""
        ...

    def get(
        self, org_id: str, project_id: str, *, include_deleted: bool = False
    ) -> Project | None: ...
    def by_key(self, org_id: str, key: str, *, include_deleted: bool = False) -> Project | None: ...
    def list(self, org_id: str) -> list[Project]:
        """The organisation's live projects, by key."""
        ...

    def set_deleted(self, org_id: str, project_id: str, at: int | None, by: str | None) -> None:
        """Delete a project at ``at`` by user ``by``, or restore it (both None)."""
        ...

    def allocate_case_number(self, org_id: str, project_id: str) -> tuple[int, str] | None:
        """Take the next case number of a live project, locking its counter until commit.

        Returns (number, project key), or None if there is no such live project.
        """
        ...


class SqlProjects(Repository):
    """Implements ``Projects``."""

    __slots__ = ()

    def insert(self, project: Project) -> None:
        self._sql.execute_unique(
            PROJECTS.insert,
            PROJECTS.row(project, last_case_number=0),
            f"project key {project.key} is already in use",
        )

    def get(self, org_id: str, project_id: str, *, include_deleted: bool = False) -> Project | None:
        row = self._sql.one(_GET if include_deleted else _GET_LIVE, (org_id, project_id))
        return None if row is None else PROJECTS.load(row)

    def by_key(self, org_id: str, key: str, *, include_deleted: bool = False) -> Project | None:
        row = self._sql.one(_BY_KEY if include_deleted else _BY_KEY_LIVE, (org_id, key))
        return None if row is None else PROJECTS.load(row)

    def list(self, org_id: str) -> list[Project]:
        return [PROJECTS.load(r) for r in self._sql.all(_LIST, (org_id,))]

    def set_deleted(self, org_id: str, project_id: str, at: int | None, by: str | None) -> None:
        self._sql.execute(
            "UPDATE projects SET deleted_at = ?, deleted_by = ? WHERE org_id = ? AND id = ?",
            (at, by, org_id, project_id),
        )

    def allocate_case_number(self, org_id: str, project_id: str) -> tuple[int, str] | None:
        row = self._sql.one(_ALLOCATE, (org_id, project_id))
        if row is None:
            return None
        number, key = row
        return int(number), str(key)
