"""Custom attribute configs (``/api/v2/cases/types/{id}/custom_attributes``) and their values
on cases (``/api/v2/cases/{case_id}/custom_attributes/{key}``), on create, and when a case
changes type."""

from __future__ import annotations

from typing import Any

import pytest

from casebook.core.entities import STANDARD_CASE_TYPE_ID
from tests.http.test_case_types import TYPES, make_type
from tests.support.api import Api
from tests.support.errors import as_recorded

STANDARD = f"{TYPES}/{STANDARD_CASE_TYPE_ID}/custom_attributes"


def config_body(key: str, kind: str = "TEXT", *, is_multi: bool = False, **more: Any) -> Any:
    attributes = {"display_name": key.title(), "key": key, "type": kind, "is_multi": is_multi}
    return {"data": {"type": "custom_attribute", "attributes": {**attributes, **more}}}


def make_config(
    api: Api, key: str, kind: str = "TEXT", *, on: str = STANDARD_CASE_TYPE_ID, **more: Any
) -> dict[str, Any]:
    r = api.post(f"{TYPES}/{on}/custom_attributes", config_body(key, kind, **more))
    assert r.status_code == 201, r.text
    return r.json()["data"]


def value_body(kind: str, value: Any, *, is_multi: bool = False) -> Any:
    return {
        "data": {"type": "case", "attributes": {"type": kind, "is_multi": is_multi, "value": value}}
    }


def set_value(api: Api, case_id: str, key: str, kind: str, value: Any, **more: Any) -> Any:
    return api.post(
        f"/api/v2/cases/{case_id}/custom_attributes/{key}", value_body(kind, value, **more)
    )


def test_configs_are_made_listed_changed_and_deleted(api: Api) -> None:
    kind = make_type(api)
    made = make_config(api, "region", on=kind["id"], description="Where it runs")
    assert made["type"] == "custom_attribute"
    assert made["attributes"] == {
        "case_type_id": kind["id"],
        "description": "Where it runs",
        "display_name": "Region",
        "is_multi": False,
        "key": "region",
        "type": "TEXT",
    }
    tier = make_config(api, "tier", "SELECT", type_data={"options": [{"value": "gold"}]})
    assert tier["attributes"]["type_data"] == {"options": [{"value": "gold"}]}
    of_type = api.get(f"{TYPES}/{kind['id']}/custom_attributes").json()["data"]
    assert [c["id"] for c in of_type] == [made["id"]]
    everything = api.get(f"{TYPES}/custom_attributes").json()["data"]
    assert {c["id"] for c in everything} == {made["id"], tier["id"]}
    r = api.put(
        f"{STANDARD}/{tier['id']}",
        {
            "data": {
                "type": "custom_attribute",
                "attributes": {
                    "display_name": "Customer tier",
                    "type_data": {"options": [{"value": "gold"}, {"value": "silver"}]},
                    "map_from": "account.tier",
                },
            }
        },
    )
    assert r.status_code == 200, r.text
    attrs = r.json()["data"]["attributes"]
    assert attrs["display_name"] == "Customer tier"
    assert attrs["map_from"] == "account.tier"
    assert [o["value"] for o in attrs["type_data"]["options"]] == ["gold", "silver"]
    assert api.delete(f"{STANDARD}/{tier['id']}").status_code == 204
    assert api.delete(f"{STANDARD}/{tier['id']}").status_code == 404
    # A config is found under its own type only.
    assert api.delete(f"{STANDARD}/{made['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        (
            config_body("region_1", "FLOAT", is_multi=True),
            400,
            "invalid custom attribute type FLOAT",
        ),
        (config_body("Region"), 400, "invalid custom attribute key"),
        (config_body("1st"), 400, "invalid custom attribute key"),
        (config_body("status"), 400, "as the facet status"),
        (config_body("statu"), 400, "as the facet status"),
        (config_body("x", display_name=""), 400, "invalid display_name"),
    ],
)
def test_bad_configs_are_refused(api: Api, body: Any, status: int, detail: str) -> None:
    r = api.post(f"{STANDARD}", body)
    assert r.status_code == status, r.text
    assert detail in r.json()["errors"][0]["detail"]


def test_config_errors_as_recorded(api: Api) -> None:
    r = api.post(
        f"{TYPES}/9fd476d7-a955-454a-851d-980c655c02d3/custom_attributes", config_body("region")
    )
    assert r.status_code == 404
    assert r.json()["errors"][0]["title"] == "case_type not found"
    r = api.delete(f"{STANDARD}/not-an-uuid")
    assert r.status_code == 400
    assert as_recorded(r.json()["errors"][0]) == {
        "status": "400",
        "title": "Invalid Parameter",
        "detail": 'invalid parameter "CustomAttributeId" in "path"; expected type "uuid"',
    }
    make_config(api, "region")
    r = api.post(STANDARD, config_body("region"))
    assert r.status_code == 409


