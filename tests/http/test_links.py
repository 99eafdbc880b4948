"""Links between cases: ListCaseLinks, CreateCaseLink, DeleteCaseLink."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api


@pytest.fixture
def cases(api: Api) -> list[dict[str, Any]]:
    project = api.create_project("SEC", "Security")
    return [api.create_case(project["id"], f"Case {i}") for i in range(1, 4)]


def _link(api: Api, parent: str, child: str, relationship: str = "BLOCKS", **over: str) -> Any:
    attributes = {
        "parent_entity_type": "CASE",
        "parent_entity_id": parent,
        "child_entity_type": "CASE",
        "child_entity_id": child,
        "relationship": relationship,
        **over,
    }
    return api.post("/api/v2/cases/link", {"data": {"type": "link", "attributes": attributes}})


def _listed(api: Api, ref: str, **params: str) -> list[tuple[str, str, str]]:
    r = api.get("/api/v2/cases/link", entity_type="CASE", entity_id=ref, **params)
    assert r.status_code == 200, r.text
    return [
        (
            link["attributes"]["parent_entity_id"],
            link["attributes"]["relationship"],
            link["attributes"]["child_entity_id"],
        )
        for link in r.json()["data"]
    ]


def test_link_list_and_delete(api: Api, cases: list[dict]) -> None:
    one, two, three = (c["id"] for c in cases)
    r = _link(api, one, "SEC-2")  # an end may be given by key
    assert r.status_code == 201, r.text
    link = r.json()["data"]
    assert link["type"] == "link"
    assert link["attributes"] == {
        "child_entity_id": two,
        "child_entity_type": "CASE",
        "parent_entity_id": one,
        "parent_entity_type": "CASE",
        "relationship": "BLOCKS",
    }
    assert _link(api, three, one, "relates_to").status_code == 201
    assert _listed(api, "SEC-1") == [(one, "BLOCKS", two), (three, "RELATES_TO", one)]
    assert _listed(api, two) == [(one, "BLOCKS", two)]
    assert _listed(api, "SEC-1", relationship="RELATES_TO") == [(three, "RELATES_TO", one)]
    # Both cases' timelines show it.
    for ref in ("SEC-1", "SEC-2"):
        assert any(
            c["attributes"]["cell_content"].get("field") == "link" for c in api.timeline(ref)
        )
    assert api.delete(f"/api/v2/cases/link/{link['id']}").status_code == 204
    assert _listed(api, two) == []
    assert api.delete(f"/api/v2/cases/link/{link['id']}").status_code == 404


def test_link_errors(api: Api, cases: list[dict]) -> None:
    one, two, _ = (c["id"] for c in cases)
    assert _link(api, one, two).status_code == 201
    again = _link(api, one, two)
    assert again.status_code == 409 and "already have a BLOCKS link" in again.text
    assert _link(api, one, one).status_code == 400
    r = _link(api, one, two, "FRIENDS_WITH")
    assert r.status_code == 400 and "invalid relationship FRIENDS_WITH" in r.text
    r = _link(api, one, two, parent_entity_type="INCIDENT")
    assert r.status_code == 400 and "links cases only" in r.text
    r = _link(api, one, "67d80aa3-36ff-44b9-a694-c501a7591737")
    assert r.status_code == 404 and r.json()["errors"][0]["title"] == "case not found"
    r = api.post("/api/v2/cases/link", {"data": {"type": "case"}})
    assert r.json()["errors"][0]["detail"] == 'got type "case" expected one of "link"'
    r = api.post("/api/v2/cases/link", {"data": {"type": "link"}})
    assert r.status_code == 400
    r = api.get("/api/v2/cases/link", entity_type="CASE")
    assert r.status_code == 400 and "entity_id is required" in r.text
    r = api.get("/api/v2/cases/link", entity_type="PAGE", entity_id=one)
    assert r.status_code == 400
    r = api.delete("/api/v2/cases/link/nope")
    assert r.status_code == 400 and '"LinkID"' in r.json()["errors"][0]["detail"]


def test_another_organisations_case_is_the_same_404(api: Api, cases: list[dict]) -> None:
    other = api.new_org_admin("orgb")
    project = other.create_project("SEC", "Theirs")
    theirs = other.create_case(project["id"], "Their case")
    mine = cases[0]["id"]
    r = _link(api, mine, theirs["id"])
    missing = _link(api, mine, "67d80aa3-36ff-44b9-a694-c501a7591737")
    assert r.status_code == missing.status_code == 404
    assert r.json()["errors"][0]["title"] == missing.json()["errors"][0]["title"]
    assert _listed(other, theirs["id"]) == []
    # Their link id means nothing here.
    other_case = other.create_case(project["id"], "Their second case")
    link_id = _link(other, theirs["id"], other_case["id"]).json()["data"]["id"]
    assert api.delete(f"/api/v2/cases/link/{link_id}").status_code == 404
    assert len(_listed(other, theirs["id"])) == 1


def test_a_deleted_project_hides_its_links(api: Api, cases: list[dict]) -> None:
    other = api.create_project("NET", "Network")
    net = api.create_case(other["id"], "Router down")
    assert _link(api, cases[0]["id"], net["id"]).status_code == 201
    assert len(_listed(api, "SEC-1")) == 1
    assert api.delete(f"/api/v2/cases/projects/{other['id']}").status_code == 204
    assert _listed(api, "SEC-1") == []
