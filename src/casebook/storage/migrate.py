"""Run the versioned migrations (Alembic) against a database URL.

Safe to call from several processes at once: PostgreSQL serialises the runs
with an advisory lock, SQLite with its own exclusive lock on the file.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from casebook.storage.urls import DatabaseUrl

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_PG_MIGRATION_LOCK = 7_253_491_001  # arbitrary advisory-lock key owned by casebook


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: DatabaseUrl) -> None:
    """Bring the database at ``url`` to the newest schema; a no-op when it is there."""
    engine = create_engine(url.sqlalchemy_url)
    try:
        with engine.connect() as connection:
            if url.is_postgres:
                connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                connection.commit()
            try:
                if current_revision(connection) != head_revision():
                    command.upgrade(_config(connection), "head")
                    connection.commit()
            finally:
                if url.is_postgres:
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK}
                    )
                    connection.commit()
    finally:
        engine.dispose()
