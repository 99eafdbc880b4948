"""Saved view shapes: ``/api/v2/cases/views``."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from casebook.core.entities import CaseView
from casebook.domain import limits
from casebook.http.schemas.common import Link, Short, link, optional_rfc3339, rfc3339
from casebook.search import MAX_QUERY_LENGTH

Name = Annotated[str, msgspec.Meta(max_length=limits.MAX_VIEW_NAME_CHARS)]
Query = Annotated[str, msgspec.Meta(max_length=MAX_QUERY_LENGTH)]


class ViewCreateAttributes(msgspec.Struct):
    name: Name
    project_id: Short
    query: Query
    np_rule_id: Short | None = None


class ViewCreate(msgspec.Struct):
    type: str
    attributes: ViewCreateAttributes | None = None  # checked after type


class ViewCreateRequest(msgspec.Struct):
    data: ViewCreate


class ViewUpdateAttributes(msgspec.Struct):
    name: Name | None = None
    query: Query | None = None
    np_rule_id: Short | None = None


class ViewUpdate(msgspec.Struct):
    type: str
    attributes: ViewUpdateAttributes | None = None


class ViewUpdateRequest(msgspec.Struct):
    data: ViewUpdate


class ViewAttributesPublic(msgspec.Struct, omit_defaults=True):
    created_at: str
    name: str
    query: str
    modified_at: str | None = None
    np_rule_id: str | None = None


class ViewRelationshipsPublic(msgspec.Struct, kw_only=True, omit_defaults=True):
    created_by: Link | None = None
    modified_by: Link | None = None
    project: Link


class ViewPublic(msgspec.Struct):
    id: str
    type: Literal["view"]
    attributes: ViewAttributesPublic
    relationships: ViewRelationshipsPublic


class ViewDocument(msgspec.Struct):
    data: ViewPublic


class ViewList(msgspec.Struct):
    data: list[ViewPublic]


def view_public(view: CaseView) -> ViewPublic:
    return ViewPublic(
        id=view.id,
        type="view",
        attributes=ViewAttributesPublic(
            created_at=rfc3339(view.created_at),
            name=view.name,
            query=view.query,
            modified_at=optional_rfc3339(view.modified_at),
            np_rule_id=view.np_rule_id,
        ),
        relationships=ViewRelationshipsPublic(
            created_by=None if view.created_by is None else link(view.created_by, "user"),
            modified_by=None if view.modified_by is None else link(view.modified_by, "user"),
            project=link(view.project_id, "project"),
        ),
    )
