"""No change without its timeline cell: ``CASEBOOK_FAULTS=history_record=1`` makes every
write fail as it writes its history rows, after its other writes in the same
transaction. Each answers 503 and leaves the database exactly as it was."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from casebook.config import load_settings
from casebook.http.app import create_app
from casebook.storage import open_store
from tests.conftest import TEST_ENV
from tests.support.api import Api

TABLES = (
    "cases",
    "case_events",
    "case_comments",
    "case_watchers",
    "case_links",
    "case_key_aliases",
    "projects",
)


def _rows(api: Api) -> dict[str, list[tuple[Any, ...]]]:
    with api.store.read() as tx:
        return {
            table: sorted(map(tuple, tx.sql.all(f"SELECT * FROM {table}")), key=repr)
            for table in TABLES
        }


@pytest.fixture
def faulty(api: Api, database_url: str) -> Iterator[Api]:
    """The same organisation and keys, through an app whose history writes all fail."""
    settings = load_settings(
        {"CASEBOOK_DATABASE_URL": database_url, **TEST_ENV, "CASEBOOK_FAULTS": "history_record=1"}
    )
    store = open_store(settings.database_url)
    with TestClient(create_app(settings, store)) as client:
        yield Api(client, api.store, api.settings, api.keys)
    store.close()


def test_every_kind_of_change_fails_whole(api: Api, faulty: Api) -> None:
    sec = api.create_project("SEC", "Security")
    net = api.create_project("NET", "Network")
    one = api.create_case(sec["id"], "One")
    two = api.create_case(sec["id"], "Two")
    ann = api.create_user("ann@example.com")
    cell = api.comment("SEC-1", "first").json()["data"][0]["id"]
    link = api.post(
        "/api/v2/cases/link",
        {
            "data": {
                "type": "link",
                "attributes": {
                    "parent_entity_type": "CASE",
                    "parent_entity_id": one["id"],
                    "child_entity_type": "CASE",
                    "child_entity_id": two["id"],
                    "relationship": "BLOCKS",
                },
            }
        },
    ).json()["data"]["id"]
    insight = {"type": "MONITOR", "ref": "/monitors/1", "resource_id": "1"}
    case_body = {
        "data": {
            "type": "case",
            "attributes": {"title": "t", "type_id": "00000000-0000-0000-0000-000000000001"},
            "relationships": {"project": {"data": {"id": sec["id"], "type": "project"}}},
        }
    }
    calls: list[tuple[str, str, Any]] = [
        ("POST", "/api/v2/cases", case_body),
        ("POST", "/api/v2/cases/SEC-1/title", {"data": {"type": "case", "attributes": {"title": "x"}}}),
        ("POST", "/api/v2/cases/SEC-1/status", {"data": {"type": "case", "attributes": {"status": "CLOSED"}}}),
        ("POST", "/api/v2/cases/SEC-1/assign", {"data": {"type": "case", "attributes": {"assignee_id": ann["id"]}}}),
        ("POST", "/api/v2/cases/SEC-1/due_date", {"data": {"type": "case", "attributes": {"due_date": "2027-01-01"}}}),
        ("POST", "/api/v2/cases/SEC-1/comment", {"data": {"type": "case", "attributes": {"comment": "@ann@example.com"}}}),
        ("PUT", f"/api/v2/cases/SEC-1/comment/{cell}", {"data": {"type": "case", "attributes": {"comment": "e"}}}),
        ("DELETE", f"/api/v2/cases/SEC-1/comment/{cell}", None),
        ("POST", f"/api/v2/cases/SEC-1/watchers/{ann['id']}", None),
        ("PUT", "/api/v2/cases/SEC-1/insights", {"data": {"type": "case", "attributes": {"insights": [insight]}}}),
        ("PATCH", "/api/v2/cases/SEC-1/relationships/project", {"data": {"id": net["id"], "type": "project"}}),
        ("DELETE", f"/api/v2/cases/link/{link}", None),
        ("POST", "/api/v2/cases/bulk", {"data": {"type": "bulk", "attributes": {"case_ids": ["SEC-1", "SEC-2"], "type": "assign", "payload": {"assignee_id": ann["id"]}}}}),
        ("POST", "/api/v2/cases/bulk", {"data": {"type": "bulk", "attributes": {"case_ids": ["SEC-2", "SEC-1"], "type": "update_project", "payload": {"project_id": net["id"]}}}}),
    ]  # fmt: skip
    before = _rows(api)
    for method, path, body in calls:
        r = faulty.client.request(method, path, json=body, headers=faulty.headers)
        assert r.status_code == 503, (method, path, r.text)
        assert r.headers["retry-after"] == "1"
        assert _rows(api) == before, (method, path)
