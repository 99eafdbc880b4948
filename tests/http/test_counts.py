"""CountCases (``GET /api/v2/cases/count``) and AggregateCases (``POST /api/v2/cases/aggregate``):
every field, the filter and its scopes, the order and limits of groups, and the errors."""

from __future__ import annotations

from typing import Any

import pytest

from casebook.core.entities import STANDARD_CASE_TYPE_ID
from tests.http.test_case_types import SECURITY_STATUSES, make_type
from tests.http.test_custom_attributes import make_config, set_value
from tests.support.api import Api

COUNT = "/api/v2/cases/count"
AGGREGATE = "/api/v2/cases/aggregate"


def count(api: Api, query: str = "", group_bys: str = "", **params: Any) -> dict[str, Any]:
    """The attributes of a 200 count: ``{"total": n, field: [(value, count), ...]}``."""
    if query:
        params["query_filter"] = query
    if group_bys:
        params["group_bys"] = group_bys
    r = api.get(COUNT, **params)
    assert r.status_code == 200, r.text
    attributes = r.json()["data"]["attributes"]
    found: dict[str, Any] = {"total": attributes["total"]}
    for group in attributes["groups"]:
        found[group["group"]] = [(v["value"], v["count"]) for v in group["group_values"]]
    return found


def aggregate_body(groups: list[str], limit: int = 1000, query: str | None = "") -> Any:
    attributes: dict[str, Any] = {"group_by": {"groups": groups, "limit": limit}}
    if query is not None:
        attributes["query_filter"] = query
    return {"data": {"type": "aggregate", "attributes": attributes}}


def aggregate(api: Api, groups: list[str], query: str = "", limit: int = 1000) -> Any:
    r = api.post(AGGREGATE, aggregate_body(groups, limit, query))
    assert r.status_code == 200, r.text
    return r.json()["data"]


@pytest.fixture
def world(api: Api) -> dict[str, Any]:
    """Six live cases in SEC and NOC, an archived one, one in a deleted project, and one
    of another organisation; a case type of the organisation's own with custom
    attributes, and a ``region`` on Standard cases too."""
    security = make_type(api, "Security Incident", statuses=SECURITY_STATUSES)
    make_config(api, "region", on=security["id"])
    make_config(api, "severity_score", "NUMBER", on=security["id"])
    make_config(api, "tags", "TEXT", is_multi=True, on=security["id"])
    make_config(api, "region")
    sec, noc = api.create_project("SEC"), api.create_project("NOC", "Operations")
    old = api.create_project("OLD", "Gone")
    ann, bob = api.create_user("ann@example.com"), api.create_user("bob@example.com")
    web_db = {"attributes": {"service": ["Web", "db"]}}
    one = api.create_case(sec["id"], "one", priority="P1", assignee_id=ann["id"])  # SEC-1
    api.case_action(one["id"], "attributes", web_db)
    set_value(api, one["id"], "region", "TEXT", "EU-West-1")
    two = api.create_case(  # SEC-2
        sec["id"], "two", priority="P2", type_id=security["id"], status_name="Triage"
    )
    api.case_action(two["id"], "assign", {"assignee_id": bob["id"]})
    set_value(api, two["id"], "severity_score", "NUMBER", 8)
    set_value(api, two["id"], "tags", "TEXT", ["phishing", "vip"], is_multi=True)
    set_value(api, two["id"], "region", "TEXT", "eu-west-1")
    three = api.create_case(sec["id"], "three", priority="P2", type_id=security["id"])
    api.case_action(three["id"], "status", {"status_name": "Investigating"})
    set_value(api, three["id"], "severity_score", "NUMBER", 3.5)
    set_value(api, three["id"], "tags", "TEXT", ["malware"], is_multi=True)
    four = api.create_case(sec["id"], "four", priority="P3")  # SEC-4
    api.case_action(four["id"], "attributes", {"attributes": {"service": ["web"]}})
    api.case_action(four["id"], "status", {"status": "CLOSED"})
    api.case_action(four["id"], "resolved_reason", {"security_resolved_reason": "FALSE_POSITIVE"})
    five = api.create_case(sec["id"], "five", priority="P1")  # SEC-5, archived
    api.case_action(five["id"], "archive")
    noc1 = api.create_case(noc["id"], "noc one", priority="P4", assignee_id=ann["id"])
    api.case_action(noc1["id"], "attributes", {"attributes": {"service": ["db"], "team": ["sre"]}})
    api.case_action(noc1["id"], "status", {"status": "IN_PROGRESS"})
    api.create_case(noc["id"], "noc two")  # NOC-2
    api.create_case(old["id"], "gone", priority="P1")
    assert api.delete(f"/api/v2/cases/projects/{old['id']}").status_code == 204
    other = api.new_org_admin("acme")
    elsewhere = other.create_project("SEC")
    theirs = other.create_case(elsewhere["id"], "theirs", priority="P1")
    other.case_action(theirs["id"], "attributes", {"attributes": {"service": ["web"]}})
    admin = api.user_id("admin@casebook.local")
    return {
        "security": security["id"],
        "sec": sec["id"],
        "noc": noc["id"],
        "ann": ann["id"],
        "bob": bob["id"],
        "admin": admin,
        "other": other,
    }


