"""A case's integrations with the official Python client (``datadog-api-client``).

Against a live ``casebook serve`` per back end (outbound calls to loopback allowed), an
operator connects the organisation to a local Jira and ServiceNow stand-in with the CLI;
then the client performs the six operations, its models validating every answer: it makes
a Jira issue, unlinks it, links another by its URL, makes a ServiceNow ticket, starts a
notebook and links an incident, and reads each result on the case. Then the refusals:
an issue the case already has, no connection, Jira failing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v2.api.case_management_api import CaseManagementApi
from datadog_api_client.v2.models import (
    Case3rdPartyTicketStatus,
    IncidentRelationshipData,
    IncidentResourceType,
    JiraIssue,
    JiraIssueCreateAttributes,
    JiraIssueCreateData,
    JiraIssueCreateRequest,
    JiraIssueLinkAttributes,
    JiraIssueLinkData,
    JiraIssueLinkRequest,
    JiraIssueResourceType,
    NotebookCreateData,
    NotebookCreateRequest,
    NotebookResourceType,
    RelationshipToIncidentRequest,
    ServiceNowTicket,
    ServiceNowTicketCreateAttributes,
    ServiceNowTicketCreateData,
    ServiceNowTicketCreateRequest,
    ServiceNowTicketResourceType,
)
from typer.testing import CliRunner

from casebook.cli import app as cli
from tests.e2e.conftest import make_client
from tests.e2e.test_types_client import case_read, error_of
from tests.support.official import new_project_and_case, parsed
from tests.support.server import Keys, ServerProcess, new_keys, running_server
from tests.support.tracker import JIRA_AUTH, SERVICENOW_AUTH, Answer, FakeTracker

pytestmark = pytest.mark.slow

ALLOW_PRIVATE = {"CASEBOOK_ALLOW_PRIVATE_WEBHOOKS": "1", "CASEBOOK_EGRESS_TIMEOUT_SECONDS": "2"}


@pytest.fixture
def server(database_url: str) -> Iterator[tuple[ServerProcess, Keys]]:
    keys = new_keys()
    with running_server(database_url, keys, env=ALLOW_PRIVATE) as server:
        yield server, keys
    # Whatever happened, no credential reached the server's output.
    for secret in (JIRA_AUTH[1], SERVICENOW_AUTH[1]):
        assert secret.encode() not in server.output


def _connect(database_url: str, tracker: FakeTracker) -> None:
    """What an operator runs: the two ``casebook integrations ... set`` commands."""
    env = {"CASEBOOK_DATABASE_URL": database_url, **ALLOW_PRIVATE}
    runner = CliRunner()
    jira = ["integrations", "jira", "set", "--url", tracker.url, "--email", JIRA_AUTH[0]]
    result = runner.invoke(cli, [*jira, "--token-stdin"], input=JIRA_AUTH[1] + "\n", env=env)
    assert result.exit_code == 0, result.output
    servicenow = ["integrations", "servicenow", "set", "--instance", "acme", "--url", tracker.url]
    servicenow += ["--user", SERVICENOW_AUTH[0], "--password-stdin"]
    result = runner.invoke(cli, servicenow, input=SERVICENOW_AUTH[1] + "\n", env=env)
    assert result.exit_code == 0, result.output


def _new_issue(**attributes: Any) -> JiraIssueCreateRequest:
    given = {"project_id": "10000", "issue_type_id": "10001", "jira_account_id": "1"}
    return JiraIssueCreateRequest(
        data=JiraIssueCreateData(
            type=JiraIssueResourceType.ISSUES,
            attributes=JiraIssueCreateAttributes(**(given | attributes)),
        )
    )


def _link(url: str) -> JiraIssueLinkRequest:
    return JiraIssueLinkRequest(
        data=JiraIssueLinkData(
            type=JiraIssueResourceType.ISSUES,
            attributes=JiraIssueLinkAttributes(jira_issue_url=url),
        )
    )


def _ticket(instance: str = "acme") -> ServiceNowTicketCreateRequest:
    return ServiceNowTicketCreateRequest(
        data=ServiceNowTicketCreateData(
            type=ServiceNowTicketResourceType.TICKETS,
            attributes=ServiceNowTicketCreateAttributes(
                instance_name=instance, assignment_group="SOC"
            ),
        )
    )


NOTEBOOK = NotebookCreateRequest(data=NotebookCreateData(type=NotebookResourceType.NOTEBOOK))


def _incident(incident_id: str) -> RelationshipToIncidentRequest:
    return RelationshipToIncidentRequest(
        data=IncidentRelationshipData(id=incident_id, type=IncidentResourceType.INCIDENTS)
    )


def _refused(status: int, call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    assert caught.value.status == status, caught.value.body
    return error_of(caught.value)


def test_the_six_integration_operations(
    server: tuple[ServerProcess, Keys], database_url: str, tracker: FakeTracker
) -> None:
    live, keys = server
    with make_client(live, keys) as client:
        cases = CaseManagementApi(client)
        case_id = new_project_and_case(cases, "SEC", "Phishing wave")

        # Before any connection: a 409 that says what to configure, Jira never called.
        error = _refused(409, cases.create_case_jira_issue, case_id, body=_new_issue())
        assert "casebook integrations jira set" in error["detail"]
        error = _refused(409, cases.create_case_service_now_ticket, case_id, body=_ticket())
        assert "casebook integrations servicenow set" in error["detail"]
        assert tracker.received == []
        _connect(database_url, tracker)

        # CreateCaseJiraIssue
        assert cases.create_case_jira_issue(case_id, body=_new_issue()) is None
        (sent,) = tracker.of("/rest/api/2/issue")
        assert sent.basic_auth == JIRA_AUTH
        assert sent.body["fields"]["summary"] == "Phishing wave"
        issue = case_read(cases.get_case(case_id)).data.attributes.jira_issue
        assert isinstance(issue, JiraIssue)
        assert issue.status == Case3rdPartyTicketStatus.COMPLETED
        assert issue.result.issue_key == "OPS-1" and issue.result.project_key == "OPS"
        assert issue.result.issue_url == f"{tracker.url}/browse/OPS-1"
        assert issue.result.issue_id.isdigit()
        error = _refused(409, cases.create_case_jira_issue, case_id, body=_new_issue())
        assert "already has Jira issue OPS-1" in error["detail"]

        # UnlinkJiraIssue, then LinkJiraIssueToCase
        assert cases.unlink_jira_issue(case_id) is None
        assert "jira_issue" not in case_read(cases.get_case(case_id)).data.attributes
        url = "https://acme.atlassian.net/browse/SEC-12"
        assert cases.link_jira_issue_to_case(case_id, body=_link(url)) is None
        linked = case_read(cases.get_case(case_id)).data.attributes.jira_issue
        assert (linked.result.issue_key, linked.result.issue_url) == ("SEC-12", url)
        assert linked.result.project_key == "SEC"
        _refused(400, cases.link_jira_issue_to_case, case_id, body=_link("https://acme.io/x"))

        # CreateCaseServiceNowTicket
        assert cases.create_case_service_now_ticket(case_id, body=_ticket()) is None
        (sent,) = tracker.of("/api/now/table/incident")
        assert sent.basic_auth == SERVICENOW_AUTH
        assert sent.body["assignment_group"] == "SOC"
        ticket = case_read(cases.get_case(case_id)).data.attributes.service_now_ticket
        assert isinstance(ticket, ServiceNowTicket)
        assert ticket.status == Case3rdPartyTicketStatus.COMPLETED
        assert ticket.result.sys_target_link.startswith(f"{tracker.url}/nav_to.do?uri=incident.do")

        # CreateCaseNotebook
        assert cases.create_case_notebook(case_id, body=NOTEBOOK) is None
        cells = parsed(cases.get_case(case_id)).data.attributes.to_dict()
        assert cells["comment_count"] == 1

        # LinkIncident answers the case.
        linked_case = case_read(cases.link_incident(case_id, body=_incident("42")))
        insights = linked_case.data.attributes.to_dict()["insights"]
        assert {"type": "INCIDENT", "ref": "/incidents/42", "resource_id": "42"} in insights
        assert linked_case.data.id == case_id

        # Jira failing: a 502 naming it, a timeout a 504; nothing stored.
        other = new_project_and_case(cases, "NOC", "Disk full")
        tracker.script.append(Answer(500, {"errorMessages": ["Internal server error"]}))
        error = _refused(502, cases.create_case_jira_issue, other, body=_new_issue())
        assert error["detail"] == "Jira: answered 500: Internal server error"
        tracker.script.append(Answer(delay=3.0))
        error = _refused(504, cases.create_case_jira_issue, other, body=_new_issue())
        assert error["title"] == "Gateway Timeout"
        assert "jira_issue" not in case_read(cases.get_case(other)).data.attributes
        # Another instance than the one connected, and another organisation's case.
        _refused(409, cases.create_case_service_now_ticket, other, body=_ticket("globex"))
        missing = "67d80aa3-36ff-44b9-a694-c501a7591737"
        error = _refused(404, cases.link_incident, missing, body=_incident("42"))
        assert error["title"] == "case not found"
        _refused(404, cases.create_case_notebook, missing, body=NOTEBOOK)
        _refused(404, cases.unlink_jira_issue, missing)
