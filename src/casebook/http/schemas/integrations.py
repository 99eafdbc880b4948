"""Shapes of a case's integrations: Jira issues, ServiceNow tickets, notebooks, incidents.

The requests are Datadog's: each ``data`` has its own ``type`` (``issues``,
``tickets``, ``notebook``, ``incidents``). The case shows what they made in its
attributes ``jira_issue`` and ``service_now_ticket`` (``schemas/cases.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from casebook.domain.integrations import MAX_URL_CHARS
from casebook.http.schemas.common import Short

Url = Annotated[str, msgspec.Meta(max_length=MAX_URL_CHARS)]


class JiraIssueCreateAttributes(msgspec.Struct):
    # Datadog requires the three; casebook takes the project and issue type from the
    # project's settings when they are left out, and uses no Jira account id.
    project_id: Short = ""
    issue_type_id: Short = ""
    jira_account_id: Short = ""
    fields: Annotated[dict[Short, Any], msgspec.Meta(max_length=100)] | None = None


class JiraIssueCreateData(msgspec.Struct):
    type: str
    attributes: JiraIssueCreateAttributes | None = None  # checked after type, as Datadog does


class JiraIssueCreateRequest(msgspec.Struct):
    data: JiraIssueCreateData


class JiraIssueLinkAttributes(msgspec.Struct):
    jira_issue_url: Url


class JiraIssueLinkData(msgspec.Struct):
    type: str
    attributes: JiraIssueLinkAttributes | None = None


class JiraIssueLinkRequest(msgspec.Struct):
    data: JiraIssueLinkData


class ServiceNowTicketCreateAttributes(msgspec.Struct):
    instance_name: Short = ""  # Datadog requires it; casebook falls back to the settings
    assignment_group: Short = ""


class ServiceNowTicketCreateData(msgspec.Struct):
    type: str
    attributes: ServiceNowTicketCreateAttributes | None = None


class ServiceNowTicketCreateRequest(msgspec.Struct):
    data: ServiceNowTicketCreateData


class NotebookCreateData(msgspec.Struct):
    type: str


class NotebookCreateRequest(msgspec.Struct):
    data: NotebookCreateData


class IncidentRelationshipData(msgspec.Struct):
    id: Short
    type: str


class RelationshipToIncidentRequest(msgspec.Struct):
    data: IncidentRelationshipData
