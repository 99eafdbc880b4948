"""UpdateCaseTitle (``POST /api/v2/cases/{case_id}/title``), through HTTP and the official client."""

from __future__ import annotations

import pytest
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v2.api.case_management_api import CaseManagementApi
from datadog_api_client.v2.models import (
    CaseResourceType,
    CaseUpdateTitle,
    CaseUpdateTitleAttributes,
    CaseUpdateTitleRequest,
)

from tests.e2e.conftest import make_client
from tests.support.api import Api
from tests.support.official import new_project_and_case
from tests.support.server import Keys, ServerProcess


@pytest.fixture
def case(api: Api) -> dict:
    project = api.create_project("SEC", "Security")
    return api.create_case(project["id"], "Suspicious login")


def test_title_changes_and_is_in_the_history(api: Api, case: dict) -> None:
    r = api.case_action(case["id"], "title", {"title": "  Stolen laptop  "})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.api+json"
    data = r.json()["data"]
    assert data["attributes"]["title"] == "Stolen laptop"
    assert data["attributes"]["key"] == "SEC-1"
    assert "modified_at" in data["attributes"]
    assert data["relationships"]["modified_by"]["data"]["id"] == api.user_id("admin@")
    assert api.get("/api/v2/cases/SEC-1").json()["data"]["attributes"]["title"] == "Stolen laptop"
    assert api.search('"Stolen laptop"').json()["meta"]["total_cases"] == 1
    assert api.history("SEC-1")[-1] == ("title", "Suspicious login", "Stolen laptop")


def test_the_same_title_is_a_no_op(api: Api, case: dict) -> None:
    r = api.case_action("SEC-1", "title", {"title": "Suspicious login"})
    assert r.status_code == 200
    assert "modified_at" not in r.json()["data"]["attributes"]
    assert [field for field, _, _ in api.history("SEC-1")] == ["created", "watcher"]


@pytest.mark.parametrize(
    ("attributes", "detail"),
    [
        ({"title": ""}, "title must not be empty"),
        ({"title": "   "}, "title must not be empty"),
        ({"title": "x" * 501}, "Expected `str` of length <= 500"),
        ({"title": 7}, "Expected `str`, got `int`"),
        ({}, "Object missing required field `title`"),
    ],
)
def test_a_bad_title_is_400_and_changes_nothing(
    api: Api, case: dict, attributes: dict, detail: str
) -> None:
    r = api.case_action(case["id"], "title", attributes)
    assert r.status_code == 400, r.text
    error = r.json()["errors"][0]
    assert error["status"] == "400" and error["title"] == "Bad Request"
    assert detail in error["detail"]
    assert (
        api.get("/api/v2/cases/SEC-1").json()["data"]["attributes"]["title"] == "Suspicious login"
    )


def test_wrong_type_missing_attributes_and_unknown_case(api: Api, case: dict) -> None:
    r = api.post(f"/api/v2/cases/{case['id']}/title", {"data": {"type": "project"}})
    assert r.status_code == 400
    assert r.json()["errors"][0]["detail"] == 'got type "project" expected one of "case"'
    r = api.post(f"/api/v2/cases/{case['id']}/title", {"data": {"type": "case"}})
    assert r.status_code == 400
    missing = api.case_action("67d80aa3-36ff-44b9-a694-c501a7591737", "title", {"title": "x"})
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["title"] == "case not found"


def test_a_read_only_key_may_not_change_the_title(api: Api, case: dict) -> None:
    reader = api.as_keys(api.keys_for("default", "admin@casebook.local", scopes="cases_read"))
    r = reader.case_action(case["id"], "title", {"title": "Hijacked"})
    assert r.status_code == 403
    assert r.json() == {"errors": ["Forbidden: the application key lacks the cases_write scope"]}


# --- the official Python client, against a live server ------------------------------------
@pytest.mark.slow
def test_the_official_client_updates_a_title(live_server: tuple[ServerProcess, Keys]) -> None:
    live, keys = live_server
    with make_client(live, keys) as client:
        api = CaseManagementApi(client)
        created = new_project_and_case(api, "NOC", "Disk full on db-1")

        def update(title: str) -> object:
            body = CaseUpdateTitleRequest(
                data=CaseUpdateTitle(
                    type=CaseResourceType.CASE,
                    attributes=CaseUpdateTitleAttributes(title=title),
                )
            )
            return api.update_case_title(case_id=created, body=body)

        response = update("Disk full on db-2")
        assert not getattr(response, "_unparsed", False)
        assert response.data.attributes.title == "Disk full on db-2"
        assert response.data.attributes.key == "NOC-1"
        with pytest.raises(ApiException) as refused:
            update("")
        assert refused.value.status == 400
        fetched = api.get_case(case_id="NOC-1")
        assert fetched.data.attributes.title == "Disk full on db-2"
