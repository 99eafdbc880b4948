"""SQLite back end: one file in WAL mode, one writer at a time across processes.

Durability: ``synchronous=FULL`` by default, so a transaction is on disk when
COMMIT returns — it survives a killed process *and* a power loss. ``NORMAL``
(setting ``CASEBOOK_SQLITE_SYNCHRONOUS``) survives a killed process but may lose
the last transactions on power loss; it is about twice as fast for writes.

Writers: SQLite allows one writer at a time. Several worker processes that wait
on SQLite's own busy handler sleep in coarse steps (up to 100 ms), which ruins
tail latency, so writers first take an advisory ``flock`` on ``<file>.writelock``,
polled every 50 to 200 µs, then ``BEGIN IMMEDIATE``. Both waits share
one deadline (the busy timeout); past it the request fails with
``UnavailableError`` before anything was written. The kernel drops the flock of
a killed process, so a crash never leaves the lock held.

A worker serves one request at a time, so writes queued behind one that timed
out would each wait out a busy timeout of their own (three queued writes: three
times the timeout). After a write times out, the store refuses writes at once
for ``retry_after_busy_s`` (0.25 s), as the PostgreSQL store does after a fault.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from time import perf_counter
from typing import Literal

from casebook.core.errors import UnavailableError
from casebook.storage.executor import Dialect
from casebook.storage.timing import db_clock
from casebook.storage.transaction import SqlTransaction
from casebook.storage.urls import DatabaseUrl

Synchronous = Literal["FULL", "NORMAL"]


def is_unique_violation(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)


@contextmanager
def committing(conn: sqlite3.Connection, cur: sqlite3.Cursor) -> Iterator[SqlTransaction]:
    """The body of a write transaction begun on ``cur``: COMMIT when it ends, rolled back on
    any error (SQLite's own errors become UnavailableError). The file store and the
    emulator's in-memory store (``memory.py``) share it."""
    try:
        yield SqlTransaction(cur, "sqlite", is_unique_violation)
        cur.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        if conn.in_transaction:
            conn.rollback()
        raise UnavailableError(f"database error: {exc}") from exc
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise


class SQLiteStore:
    dialect: Dialect = "sqlite"

    def __init__(
        self,
        path: Path,
        *,
        synchronous: Synchronous = "FULL",
        busy_timeout_ms: int = 5000,
        retry_after_busy_s: float = 0.25,
    ) -> None:
        self.path = Path(path)
        self.synchronous = synchronous
        self.busy_timeout_ms = busy_timeout_ms
        self.retry_after_busy_s = retry_after_busy_s
        self._busy_until = 0.0
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None

    # --- connection ---------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=0
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
            self._conn = conn
        return self._conn

    def _writelock_fd(self) -> int:
        if self._lock_fd is None:
            self._lock_fd = os.open(
                str(self.path) + ".writelock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
            )
        return self._lock_fd

    def _acquire_writelock(self, deadline: float) -> int:
        fd = self._writelock_fd()
        pause = 0.00005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise UnavailableError(
                        "the database is busy: another writer held it past the busy timeout"
                    ) from None
                time.sleep(pause)
                # Short pauses: a worker waiting here serves nothing else meanwhile.
                pause = min(pause * 2, 0.0002)

    # --- Store protocol -----------------------------------------------------
    def migrate(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            deadline = time.monotonic() + max(self.busy_timeout_ms / 1000, 30)
            fd = self._acquire_writelock(deadline)
            try:
                # Imported here: Alembic and SQLAlchemy cost worker processes ~0.3 s to load.
                from casebook.storage import migrate

                migrate.upgrade(DatabaseUrl.parse(f"sqlite:///{self.path}"))
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    @contextmanager
    def read(self, *, snapshot: bool = False) -> Iterator[SqlTransaction]:
        clock = db_clock.get()
        started = perf_counter()
        try:
            with self._lock:
                conn = self._connection()
                try:
                    cur = conn.cursor()
                    if snapshot:
                        cur.execute("BEGIN")
                    try:
                        yield SqlTransaction(cur, "sqlite", is_unique_violation)
                    finally:
                        if snapshot:
                            conn.rollback()
                except sqlite3.OperationalError as exc:
                    raise UnavailableError(f"database error: {exc}") from exc
        finally:
            if clock is not None:
                clock.seconds += perf_counter() - started

    @contextmanager
    def write(self) -> Iterator[SqlTransaction]:
        clock = db_clock.get()
        started = perf_counter()
        try:
            with self._lock:
                now = time.monotonic()
                if now < self._busy_until:
                    raise UnavailableError(
                        "the database is busy: a write just waited past the busy timeout"
                    )
                deadline = now + self.busy_timeout_ms / 1000
                try:
                    fd = self._acquire_writelock(deadline)
                except UnavailableError:
                    self._busy_until = time.monotonic() + self.retry_after_busy_s
                    raise
                try:
                    conn = self._connection()
                    cur = conn.cursor()
                    # BEGIN IMMEDIATE may wait only for what is left of the one deadline.
                    left_ms = int((deadline - time.monotonic()) * 1000)
                    shortened = left_ms < self.busy_timeout_ms - 20  # waited for the flock
                    if shortened:
                        cur.execute(f"PRAGMA busy_timeout={max(left_ms, 0)}")
                    try:
                        cur.execute("BEGIN IMMEDIATE")
                    except sqlite3.OperationalError as exc:
                        self._busy_until = time.monotonic() + self.retry_after_busy_s
                        raise UnavailableError(f"the database is busy: {exc}") from exc
                    finally:
                        if shortened:
                            cur.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
                    with committing(conn, cur) as tx:
                        yield tx
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            if clock is not None:
                clock.seconds += perf_counter() - started

    def ping(self) -> None:
        with self.read() as tx:
            tx.meta.get("ping")

    def integrity_check(self) -> str:
        with self._lock:
            row = self._connection().execute("PRAGMA integrity_check").fetchone()
            return str(row[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
