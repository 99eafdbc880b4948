"""Three casebook nodes on one PostgreSQL, sixteen clients spread over them, and faults:

a node SIGKILLed and restarted, casebook's connections ended with
``pg_terminate_backend``, and PostgreSQL stopped with ``pg_ctl stop -m
immediate`` and started again. While PostgreSQL is down every answer is 503
(never a 500, never slower than the client's 15 s timeout), the nodes recover
by themselves, and the checker finds every acknowledged write.

The cluster is durable (fsync on): a write acknowledged before the immediate
stop must be there after the restart.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.reliability import scenarios
from tests.reliability._report import assert_passed
from tests.reliability.harness import CLIENT_TIMEOUT, Node, case_body, create_project
from tests.support.postgres import PostgresCluster
from tests.support.server import new_keys

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def durable_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster(durable=True).start()
    try:
        yield cluster
    finally:
        cluster.stop()


def test_nodes_survive_node_kills_terminated_connections_and_postgres_restarts(
    durable_cluster: PostgresCluster, tmp_path: Path
) -> None:
    result = scenarios.postgres_nodes(durable_cluster, tmp_path, min_attempts=3000, max_seconds=60)
    assert_passed(result)
    faults = result.figures["faults"]
    assert faults["node SIGKILL"] >= 1
    assert faults["pg_terminate_backend (rounds)"] >= 1
    assert faults["postgres stop -m immediate"] >= 1
    assert result.figures["creates"] >= 3000
    assert result.figures["answers_while_postgres_down"].get("503", 0) > 0


def test_a_frozen_postgres_gets_503_not_a_hang(
    durable_cluster: PostgresCluster, tmp_path: Path
) -> None:
    name = f"frozen_{secrets.token_hex(4)}"
    url = durable_cluster.create_database(name)
    keys = new_keys()
    node = Node(url, keys, tmp_path)
    frozen: list[int] = []
    try:
        node.start()
        project_id = create_project(node.url, keys, "SEC", "Security")
        frozen = scenarios.postgres_processes(durable_cluster)
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        began = time.monotonic()
        try:
            r = httpx.post(
                node.url + "/api/v2/cases",
                json=case_body(project_id, "while frozen", "P3"),
                headers=keys.headers,
                timeout=CLIENT_TIMEOUT,
            )
            answer = str(r.status_code)
        except httpx.TimeoutException:
            answer = "no answer"
        took = time.monotonic() - began
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
        frozen = []
        # Thawed, the node reconnects; the refused create left no case and no gap.
        deadline = time.monotonic() + 15
        while True:
            after = httpx.post(
                node.url + "/api/v2/cases",
                json=case_body(project_id, "after the thaw", "P3"),
                headers=keys.headers,
                timeout=CLIENT_TIMEOUT,
            )
            if after.status_code != 503 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        node.stop()
        durable_cluster.drop_database(name)
    assert answer == "503", f"{answer} after {took:.1f} s with PostgreSQL frozen"
    assert took < CLIENT_TIMEOUT
    assert after.status_code == 201, after.text
    assert after.json()["data"]["attributes"]["key"] == "SEC-1"
