"""``python -m casebook.storage.migrate new``: the next migration, written from storage/schema.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Table, Text

from casebook.storage.migrate import head_revision, new_revision
from casebook.storage.schema import metadata


@pytest.fixture
def widgets() -> Iterator[Table]:
    """A table declared in the expected schema that no migration makes yet."""
    table = Table("widgets", metadata, Column("id", Text, primary_key=True), Column("name", Text))
    try:
        yield table
    finally:
        metadata.remove(table)


def test_a_declared_table_gets_its_migration(widgets: Table, tmp_path: Path) -> None:
    path = new_revision("add widgets", version_path=tmp_path)
    number = f"{int(head_revision()) + 1:04d}"
    assert path == tmp_path / f"{number}_add_widgets.py"
    text = path.read_text()
    assert f"revision = {number!r}" in text
    assert f"down_revision = {head_revision()!r}" in text
    assert "op.create_table(" in text and "'widgets'" in text
    # Nothing else: the migrations make exactly what the rest of schema.py declares,
    # and what only the migrations make (the full-text index) is left alone.
    upgrade, downgrade = text.split("def downgrade() -> None:")
    assert "drop" not in upgrade.lower() and "cases" not in upgrade
    # The way back drops the table again, and only it.
    assert "op.drop_table('widgets')" in downgrade and "cases" not in downgrade
    compile(text, str(path), "exec")  # the template imports what autogenerate writes (sa)


def test_nothing_declared_nothing_written(tmp_path: Path) -> None:
    text = new_revision("nothing", version_path=tmp_path).read_text()
    upgrade = text.split("def upgrade() -> None:", 1)[1].split("def downgrade", 1)[0]
    assert [line.strip() for line in upgrade.splitlines() if line.strip()][1] == "pass"
    assert "op." not in upgrade
