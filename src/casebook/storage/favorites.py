"""Each user's favourite projects: ``project_favorites``, one row per (user, project)."""

from __future__ import annotations

from typing import Protocol

from casebook.storage.executor import Repository

_LIST = (
    "SELECT f.project_id FROM project_favorites f JOIN projects p ON p.id = f.project_id"
    " WHERE f.org_id = ? AND f.user_id = ? AND p.deleted_at IS NULL"
    " ORDER BY f.created_at, f.project_id"
)
_ADD = (
    "INSERT INTO project_favorites (org_id, user_id, project_id, created_at)"
    " VALUES (?, ?, ?, ?) ON CONFLICT (user_id, project_id) DO NOTHING"
)
_REMOVE = "DELETE FROM project_favorites WHERE org_id = ? AND user_id = ? AND project_id = ?"


class Favorites(Protocol):
    def list(self, org_id: str, user_id: str) -> list[str]:
        """The ids of the user's favourite live projects, in the order they were marked."""
        ...

    def add(self, org_id: str, user_id: str, project_id: str, at: int) -> bool:
        """Mark the project; False if it already was."""
        ...

    def remove(self, org_id: str, user_id: str, project_id: str) -> bool:
        """Unmark the project; False if it was not marked."""
        ...


class SqlFavorites(Repository):
    """Implements ``Favorites``."""

    __slots__ = ()

    def list(self, org_id: str, user_id: str) -> list[str]:
        return [str(row[0]) for row in self._sql.all(_LIST, (org_id, user_id))]

    def add(self, org_id: str, user_id: str, project_id: str, at: int) -> bool:
        return self._sql.execute(_ADD, (org_id, user_id, project_id, at)) == 1

    def remove(self, org_id: str, user_id: str, project_id: str) -> bool:
        return self._sql.execute(_REMOVE, (org_id, user_id, project_id)) == 1
