"""Migrations build exactly the schema that ``storage/schema.py`` declares, on both dialects."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from casebook.storage import open_store
from casebook.storage.migrate import current_revision, head_revision
from casebook.storage.schema import metadata
from casebook.storage.urls import DatabaseUrl

_FTS = {"cases_fts", "cases_fts_data", "cases_fts_idx", "cases_fts_docsize", "cases_fts_config"}


def _include(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # The full-text index is dialect-specific and created by migrations only.
    if type_ == "table" and name in _FTS | {"alembic_version"}:
        return False
    if type_ == "column" and name == "search_vector":
        return False
    return not (type_ == "index" and name == "ix_cases_search_vector")


def test_migrated_schema_matches_metadata(database_url: str) -> None:
    url = DatabaseUrl.parse(database_url)
    engine = create_engine(url.sqlalchemy_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_object": _include, "compare_type": True}
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
