"""``casebook export``, ``import`` and ``backup`` through Typer's CliRunner on SQLite files:
what they say, and that a bad dump or argument is one line and exit status 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from casebook.cli import app
from casebook.storage import dump, open_store
from casebook.storage.urls import DatabaseUrl


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    runner = CliRunner()

    def invoke(*args: str, db: str = "source.db") -> tuple[int, str]:
        monkeypatch.setenv("CASEBOOK_DATABASE_URL", f"sqlite:///{tmp_path / db}")
        result = runner.invoke(app, list(args))
        return result.exit_code, result.output

    return invoke


def test_export_import_and_backup(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASEBOOK_SECRET_KEY", raising=False)
    assert run("orgs", "create", "acme")[0] == 0
    assert run("orgs", "create", "beta")[0] == 0
    assert run("users", "create", "--org", "acme", "--email", "a@acme.example")[0] == 0
    assert run("keys", "create", "--org", "acme", "--user", "a@acme.example")[0] == 0
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    code, said = run("export", "-o", str(first))
    assert code == 0, said
    assert "exported" in said and "guard the dump as you guard the database" in said
    assert run("export", "-o", str(second))[0] == 0
    assert first.read_bytes() == second.read_bytes()
    assert not list(tmp_path.glob("*.partial"))

    code, said = run("import", str(first), db="target.db")
    assert code == 0, said
    assert "organisations: acme, beta" in said
    code, said = run("import", str(first), db="target.db")
    assert code == 1 and "casebook: the database is not empty" in said
    code, said = run("export", "--org", "acme", "-o", str(second), db="target.db")
    assert code == 0, said
    assert b'"acme"' in second.read_bytes() and b'"beta"' not in second.read_bytes()

    code, said = run("backup", str(tmp_path / "copy.db"))
    assert code == 0 and "backed up" in said
    copy = open_store(DatabaseUrl.parse(f"sqlite:///{tmp_path / 'copy.db'}"))
    try:
        assert dump.is_empty(copy) == "casebook_meta"
    finally:
        copy.close()


def test_bad_input_is_one_line(run, tmp_path: Path) -> None:
    code, said = run("export", "--org", "nope")
    assert code == 1 and "casebook: organisation 'nope' not found" in said.replace(
        "organization", "organisation"
    )
    code, said = run("import", str(tmp_path / "missing.jsonl"))
    assert code == 1 and "casebook: cannot read" in said
    (tmp_path / "bad.jsonl").write_text(
        '{"format":"casebook-dump","version":1,"schema":"0001","org":null}\n{"table":"orgs"'
    )
    code, said = run("import", str(tmp_path / "bad.jsonl"), db="empty.db")
    assert code == 1 and "casebook: line 2: not valid JSON" in said, said
    code, said = run("backup", str(tmp_path / "copy.db"), db="nothing.db")
    assert code == 1 and "casebook: no database at" in said
    assert "Traceback" not in said
    fresh = open_store(DatabaseUrl.parse(f"sqlite:///{tmp_path / 'empty.db'}"))
    try:
        assert dump.is_empty(fresh) is None
    finally:
        fresh.close()
