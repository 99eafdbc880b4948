"""Request bodies (msgspec Structs, validated while decoded) and response shapes.

Request structs ignore fields they do not declare: server-owned fields that a
client sends (``id``, ``key``, ``created_at``, ``created_by``, another org...)
are never read, so they cannot be assigned (one rule, tested in
tests/security/test_mass_assignment.py).

Responses are msgspec Structs in Datadog's JSON:API shapes (which also give
the OpenAPI document its schemas); unset optional members are omitted rather
than null.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Annotated, Any, Literal

import msgspec

from casebook.core.entities import Case, Project, Status, User, UserRef
from casebook.domain import limits

# --- requests -------------------------------------------------------------------


class Relation(msgspec.Struct):
    id: str
    type: str


class RelationWrapper(msgspec.Struct):
    data: Relation | None = None


Title = Annotated[str, msgspec.Meta(max_length=limits.MAX_TITLE_CHARS)]
Description = Annotated[str, msgspec.Meta(max_length=limits.MAX_DESCRIPTION_CHARS)]
Short = Annotated[str, msgspec.Meta(max_length=256)]


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


class StatusAttributes(msgspec.Struct):
    status: Short | None = None
    status_name: Short | None = None


class PriorityAttributes(msgspec.Struct):
    priority: Short


class AssignAttributes(msgspec.Struct):
    assignee_id: Short


class CaseStatusData(msgspec.Struct):
    type: str
    attributes: StatusAttributes | None = None  # checked after type, as Datadog does


class CasePriorityData(msgspec.Struct):
    type: str
    attributes: PriorityAttributes | None = None  # checked after type, as Datadog does


class CaseAssignData(msgspec.Struct):
    type: str
    attributes: AssignAttributes | None = None  # checked after type, as Datadog does


class CaseEmptyData(msgspec.Struct):
    type: str


class CaseStatusRequest(msgspec.Struct):
    data: CaseStatusData


class CasePriorityRequest(msgspec.Struct):
    data: CasePriorityData


class CaseAssignRequest(msgspec.Struct):
    data: CaseAssignData


class CaseEmptyRequest(msgspec.Struct):
    data: CaseEmptyData


class ProjectCreateAttributes(msgspec.Struct):
    key: Short
    name: Annotated[str, msgspec.Meta(max_length=limits.MAX_PROJECT_NAME_CHARS)]
    enabled_custom_case_types: Annotated[list[Short], msgspec.Meta(max_length=100)] | None = None
    team_uuid: Short | None = None


class ProjectCreate(msgspec.Struct):
    type: str
    attributes: ProjectCreateAttributes | None = None  # checked after type, as Datadog does


class ProjectCreateRequest(msgspec.Struct):
    data: ProjectCreate


class UserCreateAttributes(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(max_length=limits.MAX_EMAIL_CHARS)]
    name: Annotated[str, msgspec.Meta(max_length=limits.MAX_USER_NAME_CHARS)] | None = None
    title: Annotated[str, msgspec.Meta(max_length=limits.MAX_USER_TITLE_CHARS)] | None = None


class UserCreateData(msgspec.Struct):
    type: str
    attributes: UserCreateAttributes | None = None  # checked after type, as Datadog does


class UserCreateRequest(msgspec.Struct):
    data: UserCreateData


class UserUpdateData(msgspec.Struct):
    id: str
    type: str
    attributes: dict[str, Any] = msgspec.field(default_factory=dict)


class UserUpdateRequest(msgspec.Struct):
    data: UserUpdateData


# --- responses ------------------------------------------------------------------
# Structs with ``omit_defaults``: a member whose value is its default (None) is
# left out, as Datadog leaves out unset attributes; members without a default
# are always present. Field order is the wire order.


class Link(msgspec.Struct):
    data: Relation


class CaseAttributesPublic(msgspec.Struct, kw_only=True, omit_defaults=True):
    archived_at: str | None = None
    attributes: dict[str, list[str]]
    closed_at: str | None = None
    comment_count: int
    created_at: str
    creation_source: str
    custom_attributes: dict[str, Any]
    description: str
    insights: list[dict[str, str]]
    internal_id: str
    key: str
    merge_status: str
    modified_at: str | None = None
    priority: Literal["NOT_DEFINED", "P1", "P2", "P3", "P4", "P5"]
    public_id: str
    status: Literal["OPEN", "IN_PROGRESS", "CLOSED"]
    status_group: Literal["SG_OPEN", "SG_IN_PROGRESS", "SG_CLOSED"]
    status_name: str
    title: str
    type: Literal["STANDARD"]
    type_id: str


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


class ProjectAttributesPublic(msgspec.Struct):
    enabled_custom_case_types: list[str]
    key: str
    name: str
    restricted: bool


class ProjectPublic(msgspec.Struct):
    id: str
    type: Literal["project"]
    attributes: ProjectAttributesPublic


class ProjectDocument(msgspec.Struct):
    data: ProjectPublic


class ProjectList(msgspec.Struct):
    data: list[ProjectPublic]


class UserAttributesPublic(msgspec.Struct):
    name: str | None
    handle: str
    created_at: str
    modified_at: str
    email: str
    icon: str
    title: str | None
    verified: bool
    service_account: bool
    disabled: bool
    allowed_login_methods: list[str]
    status: Literal["Active", "Pending", "Disabled"]
    last_login_time: str | None


class RoleList(msgspec.Struct):
    data: list[Relation]


class UserRelationshipsPublic(msgspec.Struct):
    roles: RoleList
    org: Link


class UserPublic(msgspec.Struct):
    type: Literal["users"]
    id: str
    attributes: UserAttributesPublic
    relationships: UserRelationshipsPublic


class UserDocument(msgspec.Struct):
    data: UserPublic


class UsersPage(msgspec.Struct):
    total_count: int
    total_filtered_count: int


class UsersMeta(msgspec.Struct):
    page: UsersPage


class UserList(msgspec.Struct):
    data: list[UserPublic]
    meta: UsersMeta


def rfc3339(us: int) -> str:
    """Case timestamps: RFC 3339, UTC, ``Z``, microseconds."""
    seconds, micros = divmod(us, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"


def isoformat(us: int) -> str:
    """Users API timestamps, as Python's isoformat: ``...+00:00``."""
    seconds, micros = divmod(us, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}+00:00"


