"""A case's integrations over HTTP, on SQLite and PostgreSQL: Jira issues (made, linked,
unlinked), ServiceNow tickets, investigation notebooks and incidents.

Jira and ServiceNow are a local stand-in (``tests/support/tracker.py``) that checks the
credentials and records what it received.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from casebook.config import load_settings
from casebook.http.app import create_app
from casebook.storage import Store
from tests.conftest import TEST_ENV
from tests.support.api import Api
from tests.support.tracker import JIRA_AUTH, SERVICENOW_AUTH, Answer, FakeTracker

JIRA = "/api/v2/cases/{}/relationships/jira_issues"
SERVICENOW = "/api/v2/cases/{}/relationships/servicenow_tickets"
NOTEBOOK = "/api/v2/cases/{}/relationships/notebook"
INCIDENTS = "/api/v2/cases/{}/relationships/incidents"


def jira_body(**attributes: Any) -> dict[str, Any]:
    attributes = {"project_id": "10000", "issue_type_id": "10001", "jira_account_id": "1"} | (
        attributes
    )
    return {"data": {"type": "issues", "attributes": attributes}}


def link_body(url: str) -> dict[str, Any]:
    return {"data": {"type": "issues", "attributes": {"jira_issue_url": url}}}


def ticket_body(**attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "tickets", "attributes": {"instance_name": "acme", **attributes}}}


def incident_body(incident_id: str) -> dict[str, Any]:
    return {"data": {"id": incident_id, "type": "incidents"}}


NOTEBOOK_BODY = {"data": {"type": "notebook"}}


@pytest.fixture
def case(api: Api) -> dict[str, Any]:
    project = api.create_project("SEC", "Security")
    return api.create_case(project["id"], "Phishing wave", description="Three users clicked.")


def attributes_of(api: Api, ref: str) -> dict[str, Any]:
    r = api.get(f"/api/v2/cases/{ref}")
    assert r.status_code == 200, r.text
    return dict(r.json()["data"]["attributes"])


def activity(api: Api, ref: str, field: str) -> list[tuple[str | None, str | None]]:
    """(old, new) of the case's timeline cells for ``field``, oldest first."""
    return [
        (
            c["attributes"]["cell_content"].get("old_value"),
            c["attributes"]["cell_content"].get("new_value"),
        )
        for c in api.timeline(ref)
        if c["attributes"]["cell_content"].get("field") == field
    ]


def error_detail(r: Any) -> str:
    (error,) = r.json()["errors"]
    return str(error.get("detail") or error.get("title"))


# --- Jira: making an issue ----------------------------------------------------------------


def test_creating_a_jira_issue_calls_jira_and_shows_the_issue_on_the_case(
    api: Api, tracker: FakeTracker, case: dict[str, Any]
) -> None:
    api.connect_jira(tracker.url)
    before = api.get(f"/api/v2/cases/{case['id']}")
    assert "jira_issue" not in before.json()["data"]["attributes"]

    r = api.post(JIRA.format("SEC-1"), jira_body(fields={"labels": ["casebook"]}))
    assert r.status_code == 202, r.text
    assert r.content == b""

    (sent,) = tracker.of("/rest/api/2/issue")
    assert sent.basic_auth == JIRA_AUTH
    assert sent.headers["content-type"] == "application/json"
    assert sent.body == {
        "fields": {
            "project": {"id": "10000"},
            "issuetype": {"id": "10001"},
            "summary": "Phishing wave",
            "description": "Three users clicked.\n\nFrom casebook case SEC-1.",
            "labels": ["casebook"],
        }
    }
    after = api.get(f"/api/v2/cases/{case['id']}")
    issue = after.json()["data"]["attributes"]["jira_issue"]
    assert issue == {
        "result": {
            "issue_id": issue["result"]["issue_id"],
            "issue_key": "OPS-1",
            "issue_url": f"{tracker.url}/browse/OPS-1",
            "project_key": "OPS",
        },
        "status": "COMPLETED",
    }
    assert issue["result"]["issue_id"].isdigit()
    assert activity(api, "SEC-1", "jira_issue") == [(None, f"{tracker.url}/browse/OPS-1")]
    assert int(after.headers["etag"].strip('"')) == int(before.headers["etag"].strip('"')) + 1
    # Search reads the same case shape.
    (found,) = api.search("key:SEC-1").json()["data"]
    assert found["attributes"]["jira_issue"] == issue


