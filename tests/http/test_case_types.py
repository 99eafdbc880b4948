"""Case types and their statuses: ``/api/v2/cases/types``, and a case's status by name."""

from __future__ import annotations

from typing import Any

import pytest

from casebook.core.entities import STANDARD_CASE_TYPE_ID
from tests.support.api import Api
from tests.support.errors import as_recorded

TYPES = "/api/v2/cases/types"


def type_body(**attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "case_type", "attributes": attributes}}


def make_type(api: Api, name: str = "Security Incident", **attributes: Any) -> dict[str, Any]:
    r = api.post(TYPES, type_body(name=name, **attributes))
    assert r.status_code == 201, r.text
    return r.json()["data"]


SECURITY_STATUSES = [
    {"name": "New", "group": "SG_OPEN"},
    {"name": "Triage", "group": "SG_OPEN"},
    {"name": "Investigating", "group": "SG_IN_PROGRESS"},
    {"name": "Resolved", "group": "SG_CLOSED"},
    {"name": "False Positive", "group": "SG_CLOSED"},
]


def test_every_organisation_has_the_built_in_types(api: Api) -> None:
    r = api.get(TYPES)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.api+json"
    types = {t["id"]: t for t in r.json()["data"]}
    assert types[STANDARD_CASE_TYPE_ID]["attributes"]["name"] == "Standard"
    assert "00000000-0000-0000-0000-000000000002" in types
    assert "00000000-0000-0000-0000-000000000005" in types
    statuses = types[STANDARD_CASE_TYPE_ID]["attributes"]["statuses"]
    assert [(s["name"], s["group"]) for s in statuses] == [
        ("Open", "SG_OPEN"),
        ("In Progress", "SG_IN_PROGRESS"),
        ("Closed", "SG_CLOSED"),
    ]


def test_create_update_and_delete_a_type(api: Api) -> None:
    made = make_type(api, "World", emoji="🌍", description="Worldwide case type")
    attrs = made["attributes"]
    assert made["type"] == "case_type"
    assert (attrs["name"], attrs["emoji"], attrs["description"]) == (
        "World",
        "🌍",
        "Worldwide case type",
    )
    assert "deleted_at" not in attrs
    assert [s["name"] for s in attrs["statuses"]] == ["Open", "In Progress", "Closed"]
    r = api.put(f"{TYPES}/{made['id']}", type_body(name="Planet", emoji="🪐"))
    assert r.status_code == 200, r.text
    assert r.json()["data"]["attributes"]["name"] == "Planet"
    assert r.json()["data"]["attributes"]["description"] == "Worldwide case type"
    assert made["id"] in [t["id"] for t in api.get(TYPES).json()["data"]]
    assert api.delete(f"{TYPES}/{made['id']}").status_code == 204
    assert made["id"] not in [t["id"] for t in api.get(TYPES).json()["data"]]
    assert api.delete(f"{TYPES}/{made['id']}").status_code == 404


@pytest.mark.parametrize(
    ("attributes", "status", "detail"),
    [
        ({"name": "Investigation", "emoji": "notanemoji"}, 400, "invalid emoji"),
        ({"name": "Two", "emoji": "🌍🌍"}, 400, "invalid emoji"),
        ({"name": "  "}, 400, "invalid case type name"),
        ({"emoji": "🌍"}, 400, "data.attributes.name is required"),
        ({"name": "standard"}, 409, "already exists"),
        (
            {"name": "Bad", "statuses": [{"name": "Open", "group": "SG_OPEN"}]},
            400,
            "3 to 20 statuses",
        ),
        (
            {
                "name": "Bad",
                "statuses": [
                    {"name": "A", "group": "SG_OPEN"},
                    {"name": "B", "group": "SG_OPEN"},
                    {"name": "C", "group": "SG_CLOSED"},
                ],
            },
            400,
            "none in SG_IN_PROGRESS",
        ),
        (
            {
                "name": "Bad",
                "statuses": [
                    {"name": "A", "group": "SG_OPEN"},
                    {"name": "a", "group": "SG_IN_PROGRESS"},
                    {"name": "C", "group": "SG_CLOSED"},
                ],
            },
            400,
            "appears twice",
        ),
        (
            {
                "name": "Bad",
                "statuses": [
                    {"name": "A", "group": "SG_OPENED"},
                    {"name": "B", "group": "SG_IN_PROGRESS"},
                    {"name": "C", "group": "SG_CLOSED"},
                ],
            },
            400,
            "invalid status group SG_OPENED",
        ),
    ],
)
def test_bad_types_are_refused(
    api: Api, attributes: dict[str, Any], status: int, detail: str
) -> None:
    r = api.post(TYPES, type_body(**attributes))
    assert r.status_code == status, r.text
    assert detail in r.text


