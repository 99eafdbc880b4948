"""The official Python client (``datadog-api-client``) against a live ``casebook serve``.

Only the host changes; client-side validation stays on, so every response is
parsed into the client's models. ``_unparsed`` marks any value the models could
not read (an unknown enum value, a wrong type), so every response is checked for it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from datadog_api_client import ApiClient
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v2.api.case_management_api import CaseManagementApi
from datadog_api_client.v2.api.users_api import UsersApi
from datadog_api_client.v2.models import (
    CaseAssign,
    CaseAssignAttributes,
    CaseAssignRequest,
    CaseCreate,
    CaseCreateAttributes,
    CaseCreateRelationships,
    CaseCreateRequest,
    CaseEmpty,
    CaseEmptyRequest,
    CasePriority,
    CaseResourceType,
    CaseStatus,
    CaseUpdatePriority,
    CaseUpdatePriorityAttributes,
    CaseUpdatePriorityRequest,
    CaseUpdateStatus,
    CaseUpdateStatusAttributes,
    CaseUpdateStatusRequest,
    NullableUserRelationship,
    NullableUserRelationshipData,
    ProjectCreate,
    ProjectCreateAttributes,
    ProjectCreateRequest,
    ProjectRelationship,
    ProjectRelationshipData,
    ProjectResourceType,
    UserCreateAttributes,
    UserCreateData,
    UserCreateRequest,
    UserResourceType,
    UsersType,
    UserUpdateAttributes,
    UserUpdateData,
    UserUpdateRequest,
)

from tests.e2e.conftest import TIMEOUT, make_client
from tests.support.server import Keys, ServerProcess, new_keys, running_server

pytestmark = pytest.mark.slow

STANDARD = "00000000-0000-0000-0000-000000000001"


@pytest.fixture
def server(database_url: str, keys: Keys) -> Iterator[ServerProcess]:
    with running_server(database_url, keys) as server:
        yield server


@pytest.fixture
def api_client(server: ServerProcess, keys: Keys) -> Iterator[ApiClient]:
    with make_client(server, keys) as client:
        yield client


def parsed(response: Any) -> Any:
    """The response, after checking the client's models read all of it."""
    assert not getattr(response, "_unparsed", False), f"client could not parse: {response}"
    return response


def error_body(exc: ApiException) -> Any:
    """The JSON error body (the client has usually decoded it already)."""
    body = exc.body
    return json.loads(body) if isinstance(body, str | bytes) else body


# --- request bodies ------------------------------------------------------------
def project_body(key: str, name: str) -> ProjectCreateRequest:
    return ProjectCreateRequest(
        data=ProjectCreate(
            attributes=ProjectCreateAttributes(key=key, name=name),
            type=ProjectResourceType.PROJECT,
        )
    )


def case_body(
    project_id: str, title: str, *, assignee_id: str | None = None, priority: str = "P4"
) -> CaseCreateRequest:
    relationships = CaseCreateRelationships(
        project=ProjectRelationship(
            data=ProjectRelationshipData(id=project_id, type=ProjectResourceType.PROJECT)
        )
    )
    if assignee_id is not None:
        relationships.assignee = NullableUserRelationship(
            data=NullableUserRelationshipData(id=assignee_id, type=UserResourceType.USER)
        )
    return CaseCreateRequest(
        data=CaseCreate(
            attributes=CaseCreateAttributes(
                title=title, type_id=STANDARD, priority=CasePriority(priority)
            ),
            relationships=relationships,
            type=CaseResourceType.CASE,
        )
    )


def status_body(status: str) -> CaseUpdateStatusRequest:
    return CaseUpdateStatusRequest(
        data=CaseUpdateStatus(
            attributes=CaseUpdateStatusAttributes(status=CaseStatus(status)),
            type=CaseResourceType.CASE,
        )
    )


def priority_body(priority: str) -> CaseUpdatePriorityRequest:
    return CaseUpdatePriorityRequest(
        data=CaseUpdatePriority(
            attributes=CaseUpdatePriorityAttributes(priority=CasePriority(priority)),
            type=CaseResourceType.CASE,
        )
    )


def empty_body() -> CaseEmptyRequest:
    return CaseEmptyRequest(data=CaseEmpty(type=CaseResourceType.CASE))


def create_user(users: UsersApi, email: str, name: str) -> Any:
    body = UserCreateRequest(
        data=UserCreateData(
            attributes=UserCreateAttributes(email=email, name=name, title="Analyst"),
            type=UsersType.USERS,
        )
    )
    return parsed(users.create_user(body=body))


