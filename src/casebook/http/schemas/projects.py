"""Project shapes: ``/api/v2/cases/projects``."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from casebook.core.entities import Project
from casebook.domain import limits
from casebook.http.schemas.common import Short


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


def project_document(project: Project) -> ProjectDocument:
    return ProjectDocument(project_public(project))
