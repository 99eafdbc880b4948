"""Server settings kept in the database: ``casebook_meta``, name to value."""

from __future__ import annotations

from typing import Protocol

from casebook.storage.executor import Repository


class Meta(Protocol):
    """Server settings kept in the database (``casebook_meta``)."""

    def get(self, name: str) -> str | None: ...
    def set_if_absent(self, name: str, value: str) -> str:
        """Store ``value`` unless ``name`` is set; return the value now stored."""
        ...

    def schema_revision(self) -> str | None:
        """The migration the schema is at (Alembic's ``alembic_version``), None if unknown."""
        ...


class SqlMeta(Repository):
    """Implements ``Meta``."""

    __slots__ = ()

    def get(self, name: str) -> str | None:
        row = self._sql.one("SELECT value FROM casebook_meta WHERE name = ?", (name,))
        return None if row is None else str(row[0])

    def set_if_absent(self, name: str, value: str) -> str:
        self._sql.execute(
            "INSERT INTO casebook_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (name, value),
        )
        stored = self.get(name)
        assert stored is not None
        return stored

    def schema_revision(self) -> str | None:
        row = self._sql.one("SELECT version_num FROM alembic_version", ())
        return None if row is None else str(row[0])
