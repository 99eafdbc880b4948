"""Saved views: ``/api/v2/cases/views``; a view's cases are a search."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api, keys

VIEWS = "/api/v2/cases/views"


def view_body(project_id: str, name: str = "P1s", query: str = "priority:P1", **more: Any) -> Any:
    attributes = {"project_id": project_id, "name": name, "query": query, **more}
    return {"data": {"type": "view", "attributes": attributes}}


def make_view(api: Api, project_id: str, **kw: Any) -> dict[str, Any]:
    r = api.post(VIEWS, view_body(project_id, **kw))
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


def view_cases(api: Api, view: dict[str, Any]) -> list[str]:
    """The view's cases, as docs/api.md says to list them."""
    scope = f"project_id:{view['relationships']['project']['data']['id']}"
    query = view["attributes"]["query"]
    return keys(api.search(f"{scope} ({query})" if query else scope, **{"page[size]": 100}))


def test_create_get_list_update_delete(api: Api) -> None:
    project = api.create_project("SEC")
    view = make_view(api, project["id"], name="Open P1s", query="status:open priority:P1")
    assert view["type"] == "view"
    attributes = view["attributes"]
    assert attributes["name"] == "Open P1s"
    assert attributes["query"] == "status:open priority:P1"
    assert attributes["created_at"].endswith("Z")
    assert "modified_at" not in attributes and "np_rule_id" not in attributes
    relationships = view["relationships"]
    assert relationships["project"] == {"data": {"id": project["id"], "type": "project"}}
    assert relationships["created_by"]["data"]["type"] == "user"
    assert "modified_by" not in relationships

    got = api.get(f"{VIEWS}/{view['id']}")
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/vnd.api+json"
    assert got.json() == {"data": view}
    second = make_view(api, project["id"], name="Mine", query="assignee:me")
    listed = api.get(VIEWS, project_id=project["id"])
    assert listed.status_code == 200
    assert [v["id"] for v in listed.json()["data"]] == [view["id"], second["id"]]

    rule = "0d3b5e1c-52b5-4e6c-9a41-2f0c0c6c1a11"
    changed = api.put(
        f"{VIEWS}/{view['id']}",
        {"data": {"type": "view", "attributes": {"name": "P1s", "np_rule_id": rule}}},
    )
    assert changed.status_code == 200, changed.text
    attributes = changed.json()["data"]["attributes"]
    assert (attributes["name"], attributes["query"], attributes["np_rule_id"]) == (
        "P1s",
        "status:open priority:P1",
        rule,
    )
    assert "modified_at" in attributes
    assert "modified_by" in changed.json()["data"]["relationships"]
    unlinked = api.put(
        f"{VIEWS}/{view['id']}",
        {"data": {"type": "view", "attributes": {"np_rule_id": "", "query": "priority:P2"}}},
    )
    assert "np_rule_id" not in unlinked.json()["data"]["attributes"]
    assert unlinked.json()["data"]["attributes"]["query"] == "priority:P2"

    r = api.delete(f"{VIEWS}/{view['id']}")
    assert r.status_code == 204 and r.content == b""
    assert api.get(f"{VIEWS}/{view['id']}").status_code == 404
    assert api.delete(f"{VIEWS}/{view['id']}").status_code == 404
    assert [v["id"] for v in api.get(VIEWS, project_id=project["id"]).json()["data"]] == [
        second["id"]
    ]


def test_a_views_cases_are_its_search_in_its_project(api: Api) -> None:
    sec = api.create_project("SEC")
    ops = api.create_project("OPS")
    me = api.get("/api/v2/users", filter="admin").json()["data"][0]["id"]
    api.create_case(sec["id"], "Phishing wave", priority="P1")
    api.create_case(sec["id"], "Laptop stolen", priority="P3")
    mine = api.create_case(sec["id"], "Leaked key", priority="P1")
    assert api.case_action(mine["id"], "assign", {"assignee_id": me}).status_code == 200
    api.create_case(ops["id"], "Disk full", priority="P1")
    p1s = make_view(api, sec["id"], query="priority:P1")
    assert view_cases(api, p1s) == ["SEC-3", "SEC-1"]
    either = make_view(api, sec["id"], query="priority:P3 OR assignee:me")
    # The project scope binds the whole query, OR included.
    assert view_cases(api, either) == ["SEC-3", "SEC-2"]
    everything = make_view(api, sec["id"], query="")
    assert view_cases(api, everything) == ["SEC-3", "SEC-2", "SEC-1"]


