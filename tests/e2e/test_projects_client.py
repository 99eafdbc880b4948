"""Project settings, favourites and saved views with the official Python client.

Against a live ``casebook serve`` per back end, with the client's model validation on:
``update_project`` (name and settings), the favourites calls, and the five view calls,
then the error answers Datadog recorded for ``update_project``.
"""

from __future__ import annotations

from typing import Any

import pytest
from datadog_api_client import ApiClient
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v2.api.case_management_api import CaseManagementApi
from datadog_api_client.v2.models import (
    CaseViewCreate,
    CaseViewCreateAttributes,
    CaseViewCreateRequest,
    CaseViewResourceType,
    CaseViewUpdate,
    CaseViewUpdateAttributes,
    CaseViewUpdateRequest,
    ProjectFavoriteResourceType,
    ProjectNotificationSettings,
    ProjectResourceType,
    ProjectSettings,
    ProjectUpdate,
    ProjectUpdateAttributes,
    ProjectUpdateRequest,
)

from tests.e2e.conftest import make_client
from tests.e2e.test_types_client import error_of
from tests.support.official import new_project_and_case, parsed
from tests.support.server import Keys, ServerProcess

pytestmark = pytest.mark.slow


def _project_of(cases: CaseManagementApi, case_id: str) -> str:
    return str(cases.get_case(case_id).data.relationships.project.data.id)


def _update(**attributes: Any) -> ProjectUpdateRequest:
    return ProjectUpdateRequest(
        data=ProjectUpdate(
            type=ProjectResourceType.PROJECT, attributes=ProjectUpdateAttributes(**attributes)
        )
    )


def test_project_settings_favourites_and_views(live_server: tuple[ServerProcess, Keys]) -> None:
    server, keys = live_server
    client: ApiClient
    with make_client(server, keys) as client:
        cases = CaseManagementApi(client)
        sec = _project_of(cases, new_project_and_case(cases, "SEC", "Phishing wave"))
        ops = _project_of(cases, new_project_and_case(cases, "OPS", "Disk full"))

        # UpdateProject: a new name, and notification settings merged into the defaults.
        settings = ProjectSettings(
            notification=ProjectNotificationSettings(enabled=False, destinations=[1, 2])
        )
        updated = parsed(
            cases.update_project(sec, body=_update(name="Security operations", settings=settings))
        )
        attributes = updated.data.attributes
        assert (updated.data.id, attributes.key, attributes.name) == (
            sec,
            "SEC",
            "Security operations",
        )
        notification = attributes.settings.notification
        assert notification.enabled is False and notification.destinations == [1, 2]
        assert notification.notify_on_case_closed is True
        assert parsed(cases.get_project(sec)).data.attributes.name == "Security operations"

        # Favourites: idempotent both ways, the caller's own.
        assert parsed(cases.list_user_case_project_favorites()).data == []
        for project in (ops, sec, ops):
            assert cases.favorite_case_project(project) is None
        favorites = parsed(cases.list_user_case_project_favorites()).data
        assert [(f.id, f.type) for f in favorites] == [
            (ops, ProjectFavoriteResourceType.PROJECT_FAVORITE),
            (sec, ProjectFavoriteResourceType.PROJECT_FAVORITE),
        ]
        for _ in range(2):
            assert cases.unfavorite_case_project(ops) is None
        assert [f.id for f in parsed(cases.list_user_case_project_favorites()).data] == [sec]

        # Views: create, list, get, update, delete.
        made = parsed(
            cases.create_case_view(
                body=CaseViewCreateRequest(
                    data=CaseViewCreate(
                        type=CaseViewResourceType.VIEW,
                        attributes=CaseViewCreateAttributes(
                            name="Open P1s", project_id=sec, query="status:open priority:P1"
                        ),
                    )
                )
            )
        )
        view = made.data
        assert view.type == CaseViewResourceType.VIEW
        assert (view.attributes.name, view.attributes.query) == (
            "Open P1s",
            "status:open priority:P1",
        )
        assert view.relationships.project.data.id == sec
        listed = parsed(cases.list_case_views(project_id=sec)).data
        assert [v.id for v in listed] == [view.id]
        assert parsed(cases.list_case_views(project_id=ops)).data == []
        assert parsed(cases.get_case_view(view.id)).data.attributes.name == "Open P1s"
        changed = parsed(
            cases.update_case_view(
                view.id,
                body=CaseViewUpdateRequest(
                    data=CaseViewUpdate(
                        type=CaseViewResourceType.VIEW,
                        attributes=CaseViewUpdateAttributes(name="Phishing", query="phishing"),
                    )
                ),
            )
        ).data
        assert (changed.attributes.name, changed.attributes.query) == ("Phishing", "phishing")
        assert changed.attributes.modified_at is not None
        # Its cases: the search its project and its query make (docs/api.md); OPS has none.
        new_project_and_case(cases, "OPS2", "Phishing elsewhere")
        found = parsed(cases.search_cases(filter=f"project_id:{sec} ({changed.attributes.query})"))
        assert [c.attributes.key for c in found.data] == ["SEC-1"]
        assert cases.delete_case_view(view.id) is None
        with pytest.raises(ApiException) as caught:
            cases.get_case_view(view.id)
        assert caught.value.status == 404


def test_update_project_recorded_errors(live_server: tuple[ServerProcess, Keys]) -> None:
    """As Datadog's recordings show: a wrong type names it; an unknown project says what
    failed."""
    server, keys = live_server
    with make_client(server, keys) as client:
        cases = CaseManagementApi(client)
        sec = _project_of(cases, new_project_and_case(cases, "DDFC", "Fixture"))
        body = ProjectUpdateRequest(data=ProjectUpdate(type=ProjectResourceType("invalid_type")))
        with pytest.raises(ApiException) as caught:
            cases.update_project(sec, body=body)
        assert caught.value.status == 400
        assert error_of(caught.value) == {
            "status": "400",
            "title": "Bad Request",
            "detail": 'got type "invalid_type" expected one of "project"',
        }
        with pytest.raises(ApiException) as caught:
            cases.update_project(
                "67d80aa3-36ff-44b9-a694-c501a7591737", body=_update(name="Updated Project Name")
            )
        assert caught.value.status == 404
        error = error_of(caught.value)
        assert (error["code"], error["title"]) == (
            "resource_not_found",
            "failed to get project: project not found",
        )
