"""Writer contention on SQLite: four workers on one file and a side connection holding
the write lock (BEGIN IMMEDIATE).

Held longer than the busy timeout (1 s here), the requests that wait get 503 with
a JSON:API error body, and none of them wrote anything. Held shorter (0.1 s),
every request succeeds.

The busy timeout is 1 s here rather than 500 ms so that a loaded CI machine
cannot fail the short holds by itself: casebook's own writers queue behind the
held lock, and fsync stalls of 0.4 s were seen on a busy disk. ``bench/soak.py``
runs the scenario at 500 ms.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from casebook.core.errors import UnavailableError
from casebook.storage.sqlite import SQLiteStore
from tests.reliability import scenarios
from tests.reliability._report import assert_passed

pytestmark = pytest.mark.slow


def test_long_holds_get_503_without_partial_writes_short_holds_succeed(tmp_path: Path) -> None:
    result = scenarios.sqlite_contention(
        tmp_path, busy_ms=1000, long_hold_s=3.0, long_holds=2, short_hold_s=0.1, short_holds=10
    )
    assert_passed(result)
    assert result.figures["long_hold_503"] > 0
    assert set(result.figures["short_hold_outcomes"]) <= {"200", "201"}


def test_a_write_waits_at_most_the_busy_timeout(tmp_path: Path) -> None:
    busy_ms = 500
    db = tmp_path / "casebook.db"
    setup = SQLiteStore(db)
    setup.migrate()
    setup.close()
    first, second = (
        SQLiteStore(db, busy_timeout_ms=busy_ms),
        SQLiteStore(db, busy_timeout_ms=busy_ms),
    )
    for store in (first, second):
        store.ping()  # connected, and the file in WAL mode, before anyone holds the lock
    holding = threading.Event()

    def side() -> None:  # another program holding the write lock for 3 s
        scenarios.hold_write_lock(db, 3.0, holding)

    def write(store: SQLiteStore, waited: list[float]) -> None:
        began = time.monotonic()
        with pytest.raises(UnavailableError), store.write():
            pass
        waited.append(time.monotonic() - began)

    first_waited: list[float] = []
    second_waited: list[float] = []
    threads = [threading.Thread(target=side)]
    threads[0].start()
    assert holding.wait(10)
    threads.append(threading.Thread(target=write, args=(first, first_waited)))
    threads[1].start()
    time.sleep(0.05)  # the first writer holds casebook's flock and waits in BEGIN IMMEDIATE
    threads.append(threading.Thread(target=write, args=(second, second_waited)))
    threads[2].start()
    for t in threads:
        t.join(15)
    first.close()
    second.close()
    assert first_waited and second_waited
    slack = 0.2
    assert first_waited[0] <= busy_ms / 1000 + slack
    assert second_waited[0] <= busy_ms / 1000 + slack, (
        f"the second writer waited {second_waited[0]:.2f} s with a {busy_ms} ms busy timeout"
    )


def test_writes_queued_behind_a_timed_out_write_fail_at_once(tmp_path: Path) -> None:
    """One worker's queue: the first write waits the busy timeout, the next ones do not."""
    busy_ms = 500
    db = tmp_path / "casebook.db"
    store = SQLiteStore(db, busy_timeout_ms=busy_ms, retry_after_busy_s=0.5)
    store.migrate()
    store.ping()
    holding = threading.Event()
    side = threading.Thread(target=scenarios.hold_write_lock, args=(db, 3.0, holding))
    side.start()
    try:
        assert holding.wait(10)
        waited = []
        for _ in range(3):  # requests served one after another by the same worker
            began = time.monotonic()
            with pytest.raises(UnavailableError), store.write():
                pass
            waited.append(time.monotonic() - began)
        assert waited[0] >= busy_ms / 1000 - 0.05
        assert waited[1] < 0.05 and waited[2] < 0.05, waited
        time.sleep(0.5)  # past retry_after_busy_s: a write tries, and waits, again
        began = time.monotonic()
        with pytest.raises(UnavailableError), store.write():
            pass
        assert time.monotonic() - began >= busy_ms / 1000 - 0.05
    finally:
        side.join(15)
    with store.write() as tx:  # the lock is free again: writes go through
        tx.meta.set_if_absent("after", "ok")
    store.close()
