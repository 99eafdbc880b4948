"""``casebook apply``: a plan first, then the changes; a second run plans nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from casebook.cli import app

STATE = """
users:
  - email: alice@example.com
    name: Alice
projects:
  - key: SEC
    name: Security
case_types:
  - name: Phishing
custom_attributes:
  - type: Phishing
    key: sender
    kind: TEXT
webhooks:
  - name: triage
    url: https://triage.example.com/hook
views:
  - project: SEC
    name: Urgent
    query: "priority:P1"
  - project: SEC
    name: Mine
    query: "assignee:alice@example.com"
rules:
  - project: SEC
    recipients:
      - type: HTTP
        data: {name: triage}
  - project: SEC
    name: Escalate
    trigger: {type: CASE_CREATED}
    action: {type: SET_PRIORITY, data: {priority: P2}}
cases:
  - project: SEC
    title: not applied
"""


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CASEBOOK_DATABASE_URL", database_url)
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args))
        return result.exit_code, result.output

    return invoke


def test_apply_plans_applies_and_is_idempotent(run, tmp_path: Path) -> None:
    assert run("migrate")[0] == 0
    assert run("orgs", "create", "default")[0] == 0
    made = run("users", "create", "--org", "default", "--email", "admin@casebook.local", "--admin")
    assert made[0] == 0, made[1]
    state = tmp_path / "state.yaml"
    state.write_text(STATE)

    code, planned = run("apply", str(state), "--dry-run")
    assert code == 0, planned
    assert "+ user alice@example.com" in planned
    assert "+ project SEC: Security" in planned
    assert "+ case type Phishing" in planned
    assert "+ custom attribute Phishing/sender: TEXT" in planned
    assert "+ webhook triage" in planned
    assert "+ view SEC/Urgent: priority:P1" in planned
    assert "+ notification rule SEC: HTTP" in planned
    assert "+ automation rule SEC/Escalate: SET_PRIORITY" in planned
    assert "(1 cases: data, not configuration; not applied)" in planned
    assert "dry run: none made" in planned
    assert "+ project SEC" in run("apply", str(state), "--dry-run")[1]  # nothing was made

    code, applied = run("apply", str(state))
    assert code == 0, applied
    assert "casebook: applied 9 changes" in applied
    assert "no changes" in run("apply", str(state))[1]

    changed = (
        STATE.replace("name: Security", "name: Security team")
        .replace('  - project: SEC\n    name: Mine\n    query: "assignee:alice@example.com"\n', "")
        .replace('query: "priority:P1"', 'query: "priority:(P1 OR P2)"')
    )
    state.write_text(changed)
    code, planned = run("apply", str(state))
    assert code == 0, planned
    assert "~ project SEC: name" in planned
    assert "~ view SEC/Urgent: query 'priority:P1' -> 'priority:(P1 OR P2)'" in planned
    assert "- view SEC/Mine" in planned
    assert "applied 3 changes" in planned
    assert "no changes" in run("apply", str(state))[1]


def test_apply_refuses_a_bad_document(run, tmp_path: Path) -> None:
    assert run("orgs", "create", "default")[0] == 0
    run("users", "create", "--org", "default", "--email", "admin@casebook.local", "--admin")
    state = tmp_path / "state.json"
    state.write_text('{"projects": [{"key": "SEC", "nmae": "typo"}]}')
    code, output = run("apply", str(state))
    assert code == 1
    assert "projects[0].nmae: unknown field" in output