def included_user_ids(response: Any) -> set[str]:
    # ``included`` is not in the client's CaseResponse model: it arrives as plain dicts.
    return {item["id"] for item in response["included"] if item["type"] == "user"}


def has(model: Any, name: str) -> bool:
    """Whether the response carried ``name`` (absent, not null, when unset)."""
    return name in model.to_dict()


# --- the whole flow --------------------------------------------------------------
def test_full_flow(api_client: ApiClient) -> None:
    cases = CaseManagementApi(api_client)
    users = UsersApi(api_client)

    # users
    alice = create_user(users, "Alice.Analyst@Example.com", "Alice Analyst")
    assert alice.data.type == UsersType.USERS
    assert alice.data.attributes.email == "alice.analyst@example.com"
    assert alice.data.attributes.disabled is False
    bob = create_user(users, "bob@example.com", "Bob Builder")
    alice_id, bob_id = alice.data.id, bob.data.id

    # project
    project = parsed(cases.create_project(body=project_body("SEC", "Security Investigation")))
    project_id = project.data.id
    assert project.data.type == ProjectResourceType.PROJECT
    assert project.data.attributes.key == "SEC"
    assert project.data.attributes.name == "Security Investigation"

    # case, with alice as assignee
    created = parsed(
        cases.create_case(body=case_body(project_id, "Suspicious login", assignee_id=alice_id))
    )
    case = created.data
    case_id = case.id
    assert case.type == CaseResourceType.CASE
    assert case.attributes.key == "SEC-1"
    assert case.attributes.title == "Suspicious login"
    assert case.attributes.status == CaseStatus.OPEN
    assert case.attributes.priority == CasePriority.P4
    assert case.attributes.type_id == STANDARD
    assert case.relationships.project.data.id == project_id
    assert case.relationships.assignee.data.id == alice_id
    assert alice_id in included_user_ids(created)
    assert not has(case.attributes, "archived_at")
    assert not has(case.attributes, "closed_at")

    # get by UUID and by key
    by_id = parsed(cases.get_case(case_id=case_id))
    by_key = parsed(cases.get_case(case_id="SEC-1"))
    assert by_id.data.id == by_key.data.id == case_id
    assert by_key.data.attributes.title == "Suspicious login"

    # status: IN_PROGRESS, CLOSED, OPEN
    r = parsed(cases.update_status(case_id=case_id, body=status_body("IN_PROGRESS")))
    assert r.data.attributes.status == CaseStatus.IN_PROGRESS
    assert has(r.data.attributes, "modified_at")
    assert r.data.relationships.modified_by.data.id
    r = parsed(cases.update_status(case_id="SEC-1", body=status_body("CLOSED")))
    assert r.data.attributes.status == CaseStatus.CLOSED
    assert r.data.attributes.closed_at is not None
    r = parsed(cases.update_status(case_id=case_id, body=status_body("OPEN")))
    assert r.data.attributes.status == CaseStatus.OPEN

    # priority
    r = parsed(cases.update_priority(case_id=case_id, body=priority_body("P2")))
    assert r.data.attributes.priority == CasePriority.P2

    # assign to bob, then unassign
    r = parsed(
        cases.assign_case(
            case_id=case_id,
            body=CaseAssignRequest(
                data=CaseAssign(
                    attributes=CaseAssignAttributes(assignee_id=bob_id),
                    type=CaseResourceType.CASE,
                )
            ),
        )
    )
    assert r.data.relationships.assignee.data.id == bob_id
    assert bob_id in included_user_ids(r)
    r = parsed(cases.unassign_case(case_id=case_id, body=empty_body()))
    assert not has(r.data.relationships, "assignee")

    # archive, unarchive
    r = parsed(cases.archive_case(case_id=case_id, body=empty_body()))
    assert r.data.attributes.archived_at is not None
    assert r.data.attributes.status == CaseStatus.OPEN
    r = parsed(cases.unarchive_case(case_id=case_id, body=empty_body()))
    assert not has(r.data.attributes, "archived_at")
    got = parsed(cases.get_case(case_id=case_id))
    assert got.data.attributes.priority == CasePriority.P2
    assert not has(got.data.relationships, "assignee")

    # projects: list, get, delete; the deleted project's cases are gone
    other = parsed(cases.create_project(body=project_body("OPS", "Operations")))
    listed = parsed(cases.get_projects())
    assert {p.id for p in listed.data} >= {project_id, other.data.id}
    got_project = parsed(cases.get_project(project_id=project_id))
    assert got_project.data.attributes.key == "SEC"
    assert cases.delete_project(project_id=project_id) is None
    for lookup in (case_id, "SEC-1"):
        with pytest.raises(ApiException) as exc:
            cases.get_case(case_id=lookup)
        assert exc.value.status == 404
    with pytest.raises(ApiException) as exc:
        cases.get_project(project_id=project_id)
    assert exc.value.status == 404
    assert project_id not in {p.id for p in parsed(cases.get_projects()).data}

    # users: list (filtered), get, update, disable
    found = parsed(users.list_users(filter="alice.analyst@example.com"))
    assert [u.id for u in found.data] == [alice_id]
    assert found.meta.page.total_filtered_count == 1
    got_user = parsed(users.get_user(user_id=alice_id))
    assert got_user.data.attributes.name == "Alice Analyst"
    updated = parsed(
        users.update_user(
            user_id=bob_id,
            body=UserUpdateRequest(
                data=UserUpdateData(
                    id=bob_id,
                    type=UsersType.USERS,
                    attributes=UserUpdateAttributes(name="Robert Builder"),
                )
            ),
        )
    )
    assert updated.data.attributes.name == "Robert Builder"
    assert users.disable_user(user_id=bob_id) is None
    assert parsed(users.get_user(user_id=bob_id)).data.attributes.disabled is True


