"""``PATCH /api/v2/cases/projects/{project_id}``, keys freed by deletion, and favourites."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from casebook.cli import app as cli_app
from tests.http.test_projects import NOTIFICATION_DEFAULTS
from tests.support.api import Api
from tests.support.errors import as_recorded

PROJECTS = "/api/v2/cases/projects"


def patch_body(**attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "project", "attributes": attributes}}


def patch(api: Api, project: dict[str, Any], **attributes: Any) -> Any:
    return api.patch(f"{PROJECTS}/{project['id']}", patch_body(**attributes))


def test_rename_a_project(api: Api) -> None:
    project = api.create_project("SEC", "Security")
    r = patch(api, project, name="Security operations")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.api+json"
    data = r.json()["data"]
    assert data["id"] == project["id"]
    assert data["attributes"]["name"] == "Security operations"
    assert data["attributes"]["key"] == "SEC"
    got = api.get(f"{PROJECTS}/{project['id']}").json()["data"]
    assert got == data
    # An empty attributes object changes nothing but is fine.
    same = api.patch(f"{PROJECTS}/{project['id']}", {"data": {"type": "project"}})
    assert same.status_code == 200
    assert same.json()["data"]["attributes"] == data["attributes"]


def test_recorded_errors(api: Api) -> None:
    """As recorded: a wrong ``data.type`` names it; an unknown project says what failed."""
    project = api.create_project("SEC")
    r = api.patch(f"{PROJECTS}/{project['id']}", {"data": {"type": "invalid_type"}})
    assert r.status_code == 400
    assert as_recorded(r.json()) == {
        "errors": [
            {
                "status": "400",
                "title": "Bad Request",
                "detail": 'got type "invalid_type" expected one of "project"',
            }
        ]
    }
    for ref in ("67d80aa3-36ff-44b9-a694-c501a7591737", "not-a-uuid"):
        r = api.patch(f"{PROJECTS}/{ref}", patch_body(name="Updated Project Name"))
        assert r.status_code == 404
        error = r.json()["errors"][0]
        assert error["code"] == "resource_not_found"
        assert error["title"] == "failed to get project: project not found"


def test_the_key_never_changes(api: Api) -> None:
    project = api.create_project("SEC")
    api.create_case(project["id"])
    r = patch(api, project, key="OPS", name="Renamed")
    assert r.status_code == 200
    assert r.json()["data"]["attributes"]["key"] == "SEC"
    assert api.get(f"{PROJECTS}/{project['id']}").json()["data"]["attributes"]["key"] == "SEC"
    assert api.create_case(project["id"])["attributes"]["key"] == "SEC-2"


def test_bad_names_are_refused(api: Api) -> None:
    project = api.create_project("SEC")
    assert patch(api, project, name="   ").status_code == 400
    assert patch(api, project, name="x" * 201).status_code == 400
    assert patch(api, project, name=5).status_code == 400


def test_settings_merge_into_the_defaults(api: Api) -> None:
    project = api.create_project("SEC")
    r = patch(
        api,
        project,
        settings={
            "notification": {"enabled": False, "destinations": [1, 2]},
            "auto_close_inactive_cases": {"enabled": True, "max_inactive_time_in_secs": 86400},
        },
    )
    assert r.status_code == 200, r.text
    settings = r.json()["data"]["attributes"]["settings"]
    assert settings["notification"] == {
        **NOTIFICATION_DEFAULTS,
        "enabled": False,
        "destinations": [1, 2],
    }
    assert settings["auto_close_inactive_cases"] == {
        "enabled": True,
        "max_inactive_time_in_secs": 86400,
    }
    # A later patch changes only what it names; null removes a member (back to its default).
    r = patch(
        api,
        project,
        settings={
            "auto_close_inactive_cases": {"max_inactive_time_in_secs": 3600},
            "notification": {"enabled": None},
        },
    )
    settings = r.json()["data"]["attributes"]["settings"]
    assert settings["auto_close_inactive_cases"] == {
        "enabled": True,
        "max_inactive_time_in_secs": 3600,
    }
    assert settings["notification"] == {**NOTIFICATION_DEFAULTS, "destinations": [1, 2]}
    r = patch(api, project, settings={"auto_close_inactive_cases": None})
    assert "auto_close_inactive_cases" not in r.json()["data"]["attributes"]["settings"]
    # Other projects keep the defaults.
    other = api.create_project("OPS")
    assert other["attributes"]["settings"] == {"notification": NOTIFICATION_DEFAULTS}


def test_integration_settings_round_trip(api: Api) -> None:
    project = api.create_project("SEC")
    jira = {
        "enabled": True,
        "auto_creation": {"enabled": False},
        "metadata": {"account_id": "acc", "issue_type_id": "10001", "project_id": "SECJ"},
        "sync": {
            "enabled": True,
            "properties": {
                "title": {"sync_type": "bidirectional"},
                "priority": {"sync_type": "cm_to_jira", "mapping": {"P1": "Highest"}},
                "custom_fields": {"customfield_1": {"sync_type": "cm_to_jira", "value": [1, "a"]}},
            },
        },
    }
    on_call = {
        "enabled": True,
        "auto_assign_on_call": False,
        "escalation_queries": [
            {"id": "q1", "enabled": True, "query": "priority:P1", "target": {"team_id": "t1"}}
        ],
    }
    r = patch(api, project, settings={"integration_jira": jira, "integration_on_call": on_call})
    assert r.status_code == 200, r.text
    settings = r.json()["data"]["attributes"]["settings"]
    assert settings["integration_jira"] == jira
    assert settings["integration_on_call"] == on_call


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"notification": {"enabled": "yes"}}, "Expected `bool | null`"),
        ({"notification": {"destinations": [4]}}, "destinations"),
        ({"auto_close_inactive_cases": {"max_inactive_time_in_secs": -1}}, ">= 0"),
        ({"integration_on_call": {"escalation_queries": [{"query": "stauts:open"}]}}, "stauts"),
        ({"integration_incident": {"auto_escalation_query": "priority:(P1"}}, "auto_escalation"),
        ({"integration_monitor": {"case_type_id": "nope"}}, "case_type not found"),
    ],
)
def test_bad_settings_are_400_or_404(api: Api, changes: dict[str, Any], fragment: str) -> None:
    project = api.create_project("SEC")
    r = patch(api, project, settings=changes)
    assert r.status_code in (400, 404), r.text
    assert fragment in r.text
    got = api.get(f"{PROJECTS}/{project['id']}").json()["data"]["attributes"]
    assert got["settings"] == {"notification": NOTIFICATION_DEFAULTS}


def test_columns_config_and_enabled_types(api: Api) -> None:
    project = api.create_project("SEC")
    assert "columns_config" not in project["attributes"]
    columns = {
        "columns": [
            {"type": "status", "sort_field": "priority", "sort": {"ascending": True, "priority": 1}}
        ]
    }
    made = api.post(
        "/api/v2/cases/types",
        {"data": {"type": "case_type", "attributes": {"name": "Investigation"}}},
    ).json()["data"]
    r = patch(api, project, columns_config=columns, enabled_custom_case_types=[made["id"]])
    assert r.status_code == 200, r.text
    attributes = r.json()["data"]["attributes"]
    assert attributes["columns_config"] == columns
    assert attributes["enabled_custom_case_types"] == [made["id"]]
    unknown = patch(
        api, project, enabled_custom_case_types=["7c0f4f0e-0000-4000-8000-000000000000"]
    )
    assert unknown.status_code == 404
    cleared = patch(api, project, enabled_custom_case_types=[])
    assert cleared.json()["data"]["attributes"]["enabled_custom_case_types"] == []


def test_another_organisations_project_is_not_found(api: Api) -> None:
    other = api.new_org_admin("acme")
    theirs = other.create_project("SEC", "Theirs")
    assert patch(api, theirs, name="Mine now").status_code == 404
    assert other.get(f"{PROJECTS}/{theirs['id']}").json()["data"]["attributes"]["name"] == "Theirs"


# --- keys freed by deletion -----------------------------------------------------------
def test_a_deleted_projects_key_is_free_and_case_keys_stay_unique(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = api.create_project("SEC", "Old")
    first = api.create_case(old["id"], "Old one")
    api.create_case(old["id"], "Old two")
    assert api.delete(f"{PROJECTS}/{old['id']}").status_code == 204
    new = api.post(
        PROJECTS, {"data": {"type": "project", "attributes": {"key": "SEC", "name": "New"}}}
    )
    assert new.status_code == 201, new.text
    new_project = new.json()["data"]
    assert new_project["id"] != old["id"]
    # Numbering goes on after the deleted project's cases: no key names two cases.
    assert api.create_case(new_project["id"])["attributes"]["key"] == "SEC-3"
    assert api.get("/api/v2/cases/SEC-1").status_code == 404
    assert api.get(f"/api/v2/cases/{first['id']}").status_code == 404
    assert [p["id"] for p in api.get(PROJECTS).json()["data"]] == [new_project["id"]]
    # Deleting and re-creating again goes on numbering.
    assert api.delete(f"{PROJECTS}/{new_project['id']}").status_code == 204
    third = api.create_project("SEC", "Third")
    assert api.create_case(third["id"])["attributes"]["key"] == "SEC-4"

    # Restoring the first project while the key is taken asks for a new key.
    monkeypatch.setenv("CASEBOOK_DATABASE_URL", api.settings.database_url.raw)
    refused = CliRunner().invoke(cli_app, ["projects", "restore", "SEC"])
    assert refused.exit_code == 1
    assert "--key" in refused.output
    used = CliRunner().invoke(cli_app, ["projects", "restore", "SEC", "--key", "SEC"])
    assert used.exit_code == 1
    # The most recently deleted SEC (the second) comes back as OLDSEC, its case as OLDSEC-3.
    result = CliRunner().invoke(cli_app, ["projects", "restore", "SEC", "--key", "oldsec"])
    assert result.exit_code == 0, result.output
    assert "restored project SEC, now OLDSEC" in result.output
    keys = {p["attributes"]["key"]: p["id"] for p in api.get(PROJECTS).json()["data"]}
    assert keys == {"OLDSEC": new_project["id"], "SEC": third["id"]}
    restored = api.get("/api/v2/cases/OLDSEC-3").json()["data"]
    assert restored["relationships"]["project"]["data"]["id"] == new_project["id"]
    # Its case's old key keeps naming it, as after a move.
    assert api.get("/api/v2/cases/SEC-3").json()["data"]["id"] == restored["id"]
    # Then the first one, whose key is taken too; a key that was ever used is refused.
    again = CliRunner().invoke(cli_app, ["projects", "restore", "SEC", "--key", "OLDSEC"])
    assert again.exit_code == 1
    assert "never used" in again.output
    result = CliRunner().invoke(cli_app, ["projects", "restore", "SEC", "--key", "FIRST"])
    assert result.exit_code == 0, result.output
    assert api.get("/api/v2/cases/FIRST-1").json()["data"]["attributes"]["title"] == "Old one"
    assert api.create_case(old["id"])["attributes"]["key"] == "FIRST-3"
    nothing = CliRunner().invoke(cli_app, ["projects", "restore", "SEC"])
    assert nothing.exit_code == 1
    assert "not deleted" in nothing.output


# --- favourites -------------------------------------------------------------------------
def favorites(api: Api) -> list[str]:
    r = api.get(f"{PROJECTS}/favorites")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert all(item["type"] == "project_favorite" for item in data)
    return [item["id"] for item in data]


def test_favourites_are_per_user_and_idempotent(api: Api) -> None:
    sec = api.create_project("SEC")
    ops = api.create_project("OPS")
    assert favorites(api) == []
    for project in (ops, sec, ops):
        r = api.post(f"{PROJECTS}/{project['id']}/favorites", None)
        assert r.status_code == 204, r.text
        assert r.content == b""
    assert favorites(api) == [ops["id"], sec["id"]]
    member = api.as_keys(api.keys_for("default", api.create_user()["attributes"]["email"]))
    assert favorites(member) == []
    assert member.post(f"{PROJECTS}/{sec['id']}/favorites", None).status_code == 204
    assert favorites(member) == [sec["id"]]
    for _ in range(2):
        assert api.delete(f"{PROJECTS}/{ops['id']}/favorites").status_code == 204
    assert favorites(api) == [sec["id"]]
    # A deleted project leaves the lists (and comes back with it).
    assert api.delete(f"{PROJECTS}/{sec['id']}").status_code == 204
    assert favorites(api) == []
    assert favorites(member) == []


def test_favourites_of_unknown_or_foreign_projects_are_404(api: Api) -> None:
    other = api.new_org_admin("acme")
    theirs = other.create_project("SEC")
    assert other.post(f"{PROJECTS}/{theirs['id']}/favorites", None).status_code == 204
    for ref in (theirs["id"], "7c0f4f0e-0000-4000-8000-000000000000", "nope"):
        assert api.post(f"{PROJECTS}/{ref}/favorites", None).status_code == 404
        assert api.delete(f"{PROJECTS}/{ref}/favorites").status_code == 404
    assert favorites(api) == []
    assert favorites(other) == [theirs["id"]]


def test_self_assignment_moves_an_open_case_to_in_progress_when_set(api: Api) -> None:
    project = api.create_project("SEC")
    me = api.get("/api/v2/users", filter="admin").json()["data"][0]["id"]
    teammate = api.create_user()["id"]
    before = api.create_case(project["id"], "Before the setting")
    r = api.case_action(before["id"], "assign", {"assignee_id": me})
    assert r.json()["data"]["attributes"]["status"] == "OPEN"
    setting = {
        "auto_transition_assigned_cases": {"auto_transition_assigned_cases_on_self_assigned": True}
    }
    assert patch(api, project, settings=setting).status_code == 200
    # Assigned to someone else: stays open.
    other = api.create_case(project["id"], "For a teammate")
    r = api.case_action(other["id"], "assign", {"assignee_id": teammate})
    assert r.json()["data"]["attributes"]["status"] == "OPEN"
    # Taken by the caller: In Progress, both changes in the timeline.
    mine = api.create_case(project["id"], "Mine")
    r = api.case_action(mine["id"], "assign", {"assignee_id": me})
    attributes = r.json()["data"]["attributes"]
    assert (attributes["status"], attributes["status_name"]) == ("IN_PROGRESS", "In Progress")
    fields = [field for field, _, _ in api.history(mine["id"])]
    assert "assignee" in fields and "status" in fields
    # A closed case stays closed.
    closed = api.create_case(project["id"], "Done")
    api.case_action(closed["id"], "status", {"status": "CLOSED"})
    r = api.case_action(closed["id"], "assign", {"assignee_id": me})
    assert r.json()["data"]["attributes"]["status"] == "CLOSED"
