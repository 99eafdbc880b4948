"""An in-memory SQLite store: the emulator's database, one per organisation.

The schema is built once into a template (``MemoryStore.template()``); each new
store is a copy of it through SQLite's online backup API, which copies pages and runs
no statement, so a fresh migrated database costs a few milliseconds whatever the
schema holds, and emptying an organisation is swapping in a new copy (no deletes to
run through the triggers). The same transactions and repositories as the file-backed
store (``sqlite.py``); one connection, its transactions one at a time behind a lock.

The template runs ``migrations/sqlite_head.sql``, the statements the migrations leave
in a SQLite database, in one script: loading Alembic and running every migration
would take longer than the emulator's start may (a second). When that file is not at
the migrations' head it is not used (Alembic builds the template, slower); a test
fails until ``python -m casebook.storage.memory`` has written it anew.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from casebook.core.errors import UnavailableError
from casebook.storage.executor import Dialect
from casebook.storage.revision import code_head
from casebook.storage.sqlite import committing, is_unique_violation
from casebook.storage.transaction import SqlTransaction

HEAD_SCRIPT = Path(__file__).with_name("migrations") / "sqlite_head.sql"
_KINDS = ("table", "index", "view", "trigger")
_FTS_SHADOWS = ("data", "idx", "content", "docsize", "config")


def _connect(target: str = ":memory:") -> sqlite3.Connection:
    conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


class MemoryStore:
    dialect: Dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()

    @classmethod
    def template(cls) -> MemoryStore:
        """An empty database at the newest schema."""
        script = HEAD_SCRIPT.read_text(encoding="utf-8") if HEAD_SCRIPT.exists() else ""
        if script.startswith(f"-- revision {code_head()}\n"):
            conn = _connect()
            conn.executescript(script)
            return cls(conn)
        return cls.migrated()

    @classmethod
    def migrated(cls) -> MemoryStore:
        """An empty database that the migrations built (Alembic: about a second)."""
        # Imported here: Alembic and SQLAlchemy are loaded only to build the template.
        from sqlalchemy import create_engine
        from sqlalchemy.pool import StaticPool

        from casebook.storage import migrate

        scratch = _connect()
        engine = create_engine("sqlite://", creator=lambda: scratch, poolclass=StaticPool)
        try:
            with engine.connect() as connection:
                migrate.upgrade_connection(connection)
            conn = _connect()
            scratch.backup(conn)
        finally:
            engine.dispose()
            scratch.close()
        return cls(conn)

    def schema_script(self) -> str:
        """The statements that build this database's schema (its tables, indexes, views and
        triggers, in that order, and its migration revision), as ``sqlite_head.sql`` holds."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
            ).fetchall()
            (revision,) = self._conn.execute("SELECT version_num FROM alembic_version").fetchone()
        virtual = [name for _, name, sql in rows if sql.startswith("CREATE VIRTUAL TABLE")]
        shadows = {f"{name}_{suffix}" for name in virtual for suffix in _FTS_SHADOWS}
        lines = [f"-- revision {revision}", "-- written by python -m casebook.storage.memory"]
        for kind in _KINDS:
            lines += [f"{sql};" for k, name, sql in rows if k == kind and name not in shadows]
        lines.append(f"INSERT INTO alembic_version (version_num) VALUES ('{revision}');")
        return "\n".join(lines) + "\n"

    @classmethod
    def load(cls, path: Path) -> MemoryStore:
        """A copy, in memory, of the database file at ``path`` (``save`` wrote it)."""
        source = _connect(f"file:{path}?mode=ro")
        try:
            conn = _connect()
            source.backup(conn)
        finally:
            source.close()
        return cls(conn)

    def copy(self) -> MemoryStore:
        """A new store holding what this one holds (the template: an empty database)."""
        conn = _connect()
        with self._lock:
            self._conn.backup(conn)
        return MemoryStore(conn)

    def restore(self, snapshot: MemoryStore) -> None:
        """Put back what ``snapshot`` (a ``copy()`` of this store) holds."""
        with self._lock:
            snapshot._conn.backup(self._conn)

    def save(self, path: Path) -> None:
        """Write the database to the file at ``path`` (replaced whole)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        target = _connect(str(partial))
        try:
            with self._lock:
                self._conn.backup(target)
        finally:
            target.close()
        partial.replace(path)

    # --- Store protocol -----------------------------------------------------
    def migrate(self) -> None:
        """Nothing to do: every copy of the template is at the newest schema."""

    @contextmanager
    def read(self, *, snapshot: bool = False) -> Iterator[SqlTransaction]:
        # One connection whose transactions run one at a time: every read sees a
        # consistent state, snapshot or not.
        with self._lock:
            try:
                yield SqlTransaction(self._conn.cursor(), "sqlite", is_unique_violation)
            except sqlite3.OperationalError as exc:
                raise UnavailableError(f"database error: {exc}") from exc

    @contextmanager
    def write(self) -> Iterator[SqlTransaction]:
        with self._lock:
            conn = self._conn
            cur = conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            with committing(conn, cur) as tx:
                yield tx

    def ping(self) -> None:
        with self.read() as tx:
            tx.meta.get("ping")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


if __name__ == "__main__":  # python -m casebook.storage.memory: write sqlite_head.sql anew
    HEAD_SCRIPT.write_text(MemoryStore.migrated().schema_script(), encoding="utf-8")
    print(f"wrote {HEAD_SCRIPT.name}")
