"""Rules deliver, end to end through the API: a notification rule with an HTTP recipient
gets exactly one signed delivery per matching event; a maintenance window mutes them."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.support.api import case_body
from tests.support.receiver import running_receiver
from tests.worker.test_deliveries import HOOKS, _wait, signing_secret, verify, world


def rule_body(hook: str, query: str = "priority:P1") -> dict[str, Any]:
    attributes = {
        "is_enabled": True,
        "query": query,
        "triggers": [{"type": "CASE_CREATED"}, {"type": "STATUS_TRANSITIONED", "data": {}}],
        "recipients": [{"type": "HTTP", "data": {"name": hook}}],
    }
    return {"data": {"type": "notification_rule", "attributes": attributes}}


def test_a_rule_delivers_once_per_matching_event_and_a_window_mutes(database_url: str) -> None:
    with running_receiver() as receiver, world(database_url) as (_, _, store, http, case):
        project_id = case["relationships"]["project"]["data"]["id"]
        assert (
            http.post(HOOKS, json={"name": "soc", "url": f"{receiver.url}/soc"}).status_code == 201
        )
        rules = f"/api/v2/cases/projects/{project_id}/notification_rules"
        assert http.post(rules, json=rule_body("soc")).status_code == 201

        def make(title: str, priority: str) -> dict[str, Any]:
            r = http.post("/api/v2/cases", json=case_body(project_id, title, priority=priority))
            assert r.status_code == 201, r.text
            return dict(r.json()["data"])

        p1 = make("Phishing wave", "P1")
        make("Laptop stolen", "P3")  # the query does not match: nothing
        status = {"data": {"type": "case", "attributes": {"status": "IN_PROGRESS"}}}
        assert http.post(f"/api/v2/cases/{p1['id']}/status", json=status).status_code == 200
        http.post(
            f"/api/v2/cases/{p1['id']}/title",
            json={"data": {"type": "case", "attributes": {"title": "Renamed"}}},
        )
        _wait(lambda: len(receiver.received) >= 2, timeout=5)
        time.sleep(1.0)  # anything more would have come by now
        kinds = [json.loads(r.body)["type"] for r in receiver.received]
        assert sorted(kinds) == ["CASE_CREATED", "STATUS_TRANSITIONED"]  # sent side by side
        assert {json.loads(r.body)["case"]["key"] for r in receiver.received} == {
            p1["attributes"]["key"]
        }
        secret = signing_secret(database_url)
        assert all(
            verify(secret, r.headers["x-casebook-signature"], r.body) for r in receiver.received
        )
        assert len({r.headers["x-casebook-delivery"] for r in receiver.received}) == 2

        # A maintenance window over P1 cases, active now: their events deliver nothing.
        window = {
            "data": {
                "type": "maintenance_window",
                "attributes": {
                    "name": "Upgrade",
                    "query": "priority:P1",
                    "start_at": "2000-01-01T00:00:00Z",
                    "end_at": "2999-01-01T00:00:00Z",
                },
            }
        }
        assert http.post("/api/v2/maintenance_windows", json=window).status_code == 201
        make("During the upgrade", "P1")

        def handled() -> bool:
            with store.read() as tx:
                return tx.outbox.next(1) == []

        _wait(handled, timeout=5)  # the worker has read the event, and planned nothing
        time.sleep(0.5)
        assert len(receiver.received) == 2
