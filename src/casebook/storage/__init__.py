"""Storage: the back ends behind ``storage.base.Store``."""

from __future__ import annotations

from casebook.storage.base import Store
from casebook.storage.urls import DatabaseUrl

__all__ = ["DatabaseUrl", "Store", "open_store"]


def open_store(
    url: DatabaseUrl,
    *,
    sqlite_synchronous: str = "FULL",
    busy_timeout_ms: int = 5000,
    statement_timeout_ms: int = 10_000,
) -> Store:
    """The store for ``url``; nothing is connected until first use. ``statement_timeout_ms``
    bounds each statement on PostgreSQL (0: unbounded, for exports and imports)."""
    if url.is_sqlite:
        from casebook.storage.sqlite import SQLiteStore

        return SQLiteStore(
            url.sqlite_path,
            synchronous="NORMAL" if sqlite_synchronous.upper() == "NORMAL" else "FULL",
            busy_timeout_ms=busy_timeout_ms,
        )
    from casebook.storage.postgres import PostgresStore

    return PostgresStore(url, statement_timeout_ms=statement_timeout_ms)