def test_a_bad_query_is_refused_with_its_position(api: Api) -> None:
    project = api.create_project("SEC")
    r = api.post(VIEWS, view_body(project["id"], query="status:open stauts:closed"))
    assert r.status_code == 400
    detail = r.json()["errors"][0]["detail"]
    assert '"stauts"' in detail and "12" in detail
    view = make_view(api, project["id"])
    r = api.put(f"{VIEWS}/{view['id']}", {"data": {"type": "view", "attributes": {"query": "("}}})
    assert r.status_code == 400
    assert api.get(f"{VIEWS}/{view['id']}").json()["data"]["attributes"]["query"] == "priority:P1"


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (
            {
                "data": {
                    "type": "views",
                    "attributes": {"project_id": "P", "name": "x", "query": ""},
                }
            },
            400,
            'got type "views" expected one of "view"',
        ),
        ({"data": {"type": "view"}}, 400, "data.attributes is required"),
        ({"data": {"type": "view", "attributes": {"name": "x", "query": ""}}}, 400, "project_id"),
        ({"data": {"type": "view", "attributes": {"project_id": "P", "name": "x"}}}, 400, "query"),
    ],
)
def test_bad_bodies(api: Api, body: Any, status: int, fragment: str) -> None:
    r = api.post(VIEWS, body)
    assert r.status_code == status, r.text
    assert fragment in r.json()["errors"][0]["detail"]


def test_names_rule_ids_and_projects_are_checked(api: Api) -> None:
    project = api.create_project("SEC")
    assert api.post(VIEWS, view_body(project["id"], name="  ")).status_code == 400
    assert api.post(VIEWS, view_body(project["id"], name="x" * 201)).status_code == 400
    assert api.post(VIEWS, view_body(project["id"], np_rule_id="rule-1")).status_code == 400
    unknown = "7c0f4f0e-0000-4000-8000-000000000000"
    assert api.post(VIEWS, view_body(unknown)).status_code == 404
    assert api.post(VIEWS, view_body("SEC")).status_code == 404
    assert api.get(VIEWS).status_code == 400
    assert api.get(VIEWS, project_id=unknown).status_code == 404
    assert api.get(f"{VIEWS}/not-a-uuid").status_code == 404


def test_views_of_a_deleted_project_go_with_it(api: Api) -> None:
    project = api.create_project("SEC")
    view = make_view(api, project["id"])
    assert api.delete(f"/api/v2/cases/projects/{project['id']}").status_code == 204
    assert api.get(f"{VIEWS}/{view['id']}").status_code == 404
    assert api.get(VIEWS, project_id=project["id"]).status_code == 404


def test_views_never_cross_organisations(api: Api) -> None:
    other = api.new_org_admin("acme")
    theirs_project = other.create_project("SEC")
    theirs = make_view(other, theirs_project["id"], name="Theirs")
    mine_project = api.create_project("SEC")
    make_view(api, mine_project["id"], name="Mine")
    assert api.get(f"{VIEWS}/{theirs['id']}").status_code == 404
    assert api.get(VIEWS, project_id=theirs_project["id"]).status_code == 404
    body = {"data": {"type": "view", "attributes": {"name": "Stolen"}}}
    assert api.put(f"{VIEWS}/{theirs['id']}", body).status_code == 404
    assert api.delete(f"{VIEWS}/{theirs['id']}").status_code == 404
    assert api.post(VIEWS, view_body(theirs_project["id"])).status_code == 404
    listed = other.get(VIEWS, project_id=theirs_project["id"]).json()["data"]
    assert [v["attributes"]["name"] for v in listed] == ["Theirs"]


def test_views_are_shared_in_the_organisation(api: Api) -> None:
    project = api.create_project("SEC")
    view = make_view(api, project["id"])
    member = api.as_keys(api.keys_for("default", api.create_user()["attributes"]["email"]))
    assert member.get(f"{VIEWS}/{view['id']}").status_code == 200
    body = {"data": {"type": "view", "attributes": {"name": "Renamed by a teammate"}}}
    r = member.put(f"{VIEWS}/{view['id']}", body)
    assert r.status_code == 200
    assert (
        r.json()["data"]["relationships"]["modified_by"]["data"]["id"]
        != (view["relationships"]["created_by"]["data"]["id"])
    )
