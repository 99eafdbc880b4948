"""Every row of a test's database, to show that a call changed nothing (or what it changed)."""

from __future__ import annotations

import sqlite3

import psycopg

from casebook.storage.urls import DatabaseUrl


def dump_database(url: str) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table (shadow tables of the full-text index included), as text."""
    parsed = DatabaseUrl.parse(url)
    out: dict[str, list[tuple[str, ...]]] = {}
    if parsed.is_sqlite:
        conn = sqlite3.connect(parsed.sqlite_path)
        try:
            names = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            for name in names:
                rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()
                out[name] = sorted(tuple(_text(v) for v in row) for row in rows)
        finally:
            conn.close()
        return out
    with psycopg.connect(parsed.postgres_dsn) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        for name in names:
            rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()  # type: ignore[call-overload]
            out[name] = sorted(tuple(_text(v) for v in row) for row in rows)
    return out


def _text(value: object) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    return "" if value is None else str(value)