def test_a_jira_issue_takes_project_and_type_from_the_project_settings(
    api: Api, tracker: FakeTracker, case: dict[str, Any]
) -> None:
    api.connect_jira(tracker.url)
    bare = {"data": {"type": "issues", "attributes": {"jira_account_id": "1"}}}
    r = api.post(JIRA.format(case["id"]), bare)
    assert r.status_code == 400, r.text
    assert "settings.integration_jira.metadata" in error_detail(r)
    assert tracker.received == []

    project_id = case["relationships"]["project"]["data"]["id"]
    metadata = {"project_id": "SEC", "issue_type_id": "Task"}
    settings = {"integration_jira": {"metadata": metadata}}
    r = api.patch(
        f"/api/v2/cases/projects/{project_id}",
        {"data": {"type": "project", "attributes": {"settings": settings}}},
    )
    assert r.status_code == 200, r.text
    assert api.post(JIRA.format(case["id"]), bare).status_code == 202
    (sent,) = tracker.of("/rest/api/2/issue")
    # Jira takes a project by key and an issue type by name as well as by id.
    assert sent.body["fields"]["project"] == {"key": "SEC"}
    assert sent.body["fields"]["issuetype"] == {"name": "Task"}
    assert attributes_of(api, case["id"])["jira_issue"]["result"]["issue_key"] == "SEC-1"

    # A project that turns Jira off makes none.
    other = api.create_case(project_id, "Second")
    settings = {"integration_jira": {"enabled": False}}
    api.patch(
        f"/api/v2/cases/projects/{project_id}",
        {"data": {"type": "project", "attributes": {"settings": settings}}},
    )
    r = api.post(JIRA.format(other["id"]), jira_body())
    assert r.status_code == 409, r.text
    assert "settings.integration_jira.enabled" in error_detail(r)
    assert len(tracker.received) == 1


def test_without_a_connection_making_an_issue_or_ticket_says_what_to_configure(
    api: Api, tracker: FakeTracker, case: dict[str, Any]
) -> None:
    before = attributes_of(api, case["id"])
    r = api.post(JIRA.format(case["id"]), jira_body())
    assert r.status_code == 409, r.text
    assert r.json()["errors"][0]["title"] == "Conflict"
    assert "casebook integrations jira set" in error_detail(r)
    r = api.post(SERVICENOW.format(case["id"]), ticket_body())
    assert r.status_code == 409, r.text
    assert "casebook integrations servicenow set" in error_detail(r)
    # A connection to another instance is no connection to this one.
    api.connect_service_now(tracker.url, instance="elsewhere")
    r = api.post(SERVICENOW.format(case["id"]), ticket_body())
    assert r.status_code == 409, r.text
    assert "'acme'" in error_detail(r)
    assert tracker.received == []
    assert attributes_of(api, case["id"]) == before


