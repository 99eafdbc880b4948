"""Maintenance window shapes: ``/api/v2/maintenance_windows``."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from casebook.core.entities import MaintenanceWindow
from casebook.domain import limits
from casebook.http.schemas.common import rfc3339
from casebook.search import MAX_QUERY_LENGTH

Name = Annotated[str, msgspec.Meta(max_length=limits.MAX_WINDOW_NAME_CHARS)]
Query = Annotated[str, msgspec.Meta(max_length=MAX_QUERY_LENGTH)]
Time = Annotated[str, msgspec.Meta(max_length=64)]  # RFC 3339, checked by the domain


class MaintenanceWindowCreateAttributes(msgspec.Struct):
    end_at: Time
    name: Name
    query: Query
    start_at: Time


class MaintenanceWindowCreate(msgspec.Struct):
    type: str
    attributes: MaintenanceWindowCreateAttributes | None = None  # checked after type


class MaintenanceWindowCreateRequest(msgspec.Struct):
    data: MaintenanceWindowCreate


class MaintenanceWindowUpdateAttributes(msgspec.Struct):
    end_at: Time | None = None
    name: Name | None = None
    query: Query | None = None
    start_at: Time | None = None


class MaintenanceWindowUpdate(msgspec.Struct):
    type: str
    attributes: MaintenanceWindowUpdateAttributes | None = None


class MaintenanceWindowUpdateRequest(msgspec.Struct):
    data: MaintenanceWindowUpdate


class MaintenanceWindowAttributesPublic(msgspec.Struct, omit_defaults=True):
    end_at: str
    name: str
    query: str
    start_at: str
    created_by: str | None = None
    updated_by: str | None = None


class MaintenanceWindowPublic(msgspec.Struct):
    id: str
    type: Literal["maintenance_window"]
    attributes: MaintenanceWindowAttributesPublic


class MaintenanceWindowDocument(msgspec.Struct):
    data: MaintenanceWindowPublic


class MaintenanceWindowList(msgspec.Struct):
    data: list[MaintenanceWindowPublic]


def window_public(window: MaintenanceWindow) -> MaintenanceWindowPublic:
    return MaintenanceWindowPublic(
        id=window.id,
        type="maintenance_window",
        attributes=MaintenanceWindowAttributesPublic(
            end_at=rfc3339(window.end_at),
            name=window.name,
            query=window.query,
            start_at=rfc3339(window.start_at),
            created_by=window.created_by,
            updated_by=window.modified_by,
        ),
    )
