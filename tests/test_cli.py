"""The ``casebook`` command, through Typer's CliRunner against a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from casebook.cli import app
from casebook.config import load_settings
from casebook.domain import users as users_domain
from casebook.domain.keys import load_secret
from casebook.http.app import create_app
from casebook.storage import open_store
from tests.conftest import TEST_ENV
from tests.support.api import Api
from tests.support.tracker import JIRA_AUTH, SERVICENOW_AUTH


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
        ["emulate"],
        ["apply"],
        ["migrate"],
        ["orgs"],
        ["orgs", "create"],
        ["users", "create"],
        ["users", "set-password"],
        ["keys"],
        ["keys", "create"],
        ["keys", "list"],
        ["keys", "revoke"],
        ["projects", "restore"],
        ["types"],
        ["types", "list"],
        ["types", "statuses"],
        ["report"],
        ["integrations"],
        ["integrations", "list"],
        ["integrations", "jira", "set"],
        ["integrations", "jira", "show"],
        ["integrations", "jira", "remove"],
        ["integrations", "servicenow", "set"],
        ["integrations", "servicenow", "show"],
        ["integrations", "servicenow", "remove"],
        ["webhooks"],
        ["webhooks", "secret"],
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


# --- integrations -------------------------------------------------------------------------


def test_integrations_are_set_shown_masked_and_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tracker
) -> None:
    """An operator connects an organisation to Jira and ServiceNow; the credentials never
    show again, and the API uses them."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CASEBOOK_DATABASE_URL", url)
    monkeypatch.setenv("CASEBOOK_ALLOW_PRIVATE_WEBHOOKS", "1")
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = runner.invoke(app, list(args), input=stdin)
        return result.exit_code, result.output

    assert run("orgs", "create", "acme")[0] == 0
    assert run("integrations", "list", "--org", "acme") == (
        0,
        "organisation acme has no connections\n",
    )
    code, out = run(
        "integrations", "jira", "set", "--org", "acme", "--url", tracker.url + "/",
        "--email", JIRA_AUTH[0], "--token-stdin", stdin=JIRA_AUTH[1] + "\n",
    )  # fmt: skip
    assert code == 0, out
    assert out == (
        f"organisation acme makes Jira issues at {tracker.url} as {JIRA_AUTH[0]}"
        " (API token stored sealed)\n"
    )
    code, out = run(
        "integrations", "servicenow", "set", "--org", "acme", "--instance", "Acme",
        "--url", tracker.url, "--user", SERVICENOW_AUTH[0], "--password-stdin",
        stdin=SERVICENOW_AUTH[1] + "\n",
    )  # fmt: skip
    assert code == 0, out
    assert "ServiceNow incidents on acme" in out
    code, out = run("integrations", "list", "--org", "acme")
    assert code == 0, out
    assert "jira" in out and "servicenow" in out and JIRA_AUTH[0] in out and "********" in out
    for args in (("jira", "show"), ("servicenow", "show")):
        code, shown = run("integrations", *args, "--org", "acme")
        assert code == 0 and "********" in shown
        out += shown
    for secret in (JIRA_AUTH[1], SERVICENOW_AUTH[1]):
        assert secret not in out and secret[-4:] not in out

    # The API makes issues and tickets with what the CLI stored.
    settings = load_settings({"CASEBOOK_DATABASE_URL": url, **TEST_ENV})
    store = open_store(settings.database_url)
    try:
        users_domain.add_user(store, org_name="acme", email="ann@acme.io", admin=True)
        secret = load_secret(store, settings.secret_key)
        keys = users_domain.create_keys(store, secret, org_name="acme", email="ann@acme.io")
        with TestClient(create_app(settings, store)) as client:
            api = Api(client, store, settings, keys, "acme")
            project = api.create_project("SEC", "Security")
            api.create_case(project["id"], "Leaked token")
            body = {
                "data": {
                    "type": "issues",
                    "attributes": {"project_id": "10001", "issue_type_id": "1"},
                }
            }
            r = api.post("/api/v2/cases/SEC-1/relationships/jira_issues", body)
            assert r.status_code == 202, r.text
            body = {"data": {"type": "tickets", "attributes": {"instance_name": "acme"}}}
            r = api.post("/api/v2/cases/SEC-1/relationships/servicenow_tickets", body)
            assert r.status_code == 202, r.text
            attributes = api.get("/api/v2/cases/SEC-1").json()["data"]["attributes"]
    finally:
        store.close()
    assert attributes["jira_issue"]["result"]["issue_key"] == "SEC-1"
    assert attributes["service_now_ticket"]["result"]["sys_target_link"].startswith(tracker.url)
    assert [r.basic_auth for r in tracker.received] == [JIRA_AUTH, SERVICENOW_AUTH]

    assert run("integrations", "jira", "remove", "--org", "acme") == (
        0,
        "organisation acme has no Jira connection now\n",
    )
    assert run("integrations", "jira", "remove", "--org", "acme") == (
        1,
        "casebook: connection 'jira' not found\n",
    )
    assert run("integrations", "jira", "show", "--org", "acme") == (
        0,
        "organisation acme has no jira connection\n",
    )
    assert run("integrations", "servicenow", "remove", "--org", "acme")[0] == 0


