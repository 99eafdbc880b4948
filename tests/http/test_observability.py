"""Readiness, request logs and metrics (docs/operations.md), on both back ends.

In-process apps here; ``test_workers_report_as_one`` runs a real ``casebook serve
--workers 2`` and checks what the two workers count and log together.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from alembic.script import ScriptDirectory
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from casebook.config import load_settings
from casebook.domain import users as users_domain
from casebook.http.app import create_app
from casebook.http.observe import ACCESS_FIELDS
from casebook.storage import open_store
from casebook.storage.migrate import MIGRATIONS_DIR, head_revision
from casebook.storage.revision import code_head
from casebook.storage.urls import DatabaseUrl
from tests.conftest import TEST_ENV
from tests.support.api import Api
from tests.support.logs import access_lines
from tests.support.server import new_keys, running_server

MISSING = "/api/v2/cases/00000000-0000-4000-8000-000000000000"


def _set_schema(database_url: str, statement: str, **params: str) -> None:
    engine = create_engine(DatabaseUrl.parse(database_url).sqlalchemy_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement), params)
    finally:
        engine.dispose()


def _samples(body: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, by name and labels (parsed by prometheus-client's parser)."""
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _requests(samples: dict[Any, float]) -> dict[tuple[str, str], float]:
    return {
        (dict(labels)["operation"], dict(labels)["status"]): value
        for (name, labels), value in samples.items()
        if name == "casebook_requests_total"
    }


# --- readiness -------------------------------------------------------------------------


def test_the_code_head_is_alembics() -> None:
    """``/readyz`` reads the head from the migration files, without loading Alembic."""
    assert code_head() == head_revision()


def test_ready_only_at_the_migration_head(api: Api, database_url: str) -> None:
    head = head_revision()
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "schema": head}

    previous = ScriptDirectory(str(MIGRATIONS_DIR)).get_revision(head).down_revision
    assert isinstance(previous, str)
    _set_schema(database_url, "UPDATE alembic_version SET version_num = :v", v=previous)
    behind = api.client.get("/readyz")
    assert behind.status_code == 503
    assert behind.json()["status"] == "unavailable"
    assert f"at revision {previous}" in behind.json()["reason"]
    assert f"needs {head}" in behind.json()["reason"]
    assert api.client.get("/healthz").status_code == 200  # alive all the same

    _set_schema(database_url, "DROP TABLE alembic_version")  # as an unmigrated database
    unknown = api.client.get("/readyz")
    assert unknown.status_code == 503
    assert "schema version" in unknown.json()["reason"]
    # Neither probe wants keys; a 503 is counted as a server error.
    scrape = api.get("/metrics")
    assert scrape.status_code == 200
    samples = _samples(scrape.text)
    assert _value(samples, "casebook_requests_total", operation="readyz", status="503") == 2
    assert _value(samples, "casebook_server_errors_total", operation="readyz") == 2
    assert _value(samples, "casebook_requests_total", operation="healthz", status="200") == 1


# --- request logs ----------------------------------------------------------------------


def test_one_json_line_per_request_with_its_fields_and_no_key(api: Api) -> None:
    project = api.create_project()
    case = api.create_case(project["id"])
    email = "reader@example.com"
    users_domain.add_user(api.store, org_name="default", email=email)
    reader = api.as_keys(api.keys_for("default", email))
    bad = {"DD-API-KEY": "f" * 32, "DD-APPLICATION-KEY": "e" * 40}
    with access_lines() as log:
        sent = [
            api.get(f"/api/v2/cases/{case['id']}"),
            reader.client.get(
                f"/api/v2/cases?filter={api.keys.app_key}&api_key={api.keys.api_key}",
                headers={**reader.headers, "X-Request-Id": "quote-me.42"},
            ),
            api.client.get(MISSING, headers={**api.headers, "X-Request-Id": "bad id\n"}),
            api.client.get(MISSING, headers=bad),
            api.client.get("/no/such/path"),
            api.post("/api/v2/cases", {"data": {"type": "case"}}),
        ]
    entries = log.entries()
    assert len(entries) == len(sent)
    keys = (api.keys.api_key, api.keys.app_key, reader.keys.api_key, reader.keys.app_key)
    log.assert_none_carries((*keys, *bad.values()))
    for entry, r in zip(entries, sent, strict=True):
        assert set(ACCESS_FIELDS) | {"time"} <= set(entry), entry
        assert entry["request_id"] == r.headers["X-Request-Id"]
        assert entry["status"] == r.status_code
        assert entry["bytes"] == len(r.content)
        assert entry["duration_ms"] >= entry["db_ms"] >= 0
        assert "?" not in entry["path"]
    admin_id = api.user_id(users_domain.BOOTSTRAP_ADMIN_EMAIL)
    got, searched, missing, refused, unrouted, invalid = entries
    assert (got["operation"], got["method"], got["user"]) == ("GetCase", "GET", admin_id)
    assert got["path"] == f"/api/v2/cases/{case['id']}" and got["org"]
    assert searched["request_id"] == "quote-me.42"  # a sane id is echoed
    assert (searched["operation"], searched["path"]) == ("SearchCases", "/api/v2/cases")
    assert searched["user"] == api.user_id(email) and searched["org"] == got["org"]
    assert missing["request_id"] != "bad id\n" and len(missing["request_id"]) >= 16
    assert (missing["operation"], missing["status"]) == ("GetCase", 404)
    assert (refused["status"], refused["org"], refused["user"]) == (403, None, None)
    assert (unrouted["operation"], unrouted["status"]) == ("none", 404)
    assert (invalid["operation"], invalid["status"], invalid["method"]) == (
        "CreateCase",
        400,
        "POST",
    )
    assert len({entry["request_id"] for entry in entries}) == len(entries)


