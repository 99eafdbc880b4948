"""Every route of the emulator's control plane (``/_casebook/``), on the caller's
organisation and with ``?all=true``."""

from __future__ import annotations

import time

from starlette.testclient import TestClient

from casebook.emulator.tenants import parse_duration
from tests.emulator.conftest import case_body, keys, project_body

DDFC = "d4bbe1af-f36e-42f1-87c1-493ca35c320e"
WEBHOOK_SEED = {
    "projects": [{"id": DDFC, "key": "DDFC", "name": "Datadog fixtures"}],
    "webhooks": [{"name": "ci-hook", "url": "https://hooks.example.com/cases"}],
    "rules": [{"project": "DDFC", "recipients": [{"type": "HTTP", "data": {"name": "ci-hook"}}]}],
}


def _create_case(client: TestClient, org: str, title: str = "Suspicious login") -> dict:
    response = client.post("/api/v2/cases", headers=keys(org), json=case_body(DDFC, title))
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_any_keys_make_an_organisation_and_missing_keys_are_refused(emulator: TestClient) -> None:
    made = emulator.post("/api/v2/cases/projects", headers=keys("a"), json=project_body("SEC"))
    assert made.status_code == 201, made.text
    listed = emulator.get("/api/v2/cases/projects", headers=keys("a"))
    assert [p["attributes"]["key"] for p in listed.json()["data"]] == ["SEC"]
    # Another application key of the same API key: the same organisation.
    other_app = {"DD-API-KEY": "api-a", "DD-APPLICATION-KEY": "another"}
    assert len(emulator.get("/api/v2/cases/projects", headers=other_app).json()["data"]) == 1
    missing = emulator.get("/api/v2/cases/projects", headers={"DD-API-KEY": "api-a"})
    assert missing.status_code == 403
    assert emulator.get("/api/v2/cases/projects").status_code == 403
    control = emulator.post("/_casebook/reset")
    assert control.status_code == 403
    assert "DD-API-KEY" in control.json()["errors"][0]["detail"]


def test_reset_empties_the_callers_organisation_only(emulator: TestClient) -> None:
    for org in ("a", "b"):
        emulator.post("/api/v2/cases/projects", headers=keys(org), json=project_body("SEC"))
    assert emulator.post("/_casebook/reset", headers=keys("a")).json() == {"reset": 1}
    assert emulator.get("/api/v2/cases/projects", headers=keys("a")).json()["data"] == []
    assert len(emulator.get("/api/v2/cases/projects", headers=keys("b")).json()["data"]) == 1
    assert emulator.post("/_casebook/reset?all=true").json() == {"reset": 2}
    assert emulator.get("/api/v2/cases/projects", headers=keys("b")).json()["data"] == []


def test_seed_fixed_ids_and_keys_yaml_or_json(emulator: TestClient) -> None:
    document = """
users:
  - email: alice@example.com
    name: Alice
    id: 6f1c1b9e-2d7a-4c1e-9b7e-0a4f5d9c8e01
projects:
  - id: d4bbe1af-f36e-42f1-87c1-493ca35c320e
    key: DDFC
    name: Datadog fixtures
cases:
  - id: 0b6f6f1e-0000-4000-8000-000000000001
    project: DDFC
    title: Seeded
    priority: P2
    created_at: 2026-01-05T10:00:00Z
    created_by: alice@example.com
    assignee: alice@example.com
    comments:
      - comment: first look
        author: alice@example.com
        at: 2026-01-05T11:00:00Z
    history:
      - at: 2026-01-06T09:00:00Z
        status: CLOSED
"""
    seeded = emulator.post(
        "/_casebook/seed",
        headers={**keys("a"), "Content-Type": "application/yaml"},
        content=document,
    )
    assert seeded.status_code == 201, seeded.text
    assert seeded.json()["data"]["projects"] == [{"id": DDFC, "key": "DDFC"}]
    case = emulator.get(
        "/api/v2/cases/0b6f6f1e-0000-4000-8000-000000000001", headers=keys("a")
    ).json()["data"]
    assert case["attributes"]["key"] == "DDFC-1"
    assert case["attributes"]["created_at"].startswith("2026-01-05T10:00:00")
    assert case["attributes"]["status"] == "CLOSED"
    assert case["relationships"]["assignee"]["data"]["id"] == "6f1c1b9e-2d7a-4c1e-9b7e-0a4f5d9c8e01"
    timeline = emulator.get(
        "/api/v2/cases/DDFC-1/timelines?sort[ascending]=true", headers=keys("a")
    ).json()["data"]
    assert len(timeline) >= 3
    # The same fixed ids in a second organisation, from JSON.
    again = emulator.post(
        "/_casebook/seed", headers=keys("b"), json={"projects": WEBHOOK_SEED["projects"]}
    )
    assert again.status_code == 201, again.text


