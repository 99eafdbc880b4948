"""Deliveries as the worker sends them: signed, retried, recorded.

Until notification rules are served (the rest of the rules-and-integrations work),
the deliveries here are stored as a rule's plan stores them; everything after that --
finding the webhook, the guard, the signature, the retries, the record -- is the
running server's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx2 as httpx
from typer.testing import CliRunner

from casebook.cli import app as cli_app
from casebook.core.clock import now_us
from casebook.storage import Store, open_store
from casebook.storage.outbox import Delivery
from casebook.storage.urls import DatabaseUrl
from tests.support.api import case_body
from tests.support.receiver import running_receiver
from tests.support.server import Keys, ServerProcess, new_keys, running_server

HOOKS = "/api/v1/integration/webhooks/configuration/webhooks"
FAST = {"CASEBOOK_DELIVERY_FIRST_RETRY_SECONDS": "0.2", "CASEBOOK_ALLOW_PRIVATE_WEBHOOKS": "1"}


def _wait(predicate: Callable[[], bool], timeout: float) -> float:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.05)
    return time.monotonic() - start


@contextmanager
def world(
    database_url: str, env: dict[str, str] | None = None
) -> Iterator[tuple[ServerProcess, Keys, Store, httpx.Client, dict[str, Any]]]:
    keys = new_keys()
    with running_server(database_url, keys, env=env if env is not None else FAST) as server:
        store = open_store(DatabaseUrl.parse(database_url))
        try:
            with httpx.Client(base_url=server.base_url, headers=keys.headers) as http:
                body = {"data": {"type": "project", "attributes": {"key": "SEC", "name": "S"}}}
                project = http.post("/api/v2/cases/projects", json=body).json()["data"]
                case = http.post("/api/v2/cases", json=case_body(project["id"], "Phishing")).json()
                yield server, keys, store, http, case["data"]
        finally:
            store.close()


def store_delivery(store: Store, case: dict[str, Any], channel: str, target: dict[str, Any]) -> str:
    org_id = _org_of(store, case["id"])
    delivery = Delivery(
        id=str(uuid.uuid4()),
        org_id=org_id,
        project_id=case["relationships"]["project"]["data"]["id"],
        case_id=case["id"],
        rule_id=None,
        channel=channel,
        target=target,
        body={"type": "CASE_CREATED", "case": {"id": case["id"], "key": case["attributes"]["key"]}},
        next_attempt_at=now_us(),
        created_at=now_us(),
    )
    with store.write() as tx:
        tx.deliveries.insert(delivery)
    return delivery.id


def _org_of(store: Store, case_id: str) -> str:
    with store.read() as tx:
        row = tx.sql.one("SELECT org_id FROM cases WHERE id = ?", (case_id,))  # type: ignore[attr-defined]
    return str(row[0])


def state_of(store: Store, delivery_id: str) -> tuple[str, int, str | None]:
    with store.read() as tx:
        row = tx.sql.one(  # type: ignore[attr-defined]
            "SELECT state, attempts, last_error FROM deliveries WHERE id = ?", (delivery_id,)
        )
    return str(row[0]), int(row[1]), row[2]


def signing_secret(database_url: str) -> str:
    result = CliRunner().invoke(
        cli_app, ["webhooks", "secret"], env={"CASEBOOK_DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    return result.output.strip()


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The receiver's check, as docs/deliveries.md gives it."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp = int(parts["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    fresh = abs(time.time() - timestamp) <= tolerance
    return fresh and hmac.compare_digest(expected.hexdigest(), parts["v1"])


def test_a_webhook_delivery_is_signed_and_verifiable(database_url: str) -> None:
    with running_receiver() as receiver, world(database_url) as (_, _, store, http, case):
        hook = {
            "name": "sec-hook",
            "url": f"{receiver.url}/hooks",
            "custom_headers": '{"X-Team": "sec"}',
        }
        assert http.post(HOOKS, json=hook).status_code == 201
        delivery_id = store_delivery(store, case, "http", {"webhook": "sec-hook"})
        took = _wait(lambda: state_of(store, delivery_id)[0] == "delivered", timeout=5)
        print(f"delivered {took:.2f} s after it was stored")
        (got,) = receiver.received
        assert got.path == "/hooks"
        assert got.headers["x-casebook-delivery"] == delivery_id
        assert got.headers["x-team"] == "sec"
        assert json.loads(got.body)["case"]["key"] == "SEC-1"
        secret = signing_secret(database_url)
        assert verify(secret, got.headers["x-casebook-signature"], got.body)
        assert not verify(secret, got.headers["x-casebook-signature"], got.body + b" ")
        assert not verify("another secret", got.headers["x-casebook-signature"], got.body)


def test_a_failing_receiver_gets_the_delivery_once_it_recovers(database_url: str) -> None:
    with running_receiver() as receiver, world(database_url) as (_, _, store, http, case):
        receiver.failures = [500, 503, 502]
        hook = {"name": "flaky", "url": f"{receiver.url}/flaky", "payload": '{"key": "$CASE_KEY"}'}
        assert http.post(HOOKS, json=hook).status_code == 201
        delivery_id = store_delivery(store, case, "http", {"webhook": "flaky"})
        _wait(lambda: state_of(store, delivery_id)[0] == "delivered", timeout=15)
        assert state_of(store, delivery_id) == ("delivered", 4, None)
        assert len(receiver.received) == 4
        assert {r.headers["x-casebook-delivery"] for r in receiver.received} == {delivery_id}
        assert json.loads(receiver.received[-1].body) == {"key": "SEC-1"}
        with store.read() as tx:
            attempts = tx.deliveries.attempts(delivery_id)
        assert [a.status for a in attempts] == [500, 503, 502, 200]


def test_what_cannot_be_delivered_fails_visibly(database_url: str) -> None:
    with running_receiver() as receiver, world(database_url) as (_, _, store, _http, case):
        missing = store_delivery(store, case, "http", {"webhook": "not-made-yet"})
        refused = store_delivery(store, case, "slack", {"url": f"{receiver.url}/slack"})
        _wait(lambda: state_of(store, missing)[0] == "failed", timeout=5)
        assert state_of(store, missing) == ("failed", 1, "no webhook named 'not-made-yet'")
        # The Slack URL is on loopback: allowed here (CASEBOOK_ALLOW_PRIVATE_WEBHOOKS=1).
        _wait(lambda: state_of(store, refused)[0] == "delivered", timeout=5)
        assert json.loads(receiver.received[0].body)["text"].startswith("SEC-1")


def test_private_addresses_are_refused_unless_allowed(database_url: str) -> None:
    env = {"CASEBOOK_DELIVERY_FIRST_RETRY_SECONDS": "0.2", "CASEBOOK_ALLOW_PRIVATE_WEBHOOKS": "0"}
    with running_receiver() as receiver, world(database_url, env) as (_, _, store, http, case):
        assert (
            http.post(HOOKS, json={"name": "inside", "url": f"{receiver.url}/x"}).status_code == 201
        )
        delivery_id = store_delivery(store, case, "http", {"webhook": "inside"})
        _wait(lambda: state_of(store, delivery_id)[0] == "failed", timeout=5)
        _state, attempts, error = state_of(store, delivery_id)
        assert attempts == 1 and error is not None and "loopback" in error
        assert receiver.received == []