@pytest.mark.parametrize(
    ("answer", "status", "says"),
    [
        (
            Answer(
                400, {"errorMessages": [], "errors": {"issuetype": "valid issue type required"}}
            ),
            502,
            "Jira: answered 400: issuetype: valid issue type required",
        ),
        (
            Answer(500, {"message": "database down"}),
            502,
            'Jira: answered 500: {"message": "database down"}',
        ),
        (Answer(503, "<html>maintenance</html>"), 502, "Jira: answered 503"),
        (Answer(302, {}), 502, "Jira: answered 302"),
        (Answer(201, {"unexpected": True}), 502, "Jira: answered 201 without an issue"),
        (Answer(delay=3.0), 504, "Jira: no answer within 2 s"),
        # Each byte comes in time, the whole answer does not.
        (Answer(drip=0.1), 504, "Jira: no answer within 2 s"),
    ],
)
def test_jira_failures_are_bad_gateway_and_store_nothing(
    api: Api,
    tracker: FakeTracker,
    case: dict[str, Any],
    answer: Answer,
    status: int,
    says: str,
) -> None:
    api.connect_jira(tracker.url)
    before = attributes_of(api, case["id"])
    tracker.script.append(answer)
    r = api.post(JIRA.format(case["id"]), jira_body())
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/vnd.api+json"
    assert error_detail(r).startswith(says), error_detail(r)
    assert JIRA_AUTH[1] not in r.text
    assert attributes_of(api, case["id"]) == before
    assert activity(api, case["id"], "jira_issue") == []


def test_jira_refusing_the_credentials_or_out_of_reach(
    api: Api, tracker: FakeTracker, case: dict[str, Any]
) -> None:
    api.connect_jira(tracker.url, auth=(JIRA_AUTH[0], "a-revoked-token"))
    r = api.post(JIRA.format(case["id"]), jira_body())
    assert r.status_code == 502, r.text
    assert "refused the connection's credentials (401)" in error_detail(r)
    assert "a-revoked-token" not in r.text
    (sent,) = tracker.received
    assert sent.basic_auth == (JIRA_AUTH[0], "a-revoked-token")

    api.connect_jira("http://127.0.0.1:9")  # discard port: nothing listens
    r = api.post(JIRA.format(case["id"]), jira_body())
    assert r.status_code == 502, r.text
    assert error_detail(r).startswith("Jira: cannot reach 127.0.0.1")
    assert "jira_issue" not in attributes_of(api, case["id"])


def test_a_case_has_one_jira_issue(api: Api, tracker: FakeTracker, case: dict[str, Any]) -> None:
    api.connect_jira(tracker.url)
    assert api.post(JIRA.format(case["id"]), jira_body()).status_code == 202
    r = api.post(JIRA.format(case["id"]), jira_body())
    assert r.status_code == 409, r.text
    assert "already has Jira issue OPS-1: unlink it first" in error_detail(r)
    r = api.patch(JIRA.format(case["id"]), link_body("https://acme.atlassian.net/browse/SEC-9"))
    assert r.status_code == 409, r.text
    assert len(tracker.received) == 1  # the second call never reached Jira


def test_a_stale_if_match_is_refused_before_calling_jira(
    api: Api, tracker: FakeTracker, case: dict[str, Any]
) -> None:
    api.connect_jira(tracker.url)
    etag = api.get(f"/api/v2/cases/{case['id']}").headers["etag"]
    api.case_action(case["id"], "priority", {"priority": "P1"})
    r = api.client.post(
        JIRA.format(case["id"]), json=jira_body(), headers={**api.headers, "If-Match": etag}
    )
    assert r.status_code == 412, r.text
    assert tracker.received == []


# --- Jira: linking and unlinking ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "key", "page"),
    [
        (
            "https://acme.atlassian.net/browse/SEC-12",
            "SEC-12",
            "https://acme.atlassian.net/browse/SEC-12",
        ),
        (
            "https://acme.atlassian.net/browse/SEC-12/",
            "SEC-12",
            "https://acme.atlassian.net/browse/SEC-12",
        ),
        (
            "https://jira.acme.io/jira/browse/OPS_2-7?focusedCommentId=1",
            "OPS_2-7",
            "https://jira.acme.io/jira/browse/OPS_2-7",
        ),
        (
            "https://acme.atlassian.net/jira/software/projects/SEC/issues/SEC-3",
            "SEC-3",
            "https://acme.atlassian.net/browse/SEC-3",
        ),
        (
            "https://acme.atlassian.net/jira/software/c/projects/SEC/boards/1?selectedIssue=SEC-44",
            "SEC-44",
            "https://acme.atlassian.net/browse/SEC-44",
        ),
    ],
)
def test_linking_a_jira_issue_by_its_url_needs_no_connection(
    api: Api, case: dict[str, Any], url: str, key: str, page: str
) -> None:
    r = api.patch(JIRA.format(case["id"]), link_body(url))
    assert r.status_code == 204, r.text
    assert r.content == b""
    issue = attributes_of(api, case["id"])["jira_issue"]
    assert issue == {
        "result": {"issue_key": key, "issue_url": page, "project_key": key.rsplit("-", 1)[0]},
        "status": "COMPLETED",
    }
    assert activity(api, case["id"], "jira_issue") == [(None, page)]


