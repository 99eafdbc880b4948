"""Concurrent case creation through several server processes on one database.

8 clients create 50 cases each in one project, at the same time, spreading their
requests over every server: every answer is 201, and the 400 keys are exactly
``LOAD-1`` … ``LOAD-400`` (no gap, no duplicate).
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.support.postgres import PostgresCluster
from tests.support.server import Keys, new_keys, running_server

pytestmark = pytest.mark.slow

CLIENTS = 8
CASES_EACH = 50
TOTAL = CLIENTS * CASES_EACH
STANDARD = "00000000-0000-0000-0000-000000000001"
TIMEOUT = 30


def create_project(base_url: str, keys: Keys) -> str:
    r = httpx.post(
        base_url + "/api/v2/cases/projects",
        json={"data": {"type": "project", "attributes": {"key": "LOAD", "name": "Load"}}},
        headers=keys.headers,
        timeout=TIMEOUT,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["data"]["id"])


def case_body(project_id: str, title: str) -> dict[str, object]:
    return {
        "data": {
            "type": "case",
            "attributes": {"title": title, "type_id": STANDARD, "priority": "P3"},
            "relationships": {"project": {"data": {"id": project_id, "type": "project"}}},
        }
    }


def hammer(base_urls: list[str], keys: Keys) -> None:
    project_id = create_project(base_urls[0], keys)
    start = threading.Barrier(CLIENTS, timeout=TIMEOUT)

    def client(n: int) -> list[tuple[int, str]]:
        results: list[tuple[int, str]] = []
        with ExitStack() as stack:
            sessions = [
                stack.enter_context(
                    httpx.Client(base_url=url, headers=keys.headers, timeout=TIMEOUT)
                )
                for url in base_urls
            ]
            start.wait()
            for i in range(CASES_EACH):
                # Alternate servers, and start each client on a different one.
                session = sessions[(n + i) % len(sessions)]
                r = session.post("/api/v2/cases", json=case_body(project_id, f"c{n}-{i}"))
                key = r.json()["data"]["attributes"]["key"] if r.status_code == 201 else r.text
                results.append((r.status_code, key))
        return results

    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(client, n) for n in range(CLIENTS)]
        results = [item for f in futures for item in f.result(timeout=180)]

    statuses = Counter(status for status, _ in results)
    assert statuses == {201: TOTAL}, [r for r in results if r[0] != 201][:5]
    keys_made = [key for _, key in results]
    duplicates = [k for k, n in Counter(keys_made).items() if n > 1]
    assert not duplicates, duplicates[:10]
    assert set(keys_made) == {f"LOAD-{i}" for i in range(1, TOTAL + 1)}

    # Every server sees all of them.
    for url in base_urls:
        seen: set[str] = set()
        for page in range(1, TOTAL // 100 + 1):
            r = httpx.get(
                url + "/api/v2/cases",
                params={"page[size]": 100, "page[number]": page},
                headers=keys.headers,
                timeout=TIMEOUT,
            )
            assert r.status_code == 200, r.text
            seen |= {c["attributes"]["key"] for c in r.json()["data"]}
            assert r.json()["meta"]["total_cases"] == TOTAL
        assert seen == set(keys_made)


def test_two_servers_on_one_postgres_database(pg_cluster: PostgresCluster) -> None:
    name = f"e2e_concurrency_{secrets.token_hex(4)}"
    url = pg_cluster.create_database(name, template="casebook_template")
    keys = new_keys()
    try:
        # Started one after the other: each makes sure the admin owns the keys.
        with running_server(url, keys) as first, running_server(url, keys) as second:
            assert first.port != second.port
            hammer([first.base_url, second.base_url], keys)
    finally:
        pg_cluster.drop_database(name)


def test_one_server_two_workers_on_sqlite(tmp_path: Path) -> None:
    keys = new_keys()
    with running_server(f"sqlite:///{tmp_path / 'casebook.db'}", keys, workers=2) as server:
        hammer([server.base_url], keys)