def _link(id: str, type: str) -> Link:
    return Link(Relation(id=id, type=type))


def _optional_time(us: int | None) -> str | None:
    return None if us is None else rfc3339(us)


# Per status: (status, status_group, status_name) as sent; looked up once per case.
_STATUS_WIRE = {status: (status.value, status.group, status.display_name) for status in Status}


def case_public(case: Case) -> CasePublic:
    status, status_group, status_name = _STATUS_WIRE[case.status]
    return CasePublic(
        id=case.id,
        type="case",
        attributes=CaseAttributesPublic(
            archived_at=_optional_time(case.archived_at),
            attributes=case.attributes,
            closed_at=_optional_time(case.closed_at),
            comment_count=0,
            created_at=rfc3339(case.created_at),
            creation_source=case.creation_source,
            custom_attributes=case.custom_attributes,
            description=case.description,
            insights=[],
            internal_id=case.id,
            key=case.key,
            merge_status="NOT_MERGED",
            modified_at=_optional_time(case.modified_at),
            priority=case.priority.value,
            public_id=case.public_id,
            status=status,  # type: ignore[arg-type]
            status_group=status_group,  # type: ignore[arg-type]
            status_name=status_name,
            title=case.title,
            type="STANDARD",
            type_id=case.type_id,
        ),
        relationships=CaseRelationshipsPublic(
            assignee=None if case.assignee is None else _link(case.assignee.id, "user"),
            created_by=None if case.created_by is None else _link(case.created_by.id, "user"),
            modified_by=None if case.modified_by is None else _link(case.modified_by.id, "user"),
            project=_link(case.project_id, "project"),
        ),
    )


def _included_users(cases: list[Case]) -> list[IncludedUser]:
    seen: dict[str, UserRef] = {}
    for case in cases:
        for ref in (case.created_by, case.assignee, case.modified_by):
            if ref is not None and ref.id not in seen:
                seen[ref.id] = ref
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


def project_public(project: Project) -> ProjectPublic:
    return ProjectPublic(
        id=project.id,
        type="project",
        attributes=ProjectAttributesPublic(
            enabled_custom_case_types=project.enabled_custom_case_types,
            key=project.key,
            name=project.name,
            restricted=False,
        ),
    )


def user_public(user: User) -> UserPublic:
    return UserPublic(
        type="users",
        id=user.id,
        attributes=UserAttributesPublic(
            name=user.name,
            handle=user.handle,
            created_at=isoformat(user.created_at),
            modified_at=isoformat(user.modified_at),
            email=user.email,
            icon=f"https://secure.gravatar.com/avatar/{_gravatar(user.email)}?s=48&d=retro",
            title=user.title,
            verified=False,
            service_account=user.service_account,
            disabled=user.disabled,
            allowed_login_methods=[],
            status=user.status.value,
            last_login_time=None,
        ),
        relationships=UserRelationshipsPublic(
            roles=RoleList(data=[]), org=_link(user.org_id, "orgs")
        ),
    )


def _gravatar(email: str) -> str:
    return hashlib.md5(email.encode(), usedforsecurity=False).hexdigest()


def check_user_changes(changes: dict[str, Any]) -> None:
    """Type-check the attributes of a user update (name/title nullable strings...)."""
    from casebook.core.errors import InvalidRequestError

    for name in ("name", "email"):
        if name in changes and not isinstance(changes[name], str):
            raise InvalidRequestError(f"invalid request body: {name} must be a string")
    if "title" in changes and not isinstance(changes["title"], str | None):
        raise InvalidRequestError("invalid request body: title must be a string or null")
    if "disabled" in changes and not isinstance(changes["disabled"], bool):
        raise InvalidRequestError("invalid request body: disabled must be a boolean")
