"""PostgreSQL back end: several stateless casebook processes on one database.

Each process keeps one connection (requests run one at a time per worker) and
reconnects after a fault. Connection faults become ``UnavailableError`` (503);
the transaction was not committed — except when the connection died during
COMMIT itself, when nobody can know, and the client is told so by the 503.
Case numbers stay gap-free across processes because ``allocate_case_number``
updates the project's counter row, which PostgreSQL locks until commit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import psycopg.errors

from casebook.errors import UnavailableError
from casebook.storage.base import Dialect
from casebook.storage.sqlstore import SqlTransaction
from casebook.storage.urls import DatabaseUrl


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
        retry_after_fault_s: float = 0.25,
    ) -> None:
        self.url = url
        self.connect_timeout_s = connect_timeout_s
        self.statement_timeout_ms = statement_timeout_ms
        self.retry_after_fault_s = retry_after_fault_s
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._fault_until = 0.0

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        conn = self._conn
        if conn is not None and not conn.closed:
            return conn
        # After a fault, answer at once for a short while instead of making
        # every queued request wait out its own connect timeout.
        if time.monotonic() < self._fault_until:
            raise UnavailableError("the database is unreachable")
        try:
            conn = psycopg.connect(
                self.url.postgres_dsn,
                autocommit=True,
                connect_timeout=self.connect_timeout_s,
                options=f"-c statement_timeout={int(self.statement_timeout_ms)}",
                application_name="casebook",
            )
        except psycopg.OperationalError as exc:
            self._fault_until = time.monotonic() + self.retry_after_fault_s
            raise UnavailableError("the database is unreachable") from exc
        self._conn = conn
        return conn

    def _fault(self, exc: BaseException) -> UnavailableError:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
        self._fault_until = time.monotonic() + self.retry_after_fault_s
        return UnavailableError(f"database error: {type(exc).__name__}")

    def migrate(self) -> None:
        # Imported here: Alembic and SQLAlchemy cost worker processes ~0.3 s to load.
        from casebook.storage import migrate

        migrate.upgrade(self.url)

    @contextmanager
    def read(self, *, snapshot: bool = False) -> Iterator[SqlTransaction]:
        with self._lock:
            conn = self._connection()
            try:
                cur = conn.cursor()
                if snapshot:
                    with conn.transaction():
                        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                        yield SqlTransaction(cur, "postgres", _is_unique_violation)
                else:
                    yield SqlTransaction(cur, "postgres", _is_unique_violation)
            except (psycopg.OperationalError, psycopg.errors.QueryCanceled) as exc:
                raise self._fault(exc) from exc

    @contextmanager
    def write(self) -> Iterator[SqlTransaction]:
        with self._lock:
            conn = self._connection()
            try:
                with conn.transaction():
                    yield SqlTransaction(conn.cursor(), "postgres", _is_unique_violation)
            except (psycopg.OperationalError, psycopg.errors.QueryCanceled) as exc:
                raise self._fault(exc) from exc

    def ping(self) -> None:
        with self.read() as tx:
            tx.get_meta("ping")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
