"""Searching by what case types define: custom attributes by key, ``type:`` by name or id,
``status_name:`` and ``status_group:``."""

from __future__ import annotations

import pytest

from tests.http.test_case_types import SECURITY_STATUSES, make_type
from tests.http.test_custom_attributes import make_config, set_value
from tests.support.api import Api, keys


@pytest.fixture
def world(api: Api) -> Api:
    security = make_type(api, "Security Incident", statuses=SECURITY_STATUSES)
    make_config(api, "region", on=security["id"])
    make_config(api, "severity_score", "NUMBER", on=security["id"])
    make_config(api, "tags", "TEXT", is_multi=True, on=security["id"])
    make_config(api, "region")  # Standard has the key too
    project = api.create_project()
    one = api.create_case(project["id"], "one", type_id=security["id"], status_name="Triage")
    two = api.create_case(project["id"], "two", type_id=security["id"])
    three = api.create_case(project["id"], "three", attributes={"team": ["sre"]})
    set_value(api, one["id"], "region", "TEXT", "eu-west-1")
    set_value(api, one["id"], "severity_score", "NUMBER", 8)
    set_value(api, one["id"], "tags", "TEXT", ["phishing", "vip"], is_multi=True)
    set_value(api, two["id"], "severity_score", "NUMBER", 3.5)
    set_value(api, two["id"], "tags", "TEXT", ["malware"], is_multi=True)
    set_value(api, three["id"], "region", "TEXT", "EU-West-1")
    api.case_action(three["id"], "attributes", {"attributes": {"team": ["sre"], "owner": ["x"]}})
    return api


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("region:eu-west-1", ["SEC-3", "SEC-1"]),
        ("region:eu*", ["SEC-3", "SEC-1"]),
        ("region:*", ["SEC-3", "SEC-1"]),
        ("-region:*", ["SEC-2"]),
        ("severity_score:>7", ["SEC-1"]),
        ("severity_score:>=3.5", ["SEC-2", "SEC-1"]),
        ("severity_score:<8", ["SEC-2"]),
        ("severity_score:[3 TO 8}", ["SEC-2"]),
        ("severity_score:8", ["SEC-1"]),
        ("tags:(phishing OR malware)", ["SEC-2", "SEC-1"]),
        ("tags:vip", ["SEC-1"]),
        ('type:"Security Incident"', ["SEC-2", "SEC-1"]),
        ("type:security_incident", ["SEC-2", "SEC-1"]),
        ("type:standard", ["SEC-3"]),
        ("type:nothing", []),
        ("status_name:triage", ["SEC-1"]),
        ("status_name:New", ["SEC-2"]),
        ('status_name:"open"', ["SEC-3"]),
        ("status_name:nothing", []),
        ("status_group:sg_open", ["SEC-3", "SEC-2", "SEC-1"]),
        ("team:sre", ["SEC-3"]),
        ("attributes.owner:x", ["SEC-3"]),
    ],
)
def test_custom_facets(world: Api, query: str, expected: list[str]) -> None:
    assert keys(world.search(query)) == expected


def test_type_by_id(world: Api) -> None:
    security = next(
        t
        for t in world.get("/api/v2/cases/types").json()["data"]
        if t["attributes"]["name"] == "Security Incident"
    )
    assert keys(world.search(f"type:{security['id']}")) == ["SEC-2", "SEC-1"]
    assert keys(world.search(f"type_id:{security['id']} status:open")) == ["SEC-2", "SEC-1"]


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        (
            "region:>5",
            '"region" at 0 takes no ranges or comparisons: only NUMBER custom attributes',
        ),
        ("team:[1 TO 2]", '"team" at 0 takes no ranges or comparisons'),
        ("severity_score:high", 'invalid severity_score "high" at 0; severity_score is a NUMBER'),
    ],
)
def test_custom_facet_errors(world: Api, query: str, detail: str) -> None:
    r = world.search(query)
    assert r.status_code == 400
    assert detail in r.json()["errors"][0]["detail"]


def test_renamed_statuses_are_found_by_their_new_name(world: Api) -> None:
    security = next(
        t
        for t in world.get("/api/v2/cases/types").json()["data"]
        if t["attributes"]["name"] == "Security Incident"
    )
    statuses = [dict(s) for s in security["attributes"]["statuses"]]
    statuses[1]["name"] = "Sorting"
    body = {"data": {"type": "case_type", "attributes": {"statuses": statuses}}}
    assert world.put(f"/api/v2/cases/types/{security['id']}", body).status_code == 200
    assert keys(world.search("status_name:sorting")) == ["SEC-1"]
    assert keys(world.search("status_name:triage")) == []