def test_integration_urls_are_checked_when_set(run, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bad URLs and instance names are refused in one line; a private address only when
    CASEBOOK_ALLOW_PRIVATE_WEBHOOKS=1 allows it."""
    assert run("orgs", "create", "acme")[0] == 0
    runner = CliRunner()

    def jira(url: str) -> tuple[int, str]:
        args = ["integrations", "jira", "set", "--org", "acme", "--url", url]
        result = runner.invoke(app, [*args, "--email", "a@b.c", "--token-stdin"], input="t\n")
        return result.exit_code, result.output

    code, out = jira("http://127.0.0.1:8080")
    assert code == 1
    assert out.startswith("casebook: refused URL: the host '127.0.0.1' resolves to 127.0.0.1")
    assert jira("http://10.1.2.3")[0] == 1
    for bad in (
        "ftp://jira.acme.io",
        "https://u:p@8.8.8.8",
        "https://8.8.8.8/?x=1",
        "jira.acme.io",
    ):
        code, out = jira(bad)
        assert code == 1 and out.startswith("casebook: invalid Jira URL"), (bad, out)
    code, out = jira("https://8.8.8.8/jira")
    assert code == 0, out
    result = runner.invoke(
        app,
        ["integrations", "servicenow", "set", "--org", "acme", "--instance", "a.b",
         "--user", "u", "--password-stdin"],
        input="p\n",
    )  # fmt: skip
    assert result.exit_code == 1 and "invalid ServiceNow instance" in result.output
    result = runner.invoke(
        app,
        ["integrations", "jira", "set", "--org", "acme", "--url", "https://8.8.8.8",
         "--email", "a@b.c", "--token-stdin"],
        input="\n",
    )  # fmt: skip
    assert result.exit_code == 1 and "invalid Jira API token" in result.output
    monkeypatch.setenv("CASEBOOK_ALLOW_PRIVATE_WEBHOOKS", "1")
    assert jira("http://127.0.0.1:8080")[0] == 0


def test_set_password_reads_standard_input_and_signs_in(run, tmp_path: Path) -> None:
    runner = CliRunner()
    assert run("orgs", "create", "acme")[0] == 0
    assert run("users", "create", "--org", "acme", "--email", "ann@example.com")[0] == 0
    args = ["users", "set-password", "--org", "acme", "--email", "ann@example.com"]
    result = runner.invoke(app, args, input="short\n")
    assert result.exit_code == 1 and "8 to 1024 characters" in result.output
    result = runner.invoke(app, args, input="a long passphrase\n")
    assert result.exit_code == 0, result.output
    assert "set the password of ann@example.com" in result.output
    missing = runner.invoke(app, [*args[:-1], "nobody@example.com"], input="a long passphrase\n")
    assert missing.exit_code == 1
    settings = load_settings(
        {**TEST_ENV, "CASEBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    )
    store = open_store(settings.database_url)
    try:
        client = TestClient(create_app(settings, store))
        form = client.get("/signin").text
        token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = client.post(
            "/signin",
            data={"csrf_token": token, "email": "ann@example.com", "password": "a long passphrase"},
            follow_redirects=False,
        )
        assert signed.status_code == 303
    finally:
        store.close()
