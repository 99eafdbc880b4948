"""Migrations build exactly the schema that ``storage/schema.py`` declares, on both dialects."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from casebook.storage import open_store
from casebook.storage.migrate import current_revision, head_revision
from casebook.storage.schema import declared_here, metadata
from casebook.storage.urls import DatabaseUrl


def test_migrated_schema_matches_metadata(database_url: str) -> None:
    url = DatabaseUrl.parse(database_url)
    engine = create_engine(url.sqlalchemy_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_object": declared_here, "compare_type": True}
            )
            assert compare_metadata(context, metadata) == []
            assert current_revision(conn) == head_revision()
    finally:
        engine.dispose()


def test_migrate_twice_is_a_no_op(database_url: str) -> None:
    store = open_store(DatabaseUrl.parse(database_url))
    store.migrate()
    store.migrate()
    store.close()
