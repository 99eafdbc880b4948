"""Case shapes: the create body, the generic case-action body, and the case documents.

A case action (``POST /api/v2/cases/{case_id}/<action>``) has Datadog's body
``{"data": {"type": "case", "attributes": {...}}}``: ``CaseActionRequest[A]``
with ``A`` the struct of that action's attributes, so a new action is one
attributes struct here and one line in ``http/registry.py``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Generic, Literal, TypeVar

import msgspec

from casebook.core.entities import (
    ERROR_TRACKING_CASE_TYPE_ID,
    STANDARD_CASE_TYPE_ID,
    Case,
    JiraIssueRef,
    ServiceNowTicketRef,
    Status,
    UserRef,
)
from casebook.domain import limits
from casebook.domain.cases import due_day
from casebook.http.schemas.common import (
    Link,
    Relation,
    RelationWrapper,
    Short,
    link,
    optional_rfc3339,
    rfc3339,
)

Title = Annotated[str, msgspec.Meta(max_length=limits.MAX_TITLE_CHARS)]
Description = Annotated[str, msgspec.Meta(max_length=limits.MAX_DESCRIPTION_CHARS)]

# --- requests -------------------------------------------------------------------


class CaseCreateAttributes(msgspec.Struct):
    title: Title
    type_id: Short | None = None
    type: Short | None = None  # the seed's (older clients') way to say STANDARD
    priority: Short = "NOT_DEFINED"
    description: Description = ""
    status_name: Short | None = None
    custom_attributes: (
        Annotated[dict[str, Any], msgspec.Meta(max_length=limits.MAX_CUSTOM_ATTRIBUTES)] | None
    ) = None


class CaseCreateRelationships(msgspec.Struct):
    project: RelationWrapper | None = None
    assignee: RelationWrapper | None = None


class CaseCreate(msgspec.Struct):
    type: str
    attributes: CaseCreateAttributes | None = None  # checked after type, as Datadog does
    relationships: CaseCreateRelationships | None = None


class CaseCreateRequest(msgspec.Struct):
    data: CaseCreate


A = TypeVar("A")


class CaseActionData(msgspec.Struct, Generic[A]):
    type: str
    attributes: A | None = None  # checked after type, as Datadog does


class CaseActionRequest(msgspec.Struct, Generic[A]):
    """The body of every case action that takes attributes."""

    data: CaseActionData[A]


class CaseEmptyData(msgspec.Struct):
    type: str


class CaseEmptyRequest(msgspec.Struct):
    """The body of the case actions that take nothing but the type (unassign, archive...)."""

    data: CaseEmptyData


# The attributes of each case action.


class StatusAttributes(msgspec.Struct):
    status: Short | None = None
    status_name: Short | None = None


class PriorityAttributes(msgspec.Struct):
    priority: Short


class AssignAttributes(msgspec.Struct):
    assignee_id: Short


class TitleAttributes(msgspec.Struct):
    title: Title


class DescriptionAttributes(msgspec.Struct):
    description: Description


AttributeKey = Annotated[str, msgspec.Meta(max_length=limits.MAX_ATTRIBUTE_KEY_CHARS)]
AttributeValues = Annotated[
    list[Annotated[str, msgspec.Meta(max_length=limits.MAX_ATTRIBUTE_VALUE_CHARS)]],
    msgspec.Meta(max_length=limits.MAX_ATTRIBUTE_VALUES),
]


class AttributesAttributes(msgspec.Struct):
    """The whole ``attributes`` map of a case (``team: [a, b]``), replacing the old one."""

    attributes: Annotated[
        dict[AttributeKey, AttributeValues], msgspec.Meta(max_length=limits.MAX_ATTRIBUTE_KEYS)
    ]


class DueDateAttributes(msgspec.Struct):
    """``YYYY-MM-DD``, or null to clear it."""

    due_date: Short | None


class ResolvedReasonAttributes(msgspec.Struct):
    security_resolved_reason: Short


class InsightIn(msgspec.Struct):
    type: Short
    ref: Annotated[str, msgspec.Meta(max_length=limits.MAX_INSIGHT_REF_CHARS)]
    resource_id: Annotated[str, msgspec.Meta(max_length=limits.MAX_INSIGHT_ID_CHARS)]


class InsightsAttributes(msgspec.Struct):
    insights: Annotated[list[InsightIn], msgspec.Meta(min_length=1, max_length=limits.MAX_INSIGHTS)]


class MoveRequest(msgspec.Struct):
    """``PATCH /api/v2/cases/{case_id}/relationships/project``: the project to move to."""

    data: Relation


# --- responses ------------------------------------------------------------------
# Structs with ``omit_defaults``: a member whose value is its default (None) is
# left out, as Datadog leaves out unset attributes; members without a default
# are always present. Field order is the wire order.


class CaseAttributesPublic(msgspec.Struct, kw_only=True, omit_defaults=True):
    archived_at: str | None = None
    attributes: dict[str, list[str]]
    closed_at: str | None = None
    comment_count: int
    created_at: str
    creation_source: str
    custom_attributes: dict[str, Any]
    description: str
    due_date: str | None = None  # extension: YYYY-MM-DD, once set
    insights: list[Insight]
    internal_id: str
    jira_issue: JiraIssue | None = None  # once made or linked
    key: str
    merge_status: str
    modified_at: str | None = None
    priority: Literal["NOT_DEFINED", "P1", "P2", "P3", "P4", "P5"]
    public_id: str
    resolved_reason: str | None = None  # extension: security_resolved_reason, once set
    service_now_ticket: ServiceNowTicket | None = None  # once made
    status: Literal["OPEN", "IN_PROGRESS", "CLOSED"]
    status_group: Literal["SG_OPEN", "SG_IN_PROGRESS", "SG_CLOSED"]
    status_name: str
    title: str
    type: str  # deprecated: STANDARD, or as Datadog answers for the other types
    type_id: str


class Insight(msgspec.Struct):
    type: str
    ref: str
    resource_id: str


TicketStatus = Literal["IN_PROGRESS", "COMPLETED", "FAILED"]


class JiraIssueResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    issue_id: str | None = None  # unknown for an issue linked by its URL
    issue_key: str
    issue_url: str
    project_key: str


class JiraIssue(msgspec.Struct):
    result: JiraIssueResult
    # Datadog makes issues in the background (IN_PROGRESS, then COMPLETED or FAILED);
    # casebook answers once Jira has, so a stored issue is always COMPLETED.
    status: TicketStatus


class ServiceNowTicketResult(msgspec.Struct):
    sys_target_link: str


class ServiceNowTicket(msgspec.Struct):
    result: ServiceNowTicketResult
    status: TicketStatus


def _jira_issue(issue: JiraIssueRef | None) -> JiraIssue | None:
    if issue is None:
        return None
    result = JiraIssueResult(
        issue_id=issue.issue_id or None,
        issue_key=issue.issue_key,
        issue_url=issue.issue_url,
        project_key=issue.project_key,
    )
    return JiraIssue(result, "COMPLETED")


def _ticket(ticket: ServiceNowTicketRef | None) -> ServiceNowTicket | None:
    if ticket is None:
        return None
    return ServiceNowTicket(ServiceNowTicketResult(ticket.sys_target_link), "COMPLETED")


class CaseRelationshipsPublic(msgspec.Struct, kw_only=True, omit_defaults=True):
    assignee: Link | None = None
    created_by: Link | None = None
    modified_by: Link | None = None
    project: Link


class CasePublic(msgspec.Struct):
    id: str
    type: Literal["case"]
    attributes: CaseAttributesPublic
    relationships: CaseRelationshipsPublic


class IncludedUserAttributes(msgspec.Struct):
    active: bool
    email: str
    handle: str
    name: str


class IncludedUser(msgspec.Struct):
    id: str
    type: Literal["user"]
    attributes: IncludedUserAttributes


class CaseDocument(msgspec.Struct):
    data: CasePublic
    included: list[IncludedUser]


class CasesPage(msgspec.Struct):
    current: int
    size: int
    total: int


class CasesMeta(msgspec.Struct):
    page: CasesPage
    total_cases: int


class CaseList(msgspec.Struct):
    data: list[CasePublic]
    included: list[IncludedUser]
    meta: CasesMeta


# Per status: (status, status_group, status_name) as sent; looked up once per case.
_STATUS_WIRE = {status: (status.value, status.group, status.display_name) for status in Status}
# The deprecated ``type``: as recorded, ERROR_TRACKING_ISSUE for that built-in type and
# TUNKNOWN for the others (the official clients keep unknown values, unparsed).
_TYPE_WIRE = {
    STANDARD_CASE_TYPE_ID: "STANDARD",
    ERROR_TRACKING_CASE_TYPE_ID: "ERROR_TRACKING_ISSUE",
}


def case_public(case: Case) -> CasePublic:
    status, status_group, status_name = _STATUS_WIRE[case.status]
    return CasePublic(
        id=case.id,
        type="case",
        attributes=CaseAttributesPublic(
            archived_at=optional_rfc3339(case.archived_at),
            attributes=case.attributes,
            closed_at=optional_rfc3339(case.closed_at),
            comment_count=case.comment_count,
            created_at=rfc3339(case.created_at),
            creation_source=case.creation_source,
            custom_attributes=case.custom_attributes,
            description=case.description,
            due_date=None if case.due_date is None else due_day(case.due_date),
            insights=[Insight(i.type, i.ref, i.resource_id) for i in case.insights],
            internal_id=case.id,
            jira_issue=_jira_issue(case.jira_issue),
            key=case.key,
            merge_status="NOT_MERGED",
            modified_at=optional_rfc3339(case.modified_at),
            priority=case.priority.value,
            public_id=case.public_id,
            resolved_reason=case.resolved_reason,
            service_now_ticket=_ticket(case.service_now_ticket),
            status=status,  # type: ignore[arg-type]
            status_group=status_group,  # type: ignore[arg-type]
            status_name=case.status_name or status_name,
            title=case.title,
            type=_TYPE_WIRE.get(case.type_id, "TUNKNOWN"),
            type_id=case.type_id,
        ),
        relationships=CaseRelationshipsPublic(
            assignee=None if case.assignee is None else link(case.assignee.id, "user"),
            created_by=None if case.created_by is None else link(case.created_by.id, "user"),
            modified_by=None if case.modified_by is None else link(case.modified_by.id, "user"),
            project=link(case.project_id, "project"),
        ),
    )


def _included_users(cases: list[Case]) -> list[IncludedUser]:
    return included_users(
        [
            ref
            for case in cases
            for ref in (case.created_by, case.assignee, case.modified_by)
            if ref is not None
        ]
    )


def included_users(refs: list[UserRef]) -> list[IncludedUser]:
    """The ``included`` user objects of ``refs``, once each."""
    seen = {ref.id: ref for ref in refs}
    return [
        IncludedUser(
            id=ref.id,
            type="user",
            attributes=IncludedUserAttributes(
                active=ref.active, email=ref.email, handle=ref.handle, name=ref.name or ""
            ),
        )
        for ref in seen.values()
    ]


def case_document(case: Case) -> CaseDocument:
    return CaseDocument(data=case_public(case), included=_included_users([case]))


def case_list(cases: list[Case], *, total: int, page: int, size: int) -> CaseList:
    return CaseList(
        data=[case_public(c) for c in cases],
        included=_included_users(cases),
        meta=CasesMeta(
            page=CasesPage(current=page, size=len(cases), total=math.ceil(total / size)),
            total_cases=total,
        ),
    )
