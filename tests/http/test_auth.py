"""Keys, scopes and organisations at the HTTP surface."""

from __future__ import annotations

import pytest

from casebook.domain import users as users_domain
from tests.support.api import Api

FORBIDDEN = {"errors": ["Forbidden"]}


def test_healthz_needs_no_keys(api: Api) -> None:
    r = api.client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"DD-API-KEY": "abc"},
        {"DD-APPLICATION-KEY": "abc"},
        {"DD-API-KEY": "", "DD-APPLICATION-KEY": ""},
        {"DD-API-KEY": "0" * 32, "DD-APPLICATION-KEY": "0" * 40},
        {"DD-API-KEY": "x" * 5000, "DD-APPLICATION-KEY": "y"},
    ],
)
def test_bad_keys_are_403_with_one_body(api: Api, headers: dict) -> None:
    for method, path in [
        ("GET", "/api/v2/cases"),
        ("POST", "/api/v2/cases"),
        ("GET", "/api/v2/users"),
    ]:
        r = api.client.request(method, path, headers=headers, json={})
        assert r.status_code == 403
        assert r.json() == FORBIDDEN
        assert r.headers["content-type"] == "application/json"


def test_keys_in_the_query_string_are_ignored(api: Api) -> None:
    r = api.client.get(
        "/api/v2/cases",
        params={
            "api_key": api.keys.api_key,
            "application_key": api.keys.app_key,
            "dd-api-key": api.keys.api_key,
            "dd-application-key": api.keys.app_key,
        },
    )
    assert r.status_code == 403


def test_keys_of_two_orgs_do_not_combine(api: Api) -> None:
    other = api.new_org_admin("acme")
    r = api.client.get(
        "/api/v2/cases",
        headers={"DD-API-KEY": api.keys.api_key, "DD-APPLICATION-KEY": other.keys.app_key},
    )
    assert r.status_code == 403
    assert r.json() == FORBIDDEN


def test_read_only_key_cannot_write(api: Api) -> None:
    project = api.create_project()
    users_domain.add_user(api.store, org_name="default", email="reader@example.com")
    reader = api.as_keys(api.keys_for("default", "reader@example.com", scopes="cases_read"))
    assert reader.get("/api/v2/cases").status_code == 200
    r = reader.post(
        "/api/v2/cases",
        {
            "data": {
                "type": "case",
                "attributes": {"title": "x"},
                "relationships": {"project": {"data": {"id": project["id"], "type": "project"}}},
            }
        },
    )
    assert r.status_code == 403
    assert r.json() == {"errors": ["Forbidden: the application key lacks the cases_write scope"]}
    assert api.search().json()["meta"]["total_cases"] == 0


def test_non_admins_cannot_manage_users(api: Api) -> None:
    users_domain.add_user(api.store, org_name="default", email="member@example.com")
    member = api.as_keys(api.keys_for("default", "member@example.com"))
    assert member.get("/api/v2/users").status_code == 200
    r = member.post(
        "/api/v2/users", {"data": {"type": "users", "attributes": {"email": "n@e.com"}}}
    )
    assert r.status_code == 403


def test_revoked_and_disabled_keys_stop_working(api: Api) -> None:
    users_domain.add_user(api.store, org_name="default", email="temp@example.com")
    temp = api.as_keys(api.keys_for("default", "temp@example.com"))
    assert temp.get("/api/v2/cases").status_code == 200
    user_id = api.get("/api/v2/users", filter="temp@").json()["data"][0]["id"]
    assert api.delete(f"/api/v2/users/{user_id}").status_code == 204
    assert temp.get("/api/v2/cases").status_code == 403


def test_org_isolation_by_uuid_and_key(api: Api) -> None:
    project = api.create_project("SEC")
    case = api.create_case(project["id"], "Secret A case")
    other = api.new_org_admin("acme")
    other_project = other.create_project("SEC")
    other.create_case(other_project["id"], "B case")
    for ref in (case["id"], "SEC-1"):
        mine = api.get(f"/api/v2/cases/{ref}").json()["data"]["attributes"]["title"]
        assert mine == "Secret A case"
    theirs = other.get("/api/v2/cases/SEC-1").json()["data"]["attributes"]["title"]
    assert theirs == "B case"
    r = other.get(f"/api/v2/cases/{case['id']}")
    assert r.status_code == 404
    for action in ("archive", "unassign", "unarchive"):
        assert other.case_action(case["id"], action).status_code == 404
    assert other.case_action(case["id"], "priority", {"priority": "P1"}).status_code == 404
    assert other.get(f"/api/v2/cases/projects/{project['id']}").status_code == 404
    assert other.delete(f"/api/v2/cases/projects/{project['id']}").status_code == 404
    r = other.post(
        "/api/v2/cases",
        {
            "data": {
                "type": "case",
                "attributes": {"title": "x"},
                "relationships": {"project": {"data": {"id": project["id"], "type": "project"}}},
            }
        },
    )
    assert r.status_code == 404
    assert (
        api.get(f"/api/v2/cases/{case['id']}").json()["data"]["attributes"]["priority"]
        == "NOT_DEFINED"
    )


def test_unknown_route_and_method(api: Api) -> None:
    r = api.get("/api/v2/nothing")
    assert r.status_code == 404
    assert r.json()["errors"][0]["title"] == "Not Found"
    r = api.client.put("/api/v2/cases", headers=api.headers)
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
