"""Due dates, resolved reasons, insights and moves: UpdateCaseDueDate,
UpdateCaseResolvedReason, AddCaseInsights, RemoveCaseInsights, MoveCaseToProject."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api
from tests.support.errors import as_recorded


@pytest.fixture
def project(api: Api) -> dict[str, Any]:
    return api.create_project("SEC", "Security")


@pytest.fixture
def case(api: Api, project: dict) -> dict[str, Any]:
    return api.create_case(project["id"], "Suspicious login")


def _attrs(api: Api, ref: str) -> dict[str, Any]:
    r = api.get(f"/api/v2/cases/{ref}")
    assert r.status_code == 200, r.text
    return r.json()["data"]["attributes"]


def test_due_date_set_change_and_clear(api: Api, case: dict) -> None:
    assert "due_date" not in _attrs(api, "SEC-1")
    r = api.case_action("SEC-1", "due_date", {"due_date": "2026-12-31"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["attributes"]["due_date"] == "2026-12-31"
    assert "modified_at" in r.json()["data"]["attributes"]
    again = api.case_action("SEC-1", "due_date", {"due_date": "2026-12-31"})
    assert again.headers["etag"] == r.headers["etag"]  # a no-op changes nothing
    api.case_action("SEC-1", "due_date", {"due_date": "1969-07-20"})
    assert _attrs(api, "SEC-1")["due_date"] == "1969-07-20"
    assert api.case_action("SEC-1", "due_date", {"due_date": None}).status_code == 200
    assert "due_date" not in _attrs(api, "SEC-1")
    due = [h for h in api.history("SEC-1") if h[0] == "due_date"]
    assert due == [
        ("due_date", None, "2026-12-31"),
        ("due_date", "2026-12-31", "1969-07-20"),
        ("due_date", "1969-07-20", None),
    ]


@pytest.mark.parametrize(
    ("attributes", "detail"),
    [
        ({"due_date": "2026-02-30"}, "invalid due_date '2026-02-30'"),
        ({"due_date": "31/12/2026"}, "expected a date as YYYY-MM-DD"),
        ({"due_date": "2026-12-31T00:00:00Z"}, "expected a date as YYYY-MM-DD"),
        ({"due_date": "20261231"}, "expected a date as YYYY-MM-DD"),
        ({"due_date": 20261231}, "Expected `str | null`, got `int`"),
        ({}, "Object missing required field `due_date`"),
    ],
)
def test_bad_due_dates_are_400(api: Api, case: dict, attributes: dict, detail: str) -> None:
    r = api.case_action("SEC-1", "due_date", attributes)
    assert r.status_code == 400
    assert detail in r.json()["errors"][0]["detail"]
    assert "due_date" not in _attrs(api, "SEC-1")


def test_resolved_reason(api: Api, case: dict) -> None:
    r = api.case_action("SEC-1", "resolved_reason", {"security_resolved_reason": "false_positive"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["attributes"]["resolved_reason"] == "FALSE_POSITIVE"
    bad = api.case_action("SEC-1", "resolved_reason", {"security_resolved_reason": "BORED"})
    assert bad.status_code == 400
    assert as_recorded(bad.json()["errors"][0]) == {
        "title": "Generic Error",
        "detail": "invalid security_resolved_reason BORED."
        " Must be one of FALSE_POSITIVE, TRUE_POSITIVE, BENIGN_POSITIVE",
    }
    api.case_action("SEC-1", "resolved_reason", {"security_resolved_reason": ""})
    assert "resolved_reason" not in _attrs(api, "SEC-1")


def _insight(kind: str = "MONITOR", rid: str = "12345", ref: str = "/monitors/12345") -> dict:
    return {"type": kind, "ref": ref, "resource_id": rid}


def test_insights_add_replace_and_remove(api: Api, case: dict) -> None:
    path = f"/api/v2/cases/{case['id']}/insights"
    body = {
        "data": {
            "type": "case",
            "attributes": {"insights": [_insight(), _insight("INCIDENT", "7", "/incidents/7")]},
        }
    }
    r = api.put(path, body)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["attributes"]["insights"] == [
        _insight(),
        _insight("INCIDENT", "7", "/incidents/7"),
    ]
    # The same resource again replaces its ref rather than adding a second one.
    newer = _insight(ref="/monitors/12345?q=total")
    r = api.put(path, {"data": {"type": "case", "attributes": {"insights": [newer]}}})
    assert r.json()["data"]["attributes"]["insights"][0] == newer
    assert len(r.json()["data"]["attributes"]["insights"]) == 2
    r = api.delete(path, {"data": {"type": "case", "attributes": {"insights": [_insight()]}}})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["attributes"]["insights"] == [_insight("INCIDENT", "7", "/incidents/7")]
    assert [h[0] for h in api.history("SEC-1")].count("insights") == 3


@pytest.mark.parametrize(
    ("insights", "detail"),
    [
        ([], "Expected `array` of length >= 1"),
        ([_insight("NOT_A_KIND")], "invalid insight type NOT_A_KIND"),
        ([_insight(rid=" ")], "must not be empty"),
        ([{"type": "MONITOR", "ref": "/m/1"}], "missing required field `resource_id`"),
        ([_insight(rid=str(i)) for i in range(101)], "length <= 100"),
    ],
)
def test_bad_insights_are_400(api: Api, case: dict, insights: list, detail: str) -> None:
    body = {"data": {"type": "case", "attributes": {"insights": insights}}}
    r = api.put(f"/api/v2/cases/{case['id']}/insights", body)
    assert r.status_code == 400
    assert detail in r.json()["errors"][0]["detail"]


def test_move_to_another_project_keeps_the_old_key(api: Api, case: dict) -> None:
    net = api.create_project("NET", "Network")
    api.create_case(net["id"], "Router down")  # NET-1
    body = {"data": {"id": net["id"], "type": "project"}}
    r = api.patch("/api/v2/cases/SEC-1/relationships/project", body)
    assert r.status_code == 200, r.text
    moved = r.json()["data"]
    assert moved["id"] == case["id"]
    assert moved["attributes"]["key"] == "NET-2"
    assert moved["relationships"]["project"]["data"]["id"] == net["id"]
    # The old key keeps naming the case (unlike Datadog), and so does the new one.
    assert api.get("/api/v2/cases/SEC-1").json()["data"]["id"] == case["id"]
    assert api.get("/api/v2/cases/net-2").json()["data"]["id"] == case["id"]
    assert api.case_action("SEC-1", "priority", {"priority": "P1"}).status_code == 200
    assert api.search("project:NET").json()["meta"]["total_cases"] == 2
    assert api.search("project:SEC").json()["meta"]["total_cases"] == 0
    # Moving to where it is is a no-op; back again gives it SEC's next key, SEC-2.
    assert api.patch("/api/v2/cases/NET-2/relationships/project", body).status_code == 200
    back = {"data": {"id": case["relationships"]["project"]["data"]["id"], "type": "project"}}
    r = api.patch("/api/v2/cases/NET-2/relationships/project", back)
    assert r.json()["data"]["attributes"]["key"] == "SEC-2"
    for key in ("SEC-1", "NET-2", "SEC-2"):
        assert api.get(f"/api/v2/cases/{key}").json()["data"]["id"] == case["id"]
    moves = [h for h in api.history(case["id"]) if h[0] in ("project", "key")]
    assert [h[1:] for h in moves if h[0] == "key"] == [("SEC-1", "NET-2"), ("NET-2", "SEC-2")]


def test_move_errors(api: Api, case: dict) -> None:
    path = "/api/v2/cases/SEC-1/relationships/project"
    r = api.patch(path, {"data": {"id": "67d80aa3-36ff-44b9-a694-c501a7591737", "type": "project"}})
    assert r.status_code == 404 and r.json()["errors"][0]["title"] == "project not found"
    r = api.patch(path, {"data": {"id": "nope", "type": "project"}})
    assert r.status_code == 404
    r = api.patch(path, {"data": {"id": case["id"], "type": "case"}})
    assert r.json()["errors"][0]["detail"] == 'got type "case" expected one of "project"'
    r = api.patch(path, {"data": {"type": "project"}})
    assert r.status_code == 400
    gone = api.create_project("OLD", "Old")
    api.delete(f"/api/v2/cases/projects/{gone['id']}")
    r = api.patch(path, {"data": {"id": gone["id"], "type": "project"}})
    assert r.status_code == 404
    theirs = api.new_org_admin("orgb").create_project("SEC", "Theirs")
    r = api.patch(path, {"data": {"id": theirs["id"], "type": "project"}})
    assert r.status_code == 404
    assert _attrs(api, "SEC-1")["key"] == "SEC-1"