# --- pagination ----------------------------------------------------------------
@pytest.mark.parametrize("page_size", [10, 5])
def test_search_pagination_returns_each_case_once(api_client: ApiClient, page_size: int) -> None:
    """25 cases: pages of 10 end on a short page, pages of 5 on an empty one."""
    cases = CaseManagementApi(api_client)
    project = parsed(cases.create_project(body=project_body("PAGE", "Paging")))
    made = [
        parsed(cases.create_case(body=case_body(project.data.id, f"case {i}"))).data.id
        for i in range(25)
    ]
    seen = [parsed(c).id for c in cases.search_cases_with_pagination(page_size=page_size)]
    assert len(seen) == 25
    assert sorted(seen) == sorted(made)

    last = parsed(cases.search_cases(page_size=10, page_number=3))
    assert len(last.data) == 5
    assert last.meta.page.current == 3
    assert last.meta.page.size == 5
    assert last.meta.page.total == 3


# --- error paths -----------------------------------------------------------------
def test_unknown_case_is_404(api_client: ApiClient) -> None:
    cases = CaseManagementApi(api_client)
    for case_id in (str(uuid.uuid4()), "NOPE-1"):
        with pytest.raises(ApiException) as exc:
            cases.get_case(case_id=case_id)
        assert exc.value.status == 404
        body = error_body(exc.value)
        assert body["errors"][0]["code"] == "resource_not_found"
        assert body["errors"][0]["title"] == "case not found"
    with pytest.raises(ApiException) as exc:
        cases.update_priority(case_id=str(uuid.uuid4()), body=priority_body("P1"))
    assert exc.value.status == 404
    with pytest.raises(ApiException) as exc:
        cases.get_project(project_id=str(uuid.uuid4()))
    assert exc.value.status == 404


def test_bad_priority_is_400(api_client: ApiClient, server: ServerProcess, keys: Keys) -> None:
    cases = CaseManagementApi(api_client)
    project = parsed(cases.create_project(body=project_body("BAD", "Bad input")))
    case_id = parsed(cases.create_case(body=case_body(project.data.id, "x"))).data.id
    # The client lets an unknown enum value through, so it sends P9 as is.
    with pytest.raises(ApiException) as exc:
        cases.update_priority(case_id=case_id, body=priority_body("P9"))
    assert exc.value.status == 400
    assert "P9" in error_body(exc.value)["errors"][0]["detail"]
    # The same request, raw.
    r = httpx.post(
        f"{server.base_url}/api/v2/cases/{case_id}/priority",
        json={"data": {"type": "case", "attributes": {"priority": "P1234"}}},
        headers=keys.headers,
        timeout=TIMEOUT,
    )
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/vnd.api+json"
    assert r.json()["errors"][0]["title"] == "Generic Error"
    assert "P1234" in r.json()["errors"][0]["detail"]
    assert parsed(cases.get_case(case_id=case_id)).data.attributes.priority == CasePriority.P4


def test_bad_keys_are_403(server: ServerProcess, keys: Keys) -> None:
    wrong = [
        Keys(new_keys().api_key, keys.app_key),
        Keys(keys.api_key, new_keys().app_key),
        Keys(keys.app_key, keys.api_key),
    ]
    for bad in wrong:
        with make_client(server, bad) as client:
            with pytest.raises(ApiException) as exc:
                CaseManagementApi(client).get_projects()
            assert exc.value.status == 403
            assert error_body(exc.value) == {"errors": ["Forbidden"]}
            with pytest.raises(ApiException) as exc:
                UsersApi(client).list_users()
            assert exc.value.status == 403
