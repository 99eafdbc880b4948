"""Watchers: ListCaseWatchers, WatchCase, UnwatchCase, and who watches without asking."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api


@pytest.fixture
def case(api: Api) -> dict[str, Any]:
    project = api.create_project("SEC", "Security")
    return api.create_case(project["id"], "Suspicious login")


def _watchers(api: Api, ref: str) -> list[str]:
    r = api.get(f"/api/v2/cases/{ref}/watchers")
    assert r.status_code == 200, r.text
    return [w["id"] for w in r.json()["data"]]


def test_the_creator_watches_and_the_list_includes_users(api: Api, case: dict) -> None:
    r = api.get("/api/v2/cases/SEC-1/watchers")
    admin = api.user_id("admin@")
    assert r.json()["data"] == [
        {
            "id": admin,
            "type": "watcher",
            "relationships": {"user": {"data": {"id": admin, "type": "user"}}},
        }
    ]
    [included] = r.json()["included"]
    assert included["id"] == admin and included["attributes"]["email"].startswith("admin@")


def test_watch_and_unwatch(api: Api, case: dict) -> None:
    ann = api.create_user("ann@example.com")
    path = f"/api/v2/cases/SEC-1/watchers/{ann['id']}"
    r = api.post(path, None)
    assert r.status_code == 201 and r.content == b""
    assert api.post(path, None).status_code == 201  # again: no change, no new row
    assert _watchers(api, "SEC-1") == [api.user_id("admin@"), ann["id"]]
    assert api.delete(path).status_code == 204
    assert api.delete(path).status_code == 204  # not watching: no error
    assert _watchers(api, "SEC-1") == [api.user_id("admin@")]
    fields = [f for f, _, _ in api.history("SEC-1")]
    assert fields.count("watcher") == 3  # creator, ann in, ann out


def test_the_assignee_watches(api: Api, case: dict) -> None:
    bob = api.create_user("bob@example.com")
    api.case_action("SEC-1", "assign", {"assignee_id": bob["id"]})
    assert bob["id"] in _watchers(api, "SEC-1")
    # Unassigning does not unwatch: they may still want to hear of it.
    api.case_action("SEC-1", "unassign")
    assert bob["id"] in _watchers(api, "SEC-1")


def test_watch_errors(api: Api, case: dict) -> None:
    r = api.post("/api/v2/cases/SEC-1/watchers/not-a-uuid", None)
    assert r.status_code == 400
    assert r.json()["errors"][0]["title"] == "Invalid Parameter"
    assert '"UserUUID"' in r.json()["errors"][0]["detail"]
    r = api.post("/api/v2/cases/SEC-1/watchers/67d80aa3-36ff-44b9-a694-c501a7591737", None)
    assert r.status_code == 404 and r.json()["errors"][0]["title"] == "user not found"
    r = api.delete("/api/v2/cases/SEC-1/watchers/67d80aa3-36ff-44b9-a694-c501a7591737")
    assert r.status_code == 404
    gone = api.create_user("gone@example.com")
    api.delete(f"/api/v2/users/{gone['id']}")
    r = api.post(f"/api/v2/cases/SEC-1/watchers/{gone['id']}", None)
    assert r.status_code == 400 and "disabled" in r.text
    r = api.post(f"/api/v2/cases/SEC-9/watchers/{gone['id']}", None)
    assert r.status_code == 404 and r.json()["errors"][0]["title"] == "case not found"
    # A user of another organisation is unknown here.
    other = api.new_org_admin("orgb")
    theirs = other.create_user("carol@orgb.example")
    r = api.post(f"/api/v2/cases/SEC-1/watchers/{theirs['id']}", None)
    assert r.status_code == 404


def test_watchers_are_capped(api: Api, case: dict) -> None:
    with api.store.write() as tx:
        for i in range(99):
            tx.sql.execute(
                "INSERT INTO users (id, org_id, email, handle, name, title, status, is_admin,"
                " service_account, created_at, modified_at)"
                " SELECT ?, org_id, ?, ?, NULL, NULL, 'Active', 0, 0, 0, 0 FROM users LIMIT 1",
                (f"00000000-0000-4000-8000-{i:012d}", f"w{i}@example.com", f"w{i}@example.com"),
            )
            tx.sql.execute(
                "INSERT INTO case_watchers (case_id, user_id, org_id, case_seq, created_at)"
                " SELECT id, ?, org_id, seq, 1 FROM cases",
                (f"00000000-0000-4000-8000-{i:012d}",),
            )
    extra = api.create_user("extra@example.com")
    r = api.post(f"/api/v2/cases/SEC-1/watchers/{extra['id']}", None)
    assert r.status_code == 400 and "at most 100 watchers" in r.text
    # Automatic watching stops silently: the comment is still made.
    other = api.as_keys(api.keys_for("default", "extra@example.com"))
    assert other.comment("SEC-1", "me too").status_code == 200
    assert len(_watchers(api, "SEC-1")) == 100
