"""Moving from SQLite to PostgreSQL with the README's commands, checked with the official
Python client: 10,000 cases with history seeded on SQLite, ``casebook export``, ``casebook
import`` into PostgreSQL, export again (identical), then both servers answer the same for
the same cases by key and by UUID, to the keys the SQLite server had.
"""

from __future__ import annotations

import os
import random
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.seed import seed
from datadog_api_client.v2.api.case_management_api import CaseManagementApi

from tests.conftest import TEMPLATE
from tests.e2e.conftest import make_client
from tests.support.postgres import PostgresCluster
from tests.support.server import Keys, new_keys, running_server

CASES = 10_000


def casebook(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``casebook ARGS`` on ``database_url``; its output (a failure shows stderr)."""
    env = {**os.environ, "CASEBOOK_DATABASE_URL": database_url}
    env.pop("CASEBOOK_SECRET_KEY", None)
    done = subprocess.run(
        [sys.executable, "-m", "casebook", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def postgres_target(pg_cluster: PostgresCluster) -> Iterator[str]:
    name = f"move_{secrets.token_hex(4)}"
    yield pg_cluster.create_database(name, template=TEMPLATE)
    pg_cluster.drop_database(name)


@pytest.mark.slow
def test_move_ten_thousand_cases_to_postgres(
    tmp_path: Path, postgres_target: str, keys: Keys
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'casebook.db'}"
    seeded = seed(
        sqlite_url,
        api_key=keys.api_key,
        app_key=keys.app_key,
        cases=CASES,
        projects=2,
        sqlite_synchronous="NORMAL",
    )
    dump, again = tmp_path / "all.jsonl", tmp_path / "again.jsonl"
    exported = casebook(sqlite_url, "export", "-o", str(dump))
    assert f"({CASES} cases)" in exported.stderr
    imported = casebook(postgres_target, "import", str(dump))
    assert f"({CASES} cases;" in imported.stderr
    casebook(postgres_target, "export", "-o", str(again))
    assert again.read_bytes() == dump.read_bytes()

    sample = random.Random(5).sample(seeded.cases, 12)
    # The PostgreSQL server bootstraps keys of its own: the SQLite server's keys work on it
    # only because their digests, and the secret they are keyed with, moved.
    with (
        running_server(sqlite_url, keys) as before,
        running_server(postgres_target, new_keys()) as after,
        make_client(before, keys) as old_client,
        make_client(after, keys) as new_client,
    ):
        old, new = CaseManagementApi(old_client), CaseManagementApi(new_client)
        for uuid, key, _status in sample:
            by_key = old.get_case(case_id=key).to_dict()
            assert old.get_case(case_id=uuid).to_dict() == by_key
            assert new.get_case(case_id=key).to_dict() == by_key
            assert new.get_case(case_id=uuid).to_dict() == by_key
