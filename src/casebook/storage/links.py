"""Links between cases: ``case_links``, one row per (parent, child, relationship)."""

from __future__ import annotations

from typing import Protocol

from casebook.core.entities import CaseLink
from casebook.storage.columns import Column, Table
from casebook.storage.executor import Repository

LINKS = Table(
    "case_links",
    CaseLink,
    (
        Column("id"),
        Column("org_id", read=False),
        Column("parent_id"),
        Column("child_id"),
        Column("relationship"),
        Column("created_at"),
        Column("created_by"),
    ),
)

_GET = f"SELECT {LINKS.select()} FROM case_links WHERE org_id = ? AND id = ?"
# Only links whose two cases are in live projects: a deleted project hides its links.
_LIVE_ENDS = (
    " AND EXISTS (SELECT 1 FROM cases c JOIN projects p ON p.id = c.project_id"
    " WHERE c.id = l.{end} AND p.deleted_at IS NULL)"
)
_LIST = (
    f"SELECT {LINKS.select('l')} FROM case_links l"
    " WHERE l.org_id = ? AND (l.parent_id = ? OR l.child_id = ?)"
    + _LIVE_ENDS.format(end="parent_id")
    + _LIVE_ENDS.format(end="child_id")
)
_ORDER = " ORDER BY l.created_at, l.id"
_COUNT = "SELECT count(*) FROM case_links WHERE org_id = ? AND (parent_id = ? OR child_id = ?)"
_DELETE = "DELETE FROM case_links WHERE org_id = ? AND id = ?"
_BETWEEN = (
    f"SELECT {LINKS.select()} FROM case_links"
    " WHERE org_id = ? AND parent_id = ? AND child_id = ? AND relationship = ?"
)


class Links(Protocol):
    def insert(self, org_id: str, link: CaseLink) -> None:
        """Store a link; ConflictError if the same two cases already have it."""
        ...

    def get(self, org_id: str, link_id: str) -> CaseLink | None: ...
    def list_for(self, org_id: str, case_id: str, relationship: str | None) -> list[CaseLink]:
        """The links with the case at either end (both ends in live projects), oldest first."""
        ...

    def count_for(self, org_id: str, case_id: str) -> int: ...
    def between(
        self, org_id: str, parent_id: str, child_id: str, relationship: str
    ) -> CaseLink | None:
        """The link of this relationship from parent to child, if there is one."""
        ...

    def delete(self, org_id: str, link_id: str) -> None: ...


class SqlLinks(Repository):
    """Implements ``Links``."""

    __slots__ = ()

    def insert(self, org_id: str, link: CaseLink) -> None:
        self._sql.execute_unique(
            LINKS.insert,
            LINKS.row(link, org_id=org_id),
            f"the cases already have a {link.relationship} link",
        )

    def get(self, org_id: str, link_id: str) -> CaseLink | None:
        row = self._sql.one(_GET, (org_id, link_id))
        return None if row is None else LINKS.load(row)

    def list_for(self, org_id: str, case_id: str, relationship: str | None) -> list[CaseLink]:
        params: list[object] = [org_id, case_id, case_id]
        sql = _LIST
        if relationship is not None:
            sql += " AND l.relationship = ?"
            params.append(relationship)
        return [LINKS.load(row) for row in self._sql.all(sql + _ORDER, params)]

    def count_for(self, org_id: str, case_id: str) -> int:
        row = self._sql.one(_COUNT, (org_id, case_id, case_id))
        assert row is not None
        return int(row[0])

    def between(
        self, org_id: str, parent_id: str, child_id: str, relationship: str
    ) -> CaseLink | None:
        row = self._sql.one(_BETWEEN, (org_id, parent_id, child_id, relationship))
        return None if row is None else LINKS.load(row)

    def delete(self, org_id: str, link_id: str) -> None:
        self._sql.execute(_DELETE, (org_id, link_id))