def test_count_answers_the_specs_shape(api: Api, world: dict[str, Any]) -> None:
    r = api.get(COUNT, query_filter="project:SEC", group_bys="status")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.api+json"
    data = r.json()["data"]
    assert data["type"] == "count"
    assert data["attributes"] == {
        "groups": [
            {
                "group": "status",
                "group_values": [
                    {"value": "OPEN", "count": 2},
                    {"value": "CLOSED", "count": 1},
                    {"value": "IN_PROGRESS", "count": 1},
                ],
            }
        ],
        "total": 4,
    }
    # The same question has the same id; another question another one.
    assert (
        api.get(COUNT, query_filter="project:SEC", group_bys="status").json()["data"]["id"]
        == (data["id"])
    )
    assert api.get(COUNT, query_filter="project:NOC").json()["data"]["id"] != data["id"]


def test_count_without_groups_is_the_total(api: Api, world: dict[str, Any]) -> None:
    assert count(api) == {"total": 6}
    assert count(api, "priority:P1") == {"total": 1}
    assert count(api, "nothing-matches-this") == {"total": 0}
    assert count(api, "nothing-matches-this", "status") == {"total": 0, "status": []}


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("status", [("OPEN", 3), ("IN_PROGRESS", 2), ("CLOSED", 1)]),
        ("status_group", [("SG_OPEN", 3), ("SG_IN_PROGRESS", 2), ("SG_CLOSED", 1)]),
        (
            "status_name",
            [
                ("Open", 2),
                ("Closed", 1),
                ("In Progress", 1),
                ("Investigating", 1),
                ("Triage", 1),
            ],
        ),
        ("priority", [("P2", 2), ("NOT_DEFINED", 1), ("P1", 1), ("P3", 1), ("P4", 1)]),
        ("project", [("{sec}", 4), ("{noc}", 2)]),
        ("project_id", [("{sec}", 4), ("{noc}", 2)]),
        ("project.key", [("SEC", 4), ("NOC", 2)]),
        ("assignee", [("", 3), ("{ann}", 2), ("{bob}", 1)]),
        ("assignee_id", [("", 3), ("{ann}", 2), ("{bob}", 1)]),
        ("created_by", [("{admin}", 6)]),
        ("type", [(STANDARD_CASE_TYPE_ID, 4), ("{security}", 2)]),
        ("type_id", [(STANDARD_CASE_TYPE_ID, 4), ("{security}", 2)]),
        ("creation_source", [("MANUAL", 6)]),
        ("resolved_reason", [("", 5), ("FALSE_POSITIVE", 1)]),
        # Attributes: each value (lower-cased, as search compares), a case under each.
        ("service", [("", 3), ("db", 2), ("web", 2)]),
        ("attributes.service", [("", 3), ("db", 2), ("web", 2)]),
        ("team", [("", 5), ("sre", 1)]),
        # A key a case type has is the custom attribute's, as in a search.
        ("region", [("", 4), ("eu-west-1", 2)]),
        ("custom_attributes.region", [("", 4), ("eu-west-1", 2)]),
        ("attributes.region", [("", 6)]),
        ("severity_score", [("", 4), ("3.5", 1), ("8", 1)]),
        ("tags", [("", 4), ("malware", 1), ("phishing", 1), ("vip", 1)]),
        ("custom_attributes.nothing", [("", 6)]),
        ("nothing", [("", 6)]),
    ],
)
def test_count_by_each_field(
    api: Api, world: dict[str, Any], field: str, expected: list[tuple[str, int]]
) -> None:
    wanted = [(value.format(**world), n) for value, n in expected]
    assert count(api, group_bys=field) == {"total": 6, field: wanted}


