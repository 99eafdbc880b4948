"""BulkUpdateCases end to end: the official Python client, and concurrent bulks on PostgreSQL.

The client's ``bulk_update_cases`` declares no answer (``None``) and accepts any
content type: casebook answers 200 with no body. Each action the client knows
is sent through it, and every case it changed is read back with the client's
models. Then two servers on one PostgreSQL database take bulks of the same cases
from several clients at once, each listing them in its own order: casebook locks
a bulk's cases in the order of their ids, so none waits for another in a cycle,
and every bulk succeeds (a deadlock would be a 503).
"""

from __future__ import annotations

import json
import random
import secrets
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from itertools import pairwise
from typing import Any

import httpx2 as httpx
import pytest
from datadog_api_client import ApiClient
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v2.api.case_management_api import CaseManagementApi
from datadog_api_client.v2.api.users_api import UsersApi
from datadog_api_client.v2.models import (
    CaseBulkActionType,
    CaseBulkResourceType,
    CaseBulkUpdateRequest,
    CaseBulkUpdateRequestAttributes,
    CaseBulkUpdateRequestData,
    CaseCreate,
    CaseCreateAttributes,
    CaseCreateRelationships,
    CaseCreateRequest,
    CasePriority,
    CaseResourceType,
    CaseStatus,
    ProjectCreate,
    ProjectCreateAttributes,
    ProjectCreateRequest,
    ProjectRelationship,
    ProjectRelationshipData,
    ProjectResourceType,
    UserCreateAttributes,
    UserCreateData,
    UserCreateRequest,
    UsersType,
)

from casebook.core.entities import STANDARD_CASE_TYPE_ID
from tests.e2e.conftest import TIMEOUT, make_client
from tests.support.errors import as_recorded
from tests.support.official import parsed
from tests.support.postgres import PostgresCluster
from tests.support.server import Keys, ServerProcess, new_keys, running_server

pytestmark = pytest.mark.slow


def bulk_body(
    case_ids: list[str], action: str, payload: dict[str, str] | None = None
) -> CaseBulkUpdateRequest:
    extra = {} if payload is None else {"payload": payload}
    return CaseBulkUpdateRequest(
        data=CaseBulkUpdateRequestData(
            type=CaseBulkResourceType.BULK,
            attributes=CaseBulkUpdateRequestAttributes(
                case_ids=case_ids, type=CaseBulkActionType(action), **extra
            ),
        )
    )


def new_project(cases: CaseManagementApi, key: str) -> str:
    body = ProjectCreateRequest(
        data=ProjectCreate(
            type=ProjectResourceType.PROJECT,
            attributes=ProjectCreateAttributes(key=key, name=f"{key} project"),
        )
    )
    return str(parsed(cases.create_project(body=body)).data.id)


def new_case(cases: CaseManagementApi, project_id: str, title: str) -> Any:
    body = CaseCreateRequest(
        data=CaseCreate(
            type=CaseResourceType.CASE,
            attributes=CaseCreateAttributes(title=title, type_id=STANDARD_CASE_TYPE_ID),
            relationships=CaseCreateRelationships(
                project=ProjectRelationship(
                    data=ProjectRelationshipData(id=project_id, type=ProjectResourceType.PROJECT)
                )
            ),
        )
    )
    return parsed(cases.create_case(body=body)).data


