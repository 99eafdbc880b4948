"""storage/postgres.py: a server that stops answering gets a client-side deadline, not a hang."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from collections.abc import Iterator

import pytest

from casebook.core.errors import UnavailableError
from casebook.storage.postgres import PostgresStore
from casebook.storage.urls import DatabaseUrl
from tests.support.postgres import PostgresCluster

TEMPLATE = "casebook_template"


@pytest.fixture
def store(pg_cluster: PostgresCluster) -> Iterator[PostgresStore]:
    name = f"deadline_{secrets.token_hex(4)}"
    url = pg_cluster.create_database(name, template=TEMPLATE)
    store = PostgresStore(
        DatabaseUrl.parse(url),
        statement_timeout_ms=1000,
        deadline_margin_s=0.5,
        retry_after_fault_s=0.05,
    )
    try:
        yield store
    finally:
        store.close()
        pg_cluster.drop_database(name)


def _backend_pid(store: PostgresStore) -> int:
    with store.read() as tx:
        return int(tx.sql.one("SELECT pg_backend_pid()")[0])


def test_a_frozen_backend_is_a_503_after_the_deadline_then_the_store_reconnects(
    store: PostgresStore,
) -> None:
    assert store.deadline_s == 1.5
    pid = _backend_pid(store)
    os.kill(pid, signal.SIGSTOP)  # only this connection's server process
    try:
        began = time.monotonic()
        with pytest.raises(UnavailableError), store.write() as tx:
            tx.meta.get("anything")
        took = time.monotonic() - began
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    # One deadline: the rollback after it did not wait a second time.
    assert 1.4 < took < 2.5, took
    time.sleep(0.1)  # past retry_after_fault_s
    assert _backend_pid(store) != pid  # a new connection, and it works


def test_a_slow_statement_is_cancelled_by_the_server_first(store: PostgresStore) -> None:
    began = time.monotonic()
    with pytest.raises(UnavailableError), store.read() as tx:
        tx.sql.one("SELECT pg_sleep(5)")
    assert time.monotonic() - began < 1.4  # the statement timeout (1 s), not the deadline
