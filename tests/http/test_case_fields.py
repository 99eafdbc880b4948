"""UpdateCaseDescription and UpdateAttributes, through HTTP and the official client."""

from __future__ import annotations

import pytest
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v2.api.case_management_api import CaseManagementApi
from datadog_api_client.v2.models import (
    CaseObjectAttributes,
    CaseResourceType,
    CaseUpdateAttributes,
    CaseUpdateAttributesAttributes,
    CaseUpdateAttributesRequest,
    CaseUpdateDescription,
    CaseUpdateDescriptionAttributes,
    CaseUpdateDescriptionRequest,
)

from tests.e2e.conftest import make_client
from tests.support.api import Api
from tests.support.official import new_project_and_case
from tests.support.server import Keys, ServerProcess


@pytest.fixture
def case(api: Api) -> dict:
    project = api.create_project("SEC", "Security")
    return api.create_case(project["id"], "Suspicious login")


# --- description ----------------------------------------------------------------------------
def test_description_changes_is_searchable_and_in_the_history(api: Api, case: dict) -> None:
    r = api.case_action(case["id"], "description", {"description": "Login from a new country"})
    assert r.status_code == 200, r.text
    attributes = r.json()["data"]["attributes"]
    assert attributes["description"] == "Login from a new country"
    assert "modified_at" in attributes
    assert api.search('"new country"').json()["meta"]["total_cases"] == 1
    assert api.history("SEC-1")[-1] == ("description", "", "Login from a new country")
    # Emptying it is a change too; the same text again is a no-op.
    assert api.case_action("SEC-1", "description", {"description": ""}).status_code == 200
    assert api.case_action("SEC-1", "description", {"description": ""}).status_code == 200
    assert [f for f, _, _ in api.history("SEC-1")] == [
        "created",
        "watcher",
        "description",
        "description",
    ]
    assert api.search('"new country"').json()["meta"]["total_cases"] == 0


def test_a_bad_description_is_400(api: Api, case: dict) -> None:
    for attributes, detail in (
        ({"description": "x" * 50_001}, "Expected `str` of length <= 50000"),
        ({"description": None}, "Expected `str`, got `null`"),
        ({}, "Object missing required field `description`"),
    ):
        r = api.case_action(case["id"], "description", attributes)
        assert r.status_code == 400, r.text
        assert detail in r.json()["errors"][0]["detail"]
    assert api.get("/api/v2/cases/SEC-1").json()["data"]["attributes"]["description"] == ""


# --- attributes -----------------------------------------------------------------------------
def test_attributes_are_replaced_as_a_whole_and_searchable(api: Api, case: dict) -> None:
    first = {"team": ["security", "sre"], "env": ["prod"]}
    r = api.case_action(case["id"], "attributes", {"attributes": first})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["attributes"]["attributes"] == first
    assert api.search("team:sre env:prod").json()["meta"]["total_cases"] == 1
    r = api.case_action("SEC-1", "attributes", {"attributes": {"team": ["payments"]}})
    assert r.json()["data"]["attributes"]["attributes"] == {"team": ["payments"]}
    assert api.search("env:prod").json()["meta"]["total_cases"] == 0
    assert api.search("team:payments").json()["meta"]["total_cases"] == 1
    # The same map again changes nothing; {} clears it.
    again = api.case_action("SEC-1", "attributes", {"attributes": {"team": ["payments"]}})
    assert again.status_code == 200
    assert api.case_action("SEC-1", "attributes", {"attributes": {}}).status_code == 200
    assert api.get("/api/v2/cases/SEC-1").json()["data"]["attributes"]["attributes"] == {}
    assert api.history("SEC-1")[2:] == [
        ("attributes", "{}", '{"env":["prod"],"team":["security","sre"]}'),
        ("attributes", '{"env":["prod"],"team":["security","sre"]}', '{"team":["payments"]}'),
        ("attributes", '{"team":["payments"]}', "{}"),
    ]


@pytest.mark.parametrize(
    ("attributes", "detail"),
    [
        ("team", "Expected `object`, got `str`"),  # recorded: a string is 400
        ({"team": "sre"}, "Expected `array`, got `str`"),
        ({"team": [1]}, "Expected `str`, got `int`"),
        ({"": ["x"]}, "invalid attribute key ''"),
        ({"a\tb": ["x"]}, "invalid attribute key"),
        ({"k" * 65: ["x"]}, "Expected `str` of length <= 64"),
        ({"team": ["v" * 257]}, "Expected `str` of length <= 256"),
        ({"team": ["v"] * 101}, "Expected `array` of length <= 100"),
        ({f"k{i}": ["v"] for i in range(101)}, "Expected `object` of length <= 100"),
    ],
)
def test_bad_attributes_are_400_and_change_nothing(
    api: Api, case: dict, attributes: object, detail: str
) -> None:
    r = api.case_action(case["id"], "attributes", {"attributes": attributes})
    assert r.status_code == 400, r.text
    assert detail in r.json()["errors"][0]["detail"]
    assert api.get("/api/v2/cases/SEC-1").json()["data"]["attributes"]["attributes"] == {}


def test_unknown_case_and_read_only_key(api: Api, case: dict) -> None:
    missing = "67d80aa3-36ff-44b9-a694-c501a7591737"
    r = api.case_action(missing, "attributes", {"attributes": {}})  # recorded: 404
    assert r.status_code == 404
    assert r.json()["errors"][0]["title"] == "case not found"
    reader = api.as_keys(api.keys_for("default", "admin@casebook.local", scopes="cases_read"))
    for action, attributes in (("description", {"description": "x"}), ("attributes", {})):
        r = reader.case_action(case["id"], action, {"attributes": {}, **attributes})
        assert r.status_code == 403


# --- the official Python client, against a live server ------------------------------------
@pytest.mark.slow
def test_the_official_client_updates_description_and_attributes(
    live_server: tuple[ServerProcess, Keys],
) -> None:
    live, keys = live_server
    with make_client(live, keys) as client:
        api = CaseManagementApi(client)
        created = new_project_and_case(api, "NOC", "Disk full on db-1")

        described = api.update_case_description(
            case_id=created,
            body=CaseUpdateDescriptionRequest(
                data=CaseUpdateDescription(
                    type=CaseResourceType.CASE,
                    attributes=CaseUpdateDescriptionAttributes(description="/var is 100% full"),
                )
            ),
        )
        assert not getattr(described, "_unparsed", False)
        assert described.data.attributes.description == "/var is 100% full"

        labelled = api.update_attributes(
            case_id="NOC-1",
            body=CaseUpdateAttributesRequest(
                data=CaseUpdateAttributes(
                    type=CaseResourceType.CASE,
                    attributes=CaseUpdateAttributesAttributes(
                        attributes=CaseObjectAttributes(service=["db"], env=["prod"])
                    ),
                )
            ),
        )
        assert not getattr(labelled, "_unparsed", False)
        assert labelled.data.attributes.attributes.to_dict() == {"service": ["db"], "env": ["prod"]}
        with pytest.raises(ApiException) as missing:
            api.update_case_description(
                case_id="NOC-99",
                body=CaseUpdateDescriptionRequest(
                    data=CaseUpdateDescription(
                        type=CaseResourceType.CASE,
                        attributes=CaseUpdateDescriptionAttributes(description="x"),
                    )
                ),
            )
        assert missing.value.status == 404
