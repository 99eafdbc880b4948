"""Users API shapes (``/api/v2/users``), as Datadog's Users API sends them."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

import msgspec

from casebook.core.entities import User
from casebook.core.errors import InvalidRequestError
from casebook.domain import limits
from casebook.http.schemas.common import Link, Relation, isoformat, link


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
            roles=RoleList(data=[]), org=link(user.org_id, "orgs")
        ),
    )


def _gravatar(email: str) -> str:
    return hashlib.md5(email.encode(), usedforsecurity=False).hexdigest()


def check_user_changes(changes: dict[str, Any]) -> None:
    """Type-check the attributes of a user update (name/title nullable strings...)."""
    for name in ("name", "email"):
        if name in changes and not isinstance(changes[name], str):
            raise InvalidRequestError(f"invalid request body: {name} must be a string")
    if "title" in changes and not isinstance(changes["title"], str | None):
        raise InvalidRequestError("invalid request body: title must be a string or null")
    if "disabled" in changes and not isinstance(changes["disabled"], bool):
        raise InvalidRequestError("invalid request body: disabled must be a boolean")
