"""The emulator's in-memory store: its schema script is what the migrations build, and a
copy of the template is a database of its own."""

from __future__ import annotations

from casebook.storage.memory import HEAD_SCRIPT, MemoryStore
from casebook.storage.revision import code_head

SCHEMA = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"


def test_the_head_script_is_what_the_migrations_build() -> None:
    migrated = MemoryStore.migrated()
    expected = migrated.schema_script()
    assert HEAD_SCRIPT.read_text(encoding="utf-8") == expected, (
        "storage/migrations/sqlite_head.sql is out of date: run python -m casebook.storage.memory"
    )
    scripted = MemoryStore.template()
    with scripted.read() as a, migrated.read() as b:
        assert a.sql.all(SCHEMA) == b.sql.all(SCHEMA)
    assert HEAD_SCRIPT.read_text(encoding="utf-8").startswith(f"-- revision {code_head()}\n")


def test_copies_are_separate_and_restore_puts_back_a_snapshot() -> None:
    template = MemoryStore.template()
    one, two = template.copy(), template.copy()
    with one.write() as tx:
        tx.meta.set_if_absent("mark", "one")
    snapshot = one.copy()
    with one.write() as tx:
        tx.meta.set_if_absent("later", "x")
    with two.read() as tx:
        assert tx.meta.get("mark") is None
    one.restore(snapshot)
    with one.read() as tx:
        assert tx.meta.get("mark") == "one"
        assert tx.meta.get("later") is None