def test_linking_again_is_a_no_op_and_unlinking_removes_the_issue(
    api: Api, case: dict[str, Any]
) -> None:
    url = "https://acme.atlassian.net/browse/SEC-12"
    assert api.patch(JIRA.format("SEC-1"), link_body(url)).status_code == 204
    version = api.get("/api/v2/cases/SEC-1").headers["etag"]
    assert api.patch(JIRA.format("SEC-1"), link_body(url)).status_code == 204
    assert api.get("/api/v2/cases/SEC-1").headers["etag"] == version
    r = api.patch(JIRA.format("SEC-1"), link_body("https://acme.atlassian.net/browse/SEC-13"))
    assert r.status_code == 409, r.text

    r = api.delete(JIRA.format("SEC-1"))
    assert r.status_code == 204, r.text
    assert "jira_issue" not in attributes_of(api, "SEC-1")
    assert activity(api, "SEC-1", "jira_issue") == [(None, url), (url, None)]
    version = api.get("/api/v2/cases/SEC-1").headers["etag"]
    assert api.delete(JIRA.format("SEC-1")).status_code == 204  # nothing to unlink: a no-op
    assert api.get("/api/v2/cases/SEC-1").headers["etag"] == version
    # Another issue may be linked now.
    other = "https://acme.atlassian.net/browse/SEC-13"
    assert api.patch(JIRA.format("SEC-1"), link_body(other)).status_code == 204
    assert attributes_of(api, "SEC-1")["jira_issue"]["result"]["issue_key"] == "SEC-13"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "javascript:alert(1)//browse/SEC-1",
        "ftp://acme.atlassian.net/browse/SEC-1",
        "https:///browse/SEC-1",
        "https://acme.atlassian.net/browse/",
        "https://acme.atlassian.net/browse/sec-1",
        "https://acme.atlassian.net/browse/SEC-0",
        "not a url",
        "https://bot:hunter2@acme.atlassian.net/browse/SEC-1",
        "https://acme.atlassian.net/" + "x" * 2100,
    ],
)
def test_a_url_that_names_no_jira_issue_is_refused(
    api: Api, case: dict[str, Any], url: str
) -> None:
    r = api.patch(JIRA.format(case["id"]), link_body(url))
    assert r.status_code == 400, r.text
    assert "jira_issue" not in attributes_of(api, case["id"])


# --- ServiceNow -----------------------------------------------------------------------------


def test_creating_a_servicenow_ticket_calls_servicenow_and_shows_the_ticket(
    api: Api, tracker: FakeTracker, case: dict[str, Any]
) -> None:
    api.connect_service_now(tracker.url)
    assert "service_now_ticket" not in attributes_of(api, case["id"])
    r = api.post(SERVICENOW.format("SEC-1"), ticket_body(assignment_group="Security Ops"))
    assert r.status_code == 202, r.text
    assert r.content == b""
    (sent,) = tracker.of("/api/now/table/incident")
    assert sent.basic_auth == SERVICENOW_AUTH
    assert sent.body == {
        "short_description": "[SEC-1] Phishing wave",
        "description": "Three users clicked.\n\nFrom casebook case SEC-1.",
        "assignment_group": "Security Ops",
    }
    ticket = attributes_of(api, case["id"])["service_now_ticket"]
    link = f"{tracker.url}/nav_to.do?uri=incident.do?sys_id={10001:032x}"
    assert ticket == {"result": {"sys_target_link": link}, "status": "COMPLETED"}
    assert activity(api, case["id"], "service_now_ticket") == [(None, link)]
    r = api.post(SERVICENOW.format("SEC-1"), ticket_body())
    assert r.status_code == 409, r.text
    assert link in error_detail(r)
    assert len(tracker.received) == 1