def test_each_group_value_finds_its_cases(api: Api, world: dict[str, Any]) -> None:
    """A group's value, written as a search term, finds exactly the cases counted under it."""
    found = count(api, group_bys="status,priority,service,region,severity_score,tags,assignee")
    for field in ("status", "priority", "service", "region", "severity_score", "tags"):
        for value, n in found[field]:
            term = f"{field}:{value}" if value else f"-{field}:*"
            assert api.search(term).json()["meta"]["total_cases"] == n, term
    for value, n in found["assignee"]:
        term = f"assignee:{value}" if value else "-assignee:*"
        assert api.search(term).json()["meta"]["total_cases"] == n, term


def test_several_fields_are_counted_each_on_its_own(api: Api, world: dict[str, Any]) -> None:
    found = count(api, "project:SEC -status:closed", "priority, status ,tags")
    assert found == {
        "total": 3,
        "priority": [("P2", 2), ("P1", 1)],
        "status": [("OPEN", 2), ("IN_PROGRESS", 1)],
        "tags": [("", 1), ("malware", 1), ("phishing", 1), ("vip", 1)],
    }


def test_limit_keeps_the_largest_groups(api: Api, world: dict[str, Any]) -> None:
    assert count(api, group_bys="priority", limit=2) == {
        "total": 6,
        "priority": [("P2", 2), ("NOT_DEFINED", 1)],
    }
    assert count(api, group_bys="status,service", limit=1) == {
        "total": 6,
        "status": [("OPEN", 3)],
        "service": [("", 3)],
    }
    assert count(api, group_bys="priority", limit="")["priority"][0] == ("P2", 2)


def test_archived_cases_are_left_out_unless_the_filter_names_them(
    api: Api, world: dict[str, Any]
) -> None:
    assert count(api, group_bys="priority")["priority"][2] == ("P1", 1)
    assert count(api, "archived:true", "priority") == {"total": 1, "priority": [("P1", 1)]}
    assert count(api, "archived:*", "priority")["priority"][:2] == [("P1", 2), ("P2", 2)]
    assert count(api, "archived:*")["total"] == 7


def test_deleted_projects_and_other_organisations_are_never_counted(
    api: Api, world: dict[str, Any]
) -> None:
    assert count(api, "archived:*", "project.key") == {
        "total": 7,
        "project.key": [("SEC", 5), ("NOC", 2)],
    }
    assert count(api, "project:OLD") == {"total": 0}
    other: Api = world["other"]
    assert count(other, "archived:*", "priority,service") == {
        "total": 1,
        "priority": [("P1", 1)],
        "service": [("web", 1)],
    }
    body = aggregate(other, ["project.key", "status"], "archived:*")
    assert body["attributes"]["total"] == 1
    assert [g["group"] for g in body["attributes"]["groups"]] == ["SEC,OPEN"]


def test_me_is_the_caller(api: Api, world: dict[str, Any]) -> None:
    assert count(api, "assignee:me") == {"total": 0}
    assert count(api, "created_by:me", "status")["total"] == 6


