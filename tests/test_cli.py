"""The ``casebook`` command, through Typer's CliRunner against a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casebook.cli import app


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CASEBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args))
        return result.exit_code, result.output

    return invoke


def test_help_on_every_command(run) -> None:
    for args in (
        [],
        ["serve"],
        ["migrate"],
        ["orgs"],
        ["orgs", "create"],
        ["users", "create"],
        ["keys"],
        ["keys", "create"],
        ["keys", "list"],
        ["keys", "revoke"],
        ["projects", "restore"],
        ["types"],
        ["types", "list"],
        ["types", "statuses"],
        ["report"],
    ):
        code, output = run(*args, "--help")
        assert code == 0, output
        assert "Usage" in output


def test_orgs_users_keys(run) -> None:
    assert run("migrate") == (0, "casebook: database is up to date\n")
    code, out = run("orgs", "create", "acme")
    assert code == 0 and "created organisation acme" in out
    code, out = run("orgs", "create", "acme")
    assert code == 1 and "already exists" in out
    code, out = run("users", "create", "--org", "acme", "--email", "Ann@Acme.io", "--admin")
    assert code == 0 and "created user ann@acme.io" in out
    code, out = run("keys", "create", "--org", "acme", "--user", "ann@acme.io", "--json")
    assert code == 0
    pair = json.loads(out)
    assert len(pair["api_key"]) == 32 and len(pair["app_key"]) == 40
    code, out = run("keys", "create", "--org", "acme", "--user", "ann@acme.io", "--scopes", "nope")
    assert code == 1 and "unknown scope 'nope'" in out
    code, out = run("keys", "list", "--org", "acme")
    assert code == 0 and pair["api_key"][-4:] in out and pair["api_key"] not in out


def test_errors_are_one_line(run) -> None:
    code, out = run("users", "create", "--org", "missing", "--email", "a@b.c")
    assert code == 1
    assert out == "casebook: organization 'missing' not found\n"
    code, out = run("projects", "restore", "NOPE")
    assert code == 1
    assert out.strip().startswith("casebook: ")


def test_types_and_their_statuses(run) -> None:
    assert run("orgs", "create", "acme")[0] == 0
    code, out = run("types", "list", "--org", "acme")
    assert code == 0, out
    assert "Standard: Open (SG_OPEN), In Progress (SG_IN_PROGRESS), Closed (SG_CLOSED)" in out
    code, out = run(
        "types", "statuses", "error tracking", "--org", "acme",
        "--status", "New=SG_OPEN", "--status", "Fixing=SG_IN_PROGRESS", "--status", "Done=SG_CLOSED",
    )  # fmt: skip
    assert code == 1
    assert "cannot be changed" in out
    code, out = run("types", "statuses", "nope", "--status", "x")
    assert code != 0


def test_statuses_of_a_custom_type(run, tmp_path: Path) -> None:
    from casebook.cli import _store
    from casebook.domain import case_types

    assert run("orgs", "create", "acme")[0] == 0
    with _store() as store:
        actor = case_types.operator(store, "acme")
        case_types.create_type(store, actor=actor, name="Security Incident")
    code, out = run(
        "types", "statuses", "security incident", "--org", "acme",
        "--status", "New=SG_OPEN", "--status", "Working=SG_IN_PROGRESS",
        "--status", "Resolved=SG_CLOSED", "--rename", "Open=New", "--rename", "Closed=Resolved",
    )  # fmt: skip
    assert code == 0, out
    assert out.strip() == (
        "Security Incident: New (SG_OPEN), Working (SG_IN_PROGRESS), Resolved (SG_CLOSED)"
    )


def test_report_of_durations(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cases made through the API on the CLI's database; the report reads them."""
    from starlette.testclient import TestClient

    from casebook.config import load_settings
    from casebook.domain import users as users_domain
    from casebook.http.app import create_app
    from casebook.storage import open_store
    from tests.conftest import TEST_ENV
    from tests.support.api import Api

    monkeypatch.setenv("COLUMNS", "200")  # one line per row of the table
    assert run("migrate")[0] == 0
    settings = load_settings(
        {"CASEBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", **TEST_ENV}
    )
    store = open_store(settings.database_url)
    try:
        with TestClient(create_app(settings, store)) as client:
            keys = users_domain.bootstrap(store, settings.secret_key, api_key="", app_key="")
            assert keys.created_keys is not None
            api = Api(client, store, settings, keys.created_keys)
            project = api.create_project()
            ann = api.create_user("ann@example.com")
            first = api.create_case(project["id"], "one", priority="P1", assignee_id=ann["id"])
            api.case_action(first["id"], "status", {"status": "CLOSED"})
            api.create_case(project["id"], "two", priority="P1")
            api.create_case(project["id"], "three", priority="P3")
    finally:
        store.close()
    code, out = run("report", "--by", "priority")
    assert code == 0, out
    lines = out.splitlines()
    assert "3 cases, as of" in lines[0]
    header = next(line for line in lines if "to assign" in line)
    assert "priority" in header and "in progress" in header
    rows = {line.split()[1]: line for line in lines if line.startswith("│")}
    assert set(rows) >= {"all", "P1", "P3"}
    # All three: one assigned (at once: 0s), one closed; P3 neither.
    assert "0s / 0s (1)" in rows["all"]
    assert rows["P3"].count("-") >= 2
    assert rows["P1"].split("│")[2].strip() == "2"
    code, out = run("report", "--query", "priority:P3")
    assert code == 0 and "1 cases, as of" in out
    code, out = run("report", "--by", "stauts")
    assert code == 1
    assert (
        out
        == 'casebook: unknown field "stauts"; did you mean "status"? (write "attributes.stauts" for an attribute of that name)\n'
    )