def test_a_servicenow_ticket_takes_instance_and_group_from_the_project_settings(
    api: Api, tracker: FakeTracker, case: dict[str, Any]
) -> None:
    api.connect_service_now(tracker.url, instance="acme")
    project_id = case["relationships"]["project"]["data"]["id"]
    settings = {"integration_service_now": {"instance_name": "ACME", "assignment_group": "SOC"}}
    api.patch(
        f"/api/v2/cases/projects/{project_id}",
        {"data": {"type": "project", "attributes": {"settings": settings}}},
    )
    body = {"data": {"type": "tickets", "attributes": {}}}
    assert api.post(SERVICENOW.format(case["id"]), body).status_code == 202
    (sent,) = tracker.received
    assert sent.body["assignment_group"] == "SOC"


def test_servicenow_failures_are_bad_gateway(
    api: Api, tracker: FakeTracker, case: dict[str, Any]
) -> None:
    api.connect_service_now(tracker.url, auth=(SERVICENOW_AUTH[0], "wrong-password"))
    r = api.post(SERVICENOW.format(case["id"]), ticket_body())
    assert r.status_code == 502, r.text
    assert "ServiceNow: refused the connection's credentials (401)" in error_detail(r)
    assert "wrong-password" not in r.text
    api.connect_service_now(tracker.url)
    tracker.script.append(Answer(403, {"error": {"message": "ACL denied"}}))
    tracker.script.append(Answer(400, {"error": {"message": "Invalid group", "detail": "SOC"}}))
    tracker.script.append(Answer(delay=3.0))
    assert api.post(SERVICENOW.format(case["id"]), ticket_body()).status_code == 502
    r = api.post(SERVICENOW.format(case["id"]), ticket_body())
    assert error_detail(r) == "ServiceNow: answered 400: Invalid group: SOC"
    r = api.post(SERVICENOW.format(case["id"]), ticket_body())
    assert r.status_code == 504, r.text
    assert "service_now_ticket" not in attributes_of(api, case["id"])


# --- notebooks and incidents ----------------------------------------------------------------


