"""Saved views: ``case_views``, named search queries on a project."""

from __future__ import annotations

from typing import Protocol

from casebook.core.entities import CaseView
from casebook.storage.columns import Column, Table
from casebook.storage.executor import Repository

VIEWS = Table(
    "case_views",
    CaseView,
    (
        Column("id"),
        Column("org_id"),
        Column("project_id"),
        Column("name"),
        Column("query"),
        Column("np_rule_id"),
        Column("created_at"),
        Column("created_by"),
        Column("modified_at"),
        Column("modified_by"),
    ),
)

_SELECT = f"SELECT {VIEWS.select('v')} FROM case_views v"
_GET = (
    f"{_SELECT} JOIN projects p ON p.id = v.project_id"
    " WHERE v.org_id = ? AND v.id = ? AND p.deleted_at IS NULL"
)
_LIST = f"{_SELECT} WHERE v.org_id = ? AND v.project_id = ? ORDER BY v.created_at, v.id"
_COUNT = "SELECT count(*) FROM case_views WHERE org_id = ? AND project_id = ?"
_UPDATE = (
    "UPDATE case_views SET name = ?, query = ?, np_rule_id = ?, modified_at = ?,"
    " modified_by = ? WHERE org_id = ? AND id = ?"
)
_DELETE = "DELETE FROM case_views WHERE org_id = ? AND id = ?"


class Views(Protocol):
    def insert(self, view: CaseView) -> None: ...
    def get(self, org_id: str, view_id: str) -> CaseView | None:
        """The view, unless it or its project is gone."""
        ...

    def list(self, org_id: str, project_id: str) -> list[CaseView]:
        """The project's views, oldest first."""
        ...

    def count(self, org_id: str, project_id: str) -> int: ...
    def update(self, view: CaseView) -> None: ...
    def delete(self, org_id: str, view_id: str) -> None: ...


class SqlViews(Repository):
    """Implements ``Views``."""

    __slots__ = ()

    def insert(self, view: CaseView) -> None:
        self._sql.execute(VIEWS.insert, VIEWS.row(view))

    def get(self, org_id: str, view_id: str) -> CaseView | None:
        row = self._sql.one(_GET, (org_id, view_id))
        return None if row is None else VIEWS.load(row)

    def list(self, org_id: str, project_id: str) -> list[CaseView]:
        return [VIEWS.load(row) for row in self._sql.all(_LIST, (org_id, project_id))]

    def count(self, org_id: str, project_id: str) -> int:
        row = self._sql.one(_COUNT, (org_id, project_id))
        assert row is not None
        return int(row[0])

    def update(self, view: CaseView) -> None:
        self._sql.execute(
            _UPDATE,
            (
                view.name,
                view.query,
                view.np_rule_id,
                view.modified_at,
                view.modified_by,
                view.org_id,
                view.id,
            ),
        )

    def delete(self, org_id: str, view_id: str) -> None:
        self._sql.execute(_DELETE, (org_id, view_id))