@pytest.mark.parametrize(
    ("kind", "is_multi", "more", "value", "stored"),
    [
        ("TEXT", False, {}, "eu-west-1", "eu-west-1"),
        ("TEXT", True, {}, ["Abba", "The Cure", "Abba"], ["Abba", "The Cure"]),
        (
            "URL",
            False,
            {},
            "https://runbooks.example/phishing",
            "https://runbooks.example/phishing",
        ),
        ("NUMBER", False, {}, 7, 7.0),
        ("NUMBER", True, {}, [1, 2.5], [1.0, 2.5]),
        ("SELECT", False, {"type_data": {"options": [{"value": "Gold"}]}}, "gold", "Gold"),
    ],
)
def test_values_are_checked_against_their_config(
    api: Api, kind: str, is_multi: bool, more: dict[str, Any], value: Any, stored: Any
) -> None:
    make_config(api, "field", kind, is_multi=is_multi, **more)
    case = api.create_case(api.create_project()["id"])
    r = set_value(api, case["id"], "field", kind, value, is_multi=is_multi)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["attributes"]["custom_attributes"] == {
        "field": {"type": kind, "is_multi": is_multi, "value": stored}
    }
    assert api.history(case["id"])[-1][0] == "custom_attributes.field"


@pytest.mark.parametrize(
    ("kind", "is_multi", "more", "sent_kind", "value", "detail"),
    [
        ("NUMBER", False, {}, "NUMBER", "seven", "a NUMBER takes numbers"),
        ("NUMBER", False, {}, "NUMBER", True, "got `bool` - at `$.data.attributes.value`"),
        ("URL", False, {}, "URL", "ftp://x.example", "is not an http(s) URL"),
        ("URL", False, {}, "URL", "not a url", "is not an http(s) URL"),
        (
            "SELECT",
            False,
            {"type_data": {"options": [{"value": "a"}]}},
            "SELECT",
            "b",
            "is not one of a",
        ),
        ("TEXT", False, {}, "TEXT", ["a"], "takes one value, not a list"),
        ("TEXT", True, {}, "TEXT", "a", "takes a list of values"),
        ("TEXT", False, {}, "NUMBER", "a", "it is a TEXT, not NUMBER"),
        ("TEXT", False, {}, "TEXT", "x" * 1001, "longer than 1000"),
    ],
)
def test_bad_values_are_400_naming_the_key(
    api: Api,
    kind: str,
    is_multi: bool,
    more: dict[str, Any],
    sent_kind: str,
    value: Any,
    detail: str,
) -> None:
    make_config(api, "field", kind, is_multi=is_multi, **more)
    case = api.create_case(api.create_project()["id"])
    r = set_value(api, case["id"], "field", sent_kind, value, is_multi=is_multi)
    assert r.status_code == 400, r.text
    assert detail in r.json()["errors"][0]["detail"]


def test_unknown_keys_answer_as_recorded(api: Api) -> None:
    case = api.create_case(api.create_project()["id"])
    r = set_value(api, case["id"], "invalid_key", "TEXT", ["Abba", "The Cure"], is_multi=True)
    assert r.status_code == 404
    error = as_recorded(r.json()["errors"][0])
    assert error["code"] == "resource_not_found"
    assert error["meta"] == {"key": "invalid_key"}
    assert (
        "UpdateCustomAttribute command: custom attribute configuration not found" in error["title"]
    )
    r = api.delete(f"/api/v2/cases/{case['id']}/custom_attributes/invalid_key")
    assert r.status_code == 404
    assert r.json()["errors"][0]["title"] == (
        "failed to update batch: failed to apply command: failed to apply"
        " domain.RemoveCustomAttribute command: custom attribute configuration not found"
    )


def test_clearing_a_value_and_clearing_nothing(api: Api) -> None:
    make_config(api, "region")
    case = api.create_case(api.create_project()["id"])
    set_value(api, case["id"], "region", "TEXT", "eu-west-1")
    r = api.delete(f"/api/v2/cases/{case['id']}/custom_attributes/region")
    assert r.status_code == 200
    attrs = r.json()["data"]["attributes"]
    assert attrs["custom_attributes"] == {}
    r = api.delete(f"/api/v2/cases/{case['id']}/custom_attributes/region")
    assert r.status_code == 200
    assert r.json()["data"]["attributes"]["modified_at"] == attrs["modified_at"]
    assert [h for h in api.history(case["id"]) if h[0] == "custom_attributes.region"] == [
        ("custom_attributes.region", None, '"eu-west-1"'),
        ("custom_attributes.region", '"eu-west-1"', None),
    ]


