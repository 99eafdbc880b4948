"""Organisations: ``orgs``, the tenants every other row belongs to."""

from __future__ import annotations

from typing import Protocol

from casebook.core.entities import Org
from casebook.storage.columns import Column, Table
from casebook.storage.executor import Repository

ORGS = Table("orgs", Org, (Column("id"), Column("name"), Column("created_at")))

_BY_NAME = f"SELECT {ORGS.select()} FROM orgs WHERE name = ?"
_ALL = f"SELECT {ORGS.select()} FROM orgs ORDER BY name"


class Orgs(Protocol):
    def insert(self, org: Org) -> None:
        """Raise ConflictError if the name is taken."""
        ...

    def by_name(self, name: str) -> Org | None: ...
    def list(self) -> list[Org]:
        """Every organisation, by name."""
        ...


class SqlOrgs(Repository):
    """Implements ``Orgs``."""

    __slots__ = ()

    def insert(self, org: Org) -> None:
        self._sql.execute_unique(
            ORGS.insert, ORGS.row(org), f"organization {org.name!r} already exists"
        )

    def by_name(self, name: str) -> Org | None:
        row = self._sql.one(_BY_NAME, (name,))
        return None if row is None else ORGS.load(row)

    def list(self) -> list[Org]:
        return [ORGS.load(row) for row in self._sql.all(_ALL)]
