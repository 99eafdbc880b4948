"""UpdateCaseDescription and UpdateAttributes, through HTTP and the official client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v2.api.case_management_api import CaseManagementApi
from datadog_api_client.v2.models import (
    CaseCreate,
    CaseCreateAttributes,
    CaseCreateRelationships,
    CaseCreateRequest,
    CaseObjectAttributes,
    CaseResourceType,
    CaseUpdateAttributes,
    CaseUpdateAttributesAttributes,
    CaseUpdateAttributesRequest,
    CaseUpdateDescription,
    CaseUpdateDescriptionAttributes,
    CaseUpdateDescriptionRequest,
    ProjectCreate,
    ProjectCreateAttributes,
    ProjectCreateRequest,
    ProjectRelationship,
    ProjectRelationshipData,
    ProjectResourceType,
)

from casebook.domain import cases as cases_domain
from casebook.domain.keys import Authenticator, load_secret
from tests.e2e.conftest import make_client
from tests.support.api import Api
from tests.support.server import Keys, ServerProcess, new_keys, running_server

STANDARD = "00000000-0000-0000-0000-000000000001"


@pytest.fixture
def case(api: Api) -> dict:
    project = api.create_project("SEC", "Security")
    return api.create_case(project["id"], "Suspicious login")


def _history(api: Api, ref: str) -> list[tuple[str, str | None, str | None]]:
    secret = load_secret(api.store, api.settings.secret_key)
    actor = Authenticator(api.store, secret).authenticate(api.keys.api_key, api.keys.app_key)
    changes = cases_domain.case_history(api.store, ref, actor=actor)
    return [(c.field, c.old, c.new) for _, _, c in changes]


# --- description ----------------------------------------------------------------------------
def test_description_changes_is_searchable_and_in_the_history(api: Api, case: dict) -> None:
    r = api.case_action(case["id"], "description", {"description": "Login from a new country"})
    assert r.status_code == 200, r.text
    attributes = r.json()["data"]["attributes"]
    assert attributes["description"] == "Login from a new country"
    assert "modified_at" in attributes
    assert api.search('"new country"').json()["meta"]["total_cases"] == 1
    assert _history(api, "SEC-1")[-1] == ("description", "", "Login from a new country")
    # Emptying it is a change too; the same text again is a no-op.
    assert api.case_action("SEC-1", "description", {"description": ""}).status_code == 200
    assert api.case_action("SEC-1", "description", {"description": ""}).status_code == 200
    assert [f for f, _, _ in _history(api, "SEC-1")] == ["created", "description", "description"]
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
    assert _history(api, "SEC-1")[1:] == [
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
@pytest.fixture
def server(database_url: str) -> Iterator[tuple[ServerProcess, Keys]]:
    keys = new_keys()
    with running_server(database_url, keys) as server:
        yield server, keys


@pytest.mark.slow
def test_the_official_client_updates_description_and_attributes(
    server: tuple[ServerProcess, Keys],
) -> None:
    live, keys = server
    with make_client(live, keys) as client:
        api = CaseManagementApi(client)
        project = api.create_project(
            body=ProjectCreateRequest(
                data=ProjectCreate(
                    type=ProjectResourceType.PROJECT,
                    attributes=ProjectCreateAttributes(key="NOC", name="Operations"),
                )
            )
        )
        created = api.create_case(
            body=CaseCreateRequest(
                data=CaseCreate(
                    type=CaseResourceType.CASE,
                    attributes=CaseCreateAttributes(title="Disk full on db-1", type_id=STANDARD),
                    relationships=CaseCreateRelationships(
                        project=ProjectRelationship(
                            data=ProjectRelationshipData(
                                id=project.data.id, type=ProjectResourceType.PROJECT
                            )
                        )
                    ),
                )
            )
        ).data.id

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