def refused(status: int, call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The one error object of a call the server answers with ``status``."""
    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    assert caught.value.status == status, caught.value.body
    body = caught.value.body
    errors = (json.loads(body) if isinstance(body, str | bytes) else body)["errors"]
    assert len(errors) == 1, errors
    return dict(as_recorded(errors[0]))


def test_bulk_update_cases_with_the_official_client(
    live_server: tuple[ServerProcess, Keys],
) -> None:
    server, keys = live_server
    client: ApiClient
    with make_client(server, keys) as client:
        cases = CaseManagementApi(client)
        project = new_project(cases, "SEC")
        made = [new_case(cases, project, f"case {n}") for n in range(4)]
        ids = [c.id for c in made]
        refs = [ids[0], "SEC-2", "sec-03", ids[3]]  # UUIDs and keys, as the client sends them
        user = UsersApi(client).create_user(
            body=UserCreateRequest(
                data=UserCreateData(
                    type=UsersType.USERS,
                    attributes=UserCreateAttributes(email="analyst@example.com", name="Analyst"),
                )
            )
        )

        def read() -> list[Any]:
            return [parsed(cases.get_case(case_id=case_id)).data for case_id in ids]

        assert cases.bulk_update_cases(body=bulk_body(refs, "priority", {"priority": "P1"})) is None
        assert [c.attributes.priority for c in read()] == [CasePriority.P1] * 4

        cases.bulk_update_cases(body=bulk_body(refs, "status", {"status": "IN_PROGRESS"}))
        assert [c.attributes.status for c in read()] == [CaseStatus.IN_PROGRESS] * 4
        cases.bulk_update_cases(body=bulk_body(refs, "status", {"status_name": "Closed"}))
        assert all(c.attributes.status == CaseStatus.CLOSED for c in read())
        assert all(c.attributes.closed_at is not None for c in read())

        cases.bulk_update_cases(body=bulk_body(refs, "assign", {"assignee_id": user.data.id}))
        assert {c.relationships.assignee.data.id for c in read()} == {user.data.id}
        cases.bulk_update_cases(body=bulk_body(refs[:2], "unassign"))
        assert [c.relationships.get("assignee") is None for c in read()] == [
            True,
            True,
            False,
            False,
        ]

        cases.bulk_update_cases(body=bulk_body(refs, "archive"))
        assert all(c.attributes.archived_at is not None for c in read())
        cases.bulk_update_cases(body=bulk_body(refs, "unarchive"))
        assert all(c.attributes.get("archived_at") is None for c in read())

        net = new_project(cases, "NET")
        cases.bulk_update_cases(body=bulk_body(refs, "update_project", {"project_id": net}))
        moved = read()
        assert [c.attributes.key for c in moved] == ["NET-1", "NET-2", "NET-3", "NET-4"]
        assert {c.relationships.project.data.id for c in moved} == {net}
        assert parsed(cases.get_case(case_id="SEC-2")).data.id == ids[1]

        # Refusals, in the case API's error shape; nothing changes.
        error = refused(
            404,
            cases.bulk_update_cases,
            body=bulk_body([*refs, "SEC-99"], "priority", {"priority": "P2"}),
        )
        assert error == {
            "code": "resource_not_found",
            "title": "case not found",
            "detail": "case 'SEC-99' not found",
            "meta": {"case_id": "SEC-99"},
        }
        error = refused(
            400, cases.bulk_update_cases, body=bulk_body(refs, "priority", {"priority": "P9"})
        )
        assert error["title"] == "Generic Error" and "P9" in error["detail"]
        for action in ("jira", "servicenow", "linear"):
            error = refused(400, cases.bulk_update_cases, body=bulk_body(refs, action, {}))
            assert error["detail"].startswith(f"the {action} action opens tickets")
        assert [c.attributes.priority for c in read()] == [CasePriority.P1] * 4


# --- concurrent bulks on PostgreSQL -----------------------------------------------------------
CLIENTS = 4
ROUNDS = 15
CASES = 40


def _bulk(session: httpx.Client, refs: list[str], priority: str) -> int:
    attributes = {"case_ids": refs, "type": "priority", "payload": {"priority": priority}}
    r = session.post(
        "/api/v2/cases/bulk", json={"data": {"type": "bulk", "attributes": attributes}}
    )
    return r.status_code


def test_concurrent_bulks_of_the_same_cases_do_not_deadlock(pg_cluster: PostgresCluster) -> None:
    name = f"e2e_bulk_{secrets.token_hex(4)}"
    url = pg_cluster.create_database(name, template="casebook_template")
    keys = new_keys()
    try:
        with ExitStack() as stack:
            # Started one after the other: each makes sure the admin owns the keys.
            servers = [stack.enter_context(running_server(url, keys)) for _ in range(2)]
            _hammer([s.base_url for s in servers], keys)
    finally:
        pg_cluster.drop_database(name)


def _hammer(base_urls: list[str], keys: Keys) -> None:
    with httpx.Client(base_url=base_urls[0], headers=keys.headers, timeout=TIMEOUT) as admin:
        body = {"data": {"type": "project", "attributes": {"key": "LOCK", "name": "Locks"}}}
        project = admin.post("/api/v2/cases/projects", json=body).json()["data"]["id"]
        refs = []
        for n in range(CASES):
            r = admin.post(
                "/api/v2/cases",
                json={
                    "data": {
                        "type": "case",
                        "attributes": {"title": f"c{n}", "type_id": STANDARD_CASE_TYPE_ID},
                        "relationships": {"project": {"data": {"id": project, "type": "project"}}},
                    }
                },
            )
            assert r.status_code == 201, r.text
            refs.append(r.json()["data"]["id"])
    start = threading.Barrier(CLIENTS, timeout=TIMEOUT)

    def client(n: int) -> list[int]:
        rng = random.Random(n)
        # Each client its own order: ascending, descending, then shuffled ones.
        order = sorted(refs) if n == 0 else sorted(refs, reverse=True) if n == 1 else refs[:]
        statuses = []
        with httpx.Client(base_url=base_urls[n % 2], headers=keys.headers, timeout=TIMEOUT) as s:
            start.wait()
            for i in range(ROUNDS):
                if n > 1:
                    rng.shuffle(order)
                statuses.append(_bulk(s, order, f"P{(n + i) % 5 + 1}"))
        return statuses

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = [s for f in [pool.submit(client, n) for n in range(CLIENTS)] for s in f.result()]
    assert Counter(results) == {200: CLIENTS * ROUNDS}

    # Each case's priority cells chain (every change saw the one before it), and all cases
    # went through the bulks in the same order: the last bulk committed set them all.
    with httpx.Client(base_url=base_urls[1], headers=keys.headers, timeout=TIMEOUT) as reader:
        finals = set()
        for ref in refs:
            r = reader.get(
                f"/api/v2/cases/{ref}/timelines",
                params={"page[size]": 100, "sort[ascending]": "true"},
            )
            cells = [c["attributes"]["cell_content"] for c in r.json()["data"]]
            chain = [
                (c.get("old_value"), c["new_value"]) for c in cells if c.get("field") == "priority"
            ]
            assert chain, ref
            for (_, new), (old, _) in pairwise(chain):
                assert old == new, (ref, chain)
            finals.add(reader.get(f"/api/v2/cases/{ref}").json()["data"]["attributes"]["priority"])
        assert len(finals) == 1, finals
