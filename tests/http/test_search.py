"""GET /api/v2/cases: paging, sorting and the core facets, through HTTP."""

from __future__ import annotations

import pytest

from tests.support.api import Api, keys
from tests.support.errors import as_recorded


@pytest.fixture
def seeded(api: Api) -> dict:
    """Five SEC cases and two NOC cases in known states."""
    sec = api.create_project("SEC", "Security")
    noc = api.create_project("NOC", "Operations")
    user = api.create_user("ann@example.com")
    api.create_case(
        sec["id"], "Kubernetes pods crash", priority="P1", assignee_id=user["id"]
    )  # SEC-1
    api.create_case(
        sec["id"], "Phishing mail", priority="P2", description="kubernetes is fine"
    )  # SEC-2
    api.create_case(sec["id"], "Disk full", priority="P3")  # SEC-3
    api.create_case(sec["id"], "Old incident", priority="P4")  # SEC-4
    api.create_case(sec["id"], "Login storm", priority="P5")  # SEC-5
    api.create_case(noc["id"], "Pager noise", priority="P2")  # NOC-1
    api.create_case(noc["id"], "Router down")  # NOC-2
    api.case_action("SEC-2", "status", {"status": "IN_PROGRESS"})
    api.case_action("SEC-3", "status", {"status": "CLOSED"})
    api.case_action("SEC-4", "archive")
    return {"sec": sec, "noc": noc, "user": user}


def test_default_is_newest_first_without_archived(api: Api, seeded: dict) -> None:
    r = api.search()
    assert r.headers["content-type"] == "application/vnd.api+json"
    assert keys(r) == ["NOC-2", "NOC-1", "SEC-5", "SEC-3", "SEC-2", "SEC-1"]
    assert r.json()["meta"] == {"page": {"current": 1, "size": 6, "total": 1}, "total_cases": 6}
    assert {u["attributes"]["email"] for u in r.json()["included"]} == {
        "admin@casebook.local",
        "ann@example.com",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status:closed", ["SEC-3"]),
        ("status:CLOSED", ["SEC-3"]),
        ("status:in_progress", ["SEC-2"]),
        ("priority:P2", ["NOC-1", "SEC-2"]),
        ("priority:(P1 OR P5)", ["SEC-5", "SEC-1"]),
        ("project:NOC", ["NOC-2", "NOC-1"]),
        ("project:sec status:open", ["SEC-5", "SEC-1"]),
        ("archived:true", ["SEC-4"]),
        ("archived:* project:SEC", ["SEC-5", "SEC-4", "SEC-3", "SEC-2", "SEC-1"]),
        ("kubernetes", ["SEC-2", "SEC-1"]),
        ('"kubernetes pods"', ["SEC-1"]),
        ("kube*", ["SEC-2", "SEC-1"]),
        ("disk status:closed", ["SEC-3"]),
        ("-assignee:*", ["NOC-2", "NOC-1", "SEC-5", "SEC-3", "SEC-2"]),
        ("nothing-matches-this", []),
    ],
)
def test_filters(api: Api, seeded: dict, query: str, expected: list[str]) -> None:
    assert keys(api.search(query)) == expected


def test_project_id_and_assignee_facets(api: Api, seeded: dict) -> None:
    assert keys(api.search(f"project_id:{seeded['noc']['id']}")) == ["NOC-2", "NOC-1"]
    assert keys(api.search(f"assignee:{seeded['user']['id']}")) == ["SEC-1"]
    assert keys(api.search("assignee:ann@example.com")) == ["SEC-1"]


def test_paging_is_one_based_and_zero_is_the_first_page(api: Api, seeded: dict) -> None:
    first = api.search(**{"page[size]": 4})
    zero = api.search(**{"page[size]": 4, "page[number]": 0})
    one = api.search(**{"page[size]": 4, "page[number]": 1})
    two = api.search(**{"page[size]": 4, "page[number]": 2})
    three = api.search(**{"page[size]": 4, "page[number]": 3})
    assert keys(first) == keys(zero) == keys(one) == ["NOC-2", "NOC-1", "SEC-5", "SEC-3"]
    assert keys(two) == ["SEC-2", "SEC-1"]
    assert keys(three) == []
    assert one.json()["meta"] == {"page": {"current": 1, "size": 4, "total": 2}, "total_cases": 6}
    assert two.json()["meta"] == {"page": {"current": 2, "size": 2, "total": 2}, "total_cases": 6}
    assert three.json()["meta"]["page"] == {"current": 3, "size": 0, "total": 2}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"sort[field]": "created_at", "sort[asc]": "true"},
            ["SEC-1", "SEC-2", "SEC-3", "SEC-5", "NOC-1", "NOC-2"],
        ),
        ({"sort[field]": "priority"}, ["SEC-1", "NOC-1", "SEC-2", "SEC-3", "SEC-5", "NOC-2"]),
        (
            {"sort[field]": "priority", "sort[asc]": "true"},
            ["NOC-2", "SEC-5", "SEC-3", "SEC-2", "NOC-1", "SEC-1"],
        ),
        (
            {"sort[field]": "status", "sort[asc]": "true"},
            ["SEC-1", "SEC-5", "NOC-1", "NOC-2", "SEC-2", "SEC-3"],
        ),
    ],
)
def test_sorting(api: Api, seeded: dict, params: dict, expected: list[str]) -> None:
    assert keys(api.search(**params)) == expected


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"page[size]": 101}, "page[size] must be between 1 and 100, got 101"),
        ({"page[size]": 0}, "page[size] must be between 1 and 100, got 0"),
        ({"page[size]": "ten"}, "invalid page[size] 'ten': expected an integer"),
        ({"page[number]": -1}, "page[number] must not be negative, got -1"),
        (
            {"sort[field]": "title"},
            "invalid sort[field] 'title': use one of created_at, priority, status",
        ),
        ({"sort[asc]": "maybe"}, "invalid sort[asc] 'maybe': expected true or false"),
    ],
)
def test_bad_parameters_are_400(api: Api, params: dict, detail: str) -> None:
    r = api.search(**params)
    assert r.status_code == 400
    assert as_recorded(r.json()) == {
        "errors": [{"status": "400", "title": "Bad Request", "detail": detail}]
    }


def test_bad_filter_names_the_term_and_position(api: Api) -> None:
    r = api.search("stauts:open")
    assert r.status_code == 400
    detail = r.json()["errors"][0]["detail"]
    assert '"stauts"' in detail and " 0" in detail and '"status"' in detail


def test_search_never_shows_another_orgs_cases(api: Api, seeded: dict) -> None:
    other = api.new_org_admin("acme")
    project = other.create_project("SEC")
    other.create_case(project["id"], "Kubernetes pods crash elsewhere")
    assert keys(other.search("kubernetes")) == ["SEC-1"]
    assert other.search("archived:*").json()["meta"]["total_cases"] == 1
