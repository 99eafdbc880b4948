"""Deliveries survive kills, and two processes on one database deliver each event once.

Each scenario runs real ``casebook serve`` processes (``harness.Node``) with a notification
rule whose HTTP recipient is a webhook on a local receiver, which records every request:
its ``X-Casebook-Delivery`` id and the event document it carries (whose ``id`` names the
event). Only acknowledged changes are owed a delivery. Deliveries are at least once: a
delivery arriving twice is allowed after a kill, and reported; with nobody killed, the
lease makes it never happen.

- kill -9 of the server while the deliveries are pending (the receiver down: refused
  connections, retried), the receiver brought up, the server restarted: every change's
  event arrives (both back ends);
- kill -9 while the events are still in the outbox, not yet planned (the first server runs
  without its worker, so the kill lands there for certain), then a restart: likewise;
- two servers on one PostgreSQL, changes spread over both: every event once, no duplicate;
  then the lease holder killed mid-stream: every event still arrives.

Events are told apart by what they carry (the case and the change), not by the event
document's ``id``: on SQLite that ``id`` repeats (``test_event_ids_are_never_given_out_twice``).
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from casebook.domain import events
from casebook.storage import Store, open_store
from casebook.storage.urls import DatabaseUrl
from casebook.worker.runner import LEASE
from tests.conftest import TEMPLATE
from tests.reliability.harness import CLIENT_TIMEOUT, Node, case_body, create_project
from tests.support.api import Api
from tests.support.postgres import PostgresCluster, free_port
from tests.support.server import Keys, new_keys

pytestmark = pytest.mark.slow

HOOKS = "/api/v1/integration/webhooks/configuration/webhooks"
FAST = {"CASEBOOK_DELIVERY_FIRST_RETRY_SECONDS": "0.2", "CASEBOOK_ALLOW_PRIVATE_WEBHOOKS": "1"}
DELIVERY_TIMEOUT = 20.0  # seconds for every owed delivery to arrive (a dead holder's lease: 10)


# --- the receiver ---------------------------------------------------------------------
@dataclass
class Receiver:
    """What arrived: (delivery id, event document) per request, in order."""

    port: int
    delay: float = 0.0  # seconds each answer waits (deliveries in flight longer)
    got: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def received(self) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return list(self.got)


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    """Listen on the receiver's port (which nothing answers before, or after)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if receiver.delay:
                time.sleep(receiver.delay)
            with receiver.lock:
                receiver.got.append((self.headers["X-Casebook-Delivery"], json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


# --- what was owed, and what came ---------------------------------------------------
Change = tuple[str, str]
"""An acknowledged change, as its event shows it: (case id, what: ``created`` or the new
status). Each case here is made once and moved once, so this names one event."""


def change_of(event: dict[str, Any]) -> Change:
    if event["type"] == "CASE_CREATED":
        return event["case"]["id"], "created"
    (status,) = [c["new"] for c in event["changes"] if c["field"] == "status"]
    return event["case"]["id"], str(status)


@dataclass
class Tally:
    """What arrived, against what was owed."""

    owed: set[Change]
    got: list[tuple[str, dict[str, Any]]]

    @property
    def missing(self) -> set[Change]:
        return self.owed - {change_of(event) for _, event in self.got}

    @property
    def duplicate_deliveries(self) -> int:
        """Requests beyond the first of each delivery id (the worker sent one twice)."""
        return len(self.got) - len({delivery for delivery, _ in self.got})

    @property
    def changes_planned_twice(self) -> int:
        """Delivery ids beyond the first of each change (its event planned twice)."""
        ids_of: dict[Change, set[str]] = {}
        for delivery, event in self.got:
            ids_of.setdefault(change_of(event), set()).add(delivery)
        return sum(len(ids) - 1 for ids in ids_of.values())

    @property
    def event_id_collisions(self) -> int:
        """Changes received beyond the number of event ids they came under (two events
        under one ``id``; see ``test_event_ids_are_never_given_out_twice``)."""
        changes = {change_of(event) for _, event in self.got}
        return len(changes) - len({event["id"] for _, event in self.got})

    def figures(self) -> dict[str, int]:
        return {
            "owed": len(self.owed),
            "requests": len(self.got),
            "missing": len(self.missing),
            "duplicate_deliveries": self.duplicate_deliveries,
            "changes_planned_twice": self.changes_planned_twice,
            "event_id_collisions": self.event_id_collisions,
        }


def report(name: str, tally: Tally, **more: Any) -> None:
    print(f"{name}: {json.dumps({**tally.figures(), **more}, sort_keys=True)}")


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    began = time.monotonic()
    while not predicate():
        assert time.monotonic() - began < timeout, f"timed out waiting for {what}"
        time.sleep(0.05)
    return time.monotonic() - began


# --- the world: a project, a webhook, a rule ------------------------------------------
def set_up(url: str, keys: Keys, receiver: Receiver) -> str:
    """Project SEC with a rule sending every creation and status change to the receiver's
    webhook; its id."""
    project_id = create_project(url, keys, "SEC", "Security")
    with httpx.Client(base_url=url, headers=keys.headers, timeout=CLIENT_TIMEOUT) as http:
        r = http.post(HOOKS, json={"name": "soc", "url": receiver.url})
        assert r.status_code == 201, r.text
        attributes = {
            "is_enabled": True,
            "triggers": [{"type": "CASE_CREATED"}, {"type": "STATUS_TRANSITIONED", "data": {}}],
            "recipients": [{"type": "HTTP", "data": {"name": "soc"}}],
        }
        r = http.post(
            f"/api/v2/cases/projects/{project_id}/notification_rules",
            json={"data": {"type": "notification_rule", "attributes": attributes}},
        )
        assert r.status_code == 201, r.text
    return project_id


def make_changes(
    urls: list[str], keys: Keys, project_id: str, n: int, *, tag: str = "c"
) -> set[Change]:
    """``n`` cases made, every other one then moved to IN_PROGRESS, the calls spread over
    ``urls`` in turn; the acknowledged changes (a server that is gone acknowledges none)."""
    owed: set[Change] = set()
    turn = itertools.cycle(urls)
    with httpx.Client(headers=keys.headers, timeout=CLIENT_TIMEOUT) as http:
        for i in range(n):
            try:
                r = http.post(
                    f"{next(turn)}/api/v2/cases", json=case_body(project_id, f"{tag}{i}", "P2")
                )
            except httpx.TransportError:
                continue
            if r.status_code != 201:
                continue
            case_id = r.json()["data"]["id"]
            owed.add((case_id, "created"))
            if i % 2:
                continue
            status = {"data": {"type": "case", "attributes": {"status": "IN_PROGRESS"}}}
            try:
                r = http.post(f"{next(turn)}/api/v2/cases/{case_id}/status", json=status)
            except httpx.TransportError:
                continue
            if r.status_code == 200:
                owed.add((case_id, "IN_PROGRESS"))
    return owed


def states(store: Store) -> tuple[int, Counter[str]]:
    """Events waiting in the outbox, and the deliveries by state."""
    with store.read() as tx:
        waiting = tx.outbox.pending()
        rows = tx.sql.all("SELECT state FROM deliveries", ())  # type: ignore[attr-defined]
    return waiting, Counter(str(row[0]) for row in rows)


# --- kill -9 between the change and the delivery, on both back ends -------------------
N_CHANGES = 24  # 24 creates and 12 status changes: 36 events


def test_a_killed_server_delivers_its_pending_deliveries_after_restart(
    database_url: str, tmp_path: Path
) -> None:
    """The receiver is down (refused connections: retried); the server is SIGKILLed while
    every delivery is pending after failed attempts; the receiver comes up, the server
    restarts, and every acknowledged change's event arrives."""
    keys = new_keys()
    receiver = Receiver(free_port())  # nothing listens there yet
    node = Node(database_url, keys, tmp_path, env=FAST)
    store = open_store(DatabaseUrl.parse(database_url))
    began = time.monotonic()
    try:
        node.start()
        project_id = set_up(node.url, keys, receiver)
        owed = make_changes([node.url], keys, project_id, N_CHANGES)
        assert len(owed) == N_CHANGES * 3 // 2

        def tried() -> int:
            with store.read() as tx:
                row = tx.sql.one(  # type: ignore[attr-defined]
                    "SELECT count(*) FROM deliveries WHERE attempts > 0", ()
                )
            return int(row[0])

        # Every event planned, every delivery tried at least once (a refused connection).
        wait_for(lambda: tried() == len(owed), 10, "every delivery tried")
        node.kill()
        at_kill = states(store)
        assert at_kill == (0, Counter(pending=len(owed))), at_kill
        with receiving(receiver):
            node.start()
            restarted = time.monotonic()
            took = wait_for(
                lambda: not Tally(owed, receiver.received()).missing,
                DELIVERY_TIMEOUT,
                "every owed delivery",
            )
            time.sleep(0.5)  # anything more would have come by now
            tally = Tally(owed, receiver.received())
        waiting, by_state = states(store)
    finally:
        node.stop()
        store.close()
    report(
        "kill -9 with deliveries pending",
        tally,
        seconds_after_restart=round(took, 2),
        restart_s=round(restarted - began, 1),
        seconds=round(time.monotonic() - began, 1),
    )
    assert not tally.missing
    assert tally.changes_planned_twice == 0
    assert (waiting, by_state) == (0, Counter(delivered=len(owed)))


def test_a_server_killed_with_events_in_the_outbox_delivers_them_after_restart(
    database_url: str, tmp_path: Path
) -> None:
    """The first server runs without its delivery worker, so every acknowledged change's
    event is still in the outbox, unplanned, when it is SIGKILLed; the restarted server
    (worker on) plans and delivers every one."""
    keys = new_keys()
    receiver = Receiver(free_port())
    store = open_store(DatabaseUrl.parse(database_url))
    began = time.monotonic()
    with receiving(receiver):
        node = Node(database_url, keys, tmp_path, env={**FAST, "CASEBOOK_DELIVERY_WORKER": "0"})
        try:
            node.start()
            project_id = set_up(node.url, keys, receiver)
            owed = make_changes([node.url], keys, project_id, N_CHANGES)
            assert len(owed) == N_CHANGES * 3 // 2
            node.kill()
            at_kill = states(store)
            node = Node(database_url, keys, tmp_path, env=FAST, name="restarted")
            node.start()
            took = wait_for(
                lambda: not Tally(owed, receiver.received()).missing,
                DELIVERY_TIMEOUT,
                "every owed delivery",
            )
            time.sleep(0.5)
            tally = Tally(owed, receiver.received())
            waiting, by_state = states(store)
        finally:
            node.stop()
            store.close()
    report(
        "kill -9 with events in the outbox",
        tally,
        outbox_at_kill=at_kill[0],
        seconds_after_restart=round(took, 2),
        seconds=round(time.monotonic() - began, 1),
    )
    # Every change's event waited in the outbox, none planned, when the kill landed.
    assert at_kill == (len(owed), Counter()), at_kill
    assert not tally.missing
    assert tally.duplicate_deliveries == 0 and tally.changes_planned_twice == 0
    assert (waiting, by_state) == (0, Counter(delivered=len(owed)))


# --- two servers on one PostgreSQL -----------------------------------------------------
@pytest.fixture
def pg_database(pg_cluster: PostgresCluster) -> Iterator[str]:
    name = f"deliveries_{secrets.token_hex(4)}"
    yield pg_cluster.create_database(name, template=TEMPLATE)
    pg_cluster.drop_database(name)


def lease_holder(store: Store) -> str | None:
    with store.read() as tx:
        row = tx.sql.one(  # type: ignore[attr-defined]
            "SELECT holder FROM leases WHERE name = ?", (LEASE,)
        )
    return None if row is None else str(row[0])


@contextmanager
def two_nodes(database_url: str, log_dir: Path) -> Iterator[tuple[Node, Node, Keys, Store]]:
    """Two servers on one database; the first holds the worker's lease (it starts first and
    takes it before the second starts)."""
    keys = new_keys()
    store = open_store(DatabaseUrl.parse(database_url))
    first = Node(database_url, keys, log_dir, env=FAST, name="first")
    second = Node(database_url, keys, log_dir, env=FAST, name="second")
    try:
        first.start()
        wait_for(lambda: lease_holder(store) is not None, 5, "the first server's lease")
        second.start()
        yield first, second, keys, store
    finally:
        first.stop()
        second.stop()
        store.close()


M_CHANGES = 40  # 40 creates and 20 status changes: 60 events


def test_two_servers_deliver_each_event_once(pg_database: str, tmp_path: Path) -> None:
    receiver = Receiver(free_port())
    began = time.monotonic()
    with receiving(receiver), two_nodes(pg_database, tmp_path) as (first, second, keys, store):
        holder = lease_holder(store)
        project_id = set_up(first.url, keys, receiver)
        owed = make_changes([first.url, second.url], keys, project_id, M_CHANGES)
        assert len(owed) == M_CHANGES * 3 // 2
        took = wait_for(
            lambda: not Tally(owed, receiver.received()).missing,
            DELIVERY_TIMEOUT,
            "every owed delivery",
        )
        time.sleep(1.0)  # a second sender would have sent by now
        tally = Tally(owed, receiver.received())
        assert lease_holder(store) == holder  # one worker all along
        assert first.unexpected_errors() == second.unexpected_errors() == 0
    report(
        "two servers",
        tally,
        seconds_to_deliver=round(took, 2),
        seconds=round(time.monotonic() - began, 1),
    )
    assert not tally.missing
    assert tally.duplicate_deliveries == 0, tally.figures()
    assert tally.changes_planned_twice == 0, tally.figures()
    assert len(tally.got) == len(owed)


def test_killing_the_lease_holder_mid_stream_loses_nothing(
    pg_database: str, tmp_path: Path
) -> None:
    """Changes go to both servers; once deliveries are flowing, the lease holder is
    SIGKILLed (some of its sends in flight: the receiver takes 50 ms to answer) and the
    changes go on through the other, which takes the lease over once it runs out and
    delivers every acknowledged change's event. Duplicates are allowed, and reported."""
    receiver = Receiver(free_port(), delay=0.05)
    began = time.monotonic()
    with receiving(receiver), two_nodes(pg_database, tmp_path) as (first, second, keys, store):
        holder = lease_holder(store)
        project_id = set_up(first.url, keys, receiver)
        owed: set[Change] = set()
        writer = threading.Thread(
            target=lambda: owed.update(
                make_changes([first.url, second.url], keys, project_id, M_CHANGES, tag="before")
            )
        )
        writer.start()
        wait_for(lambda: len(receiver.received()) >= 10, 10, "deliveries flowing")
        in_flight = len(receiver.received())
        first.kill()
        killed = time.monotonic()
        writer.join(CLIENT_TIMEOUT * 2)
        assert not writer.is_alive()
        # The changes go on through the survivor alone.
        owed |= make_changes([second.url], keys, project_id, M_CHANGES // 2, tag="after")
        wait_for(
            lambda: not Tally(owed, receiver.received()).missing,
            DELIVERY_TIMEOUT,
            "every owed delivery",
        )
        all_in = time.monotonic()
        time.sleep(0.5)
        tally = Tally(owed, receiver.received())
        taken_over = lease_holder(store)
        assert second.unexpected_errors() == 0
    report(
        "lease holder killed",
        tally,
        received_at_kill=in_flight,
        seconds_from_kill_to_all_delivered=round(all_in - killed, 2),
        seconds=round(time.monotonic() - began, 1),
    )
    assert taken_over not in (None, holder)  # the survivor holds the lease now
    assert len(owed) >= M_CHANGES  # most changes before the kill, all after, acknowledged
    assert not tally.missing, sorted(tally.missing)[:5]


# --- the event's own id ---------------------------------------------------------------
def test_event_ids_are_never_given_out_twice(api: Api) -> None:
    """An event's ``id`` (the event document's, ``$EVENT_ID``) never repeats, though its
    outbox row's ``seq`` does on SQLite once the worker has drained the outbox (an INTEGER
    PRIMARY KEY without AUTOINCREMENT reuses the largest rowid left plus one)."""
    project = api.create_project("SEC")
    seen: list[str] = []
    for title in ("first", "second", "third"):
        case = api.create_case(project["id"], title)
        with api.store.read() as tx:
            (event,) = tx.outbox.next(10)
            stored = tx.cases.get(event.org_id, case["id"])
        assert stored is not None
        seen.append(events.event_document(event, stored)["id"])
        assert events.handle_events(api.store) == 1  # the worker's step: the outbox drains
    assert len(set(seen)) == len(seen), seen