def test_errors_carry_the_request_id_in_meta(api: Api) -> None:
    r = api.client.get(MISSING, headers={**api.headers, "X-Request-Id": "ticket-7"})
    assert r.status_code == 404
    assert r.headers["X-Request-Id"] == "ticket-7"
    assert r.json()["errors"][0]["meta"] == {"request_id": "ticket-7"}
    made = api.client.get("/no/such/path")
    assert made.json()["errors"][0]["meta"] == {"request_id": made.headers["X-Request-Id"]}
    # The legacy string arrays (and bad keys' exact body) are left as Datadog has them.
    refused = api.client.get(MISSING, headers={"DD-API-KEY": "x", "DD-APPLICATION-KEY": "y"})
    assert refused.content == b'{"errors":["Forbidden"]}' and refused.headers["X-Request-Id"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the same on both
def test_the_official_client_still_reads_errors(live_server: Any) -> None:
    from datadog_api_client import ApiClient, Configuration
    from datadog_api_client.exceptions import NotFoundException
    from datadog_api_client.v2.api.case_management_api import CaseManagementApi

    server, keys = live_server
    configuration = Configuration(host=server.base_url)
    configuration.api_key["apiKeyAuth"] = keys.api_key
    configuration.api_key["appKeyAuth"] = keys.app_key
    with ApiClient(configuration) as client, pytest.raises(NotFoundException) as caught:
        CaseManagementApi(client).get_case(MISSING.rsplit("/", 1)[1])
    assert caught.value.status == 404
    body = caught.value.body  # parsed by the client
    headers = {name.lower(): value for name, value in caught.value.headers.items()}
    assert body["errors"][0]["code"] == "resource_not_found"
    assert body["errors"][0]["meta"]["request_id"] == headers["x-request-id"]


# --- metrics -----------------------------------------------------------------------------


@pytest.fixture
def limited(database_url: str) -> Iterator[Api]:
    """An app whose rate limits are tiny: 3 requests per key, 2 failed logins per address."""
    env = {**TEST_ENV, "CASEBOOK_RATE_LIMIT": "3/3600s", "CASEBOOK_AUTH_FAILURE_LIMIT": "2/3600s"}
    settings = load_settings({"CASEBOOK_DATABASE_URL": database_url, **env})
    store = open_store(settings.database_url)
    try:
        with TestClient(create_app(settings, store)) as client:
            result = users_domain.bootstrap(store, settings.secret_key, api_key="", app_key="")
            assert result.created_keys is not None
            yield Api(client, store, settings, result.created_keys)
    finally:
        store.close()


def test_counters_match_the_requests_sent(limited: Api) -> None:
    api = limited
    email = "worker@example.com"
    users_domain.add_user(api.store, org_name="default", email=email)
    worker = api.as_keys(api.keys_for("default", email))
    statuses: dict[tuple[str, str], int] = {}

    def count(operation: str, r: Any) -> None:
        key = (operation, str(r.status_code))
        statuses[key] = statuses.get(key, 0) + 1

    for _ in range(5):  # 3 within the limit, then 429
        count("GetCase", worker.get(MISSING))
    bad = {"DD-API-KEY": "f" * 32, "DD-APPLICATION-KEY": "e" * 40}
    refusals = {"auth_failure": 0, "auth_throttled": 0, "rate_limit": 0}
    # From another address: failed logins throttle the address they come from.
    stranger = TestClient(api.client.app, client=("192.0.2.7", 40000))
    for _ in range(4):
        r = stranger.get(MISSING, headers=bad)
        count("GetCase", r)
        if r.status_code == 403:
            refusals["auth_failure"] += 1
        else:
            assert r.status_code == 429 and r.headers["X-RateLimit-Name"] == "auth_failures"
            refusals["auth_throttled"] += 1
    assert statuses[("GetCase", "404")] == 3 and refusals["auth_throttled"] >= 1
    count("none", api.client.get("/no/such/path"))
    count("none", api.client.delete("/healthz"))  # 405: no operation either

    forbidden = worker.get("/metrics")  # not an admin (and out of requests anyway)
    assert forbidden.status_code in (403, 429)
    count("metrics", forbidden)
    refusals["rate_limit"] = (
        sum(n for (_, status), n in statuses.items() if status == "429")
        - refusals["auth_throttled"]
    )
    scrape = api.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(scrape.text)
    assert _requests(samples) == {key: float(n) for key, n in statuses.items()}
    for reason, n in refusals.items():
        assert _value(samples, "casebook_rejections_total", reason=reason) == n, reason
    assert _value(samples, "casebook_request_duration_seconds_count", operation="GetCase") == 9
    assert _value(samples, "casebook_request_db_seconds_count", operation="GetCase") == 9
    assert _value(samples, "casebook_request_db_seconds_sum", operation="GetCase") > 0
    assert _value(samples, "casebook_outbox_pending_events") == 0
    assert _value(samples, "casebook_deliveries_pending") == 0
    assert _value(samples, "process_resident_memory_bytes") > 0


def test_metrics_can_be_switched_off(database_url: str) -> None:
    settings = load_settings(
        {"CASEBOOK_DATABASE_URL": database_url, **TEST_ENV, "CASEBOOK_METRICS": "0"}
    )
    store = open_store(settings.database_url)
    try:
        with TestClient(create_app(settings, store)) as client:
            result = users_domain.bootstrap(store, settings.secret_key, api_key="", app_key="")
            assert result.created_keys is not None
            api = Api(client, store, settings, result.created_keys)
            assert api.get("/metrics").status_code == 404
            assert api.client.get("/healthz").headers["X-Request-Id"]  # ids and logs stay
    finally:
        store.close()


def test_the_backlog_gauges_count_pending_work(api: Api) -> None:
    project = api.create_project()
    case = api.create_case(project["id"])  # no worker runs in-process: the event waits
    api.comment(case["id"], "one more change")
    samples = _samples(api.get("/metrics").text)
    assert _value(samples, "casebook_outbox_pending_events") >= 1


# --- a real server, two workers ----------------------------------------------------------


@pytest.mark.slow
def test_workers_report_as_one(tmp_path: Path) -> None:
    keys = new_keys()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {"CASEBOOK_LOG_FORMAT": "json", "TMPDIR": str(scratch)}
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    # A directory left by a killed serve is removed; one of a live process is not.
    ended = subprocess.Popen(["true"])
    ended.wait()
    orphan = scratch / f"casebook-metrics-{ended.pid}-left"
    alive = scratch / f"casebook-metrics-{os.getpid()}-mine"
    orphan.mkdir()
    alive.mkdir()
    sent = 0
    with running_server(url, keys, workers=2, env=env) as server:
        assert not orphan.exists() and alive.exists()
        alive.rmdir()
        (own,) = scratch.iterdir()  # the private multiprocess directory
        assert own.name.startswith(f"casebook-metrics-{server.proc.pid}-")  # type: ignore[union-attr]
        # Separate connections, so both workers answer some.
        for i in range(24):
            with httpx.Client(base_url=server.base_url, headers=keys.headers) as client:
                r = client.get(MISSING if i % 2 else "/api/v2/cases")
                assert r.status_code == (404 if i % 2 else 200)
                sent += 1
        deadline = time.monotonic() + 10
        pids: set[str] = set()
        while True:
            scrape = httpx.get(server.base_url + "/metrics", headers=keys.headers)
            assert scrape.status_code == 200
            samples = _samples(scrape.text)
            pids = {
                dict(labels)["pid"]
                for (name, labels) in samples
                if name == "process_resident_memory_bytes"
            }
            if len(pids) == 2 or time.monotonic() > deadline:
                break
            with httpx.Client(base_url=server.base_url, headers=keys.headers) as client:
                client.get("/healthz")
    assert len(pids) == 2, pids
    requests = _requests(samples)
    assert requests[("GetCase", "404")] == 12
    assert requests[("SearchCases", "200")] == 12
    # The server's own health checks while starting, and this test's: healthz and metrics.
    assert set(requests) <= {
        ("GetCase", "404"),
        ("SearchCases", "200"),
        ("healthz", "200"),
        ("metrics", "200"),
    }
    assert not list(scratch.iterdir())  # serve removed its directory
    lines = [line for line in server.output.decode().splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in lines]
    access = [e for e in entries if e.get("name") == "casebook.access"]
    assert sum(e["operation"] in ("GetCase", "SearchCases") for e in access) == sent
    assert len({e["request_id"][:12] for e in access}) == 2  # one id prefix per worker
    output = server.output.decode()
    assert keys.api_key not in output and keys.app_key not in output
    assert os.environ.get("PROMETHEUS_MULTIPROC_DIR") is None
