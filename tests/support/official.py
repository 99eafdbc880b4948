"""The official Python client (``datadog-api-client``) against a live server: setting up data."""

from __future__ import annotations

from typing import Any

from datadog_api_client.v2.api.case_management_api import CaseManagementApi
from datadog_api_client.v2.models import (
    CaseCreate,
    CaseCreateAttributes,
    CaseCreateRelationships,
    CaseCreateRequest,
    CaseResourceType,
    ProjectCreate,
    ProjectCreateAttributes,
    ProjectCreateRequest,
    ProjectRelationship,
    ProjectRelationshipData,
    ProjectResourceType,
)

from casebook.core.entities import STANDARD_CASE_TYPE_ID


def new_project_and_case(api: CaseManagementApi, key: str, title: str) -> str:
    """Create project ``key`` and its first case (``KEY-1``) with the client; the case's id."""
    project = api.create_project(
        body=ProjectCreateRequest(
            data=ProjectCreate(
                type=ProjectResourceType.PROJECT,
                attributes=ProjectCreateAttributes(key=key, name=f"{key} project"),
            )
        )
    )
    case = api.create_case(
        body=CaseCreateRequest(
            data=CaseCreate(
                type=CaseResourceType.CASE,
                attributes=CaseCreateAttributes(title=title, type_id=STANDARD_CASE_TYPE_ID),
                relationships=CaseCreateRelationships(
                    project=ProjectRelationship(
                        data=ProjectRelationshipData(
                            id=project.data.id, type=ProjectResourceType.PROJECT
                        )
                    )
                ),
            )
        )
    )
    return str(case.data.id)


def parsed(response: Any) -> Any:
    """The response, after checking the client's models read all of it."""
    assert response is not None
    assert not getattr(response, "_unparsed", False), f"client could not parse: {response}"
    return response
