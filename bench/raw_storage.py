"""Raw-storage ceiling for creates: casebook's create transaction on the bare driver.

The transaction is the one ``POST /api/v2/cases`` commits — take the project's
next case number (``UPDATE projects ... RETURNING``), insert the case, insert
its ``created`` history row, commit — written with ``sqlite3`` or ``psycopg``
directly: no HTTP, no casebook code, same schema (FTS triggers and indexes
included), same durability. SQLite runs one connection (one writer at a time
is all SQLite allows); PostgreSQL runs ``concurrency`` processes, each with one
connection, on one project or spread over many.

Standalone: ``python -m bench.raw_storage --backend sqlite --seconds 5``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STANDARD_TYPE = "00000000-0000-0000-0000-000000000001"

_ALLOCATE = (
    "UPDATE projects SET last_case_number = last_case_number + 1"
    " WHERE org_id = ? AND id = ? AND deleted_at IS NULL RETURNING last_case_number, key"
)
_INSERT_CASE = (
    "INSERT INTO cases (id, org_id, project_id, number, key, title, description,"
    " priority, priority_rank, status, type_id, attributes, custom_attributes,"
    " creation_source, created_at, created_by, assignee_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq"
)
_INSERT_EVENT = (
    "INSERT INTO case_events (case_id, org_id, actor_id, at, field, old_value, new_value)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_TITLE = "Suspicious login from a new country"
_DESCRIPTION = "Brute force alert from the identity provider; see the linked signal."


@dataclass
class RawResult:
    label: str
    creates: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.creates / self.seconds if self.seconds else 0.0


def combine(runs: list[RawResult]) -> RawResult:
    """Several passes of one measurement as one: total creates over total time."""
    if len(runs) == 1:
        return runs[0]
    return RawResult(
        runs[0].label,
        sum(r.creates for r in runs),
        sum(r.seconds for r in runs),
        statistics.fmean(r.p50_ms for r in runs),
        statistics.fmean(r.p99_ms for r in runs),
    )


def _create(cur: Any, org_id: str, project_id: str, user_id: str) -> None:
    """The statements of one create, on an open transaction (``?`` or ``%s`` style)."""
    number, key = cur.execute(_ALLOCATE_P, (org_id, project_id)).fetchone()
    case_id = str(uuid.uuid4())
    at = time.time_ns() // 1000
    cur.execute(
        _INSERT_CASE_P,
        (
            case_id,
            org_id,
            project_id,
            number,
            f"{key}-{number}",
            _TITLE,
            _DESCRIPTION,
            "P2",
            4,
            "OPEN",
            STANDARD_TYPE,
            "{}",
            "{}",
            "MANUAL",
            at,
            user_id,
            None,
        ),
    ).fetchone()
    cur.execute(_INSERT_EVENT_P, (case_id, org_id, user_id, at, "created", None, f"{key}-{number}"))


# The statements in the running driver's placeholder style; set per process.
_ALLOCATE_P = _INSERT_CASE_P = _INSERT_EVENT_P = ""


def _use_placeholders(style: str) -> None:
    global _ALLOCATE_P, _INSERT_CASE_P, _INSERT_EVENT_P
    mark = "?" if style == "qmark" else "%s"
    _ALLOCATE_P = _ALLOCATE.replace("?", mark)
    _INSERT_CASE_P = _INSERT_CASE.replace("?", mark)
    _INSERT_EVENT_P = _INSERT_EVENT.replace("?", mark)


def _identity(cur: Any, project_keys: list[str] | None) -> tuple[str, str, list[str]]:
    """(org id, admin user id, project ids) of a database seeded by ``bench.seed``."""
    org_id, user_id = cur.execute(
        "SELECT u.org_id, u.id FROM users u WHERE u.email = 'admin@casebook.local'"
    ).fetchone()
    rows = cur.execute("SELECT key, id FROM projects ORDER BY key").fetchall()
    ids = {k: i for k, i in rows}
    keys = project_keys or ["BENCH"]
    return org_id, user_id, [ids[k] for k in keys]


def _summary(label: str, latencies: list[float], seconds: float) -> RawResult:
    if not latencies:
        return RawResult(label, 0, seconds, 0.0, 0.0)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return RawResult(label, len(latencies), seconds, cuts[49] * 1000, cuts[98] * 1000)


def run_sqlite(path: Path, *, synchronous: str, seconds: float) -> RawResult:
    """Creates/s on one connection, WAL, ``PRAGMA synchronous`` as given."""
    _use_placeholders("qmark")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        cur = conn.cursor()
        org_id, user_id, (project_id,) = _identity(cur, None)
        latencies: list[float] = []
        start = time.perf_counter()
        end = start + seconds
        now = start
        while now < end:
            cur.execute("BEGIN IMMEDIATE")
            _create(cur, org_id, project_id, user_id)
            cur.execute("COMMIT")
            after = time.perf_counter()
            latencies.append(after - now)
            now = after
        return _summary(f"sqlite {synchronous}", latencies, now - start)
    finally:
        conn.close()


def _pg_worker(args: tuple[str, list[str], float, float, int]) -> list[float]:
    import psycopg

    url, keys, start_at, seconds, seed = args
    _use_placeholders("format")
    rng = random.Random(seed)
    with psycopg.connect(url) as conn:
        cur = conn.cursor()
        org_id, user_id, project_ids = _identity(cur, keys)
        conn.commit()
        latencies: list[float] = []
        time.sleep(max(0.0, start_at - time.time()))
        end = time.perf_counter() + seconds
        now = time.perf_counter()
        while now < end:
            project_id = project_ids[0] if len(project_ids) == 1 else rng.choice(project_ids)
            _create(cur, org_id, project_id, user_id)
            conn.commit()
            after = time.perf_counter()
            latencies.append(after - now)
            now = after
        return latencies


def run_postgres(
    url: str, *, seconds: float, concurrency: int, project_keys: list[str], label: str
) -> RawResult:
    """Creates/s from ``concurrency`` processes, each one connection, committing each create."""
    start_at = time.time() + 1.0
    jobs = [(url, project_keys, start_at, seconds, n) for n in range(concurrency)]
    with multiprocessing.get_context("spawn").Pool(concurrency) as pool:
        results = pool.map(_pg_worker, jobs)
    latencies = [x for r in results for x in r]
    return _summary(label, latencies, seconds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args(argv)
    from bench.seed import seed

    if args.backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="casebook-raw-") as tmp:
            for sync in ("FULL", "NORMAL"):
                path = Path(tmp) / f"raw-{sync}.db"
                seed(f"sqlite:///{path}", api_key="a" * 32, app_key="b" * 40, cases=1000)
                print(run_sqlite(path, synchronous=sync, seconds=args.seconds))
        return
    from tests.support.postgres import PostgresCluster

    cluster = PostgresCluster(durable=True).start()
    try:
        url = cluster.create_database("raw")
        seed(url, api_key="a" * 32, app_key="b" * 40, cases=1000, projects=64)
        for label, keys in (("one project", ["BENCH"]), ("many", [f"M{i}" for i in range(64)])):
            print(
                run_postgres(
                    url,
                    seconds=args.seconds,
                    concurrency=args.concurrency,
                    project_keys=keys,
                    label=label,
                )
            )
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
