"""The checker can fail: it finds what a wrong key allocator does, and passes a right one.

Negative controls write rows with tiny standalone allocators into a minimal
``projects``/``cases`` schema without unique constraints, record what each
"client" was told in a ledger, and run the same reader and checker as the
scenarios. A sequence with forced rollbacks leaves gaps; ``max(number) + 1``
without a lock, from concurrent threads, hands out duplicates. The counter
update casebook uses, with the same forced rollbacks, passes.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.reliability.checker import CaseRow, Snapshot, check, read_postgres, read_sqlite
from tests.reliability.ledger import Write
from tests.support.postgres import PostgresCluster

SCHEMA = (
    "CREATE TABLE projects (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, key TEXT NOT NULL,"
    " last_case_number BIGINT)",
    "CREATE TABLE cases (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, project_id TEXT NOT NULL,"
    " number BIGINT NOT NULL, key TEXT NOT NULL, title TEXT NOT NULL, priority TEXT NOT NULL,"
    " status TEXT NOT NULL)",
)
ORG, PROJECT = "org-1", "project-1"


class Rollback(Exception):
    """Raised inside a transaction to force its rollback."""


def _insert_case(cur: Any, number: int, title: str, mark: str = "?") -> str:
    case_id = str(uuid.uuid4())
    cur.execute(
        "INSERT INTO cases (id, org_id, project_id, number, key, title, priority, status)"
        f" VALUES ({', '.join([mark] * 8)})",
        (case_id, ORG, PROJECT, number, f"SEC-{number}", title, "P3", "OPEN"),
    )
    return case_id


def _write(
    title: str, outcome: str, *, case_id: str | None = None, number: int | None = None
) -> Write:
    w = Write(
        "create",
        title,
        PROJECT,
        "P3",
        outcome=outcome,
        detail="201" if outcome == "ack" else "rollback",
    )  # type: ignore[arg-type]
    if outcome == "ack":
        w.case_id, w.key = case_id, f"SEC-{number}"
    return w


def _sqlite_schema(path: Path, counter: bool) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in SCHEMA:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO projects VALUES (?, ?, 'SEC', ?)", (PROJECT, ORG, 0 if counter else None)
    )
    conn.close()


# --- negative controls: wrong allocators -------------------------------------------------
def test_a_sequence_with_rollbacks_leaves_gaps_the_checker_reports(
    pg_cluster: PostgresCluster,
) -> None:
    name = f"control_gap_{uuid.uuid4().hex[:8]}"
    url = pg_cluster.create_database(name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            for statement in SCHEMA:
                conn.execute(statement)  # type: ignore[call-overload]
            conn.execute("CREATE SEQUENCE case_numbers")
            conn.execute("INSERT INTO projects VALUES (%s, %s, 'SEC', NULL)", (PROJECT, ORG))
            writes = []
            for i in range(30):
                title = f"seq-{i}"
                try:
                    with conn.transaction():
                        row = conn.execute("SELECT nextval('case_numbers')").fetchone()
                        assert row is not None
                        number = int(row[0])
                        case_id = _insert_case(conn.cursor(), number, title, "%s")
                        if i % 7 == 3:  # 3, 10, 17, 24: never the last one
                            raise Rollback
                    writes.append(_write(title, "ack", case_id=case_id, number=number))
                except Rollback:
                    writes.append(_write(title, "failed"))
        report = check(read_postgres(url), writes)
    finally:
        pg_cluster.drop_database(name)
    assert report.kinds() == {"gap": 1}, report.summary()
    assert "4 numbers of 1..30 missing: 4, 11, 18, 25" in report.violations[0][1]


def test_max_plus_one_without_a_lock_hands_out_duplicates_the_checker_reports(
    tmp_path: Path,
) -> None:
    db = tmp_path / "control.db"
    _sqlite_schema(db, counter=False)
    threads, rounds = 4, 8
    barrier = threading.Barrier(threads, timeout=30)
    writes: list[Write] = []
    lock = threading.Lock()

    def allocator(t: int) -> None:
        conn = sqlite3.connect(db, isolation_level=None, timeout=30, check_same_thread=False)
        for i in range(rounds):
            row = conn.execute(
                "SELECT coalesce(max(number), 0) + 1 FROM cases WHERE project_id = ?", (PROJECT,)
            ).fetchone()
            barrier.wait()  # everyone has read max before anyone inserts
            number = int(row[0])
            title = f"max-{t}-{i}"
            case_id = _insert_case(conn.cursor(), number, title)
            with lock:
                writes.append(_write(title, "ack", case_id=case_id, number=number))
            barrier.wait()
        conn.close()

    workers = [threading.Thread(target=allocator, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert not any(w.is_alive() for w in workers)
    report = check(read_sqlite(str(db)), writes)
    kinds = report.kinds()
    assert set(kinds) == {"duplicate"}, report.summary()
    # Each round: one number used by all four, and one key used four times.
    assert kinds["duplicate"] == 2 * rounds, report.summary()


def test_the_counter_update_with_the_same_rollbacks_passes(tmp_path: Path) -> None:
    """Positive control: casebook's allocation (counter UPDATE in the insert's transaction)."""
    db = tmp_path / "control.db"
    _sqlite_schema(db, counter=True)
    writes: list[Write] = []
    lock = threading.Lock()

    def allocator(t: int) -> None:
        conn = sqlite3.connect(db, isolation_level=None, timeout=30, check_same_thread=False)
        for i in range(15):
            title = f"ok-{t}-{i}"
            conn.execute("BEGIN IMMEDIATE")
            number = conn.execute(
                "UPDATE projects SET last_case_number = last_case_number + 1 WHERE id = ?"
                " RETURNING last_case_number",
                (PROJECT,),
            ).fetchone()[0]
            case_id = _insert_case(conn.cursor(), number, title)
            if (t + i) % 4 == 0:
                conn.execute("ROLLBACK")
                write = _write(title, "failed")
            else:
                conn.execute("COMMIT")
                write = _write(title, "ack", case_id=case_id, number=number)
            with lock:
                writes.append(write)
        conn.close()

    workers = [threading.Thread(target=allocator, args=(t,)) for t in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    report = check(read_sqlite(str(db)), writes)
    assert report.ok, report.summary()
    assert Counter(w.outcome for w in writes) == {"ack": 45, "failed": 15}
    assert report.cases == 45


# --- the other rules, on hand-made snapshots ---------------------------------------------
def _row(number: int, title: str, *, priority: str = "P3", status: str = "OPEN") -> CaseRow:
    return CaseRow(
        f"id-{title}", ORG, PROJECT, "SEC", number, f"SEC-{number}", title, priority, status
    )


def _ack(number: int, title: str) -> Write:
    return _write(title, "ack", case_id=f"id-{title}", number=number)


def _update(title: str, op: str, value: str, outcome: str) -> Write:
    return Write(op, title, PROJECT, value, outcome=outcome, case_id=f"id-{title}")  # type: ignore[arg-type]


def _kinds(
    rows: list[CaseRow], writes: list[Write], counter: int | None = None, **kw: object
) -> Counter[str]:
    top = max((r.number for r in rows), default=0)
    snapshot = Snapshot(rows, {PROJECT: top if counter is None else counter})
    return check(snapshot, writes, **kw).kinds()  # type: ignore[arg-type]


def test_a_clean_run_passes() -> None:
    writes = [_ack(1, "a"), _ack(2, "b"), _update("a", "priority", "P1", "ack")]
    assert _kinds([_row(1, "a", priority="P1"), _row(2, "b")], writes) == {}


def test_a_lost_acknowledged_write_is_reported() -> None:
    assert _kinds([_row(1, "a")], [_ack(1, "a"), _ack(2, "b")], counter=2) == {
        "lost": 1,
        "counter": 1,
    }


def test_a_failed_or_unrecorded_write_that_is_stored_is_reported() -> None:
    failed = _write("b", "failed")
    assert _kinds([_row(1, "a"), _row(2, "b")], [_ack(1, "a"), failed]) == {"failed-present": 1}
    assert _kinds([_row(1, "a"), _row(2, "x")], [_ack(1, "a")]) == {"phantom": 1}


def test_an_unknown_write_may_turn_up_once_in_its_own_slot() -> None:
    unknown = _write("b", "unknown")
    assert _kinds([_row(1, "a")], [_ack(1, "a"), unknown]) == {}
    assert _kinds([_row(1, "a"), _row(2, "b")], [_ack(1, "a"), unknown]) == {}
    twice = [_row(1, "a"), _row(2, "b"), _row(3, "b")]
    assert _kinds(twice, [_ack(1, "a"), unknown]) == {"duplicate": 1}
    # ... and a refused one (503 before commit) may not turn up at all.
    refused = _write("b", "unknown")
    refused.detail = "503"
    stored = [_row(1, "a"), _row(2, "b")]
    assert _kinds(stored, [_ack(1, "a"), refused], no_effect=lambda w: w.detail == "503") == {
        "failed-present": 1
    }


def test_content_key_and_counter_mismatches_are_reported() -> None:
    moved = [_row(1, "a"), _row(3, "b")]
    assert _kinds(moved, [_ack(1, "a"), _ack(2, "b")]) == {"content": 1, "gap": 1}
    assert _kinds([_row(1, "a")], [_ack(1, "a")], counter=2) == {"counter": 1}
    bad_key = CaseRow("id-a", ORG, PROJECT, "SEC", 1, "SEC-7", "a", "P3", "OPEN")
    assert _kinds([bad_key], [_write("a", "unknown")]) == {"key": 1}


def test_updates_must_leave_the_last_acknowledged_value() -> None:
    writes = [
        _ack(1, "a"),
        _update("a", "priority", "P1", "ack"),
        _update("a", "priority", "P2", "failed"),
        _update("a", "status", "CLOSED", "unknown"),
    ]
    assert _kinds([_row(1, "a", priority="P1")], writes) == {}
    assert _kinds([_row(1, "a", priority="P1", status="CLOSED")], writes) == {}
    assert _kinds([_row(1, "a", priority="P2")], writes) == {"content": 1}
    assert _kinds([_row(1, "a", priority="P3")], writes) == {"content": 1}


def test_acknowledged_changes_need_their_history_rows() -> None:
    writes = [_ack(1, "a"), _update("a", "priority", "P1", "ack")]
    rows = [_row(1, "a", priority="P1")]
    full = Counter({("id-a", "created", "SEC-1"): 1, ("id-a", "priority", "P1"): 1})
    assert check(Snapshot(rows, {PROJECT: 1}, full), writes).ok
    missing = Counter({("id-a", "created", "SEC-1"): 1})
    assert check(Snapshot(rows, {PROJECT: 1}, missing), writes).kinds() == {"history": 1}
    no_created = Counter({("id-a", "priority", "P1"): 1})
    assert check(Snapshot(rows, {PROJECT: 1}, no_created), writes).kinds() == {"history": 1}


@pytest.mark.parametrize("order", ["unknown-then-ack", "ack-then-unknown"])
def test_an_unknown_update_may_or_may_not_have_happened(order: str) -> None:
    unknown = _update("a", "priority", "P5", "unknown")
    ack = _update("a", "priority", "P1", "ack")
    updates = [unknown, ack] if order == "unknown-then-ack" else [ack, unknown]
    for u in updates:  # seq follows the order the client sent them
        u.seq = updates.index(u) + 1_000_000
    writes = [_ack(1, "a"), *updates]
    allowed = {"P1"} if order == "unknown-then-ack" else {"P1", "P5"}
    for priority in ("P1", "P5", "P3"):
        kinds = _kinds([_row(1, "a", priority=priority)], writes)
        assert (kinds == {}) == (priority in allowed), (priority, kinds)
