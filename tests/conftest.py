"""Shared fixtures: every test that takes ``database_url`` runs on SQLite and on PostgreSQL.

SQLite: a fresh file in ``tmp_path``. PostgreSQL: a throwaway cluster started
once per test session (per xdist worker) from the machine's binaries, and a
fresh database per test copied from a migrated template.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from casebook.config import Settings, load_settings
from casebook.domain import users as users_domain
from casebook.http.app import create_app
from casebook.storage import Store, open_store
from casebook.storage.urls import DatabaseUrl
from tests.support.api import Api
from tests.support.postgres import PostgresCluster
from tests.support.server import Keys, ServerProcess, new_keys, running_server
from tests.support.tracker import FakeTracker, running_tracker

TEMPLATE = "casebook_template"
pytest_plugins = ["pytester"]  # tests/testing runs the emulator's pytest plugin in a pytester

# Settings of the in-process apps, besides the database URL. No auth cache: a
# revoked key fails at once (the cache has its own test). The stand-ins for Jira and
# ServiceNow (tests/support/tracker.py) listen on loopback, which outbound calls may then
# reach (tests/egress/test_guard.py shows they may not by default).
TEST_ENV = {
    "CASEBOOK_RATE_LIMIT": "off",
    "CASEBOOK_AUTH_FAILURE_LIMIT": "off",
    "CASEBOOK_AUTH_CACHE_SECONDS": "0",
    "CASEBOOK_ALLOW_PRIVATE_WEBHOOKS": "1",
    "CASEBOOK_EGRESS_TIMEOUT_SECONDS": "2",
}


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that start servers (``slow``) run first, so that under ``pytest -n`` the last
    minutes are short tests spread over every worker, not one long test on one of them.
    The order is the same in every worker, as pytest-xdist requires."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def no_internal_errors() -> Iterator[None]:
    """Fail any test during which an in-process app answered 500 (an unexpected error)."""
    handler = _Collect()
    logger = logging.getLogger("casebook.http")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    if handler.records:
        first = handler.records[0]
        pytest.fail(f"a request got 500: {first.getMessage()} {first.exc_info!r}")


_names = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()
    try:
        url = cluster.create_database(TEMPLATE)
        store = open_store(DatabaseUrl.parse(url))
        store.migrate()
        store.close()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_url(pg_cluster: PostgresCluster) -> str:
    """An empty (unmigrated) PostgreSQL database, shared by the session."""
    return pg_cluster.create_database("casebook_empty")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database the migrations built, once per session (per xdist worker): each
    test gets a copy, as each PostgreSQL test gets a copy of ``TEMPLATE`` (a copy takes a
    millisecond, running the migrations 0.2 s). Closed, so its WAL is folded into the file."""
    path = tmp_path_factory.mktemp("sqlite-template") / "casebook.db"
    store = open_store(DatabaseUrl.parse(f"sqlite:///{path}"))
    store.migrate()
    store.close()
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each back end, fresh for each test."""
    if request.param == "sqlite":
        path = tmp_path / "casebook.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    name = f"t{next(_names)}_{secrets.token_hex(4)}"
    yield cluster.create_database(name, template=TEMPLATE)
    cluster.drop_database(name)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings({"CASEBOOK_DATABASE_URL": database_url, **TEST_ENV})


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = open_store(settings.database_url)
    yield store
    store.close()


@pytest.fixture
def client(settings: Settings, store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store), raise_server_exceptions=True) as client:
        yield client


@pytest.fixture
def api(client: TestClient, store: Store, settings: Settings) -> Api:
    """The API as the bootstrap admin of the ``default`` organisation."""
    result = users_domain.bootstrap(store, settings.secret_key, api_key="", app_key="")
    assert result.created_keys is not None
    return Api(client, store, settings, result.created_keys)


@pytest.fixture
def tracker() -> Iterator[FakeTracker]:
    """A local stand-in for Jira and ServiceNow (tests/support/tracker.py)."""
    with running_tracker() as tracker:
        yield tracker


@pytest.fixture
def live_server(database_url: str) -> Iterator[tuple[ServerProcess, Keys]]:
    """A ``casebook serve`` process on the test's database, and keys it knows."""
    keys = new_keys()
    with running_server(database_url, keys) as server:
        yield server, keys