def test_the_recorded_bad_emoji_answer(api: Api) -> None:
    body = type_body(
        name="Investigation",
        emoji="notanemoji",
        description="Investigations done in case management",
    )
    error = api.post(TYPES, body).json()["errors"][0]
    assert (error["status"], error["title"]) == ("400", "Bad Request")


def test_built_in_types_cannot_change_and_ids_are_checked(api: Api) -> None:
    r = api.put(f"{TYPES}/{STANDARD_CASE_TYPE_ID}", type_body(name="Mine"))
    assert r.status_code == 400
    assert "cannot be changed" in r.text
    assert api.delete(f"{TYPES}/{STANDARD_CASE_TYPE_ID}").status_code == 400
    r = api.delete(f"{TYPES}/not-a-uuid")
    assert r.status_code == 400
    assert as_recorded(r.json()["errors"][0]) == {
        "status": "400",
        "title": "Invalid Parameter",
        "detail": 'invalid parameter "CaseTypeId" in "path"; expected type "uuid"',
    }
    r = api.put(f"{TYPES}/9fd476d7-a955-454a-851d-980c655c02d3", type_body(name="X"))
    assert r.status_code == 404
    assert r.json()["errors"][0]["title"] == "case_type not found"


def test_a_type_in_use_cannot_be_deleted(api: Api) -> None:
    project = api.create_project()
    kind = make_type(api)
    api.create_case(project["id"], "one", type_id=kind["id"])
    api.create_case(project["id"], "two", type_id=kind["id"])
    r = api.delete(f"{TYPES}/{kind['id']}")
    assert r.status_code == 409
    assert "used by 2 cases" in r.json()["errors"][0]["detail"]


def test_cases_of_a_custom_type_move_through_its_statuses(api: Api) -> None:
    project = api.create_project()
    kind = make_type(api, statuses=SECURITY_STATUSES)
    case = api.create_case(project["id"], "Phishing wave", type_id=kind["id"])
    attrs = case["attributes"]
    assert (attrs["type_id"], attrs["type"]) == (kind["id"], "TUNKNOWN")
    assert (attrs["status"], attrs["status_group"], attrs["status_name"]) == (
        "OPEN",
        "SG_OPEN",
        "New",
    )
    r = api.case_action(case["id"], "status", {"status_name": "triage"})
    attrs = r.json()["data"]["attributes"]
    assert (attrs["status"], attrs["status_name"]) == ("OPEN", "Triage")
    assert "closed_at" not in attrs
    # The deprecated enum picks the group's first status, and stays put within its group.
    attrs = api.case_action(case["id"], "status", {"status": "CLOSED"}).json()["data"]
    attrs = attrs["attributes"]
    assert (attrs["status_group"], attrs["status_name"]) == ("SG_CLOSED", "Resolved")
    assert "closed_at" in attrs
    again = api.case_action(case["id"], "status", {"status": "CLOSED"}).json()["data"]
    assert again["attributes"]["modified_at"] == attrs["modified_at"]
    attrs = api.case_action(case["id"], "status", {"status_name": "False Positive"}).json()
    assert attrs["data"]["attributes"]["status_name"] == "False Positive"
    r = api.case_action(case["id"], "status", {"status_name": "In Progress"})
    assert r.status_code == 400
    error = r.json()["errors"][0]
    assert "status" not in error
    assert error["detail"] == (
        "invalid status In Progress. Must be one of New, Triage, Investigating, Resolved,"
        " False Positive"
    )
    fields = [(f, old, new) for f, old, new in api.history(case["id"]) if f.startswith("status")]
    assert fields == [
        ("status_name", "New", "Triage"),
        ("status", "OPEN", "CLOSED"),
        ("status_name", "Triage", "Resolved"),
        ("status_name", "Resolved", "False Positive"),
    ]