def test_custom_attributes_on_create(api: Api) -> None:
    make_config(api, "score", "NUMBER")
    project = api.create_project()
    case = api.create_case(
        project["id"],
        custom_attributes={"score": {"type": "NUMBER", "is_multi": False, "value": 3}},
    )
    assert case["attributes"]["custom_attributes"]["score"]["value"] == 3.0
    for custom, detail in (
        ({"nope": {"type": "TEXT", "is_multi": False, "value": "x"}}, "unknown custom attribute"),
        ({"score": {"type": "NUMBER", "is_multi": False, "value": "x"}}, "invalid value for score"),
        ({"score": 3}, "expected {type, is_multi, value}"),
    ):
        r = api.post(
            "/api/v2/cases",
            {
                "data": {
                    "type": "case",
                    "attributes": {
                        "title": "x",
                        "type_id": STANDARD_CASE_TYPE_ID,
                        "custom_attributes": custom,
                    },
                    "relationships": {
                        "project": {"data": {"id": project["id"], "type": "project"}}
                    },
                }
            },
        )
        assert r.status_code == 400, r.text
        assert detail in r.text


def test_deleting_a_config_clears_its_values_with_a_timeline_cell(api: Api) -> None:
    config = make_config(api, "region")
    case = api.create_case(api.create_project()["id"])
    set_value(api, case["id"], "region", "TEXT", "eu-west-1")
    assert api.search("region:eu-west-1").json()["meta"]["total_cases"] == 1
    assert api.delete(f"{STANDARD}/{config['id']}").status_code == 204
    assert (
        api.get(f"/api/v2/cases/{case['id']}").json()["data"]["attributes"]["custom_attributes"]
        == {}
    )
    assert api.history(case["id"])[-1] == ("custom_attributes.region", '"eu-west-1"', None)
    # No config has the key any more: region: is an attributes key again, which no case has.
    assert api.search("region:eu-west-1").json()["meta"]["total_cases"] == 0


def test_a_config_in_use_keeps_its_type_and_its_used_options(api: Api) -> None:
    config = make_config(
        api, "tier", "SELECT", type_data={"options": [{"value": "gold"}, {"value": "silver"}]}
    )
    case = api.create_case(api.create_project()["id"])
    set_value(api, case["id"], "tier", "SELECT", "gold")
    path = f"{STANDARD}/{config['id']}"

    def put(**attributes: Any) -> Any:
        return api.put(path, {"data": {"type": "custom_attribute", "attributes": attributes}})

    assert put(type="TEXT").status_code == 409
    assert put(type_data={"options": [{"value": "silver"}]}).status_code == 409
    assert put(type_data={"options": [{"value": "gold"}]}).status_code == 200


def test_changing_a_case_type_keeps_what_the_new_type_has(api: Api) -> None:
    security = make_type(
        api,
        "Security Incident",
        statuses=[
            {"name": "New", "group": "SG_OPEN"},
            {"name": "In Progress", "group": "SG_IN_PROGRESS"},
            {"name": "Done", "group": "SG_CLOSED"},
        ],
    )
    make_config(api, "region")
    make_config(api, "tier", "SELECT", type_data={"options": [{"value": "gold"}]})
    make_config(api, "region", on=security["id"])
    project = api.create_project()
    case = api.create_case(project["id"])
    set_value(api, case["id"], "region", "TEXT", "eu-west-1")
    set_value(api, case["id"], "tier", "SELECT", "gold")
    api.case_action(case["id"], "status", {"status": "IN_PROGRESS"})
    r = api.case_action(case["id"], "type", {"type_id": security["id"]})
    assert r.status_code == 200, r.text
    attrs = r.json()["data"]["attributes"]
    assert attrs["type_id"] == security["id"]
    assert attrs["custom_attributes"] == {
        "region": {"type": "TEXT", "is_multi": False, "value": "eu-west-1"}
    }
    assert attrs["status_name"] == "In Progress"
    rows = api.history(case["id"])[-2:]
    assert rows == [
        ("type", STANDARD_CASE_TYPE_ID, security["id"]),
        ("custom_attributes.tier", '"gold"', None),
    ]
    # Back to Standard on a closed case: "Done" is not a Standard status, so Closed.
    api.case_action(case["id"], "status", {"status_name": "Done"})
    attrs = api.case_action(case["id"], "type", {"type_id": STANDARD_CASE_TYPE_ID}).json()
    assert attrs["data"]["attributes"]["status_name"] == "Closed"
    assert api.history(case["id"])[-1] == ("status_name", "Done", "Closed")


def test_configs_of_one_organisation_are_invisible_to_another(api: Api) -> None:
    config = make_config(api, "region")
    other = api.new_org_admin("globex")
    assert other.get(f"{TYPES}/custom_attributes").json()["data"] == []
    assert other.get(f"{STANDARD}").json()["data"] == []
    assert other.delete(f"{STANDARD}/{config['id']}").status_code == 404
    case = other.create_case(other.create_project()["id"])
    r = set_value(other, case["id"], "region", "TEXT", "x")
    assert r.status_code == 404
    # The key is free in the other organisation.
    assert other.post(STANDARD, config_body("region")).status_code == 201