def test_aggregate_answers_the_specs_shape(api: Api, world: dict[str, Any]) -> None:
    r = api.post(AGGREGATE, aggregate_body(["status"], query="project:SEC"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.api+json"
    data = r.json()["data"]
    assert data["type"] == "aggregate"
    assert data["attributes"] == {
        "groups": [
            {"group": "OPEN", "value": [2], "by": {"status": "OPEN"}},
            {"group": "CLOSED", "value": [1], "by": {"status": "CLOSED"}},
            {"group": "IN_PROGRESS", "value": [1], "by": {"status": "IN_PROGRESS"}},
        ],
        "total": 4,
    }


def test_aggregate_counts_combinations(api: Api, world: dict[str, Any]) -> None:
    data = aggregate(api, ["status", "service"])
    assert data["attributes"]["total"] == 6
    assert [(g["group"], g["value"]) for g in data["attributes"]["groups"]] == [
        ("OPEN,", [2]),
        ("CLOSED,web", [1]),
        ("IN_PROGRESS,", [1]),
        ("IN_PROGRESS,db", [1]),
        ("OPEN,db", [1]),
        ("OPEN,web", [1]),
    ]
    assert data["attributes"]["groups"][1]["by"] == {"status": "CLOSED", "service": "web"}
    three = aggregate(api, ["priority", "tags", "project.key"], "type:security_incident", 2)
    assert [(g["group"], g["value"]) for g in three["attributes"]["groups"]] == [
        ("P2,malware,SEC", [1]),
        ("P2,phishing,SEC", [1]),
    ]
    assert three["attributes"]["total"] == 2


def test_aggregate_without_groups_is_the_total(api: Api, world: dict[str, Any]) -> None:
    data = aggregate(api, [], "project:NOC")
    assert data["attributes"] == {"groups": [], "total": 2}
    r = api.post(AGGREGATE, aggregate_body(["priority"], query=None))  # no query_filter
    assert r.json()["data"]["attributes"]["total"] == 6


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"group_bys": "stauts"}, 'unknown field "stauts"; did you mean "status"?'),
        ({"group_bys": "created_at"}, 'cannot group by "created_at": group by one of'),
        ({"group_bys": "watcher"}, 'cannot group by "watcher"'),
        ({"group_bys": "Status"}, 'cannot group by "Status"'),
        ({"group_bys": "attributes.Bad"}, 'cannot group by "attributes.Bad"'),
        ({"group_bys": "status,"}, "group_bys has an empty field"),
        ({"group_bys": "status,status"}, '"status" is grouped by twice'),
        ({"group_bys": ",".join(["status"] * 11)}, "at most 10 fields to group by, got 11"),
        ({"limit": 0}, "limit must be between 1 and 1000, got 0"),
        ({"limit": 1001}, "limit must be between 1 and 1000, got 1001"),
        ({"limit": "many"}, "invalid limit 'many': expected an integer"),
        ({"query_filter": "stauts:open"}, 'unknown facet "stauts" at 0; did you mean "status"?'),
        ({"query_filter": "status:open priority:P9"}, 'invalid priority "P9" at 21'),
    ],
)
def test_count_errors(api: Api, params: dict[str, Any], detail: str) -> None:
    r = api.get(COUNT, **params)
    assert r.status_code == 400, r.text
    error = r.json()["errors"][0]
    assert error["status"] == "400" and error["title"] == "Bad Request"
    assert detail in error["detail"], error["detail"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (aggregate_body(["status"], 0), "group_by.limit must be between 1 and 1000, got 0"),
        (aggregate_body(["status"], 1001), "group_by.limit must be between 1 and 1000, got 1001"),
        (aggregate_body(["a", "b", "c", "d"]), "at most 3 fields to group by, got 4"),
        (aggregate_body(["stauts"]), 'unknown field "stauts"'),
        (aggregate_body(["status"], query="(status:open"), 'unclosed "(" at 0'),
        ({"data": {"type": "case"}}, 'got type "case" expected one of "aggregate"'),
        ({"data": {"type": "aggregate"}}, "data.attributes is required"),
        (
            {"data": {"type": "aggregate", "attributes": {"query_filter": ""}}},
            "Object missing required field `group_by`",
        ),
        (
            {"data": {"type": "aggregate", "attributes": {"group_by": {"groups": []}}}},
            "Object missing required field `limit`",
        ),
    ],
)
def test_aggregate_errors(api: Api, body: Any, detail: str) -> None:
    r = api.post(AGGREGATE, body)
    assert r.status_code == 400, r.text
    assert detail in r.json()["errors"][0]["detail"]


def test_counts_need_the_read_scope(api: Api, world: dict[str, Any]) -> None:
    writer = api.as_keys(api.keys_for("default", "ann@example.com", scopes="cases_write"))
    r = writer.get(COUNT)
    assert r.status_code == 403
    assert r.json() == {"errors": ["Forbidden: the application key lacks the cases_read scope"]}
    assert writer.post(AGGREGATE, aggregate_body(["status"])).status_code == 403
    reader = api.as_keys(api.keys_for("default", "ann@example.com", scopes="cases_read"))
    assert count(reader, "assignee:me", "priority") == {
        "total": 2,
        "priority": [("P1", 1), ("P4", 1)],
    }


def test_limit_defaults_to_a_hundred_values(api: Api) -> None:
    project = api.create_project()
    for start in (0, 60):
        case = api.create_case(project["id"])
        values = [f"v{n:03d}" for n in range(start, start + 60)]
        assert (
            api.case_action(case["id"], "attributes", {"attributes": {"tag": values}}).status_code
            == 200
        )
    found = count(api, group_bys="tag")["tag"]
    assert found == [(f"v{n:03d}", 1) for n in range(100)]
    assert len(count(api, group_bys="tag", limit=1000)["tag"]) == 120