def test_seed_is_all_or_nothing_and_names_the_bad_path(emulator: TestClient) -> None:
    bad = {
        "projects": [{"key": "OPS", "name": "Ops"}],
        "cases": [{"project": "OPS", "title": "fine"}, {"project": "NOPE", "title": "bad"}],
    }
    refused = emulator.post("/_casebook/seed", headers=keys("a"), json=bad)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["detail"].startswith("cases[1].project:")
    assert emulator.get("/api/v2/cases/projects", headers=keys("a")).json()["data"] == []
    unknown = emulator.post(
        "/_casebook/seed", headers=keys("a"), json={"projects": [{"key": "X", "nme": "typo"}]}
    )
    assert unknown.json()["errors"][0]["detail"] == "projects[0].nme: unknown field"
    title = emulator.post(
        "/_casebook/seed",
        headers=keys("a"),
        json={"projects": [{"key": "OPS", "name": "Ops"}], "cases": [{"project": "OPS"}]},
    )
    assert title.json()["errors"][0]["detail"] == "cases[0].title: a string is required"


def test_clock_freeze_advance_real(emulator: TestClient) -> None:
    frozen = emulator.post(
        "/_casebook/clock", headers=keys("a"), json={"freeze": "2026-03-01T12:00:00Z"}
    )
    assert frozen.json() == {"now": "2026-03-01T12:00:00.000000Z", "frozen": True}
    advanced = emulator.post("/_casebook/clock", headers=keys("a"), json={"advance": "P1DT2H"})
    assert advanced.json()["now"] == "2026-03-02T14:00:00.000000Z"
    assert emulator.get("/_casebook/clock", headers=keys("b")).json()["frozen"] is False
    real = emulator.post("/_casebook/clock", headers=keys("a"), json={"real": True})
    assert real.json()["frozen"] is False
    assert real.json()["now"].startswith(time.strftime("%Y-", time.gmtime()))
    for body in ({"advance": "P1M"}, {"freeze": "2026-03-01"}, {"real": False}, {"warp": 1}):
        assert emulator.post("/_casebook/clock", headers=keys("a"), json=body).status_code == 400
    everyone = emulator.post("/_casebook/clock?all=true", json={"freeze": "2027-01-01T00:00:00Z"})
    assert [c["now"] for c in everyone.json()["data"]] == ["2027-01-01T00:00:00.000000Z"] * 2


def test_durations() -> None:
    assert parse_duration("PT90M") == 90 * 60 * 1_000_000
    assert parse_duration("P1W") == 7 * 86_400 * 1_000_000
    assert parse_duration("-PT0.5S") == -500_000


