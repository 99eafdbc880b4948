"""The Users API, in Datadog's legacy shape (string-array errors, application/json)."""

from __future__ import annotations

import re

import pytest

from tests.support.api import Api

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")


def test_create_user(api: Api) -> None:
    r = api.post(
        "/api/v2/users",
        {
            "data": {
                "type": "users",
                "attributes": {"email": "Jane.Doe@Example.com", "title": "Analyst"},
            }
        },
    )
    assert r.status_code == 201
    assert r.headers["content-type"] == "application/json"
    data = r.json()["data"]
    assert data["type"] == "users"
    attrs = data["attributes"]
    assert attrs["email"] == attrs["handle"] == "jane.doe@example.com"
    assert attrs["name"] is None
    assert attrs["title"] == "Analyst"
    assert attrs["status"] == "Pending"
    assert attrs["disabled"] is False and attrs["service_account"] is False
    assert ISO.fullmatch(attrs["created_at"])
    assert attrs["icon"].startswith("https://secure.gravatar.com/avatar/")
    assert data["relationships"]["org"]["data"]["type"] == "orgs"
    assert "included" not in r.json()


def test_duplicate_email_is_409(api: Api) -> None:
    api.create_user("a@example.com")
    r = api.post(
        "/api/v2/users", {"data": {"type": "users", "attributes": {"email": "A@example.com"}}}
    )
    assert r.status_code == 409
    assert r.json() == {"errors": ["a user with email a@example.com already exists"]}


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"email": "not-an-email"}, "invalid email 'not-an-email'"),
        ({"email": "a@b.c", "name": "<script>"}, "invalid name: at most 55 characters, no < or >"),
        (
            {},
            "invalid request body: Object missing required field `email` - at `$.data.attributes`",
        ),
    ],
)
def test_bad_user_bodies(api: Api, attributes: dict, message: str) -> None:
    r = api.post("/api/v2/users", {"data": {"type": "users", "attributes": attributes}})
    assert r.status_code == 400
    assert r.json() == {"errors": [message]}


def test_list_filter_and_paging(api: Api) -> None:
    for i in range(5):
        api.create_user(f"person{i}@example.com")
    r = api.get("/api/v2/users", filter="person", **{"page[size]": 2, "page[number]": 2})
    assert r.status_code == 200
    body = r.json()
    assert [u["attributes"]["email"] for u in body["data"]] == ["person4@example.com"]
    assert body["meta"]["page"] == {"total_count": 6, "total_filtered_count": 5}
    only = api.get("/api/v2/users", filter="PERSON3@example.com").json()
    assert only["meta"]["page"]["total_filtered_count"] == 1
    active = api.get("/api/v2/users", **{"filter[status]": "Active"}).json()
    assert [u["attributes"]["email"] for u in active["data"]] == ["admin@casebook.local"]


def test_get_update_disable(api: Api) -> None:
    user = api.create_user("x@example.com", title="user title")
    got = api.get(f"/api/v2/users/{user['id']}")
    assert got.json()["data"]["id"] == user["id"]
    r = api.patch(
        f"/api/v2/users/{user['id']}",
        {
            "data": {
                "id": user["id"],
                "type": "users",
                "attributes": {"name": "updated", "disabled": True},
            }
        },
    )
    assert r.status_code == 200
    attrs = r.json()["data"]["attributes"]
    assert attrs["name"] == "updated"
    assert attrs["disabled"] is True
    assert attrs["status"] == "Disabled"
    assert attrs["email"] == "x@example.com" and attrs["title"] == "user title"
    # Disabled through PATCH: DELETE no longer finds them, as Datadog answers.
    gone = api.delete(f"/api/v2/users/{user['id']}")
    assert gone.status_code == 404
    assert gone.json() == {"errors": [f"{user['id']} not found"]}


def test_delete_disables_once(api: Api) -> None:
    user = api.create_user()
    r = api.delete(f"/api/v2/users/{user['id']}")
    assert r.status_code == 204 and r.content == b""
    assert (
        api.get(f"/api/v2/users/{user['id']}").json()["data"]["attributes"]["status"] == "Disabled"
    )
    assert api.delete(f"/api/v2/users/{user['id']}").status_code == 404


def test_update_errors(api: Api) -> None:
    user = api.create_user()
    mismatch = api.patch(
        f"/api/v2/users/{user['id']}",
        {
            "data": {
                "id": "00000000-mismatch-body-id-ffffffffffff",
                "type": "users",
                "attributes": {},
            }
        },
    )
    assert mismatch.status_code == 422
    assert mismatch.json() == {"errors": ["UUID's in the URL and request body do not match"]}
    missing = "00000000-dead-beef-dead-ffffffffffff"
    r = api.patch(
        f"/api/v2/users/{missing}",
        {"data": {"id": missing, "type": "users", "attributes": {"name": "updated"}}},
    )
    assert r.status_code == 404
    assert r.json() == {"errors": [f"{missing} not found"]}
    bad = api.patch(
        f"/api/v2/users/{user['id']}",
        {"data": {"id": user["id"], "type": "users", "attributes": {"disabled": "yes"}}},
    )
    assert bad.status_code == 400
    assert bad.json() == {"errors": ["invalid request body: disabled must be a boolean"]}


def test_other_orgs_users_are_invisible(api: Api) -> None:
    user = api.create_user()
    other = api.new_org_admin("acme")
    assert other.get(f"/api/v2/users/{user['id']}").status_code == 404
    emails = [u["attributes"]["email"] for u in other.get("/api/v2/users").json()["data"]]
    assert emails == ["admin@acme.example"]


def test_nobody_disables_themselves(api: Api) -> None:
    me = api.get("/api/v2/users", filter="admin@casebook.local").json()["data"][0]["id"]
    r = api.delete(f"/api/v2/users/{me}")
    assert r.status_code == 400
    assert r.json() == {"errors": ["you cannot disable your own account"]}
    r = api.patch(
        f"/api/v2/users/{me}",
        {"data": {"id": me, "type": "users", "attributes": {"disabled": True}}},
    )
    assert r.status_code == 400
    assert api.get("/api/v2/cases").status_code == 200