def test_standard_cases_keep_their_one_status_row(api: Api) -> None:
    project = api.create_project()
    case = api.create_case(project["id"], status_name="In Progress")
    assert case["attributes"]["status_name"] == "In Progress"
    api.case_action(case["id"], "status", {"status_name": "Closed"})
    assert [h for h in api.history(case["id"]) if h[0].startswith("status")] == [
        ("status", "IN_PROGRESS", "CLOSED")
    ]


def test_renaming_a_status_renames_it_on_its_cases(api: Api) -> None:
    project = api.create_project()
    kind = make_type(api, statuses=SECURITY_STATUSES)
    statuses = kind["attributes"]["statuses"]
    case = api.create_case(project["id"], type_id=kind["id"], status_name="Triage")
    etag = api.get(f"/api/v2/cases/{case['id']}").headers["etag"]
    renamed = [dict(s) for s in statuses]
    renamed[1]["name"] = "Sorting"
    r = api.put(f"{TYPES}/{kind['id']}", type_body(statuses=renamed))
    assert r.status_code == 200, r.text
    got = api.get(f"/api/v2/cases/{case['id']}")
    assert got.json()["data"]["attributes"]["status_name"] == "Sorting"
    assert got.headers["etag"] != etag
    # A status cases are in cannot go, nor change group; an unused one can.
    r = api.put(
        f"{TYPES}/{kind['id']}", type_body(statuses=[s for s in renamed if s["name"] != "Sorting"])
    )
    assert r.status_code == 409
    assert "1 case of the type are in it" in r.text
    moved = [dict(s) for s in renamed]
    moved[1]["group"] = "SG_IN_PROGRESS"
    assert api.put(f"{TYPES}/{kind['id']}", type_body(statuses=moved)).status_code == 409
    fewer = [s for s in renamed if s["name"] != "Resolved"]
    assert api.put(f"{TYPES}/{kind['id']}", type_body(statuses=fewer)).status_code == 200
    r = api.put(
        f"{TYPES}/{kind['id']}",
        type_body(
            statuses=[{**fewer[0], "id": "7f0c2a4e-1111-4a4a-8888-000000000000"}, *fewer[1:]]
        ),
    )
    assert r.status_code == 400
    assert "no status with id" in r.text


def test_a_project_that_lists_types_takes_only_those(api: Api) -> None:
    allowed, other = make_type(api, "Allowed"), make_type(api, "Other")
    r = api.post(
        "/api/v2/cases/projects",
        {
            "data": {
                "type": "project",
                "attributes": {
                    "key": "SOC",
                    "name": "SOC",
                    "enabled_custom_case_types": [allowed["id"]],
                },
            }
        },
    )
    assert r.status_code == 201, r.text
    project = r.json()["data"]
    assert project["attributes"]["enabled_custom_case_types"] == [allowed["id"]]
    api.create_case(project["id"], type_id=allowed["id"])
    api.create_case(project["id"], type_id=STANDARD_CASE_TYPE_ID)
    r = api.post(
        "/api/v2/cases",
        {
            "data": {
                "type": "case",
                "attributes": {"title": "x", "type_id": other["id"]},
                "relationships": {"project": {"data": {"id": project["id"], "type": "project"}}},
            }
        },
    )
    assert r.status_code == 400
    assert "not enabled in project SOC" in r.text


def test_unknown_and_deleted_types_are_404_on_create(api: Api) -> None:
    project = api.create_project()
    kind = make_type(api)
    api.delete(f"{TYPES}/{kind['id']}")
    for type_id in (kind["id"], "9fd476d7-a955-454a-851d-980c655c02d3"):
        r = api.post(
            "/api/v2/cases",
            {
                "data": {
                    "type": "case",
                    "attributes": {"title": "x", "type_id": type_id},
                    "relationships": {
                        "project": {"data": {"id": project["id"], "type": "project"}}
                    },
                }
            },
        )
        assert r.status_code == 404
        assert r.json()["errors"][0]["title"] == "case_type not found"


def test_types_of_one_organisation_are_invisible_to_another(api: Api) -> None:
    kind = make_type(api)
    other = api.new_org_admin("globex")
    assert kind["id"] not in [t["id"] for t in other.get(TYPES).json()["data"]]
    assert other.put(f"{TYPES}/{kind['id']}", type_body(name="Mine")).status_code == 404
    assert other.delete(f"{TYPES}/{kind['id']}").status_code == 404
    # The same name is free in another organisation.
    assert other.post(TYPES, type_body(name="Security Incident")).status_code == 201
