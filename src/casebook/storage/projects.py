"""Projects: ``projects``, the containers of cases, and the counter of their case numbers."""

from __future__ import annotations

import builtins
from typing import Any, Protocol

import msgspec

from casebook.core.entities import Project
from casebook.storage.columns import Column, Table, json_text
from casebook.storage.executor import Repository


def _json_or_none(text: str | None) -> Any:
    return None if text is None else msgspec.json.decode(text)


def _text_or_none(data: Any) -> str | None:
    return None if data is None else json_text(data)


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
        Column("settings", load=_json_or_none, dump=_text_or_none),
        Column("columns_config", load=_json_or_none, dump=_text_or_none),
        Column("modified_at"),
        Column("modified_by"),
    ),
)

_SELECT = f"SELECT {PROJECTS.select()} FROM projects"
_LIVE = " AND deleted_at IS NULL"
_GET = f"{_SELECT} WHERE org_id = ? AND id = ?"
_GET_LIVE = _GET + _LIVE
_BY_KEY = f"{_SELECT} WHERE org_id = ? AND key = ?"
_BY_KEY_LIVE = _BY_KEY + _LIVE
_LIST = f"{_SELECT} WHERE org_id = ?{_LIVE} ORDER BY key"
_WITH_SETTING = f"{_SELECT} WHERE settings LIKE ?{_LIVE} ORDER BY org_id, key"
# Deleted projects may share a key; the most recently deleted is the one a key names.
_BY_KEY_DELETED = f"{_SELECT} WHERE org_id = ? AND key = ? AND deleted_at IS NOT NULL"
_LAST_NUMBER = "SELECT max(last_case_number) FROM projects WHERE org_id = ? AND key = ?"
_UPDATE = (
    "UPDATE projects SET name = ?, settings = ?, columns_config = ?,"
    " enabled_custom_case_types = ?, team_uuid = ?, modified_at = ?, modified_by = ?"
    " WHERE org_id = ? AND id = ?"
)
# The row lock taken by this UPDATE is held until commit: concurrent creates in
# one project queue here, and a rollback returns the number.
_ALLOCATE = (
    "UPDATE projects SET last_case_number = last_case_number + 1"
    f" WHERE org_id = ? AND id = ?{_LIVE} RETURNING last_case_number, key"
)


class Projects(Protocol):
    def insert(self, project: Project, *, last_case_number: int = 0) -> None:
        """Raise ConflictError if a live project of the organisation has the key. Its cases
        are numbered from ``last_case_number + 1``."""
        ...

    def get(
        self, org_id: str, project_id: str, *, include_deleted: bool = False
    ) -> Project | None: ...
    def by_key(self, org_id: str, key: str, *, include_deleted: bool = False) -> Project | None:
        """The live project of that key; with ``include_deleted``, else the most recently
        deleted one."""
        ...

    def deleted_by_key(self, org_id: str, key: str) -> list[Project]:
        """The deleted projects that had this key, most recently deleted first."""
        ...

    def last_case_number(self, org_id: str, key: str) -> int:
        """The highest case number any project of this key (live or deleted) handed out:
        a new project of the key numbers its cases after it, so a case key never names two
        cases."""
        ...

    def update(self, project: Project) -> None:
        """Store the project's name, settings, columns, types, team and last change."""
        ...

    def rekey(self, org_id: str, project_id: str, key: str) -> None:
        """Give a (deleted) project a new key, and its cases the keys that go with it; each
        case's old key keeps resolving (an alias, as after a move)."""
        ...

    def list(self, org_id: str) -> list[Project]:
        """The organisation's live projects, by key."""
        ...

    def with_setting(self, name: str) -> builtins.list[Project]:
        """The live projects of every organisation whose stored settings have a member
        ``name`` (``auto_close_inactive_cases``), and perhaps a few more: the caller reads the
        settings. By organisation, then key."""
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

    def insert(self, project: Project, *, last_case_number: int = 0) -> None:
        self._sql.execute_unique(
            PROJECTS.insert,
            PROJECTS.row(project, last_case_number=last_case_number),
            f"project key {project.key} is already in use",
        )

    def get(self, org_id: str, project_id: str, *, include_deleted: bool = False) -> Project | None:
        row = self._sql.one(_GET if include_deleted else _GET_LIVE, (org_id, project_id))
        return None if row is None else PROJECTS.load(row)

    def by_key(self, org_id: str, key: str, *, include_deleted: bool = False) -> Project | None:
        row = self._sql.one(_BY_KEY_LIVE, (org_id, key))
        if row is not None:
            return PROJECTS.load(row)
        if include_deleted:
            deleted = self.deleted_by_key(org_id, key)
            return deleted[0] if deleted else None
        return None

    def deleted_by_key(self, org_id: str, key: str) -> list[Project]:
        rows = [PROJECTS.load(r) for r in self._sql.all(_BY_KEY_DELETED, (org_id, key))]
        return sorted(rows, key=lambda p: (p.deleted_at or 0, p.id), reverse=True)

    def last_case_number(self, org_id: str, key: str) -> int:
        row = self._sql.one(_LAST_NUMBER, (org_id, key))
        return 0 if row is None or row[0] is None else int(row[0])

    def update(self, project: Project) -> None:
        self._sql.execute(
            _UPDATE,
            (
                project.name,
                _text_or_none(project.settings),
                _text_or_none(project.columns_config),
                json_text(project.enabled_custom_case_types),
                project.team_uuid,
                project.modified_at,
                project.modified_by,
                project.org_id,
                project.id,
            ),
        )

    def rekey(self, org_id: str, project_id: str, key: str) -> None:
        self._sql.execute(
            "INSERT INTO case_key_aliases (org_id, key, case_id, created_at)"
            " SELECT org_id, key, id, created_at FROM cases WHERE org_id = ? AND project_id = ?"
            " ON CONFLICT (org_id, key) DO NOTHING",
            (org_id, project_id),
        )
        self._sql.execute(
            "UPDATE cases SET key = ? || '-' || CAST(number AS TEXT)"
            " WHERE org_id = ? AND project_id = ?",
            (key, org_id, project_id),
        )
        self._sql.execute(
            "UPDATE projects SET key = ? WHERE org_id = ? AND id = ?", (key, org_id, project_id)
        )

    def list(self, org_id: str) -> list[Project]:
        return [PROJECTS.load(r) for r in self._sql.all(_LIST, (org_id,))]

    def with_setting(self, name: str) -> builtins.list[Project]:
        # The settings are compact JSON text: the member's name, quoted, is in it. (A "_"
        # in the name matches any character: "perhaps a few more".)
        return [PROJECTS.load(r) for r in self._sql.all(_WITH_SETTING, (f'%"{name}"%',))]

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
