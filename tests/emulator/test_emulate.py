"""The emulator as its users meet it: organisations isolated in parallel, answers that
repeat byte for byte, the clock that due dates and relative searches follow, faults as
the official client's retries see them, and a reset that does not grow with the data."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from casebook.emulator import EmulatorApp, Tenants, build
from casebook.emulator.server import ThreadedEmulator
from casebook.storage.memory import MemoryStore
from tests.emulator.conftest import case_body, emulator_client, keys

DDFC = "d4bbe1af-f36e-42f1-87c1-493ca35c320e"
SEED = {"projects": [{"id": DDFC, "key": "DDFC", "name": "Datadog fixtures"}]}


@pytest.fixture(scope="module")
def served() -> Iterator[ThreadedEmulator]:
    emulator = ThreadedEmulator(build()).start()
    try:
        yield emulator
    finally:
        emulator.stop()


def test_two_organisations_in_parallel_are_isolated(served: ThreadedEmulator) -> None:
    import httpx2 as httpx

    found: dict[str, list[str]] = {}
    errors: list[str] = []

    def job(name: str) -> None:
        with httpx.Client(base_url=served.base_url, headers=keys(name)) as client:
            seeded = client.post("/_casebook/seed", json=SEED)  # the same fixed ids in both
            if seeded.status_code != 201:
                errors.append(seeded.text)
                return
            for i in range(15):
                made = client.post("/api/v2/cases", json=case_body(DDFC, f"{name} {i}"))
                if made.status_code != 201:
                    errors.append(made.text)
            listed = client.get("/api/v2/cases", params={"page[size]": 100}).json()["data"]
            found[name] = sorted(c["attributes"]["title"] for c in listed)

    jobs = [threading.Thread(target=job, args=(name,)) for name in ("left", "right")]
    for thread in jobs:
        thread.start()
    for thread in jobs:
        thread.join()
    assert errors == []
    for name in ("left", "right"):
        assert found[name] == sorted(f"{name} {i}" for i in range(15))


def _script(client: TestClient) -> list[bytes]:
    """The answers of one test run, as bytes."""
    headers = keys("snapshot")
    answers = [
        client.post(
            "/_casebook/clock", headers=headers, json={"freeze": "2026-05-01T08:00:00Z"}
        ).content,
        client.post("/_casebook/seed", headers=headers, json=SEED).content,
    ]
    made = client.post("/api/v2/cases", headers=headers, json=case_body(DDFC, "Snapshot"))
    answers.append(made.content)
    case_id = made.json()["data"]["id"]
    client.post("/_casebook/clock", headers=headers, json={"advance": "PT5M"})
    comment = {"data": {"type": "case", "attributes": {"comment": "looked"}}}
    answers.append(
        client.post(f"/api/v2/cases/{case_id}/comment", headers=headers, json=comment).content
    )
    answers.append(client.get(f"/api/v2/cases/{case_id}", headers=headers).content)
    answers.append(client.get("/api/v2/cases?filter=Snapshot", headers=headers).content)
    answers.append(client.get("/api/v2/cases/DDFC-1/timelines", headers=headers).content)
    answers.append(client.get("/api/v2/cases/projects", headers=headers).content)
    answers.append(client.get("/api/v2/users", headers=headers).content)  # the admin's dates
    missing = client.get("/api/v2/cases/DDFC-99", headers=headers)
    assert missing.status_code == 404
    answers.append(missing.content)  # meta.request_id
    answers.append(missing.headers["x-request-id"].encode())
    return answers


def test_two_runs_with_an_ids_seed_answer_byte_for_byte_alike(template: MemoryStore) -> None:
    runs = []
    for _ in range(2):
        with emulator_client(template, ids_seed=42) as client:
            runs.append(_script(client))
    assert runs[0] == runs[1]
    assert b'"id":"' in runs[0][2]
    assert b"2020-01-01T00:00:00" in runs[0][-3]  # the admin, made by the first request
    assert runs[0][-1].startswith(b"emulator-")
    assert runs[0][-1].decode() in runs[0][-2].decode()
    with emulator_client(template) as client:  # without a seed, ids differ
        assert _script(client)[2] != runs[0][2]


def _search(client: TestClient, query: str) -> list[str]:
    answer = client.get("/api/v2/cases", params={"filter": query}, headers=keys("a"))
    assert answer.status_code == 200, answer.text
    return [case["attributes"]["key"] for case in answer.json()["data"]]


def test_timestamps_due_dates_and_relative_search_follow_the_clock(emulator: TestClient) -> None:
    emulator.post("/_casebook/clock", headers=keys("a"), json={"freeze": "2026-03-01T12:00:00Z"})
    emulator.post("/_casebook/seed", headers=keys("a"), json=SEED)
    made = emulator.post("/api/v2/cases", headers=keys("a"), json=case_body(DDFC, "Due soon"))
    assert made.json()["data"]["attributes"]["created_at"] == "2026-03-01T12:00:00.000000Z"
    due = {"data": {"type": "case", "attributes": {"due_date": "2026-03-05"}}}
    assert (
        emulator.post("/api/v2/cases/DDFC-1/due_date", headers=keys("a"), json=due).status_code
        == 200
    )
    assert _search(emulator, "created_at:>now-7d") == ["DDFC-1"]
    assert _search(emulator, "due_date:<now") == []
    emulator.post("/_casebook/clock", headers=keys("a"), json={"advance": "P10D"})
    assert _search(emulator, "created_at:>now-7d") == []
    assert _search(emulator, "created_at:>now-14d") == ["DDFC-1"]
    assert _search(emulator, "due_date:<now") == ["DDFC-1"]
    # Another organisation keeps real time.
    assert emulator.get("/_casebook/clock", headers=keys("b")).json()["frozen"] is False


def _official(served: ThreadedEmulator, name: str, **options: Any) -> Any:
    from datadog_api_client import ApiClient, Configuration

    configuration = Configuration(
        host=served.base_url,
        api_key={
            "apiKeyAuth": keys(name)["DD-API-KEY"],
            "appKeyAuth": keys(name)["DD-APPLICATION-KEY"],
        },
        **options,
    )
    return ApiClient(configuration)


def _create(api_client: Any) -> Any:
    from datadog_api_client.v2.api.case_management_api import CaseManagementApi
    from datadog_api_client.v2.model.case_create import CaseCreate
    from datadog_api_client.v2.model.case_create_attributes import CaseCreateAttributes
    from datadog_api_client.v2.model.case_create_relationships import CaseCreateRelationships
    from datadog_api_client.v2.model.case_create_request import CaseCreateRequest
    from datadog_api_client.v2.model.case_resource_type import CaseResourceType
    from datadog_api_client.v2.model.project_relationship import ProjectRelationship
    from datadog_api_client.v2.model.project_relationship_data import ProjectRelationshipData
    from datadog_api_client.v2.model.project_resource_type import ProjectResourceType

    body = CaseCreateRequest(
        data=CaseCreate(
            attributes=CaseCreateAttributes(
                title="retried", type_id="00000000-0000-0000-0000-000000000001"
            ),
            relationships=CaseCreateRelationships(
                project=ProjectRelationship(
                    data=ProjectRelationshipData(id=DDFC, type=ProjectResourceType.PROJECT)
                )
            ),
            type=CaseResourceType.CASE,
        )
    )
    return CaseManagementApi(api_client).create_case(body=body)


def test_faults_as_the_official_clients_retries_see_them(served: ThreadedEmulator) -> None:
    import httpx2 as httpx
    from datadog_api_client.exceptions import ApiException

    name = "retries"
    with httpx.Client(base_url=served.base_url, headers=keys(name)) as control:
        control.post("/_casebook/seed", json=SEED)
        fault = {"operation_id": "CreateCase", "status": 429, "count": 1, "reset": 0}
        control.post("/_casebook/faults", json=fault)
        with _official(served, name, enable_retry=True, max_retries=2) as client:
            assert _create(client).data.attributes.title == "retried"
        statuses = [
            e["status"]
            for e in control.get(
                "/_casebook/requests", params={"operation_id": "CreateCase"}
            ).json()["data"]
        ]
        assert statuses == [429, 201]

        # A 5xx is retried (urllib3's backoff makes the first retry at once)...
        control.delete("/_casebook/requests")
        control.post("/_casebook/faults", json={"path": "/api/v2/cases", "status": 503, "count": 1})
        with _official(served, name, enable_retry=True, max_retries=1) as client:
            assert _create(client).data.attributes.title == "retried"
        journal = control.get("/_casebook/requests", params={"operation_id": "CreateCase"})
        assert [e["status"] for e in journal.json()["data"]] == [503, 201]
        # ...and reaches a caller without retries as it is.
        control.post("/_casebook/faults", json={"path": "/api/v2/cases", "status": 503})
        with _official(served, name) as client, pytest.raises(ApiException) as caught:
            _create(client)
        assert caught.value.status == 503
        control.delete("/_casebook/faults")

        control.post(
            "/_casebook/faults", json={"operation_id": "CreateCase", "status": 429, "count": 1}
        )
        with _official(served, name) as client, pytest.raises(ApiException) as caught:
            _create(client)  # no retries: the 429 and Datadog's headers reach the caller
        assert caught.value.status == 429
        headers = {k.lower(): v for k, v in caught.value.headers.items()}
        assert headers["x-ratelimit-remaining"] == "0"
        assert headers["x-ratelimit-limit"] == "100"


def test_reset_does_not_grow_with_the_cases(template: MemoryStore) -> None:
    """Reset drops the organisation's database (a copy of the template); the next request
    makes a new copy. docs/emulator.md gives the figure at 10,000 cases (bench/emulator.py)."""
    cases = [{"project": "DDFC", "title": f"case {i}"} for i in range(1_000)]
    with TestClient(EmulatorApp(Tenants(template=template))) as client:
        seeded = client.post("/_casebook/seed", headers=keys("a"), json={**SEED, "cases": cases})
        assert seeded.status_code == 201
        started = time.perf_counter()
        assert client.post("/_casebook/reset", headers=keys("a")).status_code == 200
        assert client.get("/api/v2/cases", headers=keys("a")).json()["data"] == []
        assert time.perf_counter() - started < 0.05 * 4  # 50 ms, with room for a loaded machine


def test_advancing_the_clock_closes_inactive_cases(emulator: TestClient) -> None:
    settings = {"auto_close_inactive_cases": {"enabled": True, "max_inactive_time_in_secs": 86_400}}
    project = {"key": "OPS", "name": "Ops", "settings": settings}
    emulator.post("/_casebook/clock", headers=keys("a"), json={"freeze": "2026-03-01T00:00:00Z"})
    seeded = emulator.post(
        "/_casebook/seed",
        headers=keys("a"),
        json={"projects": [project], "cases": [{"project": "OPS", "title": "quiet"}]},
    )
    assert seeded.status_code == 201, seeded.text
    emulator.post("/_casebook/clock", headers=keys("a"), json={"advance": "PT23H"})
    assert (
        emulator.get("/api/v2/cases/OPS-1", headers=keys("a")).json()["data"]["attributes"][
            "status"
        ]
        == "OPEN"
    )
    emulator.post("/_casebook/clock", headers=keys("a"), json={"advance": "PT2H"})
    case = emulator.get("/api/v2/cases/OPS-1", headers=keys("a")).json()["data"]
    assert case["attributes"]["status"] == "CLOSED"
    assert case["attributes"]["closed_at"] == "2026-03-02T01:00:00.000000Z"


def test_the_emulator_serves_the_api_and_no_pages(emulator: TestClient) -> None:
    assert emulator.get("/", headers=keys("a")).status_code == 404
    assert emulator.get("/signin").status_code == 404
    assert emulator.get("/api/v2/cases/projects", headers=keys("a")).status_code == 200
