"""Server settings kept in the database: ``casebook_meta``, name to value."""

from __future__ import annotations

from casebook.storage.executor import Repository


class SqlMeta(Repository):
    """Implements ``storage.base.Meta``."""

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