def test_a_notebook_is_a_comment_made_from_the_case(api: Api, case: dict[str, Any]) -> None:
    api.patch(JIRA.format("SEC-1"), link_body("https://acme.atlassian.net/browse/SEC-12"))
    r = api.post(NOTEBOOK.format("SEC-1"), NOTEBOOK_BODY)
    assert r.status_code == 204, r.text
    assert r.content == b""
    comments = [c for c in api.timeline("SEC-1") if c["attributes"]["type"] == "COMMENT"]
    (notebook,) = comments
    text = notebook["attributes"]["cell_content"]["message"]
    assert text.startswith("# Investigation notebook: SEC-1 Phishing wave\n")
    assert "- Jira: [SEC-12](https://acme.atlassian.net/browse/SEC-12)" in text
    assert "## Summary\n\nThree users clicked.\n" in text
    for section in ("## Evidence", "## Timeline", "## Findings", "## Next steps"):
        assert section in text
    assert attributes_of(api, "SEC-1")["comment_count"] == 1
    # The team edits it as any comment.
    edited = text + "\nThe sender was spoofed."
    r = api.put(
        f"/api/v2/cases/SEC-1/comment/{notebook['id']}",
        {"data": {"type": "case", "attributes": {"comment": edited}}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"][0]["attributes"]["cell_content"]["message"] == edited
    # Each call starts another.
    assert api.post(NOTEBOOK.format("SEC-1"), NOTEBOOK_BODY).status_code == 204
    assert attributes_of(api, "SEC-1")["comment_count"] == 2


def test_a_notebook_does_not_act_on_mentions_in_the_description(api: Api) -> None:
    project = api.create_project("OPS", "Operations")
    user = api.create_user("ann@example.com", name="Ann")
    case = api.create_case(project["id"], "Outage", description="ask @ann@example.com")
    assert api.post(NOTEBOOK.format(case["id"]), NOTEBOOK_BODY).status_code == 204
    watchers = api.get(f"/api/v2/cases/{case['id']}/watchers").json()["data"]
    assert user["id"] not in {w["id"] for w in watchers}


def test_linking_an_incident_adds_an_incident_insight(api: Api, case: dict[str, Any]) -> None:
    incident = "8c2a1f0e-4b1d-4f7a-9a8e-3b5c7d9e1f20"
    r = api.post(INCIDENTS.format("SEC-1"), incident_body(incident))
    assert r.status_code == 201, r.text
    assert r.headers["content-type"] == "application/vnd.api+json"
    data = r.json()["data"]
    assert data["id"] == case["id"]
    insight = {"type": "INCIDENT", "ref": f"/incidents/{incident}", "resource_id": incident}
    assert data["attributes"]["insights"] == [insight]
    assert r.headers["etag"] == api.get("/api/v2/cases/SEC-1").headers["etag"]
    # Again: the same case, unchanged.
    again = api.post(INCIDENTS.format("SEC-1"), incident_body(incident))
    assert again.status_code == 201
    assert again.json()["data"] == data
    assert len(activity(api, "SEC-1", "insights")) == 1
    # A numeric id (an incident's public id) too; RemoveCaseInsights unties one.
    assert api.post(INCIDENTS.format("SEC-1"), incident_body("42")).status_code == 201
    gone = {"data": {"type": "case", "attributes": {"insights": [insight]}}}
    r = api.delete("/api/v2/cases/SEC-1/insights", gone)
    assert r.status_code == 200, r.text
    assert [i["resource_id"] for i in r.json()["data"]["attributes"]["insights"]] == ["42"]


@pytest.mark.parametrize("incident_id", ["", " ", "a/b", "../x", "x" * 129, "ünï"])
def test_a_malformed_incident_id_is_refused(
    api: Api, case: dict[str, Any], incident_id: str
) -> None:
    r = api.post(INCIDENTS.format(case["id"]), incident_body(incident_id))
    assert r.status_code == 400, r.text
    assert attributes_of(api, case["id"])["insights"] == []


# --- what every one of them shares --------------------------------------------------------

CALLS = [
    ("POST", JIRA, jira_body(), "issues"),
    ("PATCH", JIRA, link_body("https://acme.atlassian.net/browse/SEC-12"), "issues"),
    ("DELETE", JIRA, None, None),
    ("POST", SERVICENOW, ticket_body(), "tickets"),
    ("POST", NOTEBOOK, NOTEBOOK_BODY, "notebook"),
    ("POST", INCIDENTS, incident_body("42"), "incidents"),
]


def test_another_organisations_case_is_not_found(
    api: Api, tracker: FakeTracker, case: dict[str, Any]
) -> None:
    other = api.new_org_admin("globex")
    other.connect_jira(tracker.url)
    other.connect_service_now(tracker.url)
    missing = "SEC-999"
    for method, path, body, _ in CALLS:
        theirs = other.client.request(
            method, path.format(case["id"]), json=body, headers=other.headers
        )
        absent = other.client.request(
            method, path.format(missing), json=body, headers=other.headers
        )
        assert theirs.status_code == absent.status_code == 404, (path, theirs.text)
        assert theirs.json()["errors"][0]["title"] == "case not found"
        by_key = other.client.request(
            method, path.format("SEC-1"), json=body, headers=other.headers
        )
        assert by_key.status_code == 404, by_key.text
    assert tracker.received == []
    assert attributes_of(api, case["id"])["insights"] == []
    assert api.timeline(case["id"])[-1]["attributes"]["cell_content"]["field"] != "jira_issue"


def test_wrong_types_and_missing_members_are_bad_requests(
    api: Api, tracker: FakeTracker, case: dict[str, Any]
) -> None:
    api.connect_jira(tracker.url)
    api.connect_service_now(tracker.url)
    for method, path, body, kind in CALLS:
        if body is None:
            continue
        wrong = {"data": {**body["data"], "type": "case"}}
        r = api.client.request(method, path.format(case["id"]), json=wrong, headers=api.headers)
        assert r.status_code == 400, (path, r.text)
        assert error_detail(r) == f'got type "case" expected one of "{kind}"'
        r = api.client.request(method, path.format(case["id"]), json={}, headers=api.headers)
        assert r.status_code == 400, (path, r.text)
    assert tracker.received == []


def test_no_connection_secret_is_ever_answered(
    api: Api, tracker: FakeTracker, case: dict[str, Any], store: Store
) -> None:
    """The credentials are stored sealed, and no answer carries them."""
    api.connect_jira(tracker.url)
    api.connect_service_now(tracker.url)
    answers = [api.post(JIRA.format(case["id"]), jira_body())]
    answers.append(api.post(SERVICENOW.format(case["id"]), ticket_body()))
    answers += [api.get(f"/api/v2/cases/{case['id']}"), api.get("/api/v2/cases")]
    answers.append(api.get(f"/api/v2/cases/{case['id']}/timelines"))
    answers.append(api.get("/api/v2/cases/projects"))
    answers.append(api.client.get("/api/v2/openapi.json"))
    for r in answers:
        for secret in (JIRA_AUTH[1], SERVICENOW_AUTH[1]):
            assert secret not in r.text
    with store.read() as tx:
        stored = tx.connections.list(tx.orgs.by_name("default").id)  # type: ignore[union-attr]
    assert {c.system for c in stored} == {"jira", "servicenow"}
    for connection in stored:
        assert connection.secret.startswith("v1.")
        assert JIRA_AUTH[1] not in connection.secret and SERVICENOW_AUTH[1] not in connection.secret


def test_outbound_calls_to_private_addresses_are_refused_by_default(
    api: Api, tracker: FakeTracker, case: dict[str, Any], database_url: str, store: Store
) -> None:
    """With CASEBOOK_ALLOW_PRIVATE_WEBHOOKS unset, a connection to a loopback address (set
    while it was allowed) is refused when called: nothing reaches it."""
    api.connect_jira(tracker.url)
    api.connect_service_now(tracker.url)
    env = {k: v for k, v in TEST_ENV.items() if k != "CASEBOOK_ALLOW_PRIVATE_WEBHOOKS"}
    settings = load_settings({"CASEBOOK_DATABASE_URL": database_url, **env})
    assert settings.allow_private_webhooks is False
    with TestClient(create_app(settings, store)) as strict:
        r = strict.post(JIRA.format(case["id"]), json=jira_body(), headers=api.headers)
        assert r.status_code == 502, r.text
        assert "refused URL" in error_detail(r)
        assert "CASEBOOK_ALLOW_PRIVATE_WEBHOOKS" in error_detail(r)
        r = strict.post(SERVICENOW.format(case["id"]), json=ticket_body(), headers=api.headers)
        assert r.status_code == 502, r.text
        # Linking calls nothing, so it is not refused.
        link = link_body("http://127.0.0.1/browse/SEC-1")
        assert (
            strict.patch(JIRA.format(case["id"]), json=link, headers=api.headers).status_code == 204
        )
    assert tracker.received == []
