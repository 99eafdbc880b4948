"""Rate limits: per application key, Datadog's headers, auth failures, shared by workers.

Windows are aligned to the clock, so each test first makes sure the window it
counts in has time left (``fresh_window``); a window rolling over mid-test
would otherwise grant a second allowance.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.v2.api.case_management_api import CaseManagementApi
from datadog_api_client.v2.models import (
    CaseCreate,
    CaseCreateAttributes,
    CaseCreateRelationships,
    CaseCreateRequest,
    CaseResourceType,
    ProjectRelationship,
    ProjectRelationshipData,
    ProjectResourceType,
)

from casebook.core.entities import STANDARD_CASE_TYPE_ID as STANDARD
from casebook.domain import users as users_domain
from tests.security.conftest import (
    FORBIDDEN_BODY,
    OPERATIONS,
    build_org,
    fresh_window,
    report_count,
    unique,
)
from tests.support.api import Api
from tests.support.server import new_keys, running_server
from tests.support.tracker import FakeTracker

INTEGER = re.compile(r"[0-9]+")
RL_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Period",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Name",
)


def _limited(make_app: Any, api: Api, **env: str) -> Api:
    client, store, settings = make_app(**env)
    return Api(client, store, settings, api.keys)


def _check_headers(r: Any, limit: int, period: int) -> int:
    for name in RL_HEADERS:
        assert name in r.headers, (name, r.status_code)
    assert r.headers["X-RateLimit-Limit"] == str(limit)
    assert r.headers["X-RateLimit-Period"] == str(period)
    assert r.headers["X-RateLimit-Name"]
    for name in ("X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert INTEGER.fullmatch(r.headers[name]), (name, r.headers[name])
    assert 1 <= int(r.headers["X-RateLimit-Reset"]) <= period
    return int(r.headers["X-RateLimit-Remaining"])


def test_every_operation_answers_with_the_headers(
    api: Api, make_app: Any, tracker: FakeTracker, request: pytest.FixtureRequest
) -> None:
    limited = _limited(make_app, api, CASEBOOK_RATE_LIMIT="1000/60s")
    world = build_org(limited, "default", tracker)
    fresh_window(60, 4)
    remaining = []
    for op in OPERATIONS:
        r = op.call(limited.client, world, limited.headers)
        assert r.status_code == op.ok, (op.name, r.text)
        remaining.append(_check_headers(r, 1000, 60))
        assert r.headers["X-RateLimit-Name"] == "cases"
    # One count per request, in order.
    assert remaining == sorted(remaining, reverse=True)
    assert len(set(remaining)) == len(remaining)
    report_count(request, "ratelimit_header_checks", len(remaining))


def test_error_answers_carry_the_headers_too(api: Api, make_app: Any) -> None:
    limited = _limited(make_app, api, CASEBOOK_RATE_LIMIT="1000/60s")
    fresh_window(60, 3)
    for path in ("/api/v2/cases/NOPE-1", "/api/v2/cases?page[size]=1000"):
        r = limited.get(path)
        assert 400 <= r.status_code < 500
        _check_headers(r, 1000, 60)


def test_one_keys_burst_throttles_only_that_key(api: Api, make_app: Any) -> None:
    limited = _limited(make_app, api, CASEBOOK_RATE_LIMIT="5/60s")
    users_domain.add_user(api.store, org_name="default", email="peer@example.com")
    same_user = api.keys_for("default", "admin@casebook.local")
    peer = api.keys_for("default", "peer@example.com")
    other_org = api.new_org_admin("rlorg").keys
    fresh_window(60, 4)
    seen = [limited.get("/api/v2/cases") for _ in range(8)]
    assert [r.status_code for r in seen] == [200] * 5 + [429] * 3
    assert [_check_headers(r, 5, 60) for r in seen] == [4, 3, 2, 1, 0, 0, 0, 0]
    refused = seen[-1]
    assert refused.headers["X-RateLimit-Name"] == "cases"
    assert refused.json()["errors"][0]["status"] == "429"
    # Refused requests do not run: a write refused by the limit leaves nothing behind.
    project = limited.post(
        "/api/v2/cases/projects",
        {"data": {"type": "project", "attributes": {"key": "NOPE", "name": "n"}}},
    )
    assert project.status_code == 429
    for keys in (same_user, peer, other_org):
        r = limited.as_keys(keys).get("/api/v2/cases")
        assert r.status_code == 200
        assert r.headers["X-RateLimit-Remaining"] == "4"
    assert api.get("/api/v2/cases/projects").json()["data"] == []


def test_auth_failures_are_throttled_whatever_the_bad_key(api: Api, make_app: Any) -> None:
    limited = _limited(
        make_app, api, CASEBOOK_RATE_LIMIT="off", CASEBOOK_AUTH_FAILURE_LIMIT="6/60s"
    )
    other = api.new_org_admin("afo")
    reader = api.keys_for("default", "admin@casebook.local", scopes="cases_read")
    fresh_window(60, 4)
    # A valid key lacking a scope is not an authentication failure.
    for _ in range(10):
        r = limited.as_keys(reader).post("/api/v2/users", {"data": {}})
        assert r.status_code in (400, 403) and r.status_code != 429
    bad: list[dict[str, Any]] = [
        {},
        {"DD-API-KEY": "", "DD-APPLICATION-KEY": ""},
        {"DD-API-KEY": b"\xff" * 32, "DD-APPLICATION-KEY": api.keys.app_key},
        {"DD-API-KEY": "0" * 32, "DD-APPLICATION-KEY": api.keys.app_key},
        {"DD-API-KEY": api.keys.api_key, "DD-APPLICATION-KEY": other.keys.app_key},
        {"DD-API-KEY": api.keys.api_key, "DD-APPLICATION-KEY": "1" * 40},
    ]
    for headers in bad:
        r = limited.client.get("/api/v2/cases", headers=headers)
        assert (r.status_code, r.content) == (403, FORBIDDEN_BODY)
    for headers in [*bad, limited.headers]:  # now even good keys from this address wait
        r = limited.client.get("/api/v2/cases", headers=headers)
        assert r.status_code == 429
        assert r.headers["X-RateLimit-Name"] == "auth_failures"
        _check_headers(r, 6, 60)


# --- live servers ---------------------------------------------------------------------
def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        for child in map(int, text):
            found |= {child, *_children(child)}
    return found


def test_limit_holds_across_two_worker_processes(
    database_url: str, request: pytest.FixtureRequest
) -> None:
    keys = new_keys()
    env = {"CASEBOOK_RATE_LIMIT": "20/60s", "CASEBOOK_AUTH_FAILURE_LIMIT": "off"}
    with running_server(database_url, keys, workers=2, env=env) as server:
        assert server.proc is not None
        workers = [p for p in _children(server.proc.pid) if _is_python(p)]
        assert len(workers) >= 2, workers
        fresh_window(60, 8)
        codes = []
        for _ in range(60):  # a new connection each time: the workers share the load
            with httpx.Client(base_url=server.base_url, timeout=10) as client:
                codes.append(client.get("/api/v2/cases", headers=keys.headers).status_code)
        assert codes.count(200) == 20, codes
        assert codes.count(429) == 40
    report_count(request, "two_worker_requests", len(codes))
    report_count(request, "two_worker_successes", codes.count(200))


def _is_python(pid: int) -> bool:
    try:
        return "python" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def test_official_client_retries_429_until_it_succeeds(
    database_url: str, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    keys = new_keys()
    env = {"CASEBOOK_RATE_LIMIT": "3/1s", "CASEBOOK_AUTH_FAILURE_LIMIT": "off"}
    with running_server(database_url, keys, env=env) as server:
        configuration = Configuration(
            host=server.base_url,
            api_key={"apiKeyAuth": keys.api_key, "appKeyAuth": keys.app_key},
            enable_retry=True,
            max_retries=5,
            request_timeout=15,
        )
        project_key = unique("RL")
        r = httpx.post(
            server.base_url + "/api/v2/cases/projects",
            headers=keys.headers,
            json={"data": {"type": "project", "attributes": {"key": project_key, "name": "rl"}}},
        )
        assert r.status_code == 201, r.text
        project_id = r.json()["data"]["id"]
        time.sleep(1.0)
        with caplog.at_level(logging.DEBUG, logger="urllib3"), ApiClient(configuration) as client:
            cases = CaseManagementApi(client)
            start = time.monotonic()
            created = [cases.create_case(body=_case_body(project_id)) for _ in range(6)]
            found = [cases.search_cases(filter=f"project_id:{project_id}") for _ in range(4)]
            elapsed = time.monotonic() - start
        retries = sum("Incremented Retry" in rec.getMessage() for rec in caplog.records)
        assert retries >= 2, "the limit was never hit"
        assert elapsed >= 1.0
        keys_made = sorted(int(c.data.attributes.key.split("-")[1]) for c in created)
        assert keys_made == [1, 2, 3, 4, 5, 6]  # each create ran once, none was repeated
        assert all(len(page.data) == 6 for page in found)
    report_count(request, "client_retries_on_429", retries)


def _case_body(project_id: str) -> CaseCreateRequest:
    return CaseCreateRequest(
        data=CaseCreate(
            attributes=CaseCreateAttributes(title="retry me", type_id=STANDARD),
            relationships=CaseCreateRelationships(
                project=ProjectRelationship(
                    data=ProjectRelationshipData(id=project_id, type=ProjectResourceType.PROJECT)
                )
            ),
            type=CaseResourceType.CASE,
        )
    )