def test_outbox_shows_the_webhook_a_rule_sends(emulator: TestClient) -> None:
    emulator.post("/_casebook/seed", headers=keys("a"), json=WEBHOOK_SEED)
    case = _create_case(emulator, "a")
    (sent,) = emulator.get("/_casebook/outbox", headers=keys("a")).json()["data"]
    assert sent["channel"] == "http"
    assert sent["webhook"] == "ci-hook"
    assert sent["case_id"] == case["id"]
    assert sent["request"]["url"] == "https://hooks.example.com/cases"
    assert sent["request"]["body"]["type"] == "CASE_CREATED"
    assert sent["request"]["headers"]["X-Casebook-Signature"].startswith("t=")
    assert emulator.get("/_casebook/outbox?channel=email", headers=keys("a")).json()["data"] == []
    assert emulator.get("/_casebook/outbox", headers=keys("b")).json()["data"] == []
    (everyone,) = emulator.get("/_casebook/outbox?all=true").json()["data"]
    assert everyone["org_id"] == sent["event"]["org_id"]
    assert emulator.delete("/_casebook/outbox", headers=keys("a")).status_code == 204
    assert emulator.get("/_casebook/outbox", headers=keys("a")).json()["data"] == []


def test_faults_by_operation_and_path(emulator: TestClient) -> None:
    emulator.post("/_casebook/seed", headers=keys("a"), json=WEBHOOK_SEED)
    added = emulator.post(
        "/_casebook/faults",
        headers=keys("a"),
        json={"operation_id": "CreateCase", "status": 429, "count": 1},
    )
    assert added.status_code == 201
    limited = emulator.post("/api/v2/cases", headers=keys("a"), json=case_body(DDFC, "x"))
    assert limited.status_code == 429
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["X-RateLimit-Reset"] == "1"
    assert limited.json()["errors"][0]["status"] == "429"
    assert emulator.get("/_casebook/faults", headers=keys("a")).json()["data"] == []
    _create_case(emulator, "a")  # the count is spent
    emulator.post(
        "/_casebook/faults",
        headers=keys("a"),
        json={"path": "/api/v2/cases/projects*", "status": 503},
    )
    assert emulator.get("/api/v2/cases/projects", headers=keys("a")).status_code == 503
    assert emulator.get("/api/v2/cases/projects", headers=keys("b")).status_code == 200
    assert emulator.get("/api/v2/cases/projects", headers=keys("a")).status_code == 503
    assert len(emulator.get("/_casebook/faults", headers=keys("a")).json()["data"]) == 1
    assert emulator.delete("/_casebook/faults", headers=keys("a")).status_code == 204
    assert emulator.get("/api/v2/cases/projects", headers=keys("a")).status_code == 200
    slow = emulator.post(
        "/_casebook/faults", headers=keys("a"), json={"latency_ms": 200, "probability": 1.0}
    )
    assert slow.status_code == 201
    started = time.monotonic()
    assert emulator.get("/api/v2/cases/projects", headers=keys("a")).status_code == 200
    assert time.monotonic() - started >= 0.2
    for body in (
        {"status": 200},
        {"operation_id": "CreateCase"},
        {"status": 500, "probability": 2},
    ):
        assert emulator.post("/_casebook/faults", headers=keys("a"), json=body).status_code == 400


def test_requests_journal(emulator: TestClient) -> None:
    emulator.post("/_casebook/seed", headers=keys("a"), json=WEBHOOK_SEED)
    _create_case(emulator, "a", "journaled")
    emulator.get("/api/v2/cases?filter=journaled", headers=keys("a"))
    journal = emulator.get("/_casebook/requests", headers=keys("a")).json()["data"]
    assert [e["operation_id"] for e in journal] == ["CreateCase", "SearchCases"]
    created = emulator.get("/_casebook/requests?operation_id=CreateCase", headers=keys("a")).json()[
        "data"
    ]
    assert created[0]["body"]["data"]["attributes"]["title"] == "journaled"
    assert created[0]["status"] == 201
    assert created[0]["method"] == "POST"
    searched = journal[1]
    assert searched["query"] == "filter=journaled"
    assert emulator.get("/_casebook/requests", headers=keys("b")).json()["data"] == []
    assert emulator.delete("/_casebook/requests", headers=keys("a")).status_code == 204
    assert emulator.get("/_casebook/requests", headers=keys("a")).json()["data"] == []


