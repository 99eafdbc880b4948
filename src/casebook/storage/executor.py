"""The one place statements reach the database: a DB-API cursor shared by both back ends.

SQL in casebook uses ``?`` placeholders; on PostgreSQL the executor rewrites
them to ``%s`` once per statement text (``to_pyformat``). Every statement binds
its values: the only text spliced into SQL is fixed column names from the
repositories' declarations and the filter compiled by ``storage.sql_search``
(itself fixed fragments and placeholders).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

from casebook.core.errors import ConflictError

Dialect = Literal["sqlite", "postgres"]
Row = Sequence[Any]


@functools.lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """``?`` placeholders to psycopg's ``%s``, with literal ``%`` escaped."""
    return sql.replace("%", "%%").replace("?", "%s")


def _same(sql: str) -> str:
    return sql


class Executor:
    """Runs one transaction's statements on its cursor; every repository of the transaction
    shares it."""

    __slots__ = ("_cur", "_fmt", "_is_unique_violation", "dialect")

    def __init__(
        self,
        cursor: Any,
        dialect: Dialect,
        is_unique_violation: Callable[[BaseException], bool],
    ) -> None:
        self._cur = cursor
        self.dialect: Dialect = dialect
        self._is_unique_violation = is_unique_violation
        self._fmt: Callable[[str], str] = to_pyformat if dialect == "postgres" else _same

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; the number of rows it changed (for UPDATE and DELETE)."""
        cur = self._cur
        cur.execute(self._fmt(sql), params)
        return int(cur.rowcount)

    def execute_many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        """Run a statement once per set of values; on PostgreSQL pipelined, in one round
        trip for them all (for one set, ``execute`` costs less)."""
        if params:
            self._cur.executemany(self._fmt(sql), params)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or None if it has none."""
        cur = self._cur
        cur.execute(self._fmt(sql), params)
        row: Row | None = cur.fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cur = self._cur
        cur.execute(self._fmt(sql), params)
        return list(cur.fetchall())

    def stream(self, sql: str, params: Sequence[Any] = (), size: int = 2000) -> Iterator[list[Row]]:
        """A query's rows in batches of ``size``, without holding them all: on PostgreSQL
        through a server-side cursor (call it inside a transaction), on SQLite through a
        cursor of its own. Run nothing else on the transaction until it is exhausted."""
        connection = self._cur.connection
        cur = (
            connection.cursor(name="casebook_stream")
            if self.dialect == "postgres"
            else connection.cursor()
        )
        try:
            cur.execute(self._fmt(sql), params)
            while rows := cur.fetchmany(size):
                yield rows
        finally:
            cur.close()

    def copy_in(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert rows, on PostgreSQL with COPY (a quarter faster than ``execute_many``
        for a dump's rows); the names are the caller's, never a client's."""
        if self.dialect != "postgres":
            marks = ", ".join("?" * len(columns))
            self.execute_many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            return
        with self._cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def all_planned_each_time(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """``all`` for search statements: never a prepared statement on PostgreSQL.

        psycopg prepares a statement run five times, and PostgreSQL may then plan
        it once for all values: a plan for "some organisation, some word" that can
        be far off for this one. An unprepared statement is planned for its values.
        """
        if self.dialect == "postgres":
            self._cur.execute(self._fmt(sql), params, prepare=False)
            return list(self._cur.fetchall())
        return self.all(sql, params)

    def execute_unique(self, sql: str, params: Sequence[Any], conflict: str) -> None:
        """Run a statement that a uniqueness rule may refuse: ConflictError(``conflict``) then."""
        try:
            self._cur.execute(self._fmt(sql), params)
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise ConflictError(conflict) from exc
            raise


class Repository:
    """The queries of one table, run by one transaction's executor."""

    __slots__ = ("_sql",)

    def __init__(self, sql: Executor) -> None:
        self._sql = sql
