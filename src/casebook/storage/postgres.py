"""PostgreSQL back end: several stateless casebook processes on one database.

Each process keeps one connection (requests run one at a time per worker) and
reconnects after a fault. Connection faults become ``UnavailableError`` (503);
the transaction was not committed — except when the connection died during
COMMIT itself, when nobody can know, and the client is told so by the 503.
Case numbers stay gap-free across processes because ``allocate_case_number``
updates the project's counter row, which PostgreSQL locks until commit.

Every wait for the server has a client-side deadline (the statement timeout
plus a margin): a database that stops answering without closing the
connection (a frozen process, a partition without a reset) gets a 503 after
it, not a request that hangs. The connection is then dropped, since the
protocol was cut mid-exchange.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from time import perf_counter
from typing import TypeVar

import psycopg
import psycopg.errors
from psycopg.abc import PQGen
from psycopg.pq import TransactionStatus

from casebook.core.errors import UnavailableError
from casebook.storage.executor import Dialect
from casebook.storage.timing import db_clock
from casebook.storage.transaction import SqlTransaction
from casebook.storage.urls import DatabaseUrl

_OPEN = (TransactionStatus.INTRANS, TransactionStatus.INERROR)
RV = TypeVar("RV")


class DeadlineConnection(psycopg.Connection[tuple[object, ...]]):
    """A psycopg connection whose every wait for the server ends at ``deadline_s``."""

    deadline_s: float | None = None

    def wait(
        self,
        gen: PQGen[RV],
        interval: float = 0.1,
        timeout: float | None = None,
    ) -> RV:
        try:
            return super().wait(gen, interval, self.deadline_s if timeout is None else timeout)
        except psycopg.errors._WaitTimeout as exc:  # psycopg raises it for timeout=
            # Cut mid-exchange: nothing more can be said on this connection, and
            # closing it now makes the rollback that follows fail fast, not wait again.
            self.close()
            raise psycopg.OperationalError(
                f"no answer from the database within {self.deadline_s} s"
            ) from exc


def _is_unique_violation(exc: BaseException) -> bool:
    return isinstance(exc, psycopg.errors.UniqueViolation)


class PostgresStore:
    dialect: Dialect = "postgres"

    def __init__(
        self,
        url: DatabaseUrl,
        *,
        connect_timeout_s: int = 3,
        statement_timeout_ms: int = 10_000,
        deadline_margin_s: float = 2.0,
        retry_after_fault_s: float = 0.25,
    ) -> None:
        self.url = url
        self.connect_timeout_s = connect_timeout_s
        self.statement_timeout_ms = statement_timeout_ms
        # Past the server's own statement timeout: a live server answers first.
        self.deadline_s: float | None = (
            statement_timeout_ms / 1000 + deadline_margin_s if statement_timeout_ms > 0 else None
        )
        self.retry_after_fault_s = retry_after_fault_s
        self._lock = threading.Lock()
        # One connection, and one cursor on it reused by every request (a new
        # psycopg cursor costs ~15 µs, a tenth of a GET); requests hold ``_lock``.
        self._cursor: psycopg.Cursor[tuple[object, ...]] | None = None
        self._fault_until = 0.0

    def _cur(self) -> psycopg.Cursor[tuple[object, ...]]:
        """The cursor of the open connection; connects first if there is none."""
        cur = self._cursor
        if cur is not None and not cur.connection.closed:
            return cur
        # After a fault, answer at once for a short while instead of making
        # every queued request wait out its own connect timeout.
        if time.monotonic() < self._fault_until:
            raise UnavailableError("the database is unreachable")
        try:
            conn = DeadlineConnection.connect(
                self.url.postgres_dsn,
                autocommit=True,
                connect_timeout=self.connect_timeout_s,
                options=f"-c statement_timeout={int(self.statement_timeout_ms)}",
                application_name="casebook",
            )
        except psycopg.OperationalError as exc:
            self._fault_until = time.monotonic() + self.retry_after_fault_s
            raise UnavailableError("the database is unreachable") from exc
        conn.deadline_s = self.deadline_s
        self._cursor = conn.cursor()
        return self._cursor

    def _disconnect(self) -> None:
        if self._cursor is not None:
            try:
                self._cursor.connection.close()
            finally:
                self._cursor = None

    def _fault(self, exc: BaseException) -> UnavailableError:
        self._disconnect()
        self._fault_until = time.monotonic() + self.retry_after_fault_s
        return UnavailableError(f"database error: {type(exc).__name__}")

    def migrate(self) -> None:
        # Imported here: Alembic and SQLAlchemy cost worker processes ~0.3 s to load.
        from casebook.storage import migrate

        migrate.upgrade(self.url)

    @contextmanager
    def read(self, *, snapshot: bool = False) -> Iterator[SqlTransaction]:
        clock = db_clock.get()
        started = perf_counter()
        try:
            with self._lock:
                cur = self._cur()
                conn = cur.connection
                try:
                    if snapshot:
                        # One statement opens the snapshot (psycopg's transaction()
                        # would take two round trips: BEGIN, then SET TRANSACTION).
                        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                        try:
                            yield SqlTransaction(cur, "postgres", _is_unique_violation)
                        finally:
                            if conn.info.transaction_status in _OPEN:
                                cur.execute("ROLLBACK")  # read only: nothing to keep
                    else:
                        yield SqlTransaction(cur, "postgres", _is_unique_violation)
                except (psycopg.OperationalError, psycopg.errors.QueryCanceled) as exc:
                    raise self._fault(exc) from exc
        finally:
            if clock is not None:
                clock.seconds += perf_counter() - started

    @contextmanager
    def write(self) -> Iterator[SqlTransaction]:
        clock = db_clock.get()
        started = perf_counter()
        try:
            with self._lock:
                cur = self._cur()
                try:
                    with cur.connection.transaction():
                        yield SqlTransaction(cur, "postgres", _is_unique_violation)
                except (psycopg.OperationalError, psycopg.errors.QueryCanceled) as exc:
                    raise self._fault(exc) from exc
        finally:
            if clock is not None:
                clock.seconds += perf_counter() - started

    def ping(self) -> None:
        with self.read() as tx:
            tx.meta.get("ping")

    def close(self) -> None:
        with self._lock:
            self._disconnect()
