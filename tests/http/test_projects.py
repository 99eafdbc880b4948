"""Project endpoints, deletion and restore."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from casebook.cli import app as cli_app
from tests.support.api import Api
from tests.support.errors import as_recorded

NOTIFICATION_DEFAULTS = {
    "enabled": True,
    "destinations": [1],
    "notify_on_case_assignment": True,
    "notify_on_case_unassignment": True,
    "notify_on_case_closed": True,
    "notify_on_case_priority_change": True,
    "notify_on_case_comment": True,
    "notify_on_case_comment_mention": True,
    "notify_on_case_status_change": True,
}


def test_create_list_get(api: Api) -> None:
    created = api.create_project("SEC", "Security")
    assert created["type"] == "project"
    assert created["attributes"] == {
        "enabled_custom_case_types": [],
        "key": "SEC",
        "name": "Security",
        "restricted": False,
        "settings": {"notification": NOTIFICATION_DEFAULTS},
    }
    api.create_project("NOC", "Operations")
    listed = api.get("/api/v2/cases/projects")
    assert listed.status_code == 200
    assert listed.headers["content-type"] == "application/vnd.api+json"
    assert [p["attributes"]["key"] for p in listed.json()["data"]] == ["NOC", "SEC"]
    got = api.get(f"/api/v2/cases/projects/{created['id']}")
    assert got.json() == {"data": created}


@pytest.mark.parametrize(
    ("key", "detail"),
    [
        ("CASE", "invalid project key 'CASE': cannot be \"CASE\""),
        (
            "sec",
            "invalid project key 'sec': 1 to 10 upper-case letters or digits, starting with a letter",
        ),
        (
            "1SEC",
            "invalid project key '1SEC': 1 to 10 upper-case letters or digits, starting with a letter",
        ),
        (
            "ABCDEFGHIJK",
            "invalid project key 'ABCDEFGHIJK': 1 to 10 upper-case letters or digits, starting with a letter",
        ),
        (
            "",
            "invalid project key '': 1 to 10 upper-case letters or digits, starting with a letter",
        ),
        (
            "SE-C",
            "invalid project key 'SE-C': 1 to 10 upper-case letters or digits, starting with a letter",
        ),
    ],
)
def test_bad_keys_are_400(api: Api, key: str, detail: str) -> None:
    r = api.post(
        "/api/v2/cases/projects",
        {"data": {"type": "project", "attributes": {"key": key, "name": "x"}}},
    )
    assert r.status_code == 400
    assert as_recorded(r.json()) == {"errors": [{"title": "Generic Error", "detail": detail}]}


def test_longest_key_is_fine(api: Api) -> None:
    assert api.create_project("ABCDEFGHI0")["attributes"]["key"] == "ABCDEFGHI0"


def test_duplicate_key_is_409(api: Api) -> None:
    api.create_project("SEC")
    r = api.post(
        "/api/v2/cases/projects",
        {"data": {"type": "project", "attributes": {"key": "SEC", "name": "again"}}},
    )
    assert r.status_code == 409
    assert as_recorded(r.json()) == {
        "errors": [
            {"status": "409", "title": "Conflict", "detail": "project key SEC is already in use"}
        ]
    }


def test_same_key_in_another_org_is_fine(api: Api) -> None:
    api.create_project("SEC")
    other = api.new_org_admin("acme")
    assert other.create_project("SEC")["attributes"]["key"] == "SEC"
    assert [p["attributes"]["key"] for p in other.get("/api/v2/cases/projects").json()["data"]] == [
        "SEC"
    ]


def test_wrong_type_is_400(api: Api) -> None:
    r = api.post(
        "/api/v2/cases/projects",
        {"data": {"type": "invalid_type", "attributes": {"key": "SEC", "name": "x"}}},
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["detail"] == 'got type "invalid_type" expected one of "project"'


@pytest.mark.parametrize("ref", ["67d80aa3-36ff-44b9-a694-c501a7591737", "not-a-uuid"])
def test_unknown_project_is_404(api: Api, ref: str) -> None:
    for r in (
        api.get(f"/api/v2/cases/projects/{ref}"),
        api.delete(f"/api/v2/cases/projects/{ref}"),
    ):
        assert r.status_code == 404
        assert r.json()["errors"][0]["title"] == "project not found"


def test_delete_hides_project_and_cases_and_restore_brings_them_back(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = api.create_project("SEC")
    case = api.create_case(project["id"], "Kept")
    api.create_case(project["id"])
    r = api.delete(f"/api/v2/cases/projects/{project['id']}")
    assert r.status_code == 204
    assert r.content == b""
    assert "content-type" not in r.headers
    assert api.get(f"/api/v2/cases/projects/{project['id']}").status_code == 404
    assert api.get("/api/v2/cases/projects").json()["data"] == []
    assert api.get(f"/api/v2/cases/{case['id']}").status_code == 404
    assert api.get("/api/v2/cases/SEC-1").status_code == 404
    assert api.case_action(case["id"], "archive").status_code == 404
    assert api.search().json()["meta"]["total_cases"] == 0
    assert api.delete(f"/api/v2/cases/projects/{project['id']}").status_code == 404

    monkeypatch.setenv("CASEBOOK_DATABASE_URL", api.settings.database_url.raw)
    result = CliRunner().invoke(cli_app, ["projects", "restore", "SEC"])
    assert result.exit_code == 0, result.output
    assert "restored project SEC" in result.output
    assert api.get(f"/api/v2/cases/{case['id']}").json()["data"]["attributes"]["title"] == "Kept"
    assert api.search().json()["meta"]["total_cases"] == 2
    # Numbering goes on where it stopped.
    assert api.create_case(project["id"])["attributes"]["key"] == "SEC-3"
