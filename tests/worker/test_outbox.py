"""The outbox and the delivery worker's lease: every change has its event, a rolled-back
change has none, a running server drains the outbox, and one process of a deployment
holds the worker at a time."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx2 as httpx
import pytest

from casebook.core.clock import now_us
from casebook.core.entities import OutboxEvent
from casebook.storage import Store, open_store
from casebook.storage.urls import DatabaseUrl
from casebook.worker.runner import LEASE, LEASE_SECONDS
from tests.support.api import Api, case_body
from tests.support.server import new_keys, running_server


def outbox(store: Store) -> list[OutboxEvent]:
    with store.read() as tx:
        return tx.outbox.next(1000)


def test_each_command_writes_one_event_with_its_changes(api: Api) -> None:
    project = api.create_project("SEC")
    case = api.create_case(project["id"], "Phishing")
    api.case_action(case["id"], "priority", {"priority": "P1"})
    api.case_action(case["id"], "priority", {"priority": "P1"})  # a no-op: no event
    api.comment(case["id"], "looking")
    events = outbox(api.store)
    assert [e.case_id for e in events] == [case["id"]] * 3
    created, priority, comment = events
    assert [c.field for c in created.changes] == ["created", "watcher"]
    assert [(c.field, c.old, c.new) for c in priority.changes] == [
        ("priority", "NOT_DEFINED", "P1")
    ]
    assert comment.changes[0].field == "comment"
    assert {e.depth for e in events} == {0}
    assert created.seq < priority.seq < comment.seq
    assert created.actor_id == priority.actor_id is not None


def test_a_bulk_writes_one_event_per_case_changed(api: Api) -> None:
    project = api.create_project("SEC")
    ids = [api.create_case(project["id"], f"case {i}")["id"] for i in range(3)]
    before = len(outbox(api.store))
    body = {
        "data": {
            "type": "bulk",
            "attributes": {"case_ids": ids, "type": "priority", "payload": {"priority": "P2"}},
        }
    }
    assert api.post("/api/v2/cases/bulk", body).status_code == 200
    events = outbox(api.store)[before:]
    assert sorted(e.case_id for e in events) == sorted(ids)
    assert all([c.field for c in e.changes] == ["priority"] for e in events)


def test_a_change_that_fails_leaves_no_event(database_url: str) -> None:
    """A change that fails writing its history (an injected fault) rolls back whole: no
    case, no event."""
    keys = new_keys()
    env = {"CASEBOOK_FAULTS": "history_record=1", "CASEBOOK_DELIVERY_WORKER": "0"}
    with running_server(database_url, keys, env=env) as server:
        store = _store(database_url)
        try:
            with httpx.Client(base_url=server.base_url, headers=keys.headers) as http:
                body = {"data": {"type": "project", "attributes": {"key": "SEC", "name": "S"}}}
                project = http.post("/api/v2/cases/projects", json=body).json()["data"]
                r = http.post("/api/v2/cases", json=case_body(project["id"], "never"))
                assert r.status_code == 503
                assert http.get("/api/v2/cases").json()["meta"]["total_cases"] == 0
            assert outbox(store) == []
        finally:
            store.close()


def _wait(predicate: Callable[[], bool], timeout: float) -> float:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.05)
    return time.monotonic() - start


def _store(database_url: str) -> Store:
    return open_store(DatabaseUrl.parse(database_url))


def test_a_running_server_drains_the_outbox(database_url: str) -> None:
    keys = new_keys()
    with running_server(database_url, keys) as server:
        store = _store(database_url)
        try:
            with httpx.Client(base_url=server.base_url, headers=keys.headers) as http:
                body = {"data": {"type": "project", "attributes": {"key": "SEC", "name": "S"}}}
                project = http.post("/api/v2/cases/projects", json=body).json()["data"]
                for i in range(20):
                    r = http.post("/api/v2/cases", json=case_body(project["id"], f"case {i}"))
                    assert r.status_code == 201
            # Polled every 0.2 s: drained well within the 2 s deliveries must reach receivers in.
            took = _wait(lambda: outbox(store) == [], timeout=5)
            print(f"outbox drained {took:.2f} s after the last change")
            with store.read() as tx:
                holders = tx.sql.all("SELECT holder FROM leases WHERE name = ?", (LEASE,))  # type: ignore[attr-defined]
            assert len(holders) == 1
        finally:
            store.close()


def test_one_process_of_two_holds_the_worker_and_another_takes_over(
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("two servers on one database: the PostgreSQL deployment")
    store = _store(database_url)
    keys = new_keys()

    def lease() -> tuple[str, int] | None:
        with store.read() as tx:
            row = tx.sql.one(  # type: ignore[attr-defined]
                "SELECT holder, expires_at FROM leases WHERE name = ?", (LEASE,)
            )
        return None if row is None else (str(row[0]), int(row[1]))

    def renewed_by_a_live_holder() -> bool:
        held = lease()
        # A live holder renews once half its lease has passed: always over half ahead of now.
        return held is not None and held[1] - now_us() > (LEASE_SECONDS / 2 - 1) * 1_000_000

    try:
        with (
            running_server(database_url, keys) as first,
            running_server(database_url, keys) as second,
        ):
            _wait(renewed_by_a_live_holder, timeout=10)
            held = lease()
            assert held is not None
            time.sleep(LEASE_SECONDS / 2 + 1)
            again = lease()
            assert again is not None and again[0] == held[0] and again[1] > held[1]
            first.kill()
            # A dead holder's lease is then less than half a lease minus a second ahead.
            time.sleep(LEASE_SECONDS / 2 + 2)
            took = _wait(renewed_by_a_live_holder, timeout=LEASE_SECONDS + 5)
            after = LEASE_SECONDS / 2 + 2 + took
            print(f"lease held by a live process {after:.1f} s after the first one was killed")
            with httpx.Client(base_url=second.base_url, headers=keys.headers) as http:
                body = {"data": {"type": "project", "attributes": {"key": "SEC", "name": "S"}}}
                project = http.post("/api/v2/cases/projects", json=body).json()["data"]
                assert (
                    http.post("/api/v2/cases", json=case_body(project["id"], "x")).status_code
                    == 201
                )
            _wait(lambda: outbox(store) == [], timeout=5)
    finally:
        store.close()
