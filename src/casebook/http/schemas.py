"""Request bodies (msgspec Structs, validated while decoded) and response shapes.

Request structs ignore fields they do not declare: server-owned fields that a
client sends (``id``, ``key``, ``created_at``, ``created_by``, another org...)
are never read, so they cannot be assigned (one rule, tested in
tests/http/test_mass_assignment.py).

Responses are built as plain dicts in Datadog's JSON:API shapes and encoded
with msgspec; unset optional members are omitted rather than null.
"""

from __future__ import annotations

import math
import time
from typing import Any

import msgspec

from casebook.domain.models import Case, Project, User, UserRef

# --- requests -------------------------------------------------------------------


class Relation(msgspec.Struct):
    id: str
    type: str


class RelationWrapper(msgspec.Struct):
    data: Relation | None = None


class CaseCreateAttributes(msgspec.Struct):
    title: str
    type_id: str | None = None
    type: str | None = None  # the seed's (older clients') way to say STANDARD
    priority: str = "NOT_DEFINED"
    description: str = ""
    status_name: str | None = None
    custom_attributes: dict[str, Any] | None = None


class CaseCreateRelationships(msgspec.Struct):
    project: RelationWrapper | None = None
    assignee: RelationWrapper | None = None


class CaseCreate(msgspec.Struct):
    type: str
    attributes: CaseCreateAttributes
    relationships: CaseCreateRelationships | None = None


class CaseCreateRequest(msgspec.Struct):
    data: CaseCreate


class StatusAttributes(msgspec.Struct):
    status: str | None = None
    status_name: str | None = None


class PriorityAttributes(msgspec.Struct):
    priority: str


class AssignAttributes(msgspec.Struct):
    assignee_id: str


class CaseStatusData(msgspec.Struct):
    type: str
    attributes: StatusAttributes


class CasePriorityData(msgspec.Struct):
    type: str
    attributes: PriorityAttributes


class CaseAssignData(msgspec.Struct):
    type: str
    attributes: AssignAttributes


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
    key: str
    name: str
    enabled_custom_case_types: list[str] | None = None
    team_uuid: str | None = None


class ProjectCreate(msgspec.Struct):
    type: str
    attributes: ProjectCreateAttributes


class ProjectCreateRequest(msgspec.Struct):
    data: ProjectCreate


class UserCreateAttributes(msgspec.Struct):
    email: str
    name: str | None = None
    title: str | None = None


class UserCreateData(msgspec.Struct):
    type: str
    attributes: UserCreateAttributes


class UserCreateRequest(msgspec.Struct):
    data: UserCreateData


class UserUpdateData(msgspec.Struct):
    id: str
    type: str
    attributes: dict[str, Any] = msgspec.field(default_factory=dict)


class UserUpdateRequest(msgspec.Struct):
    data: UserUpdateData


# --- responses ------------------------------------------------------------------


def rfc3339(us: int) -> str:
    """Case timestamps: RFC 3339, UTC, ``Z``, microseconds."""
    seconds, micros = divmod(us, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"


def isoformat(us: int) -> str:
    """Users API timestamps, as Python's isoformat: ``...+00:00``."""
    seconds, micros = divmod(us, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}+00:00"


def _user_link(ref: UserRef) -> dict[str, Any]:
    return {"data": {"id": ref.id, "type": "user"}}


def case_resource(case: Case) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "attributes": case.attributes,
        "comment_count": 0,
        "created_at": rfc3339(case.created_at),
        "creation_source": case.creation_source,
        "custom_attributes": case.custom_attributes,
        "description": case.description,
        "insights": [],
        "internal_id": case.id,
        "key": case.key,
        "merge_status": "NOT_MERGED",
        "priority": case.priority.value,
        "public_id": case.public_id,
        "status": case.status.value,
        "status_group": case.status.group,
        "status_name": case.status.display_name,
        "title": case.title,
        "type": "STANDARD",
        "type_id": case.type_id,
    }
    if case.archived_at is not None:
        attributes["archived_at"] = rfc3339(case.archived_at)
    if case.closed_at is not None:
        attributes["closed_at"] = rfc3339(case.closed_at)
    if case.modified_at is not None:
        attributes["modified_at"] = rfc3339(case.modified_at)
    relationships: dict[str, Any] = {
        "project": {"data": {"id": case.project_id, "type": "project"}},
    }
    if case.created_by is not None:
        relationships["created_by"] = _user_link(case.created_by)
    if case.assignee is not None:
        relationships["assignee"] = _user_link(case.assignee)
    if case.modified_by is not None:
        relationships["modified_by"] = _user_link(case.modified_by)
    return {
        "id": case.id,
        "type": "case",
        "attributes": attributes,
        "relationships": relationships,
    }


def _included_users(cases: list[Case]) -> list[dict[str, Any]]:
    seen: dict[str, UserRef] = {}
    for case in cases:
        for ref in (case.created_by, case.assignee, case.modified_by):
            if ref is not None and ref.id not in seen:
                seen[ref.id] = ref
    return [
        {
            "id": ref.id,
            "type": "user",
            "attributes": {
                "active": ref.active,
                "email": ref.email,
                "handle": ref.handle,
                "name": ref.name or "",
            },
        }
        for ref in seen.values()
    ]


def case_document(case: Case) -> dict[str, Any]:
    return {"data": case_resource(case), "included": _included_users([case])}


def cases_document(cases: list[Case], *, total: int, page: int, size: int) -> dict[str, Any]:
    return {
        "data": [case_resource(c) for c in cases],
        "included": _included_users(cases),
        "meta": {
            "page": {"current": page, "size": len(cases), "total": math.ceil(total / size)},
            "total_cases": total,
        },
    }


def project_resource(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "type": "project",
        "attributes": {
            "enabled_custom_case_types": project.enabled_custom_case_types,
            "key": project.key,
            "name": project.name,
            "restricted": False,
        },
    }


def user_resource(user: User) -> dict[str, Any]:
    return {
        "type": "users",
        "id": user.id,
        "attributes": {
            "name": user.name,
            "handle": user.handle,
            "created_at": isoformat(user.created_at),
            "modified_at": isoformat(user.modified_at),
            "email": user.email,
            "icon": "https://secure.gravatar.com/avatar/" + _gravatar(user.email) + "?s=48&d=retro",
            "title": user.title,
            "verified": False,
            "service_account": user.service_account,
            "disabled": user.disabled,
            "allowed_login_methods": [],
            "status": user.status.value,
            "last_login_time": None,
        },
        "relationships": {
            "roles": {"data": []},
            "org": {"data": {"type": "orgs", "id": user.org_id}},
        },
    }


def _gravatar(email: str) -> str:
    import hashlib

    return hashlib.md5(email.encode(), usedforsecurity=False).hexdigest()


encode = msgspec.json.encode


def check_user_changes(changes: dict[str, Any]) -> None:
    """Type-check the attributes of a user update (name/title nullable strings...)."""
    from casebook.errors import InvalidRequestError

    for name in ("name", "email"):
        if name in changes and not isinstance(changes[name], str):
            raise InvalidRequestError(f"invalid request body: {name} must be a string")
    if "title" in changes and not isinstance(changes["title"], str | None):
        raise InvalidRequestError("invalid request body: title must be a string or null")
    if "disabled" in changes and not isinstance(changes["disabled"], bool):
        raise InvalidRequestError("invalid request body: disabled must be a boolean")