def test_unknown_routes_and_methods(emulator: TestClient) -> None:
    assert emulator.get("/_casebook/nothing", headers=keys("a")).status_code == 404
    wrong = emulator.put("/_casebook/reset", headers=keys("a"))
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "POST"


def test_openapi_document_describes_the_control_plane(emulator: TestClient) -> None:
    document = emulator.get("/api/v2/openapi.json").json()
    assert document["paths"]["/_casebook/reset"]["post"]["x-casebook-emulator"] is True
    assert "/api/v2/cases" in document["paths"]


def test_jira_and_servicenow_calls_land_in_the_outbox(emulator: TestClient) -> None:
    emulator.post("/_casebook/seed", headers=keys("a"), json={"projects": WEBHOOK_SEED["projects"]})
    case = _create_case(emulator, "a")
    jira = {
        "data": {"type": "issues", "attributes": {"project_id": "SEC", "issue_type_id": "10001"}}
    }
    made = emulator.post(
        f"/api/v2/cases/{case['id']}/relationships/jira_issues", headers=keys("a"), json=jira
    )
    assert made.status_code == 202, made.text
    ticket = {"data": {"type": "tickets", "attributes": {"instance_name": "emulator"}}}
    made = emulator.post(
        f"/api/v2/cases/{case['id']}/relationships/servicenow_tickets",
        headers=keys("a"),
        json=ticket,
    )
    assert made.status_code == 202, made.text
    calls = emulator.get("/_casebook/outbox", headers=keys("a")).json()["data"]
    by_channel = {entry["channel"]: entry for entry in calls}
    assert by_channel["jira"]["request"]["url"] == "https://jira.emulator.invalid/rest/api/2/issue"
    assert by_channel["jira"]["request"]["body"]["fields"]["summary"] == "Suspicious login"
    assert by_channel["jira"]["answer"] == {"key": "SEC-1"}
    assert by_channel["servicenow"]["answer"]["number"] == "INC0000001"
    linked = emulator.get(f"/api/v2/cases/{case['id']}", headers=keys("a")).json()["data"]
    assert "SEC-1" in str(linked)


def test_a_seeded_users_app_key_acts_as_that_user(emulator: TestClient) -> None:
    seeded = emulator.post(
        "/_casebook/seed",
        headers=keys("a"),
        json={
            "users": [{"email": "bob@example.com", "name": "Bob", "app_key": "bob-key"}],
            "projects": WEBHOOK_SEED["projects"],
        },
    )
    assert seeded.status_code == 201, seeded.text
    bob_id = seeded.json()["data"]["users"][0]["id"]
    bob = {"DD-API-KEY": "api-a", "DD-APPLICATION-KEY": "bob-key"}
    made = emulator.post("/api/v2/cases", headers=bob, json=case_body(DDFC, "by Bob"))
    assert made.json()["data"]["relationships"]["created_by"]["data"]["id"] == bob_id
    refused = emulator.post(
        "/_casebook/seed",
        headers=keys("a"),
        json={"users": [{"email": "eve@example.com", "app_key": "bob-key"}]},
    )
    assert refused.json()["errors"][0]["detail"] == "users[0].app_key: another user holds this key"


def test_ids_seed_through_the_clock_and_seed_routes(emulator: TestClient) -> None:
    made = []
    for org in ("a", "b"):
        emulator.post("/_casebook/clock", headers=keys(org), json={"ids_seed": 3})
        seeded = emulator.post(
            "/_casebook/seed", headers=keys(org), json={"projects": [{"key": "SEC", "name": "S"}]}
        )
        made.append(seeded.json()["data"]["projects"][0]["id"])
    assert made[0] == made[1]
    again = emulator.post(
        "/_casebook/seed",
        headers=keys("c"),
        json={"ids_seed": 3, "projects": [{"key": "OPS", "name": "O"}]},
    )
    assert again.json()["data"]["projects"][0]["id"] == made[0]
    refused = emulator.post("/_casebook/clock", headers=keys("a"), json={"ids_seed": "x"})
    assert refused.status_code == 400
