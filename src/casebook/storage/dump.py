"""Lossless dumps of a database (JSON Lines), their import, and the SQLite online backup.

A dump is table-driven: every table of ``schema.metadata`` is written, in the order of
``metadata.sorted_tables`` (each table after the tables it refers to, ties by name), its
rows by primary key (text compared byte by byte on both back ends), except the tables
the triggers keep (``DERIVED``: imported cases and comments rebuild them) and the
server's runtime state (``RUNTIME``). A table added later is dumped without more code;
``tests/storage/test_dump.py`` fails when a table is neither dumped nor excluded.

The format (``FORMAT_VERSION``), one JSON value per line::

    {"format": "casebook-dump", "version": 1, "schema": "0011", "org": null}
    {"table": "orgs", "columns": ["id", "name", "created_at"], "rows": 1}
    ["0b6c...", "default", 1765000000000000]
    ...                                   (each table: its line, then its rows)
    {"end": true, "tables": 27, "rows": 5123}

Values are JSON integers (times in microseconds, booleans as 0 and 1, as stored), text,
floats and null, each checked against its column's type on import. Nothing in a dump
depends on when or where it was made, so two dumps of the same data are identical.

An import goes into an empty database in one transaction: a dump that is malformed,
truncated or refused by the database leaves nothing behind.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import msgspec
import psycopg
from sqlalchemy import Float, Integer, Table

from casebook.core.errors import CasebookError
from casebook.storage import schema
from casebook.storage.base import Store
from casebook.storage.executor import Executor

FORMAT = "casebook-dump"
FORMAT_VERSION = 1

DERIVED = frozenset(
    {
        "case_attributes",  # from cases.attributes (migration 0002)
        "case_custom_values",  # from cases.custom_attributes (0006)
        "case_tallies",  # the case tallies and their deltas, from cases (0011)
        "case_tally_deltas",
        "case_value_tallies",
        "case_value_deltas",
    }
)
"""Kept by triggers on ``cases``: an import rebuilds them (the full-text indexes too, which
``schema.py`` does not declare)."""

RUNTIME = frozenset({"leases", "ui_sessions"})
"""Which process runs the delivery worker now: expires within seconds, means nothing on
another database, and would make two dumps of a live server differ. The web UI's
sessions likewise: signed-in browsers, not data (a restored server signs people in anew)."""

SERVER_WIDE = frozenset({"casebook_meta"})
"""Dumped whole with ``--org`` too: server settings (the key-hashing secret, when the
database keeps it, which the organisation's keys need)."""

BATCH = 1000
"""Rows per read and per insert statement batch."""

Progress = Callable[[int, int], None]
"""Called with (done, total): rows on export, bytes of the dump on import."""


class DumpError(CasebookError):
    """A dump that cannot be imported (or an import that cannot start): nothing was written."""


def dumped_tables() -> list[Table]:
    """The tables a dump holds, in dump order."""
    return [
        t for t in schema.metadata.sorted_tables if t.name not in DERIVED and t.name not in RUNTIME
    ]


def _kind(column: Any) -> str:
    if isinstance(column.type, Float):
        return "float"
    if isinstance(column.type, Integer):  # BigInteger and the SQLite rowid variant too
        return "int"
    return "text"


def _org_scope(table: Table) -> str | None:
    """The condition that keeps an organisation's rows (one ``?``: its id), or None for a
    server-wide table."""
    if table.name == "orgs":
        return "id = ?"
    if "org_id" in table.c:
        return "org_id = ?"
    for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
        parent = fk.column.table
        if "org_id" in parent.c:
            return (
                f"{fk.parent.name} IN (SELECT {fk.column.name} FROM {parent.name} WHERE org_id = ?)"
            )
    return None


def _order(table: Table, dialect: str) -> str:
    keys = list(table.primary_key.columns) or list(table.columns)
    # Byte order on both back ends: PostgreSQL's default collation may be a locale's.
    collate = ' COLLATE "C"' if dialect == "postgres" else ""
    return ", ".join(f"{c.name}{collate if _kind(c) == 'text' else ''}" for c in keys)


@dataclass
class Exported:
    tables: int = 0
    rows: int = 0
    cases: int = 0
    meta_names: list[str] = field(default_factory=list)


def export_dump(
    store: Store,
    out: IO[bytes],
    *,
    org: tuple[str, str] | None = None,
    leave_out_meta: frozenset[str] = frozenset(),
    progress: Progress | None = None,
) -> Exported:
    """Write a dump of the whole database, or of one organisation (``org``: its id and
    name; server-wide tables such as ``casebook_meta`` come whole), from one snapshot.
    ``leave_out_meta`` names ``casebook_meta`` rows not to write."""
    from casebook.storage.migrate import head_revision

    encode = msgspec.json.Encoder().encode
    done = Exported()
    with store.read(snapshot=True) as tx:
        sql: Executor = tx.sql  # type: ignore[attr-defined]
        plans: list[tuple[Table, str, list[Any]]] = []
        for table in dumped_tables():
            conditions: list[str] = []
            values: list[Any] = []
            scope = _org_scope(table)
            if org is not None and table.name not in SERVER_WIDE:
                if scope is None:  # pragma: no cover - tests/storage/test_dump.py
                    raise DumpError(f"{table.name}: no way to tell an organisation's rows")
                conditions.append(scope)
                values.append(org[0])
            if table.name == "casebook_meta" and leave_out_meta:
                conditions.append(f"name NOT IN ({', '.join('?' * len(leave_out_meta))})")
                values.extend(sorted(leave_out_meta))
            condition = f" WHERE {' AND '.join(conditions)}" if conditions else ""
            plans.append((table, condition, values))
        counts = []
        for table, where, params in plans:
            row = sql.one(f"SELECT COUNT(*) FROM {table.name}{where}", params)
            counts.append(int(row[0]) if row else 0)
        total = sum(counts)
        header = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "schema": head_revision(),
            "org": None if org is None else org[1],
        }
        out.write(encode(header) + b"\n")
        for (table, where, params), count in zip(plans, counts, strict=True):
            names = [str(c.name) for c in table.columns]
            floats = [i for i, c in enumerate(table.columns) if _kind(c) == "float"]
            out.write(encode({"table": str(table.name), "columns": names, "rows": count}) + b"\n")
            query = (
                f"SELECT {', '.join(names)} FROM {table.name}{where}"
                f" ORDER BY {_order(table, store.dialect)}"
            )
            written = 0
            for rows in sql.stream(query, params, BATCH):
                lines = []
                if table.name == "casebook_meta":
                    done.meta_names.extend(str(row[0]) for row in rows)
                for row in rows:
                    values = list(row)
                    for i in floats:  # 1 and 1.0 alike on both back ends
                        if values[i] is not None:
                            values[i] = float(values[i])
                    lines.append(encode(values))
                out.write(b"\n".join(lines) + b"\n")
                written += len(rows)
                done.rows += len(rows)
                if progress is not None:
                    progress(done.rows, total)
            if written != count:  # pragma: no cover - one snapshot: cannot differ
                raise DumpError(f"{table.name}: counted {count} rows, read {written}")
            done.tables += 1
            if table.name == "cases":
                done.cases = count
        out.write(encode({"end": True, "tables": done.tables, "rows": done.rows}) + b"\n")
    return done


@dataclass
class Imported:
    tables: int = 0
    rows: int = 0
    cases: int = 0
    orgs: list[str] = field(default_factory=list)
    meta_names: list[str] = field(default_factory=list)


def is_empty(store: Store) -> str | None:
    """None if the database holds no rows a dump could bring, else the first table that does."""
    with store.read() as tx:
        return _first_nonempty(tx.sql)  # type: ignore[attr-defined]


def _first_nonempty(sql: Executor) -> str | None:
    for table in schema.metadata.sorted_tables:
        if table.name not in RUNTIME and sql.one(f"SELECT 1 FROM {table.name} LIMIT 1"):
            return table.name
    return None


class _Lines:
    """The dump's lines, numbered from 1, as JSON values; progress in bytes."""

    def __init__(self, source: Iterable[bytes], size: int, progress: Progress | None) -> None:
        self._source = iter(source)
        self._decode = msgspec.json.Decoder().decode
        self.number = 0
        self._bytes = 0
        self._size = size
        self._progress = progress

    def next(self) -> Any:
        """The next value; DumpError at the end of the file."""
        try:
            line = next(self._source)
        except StopIteration:
            raise DumpError(
                f"line {self.number + 1}: the dump ends before its end line (truncated?)"
            ) from None
        self.number += 1
        self._bytes += len(line)
        if self._progress is not None and self.number % BATCH == 0:
            self._progress(self._bytes, self._size)
        try:
            return self._decode(line)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise self.error(f"not valid JSON ({exc})") from None

    def error(self, message: str) -> DumpError:
        return DumpError(f"line {self.number}: {message}")

    def at_end(self) -> bool:
        try:
            next(self._source)
        except StopIteration:
            return True
        return False

    def finish(self) -> None:
        if self._progress is not None:
            self._progress(self._size, self._size)


_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "text": (str,)}


def _checker(table: Table, columns: list[str], lines: _Lines) -> Callable[[Any], list[Any]]:
    """Checks a row line of ``table`` (whose line named ``columns``) and returns its values."""
    specs = [(name, _kind(table.c[name]), table.c[name].nullable) for name in columns]
    width = len(specs)

    def check(value: Any) -> list[Any]:
        if not isinstance(value, list) or len(value) != width:
            raise lines.error(f"expected a row of {table.name} ({width} values)")
        for (name, kind, nullable), item in zip(specs, value, strict=True):
            if item is None:
                if not nullable:
                    raise lines.error(f"{table.name}.{name} cannot be null")
            elif isinstance(item, bool) or not isinstance(item, _TYPES[kind]):
                raise lines.error(f"{table.name}.{name} must be {kind}, not {item!r:.40}")
        return value

    return check


def import_dump(
    store: Store, source: Iterable[bytes], *, size: int = 0, progress: Progress | None = None
) -> Imported:
    """Load a dump (its lines, ``size`` bytes in all) into an empty, migrated database, in
    one transaction; on PostgreSQL, move each serial column's sequence past the rows
    imported. DumpError names the line of the first problem; nothing is written then."""
    from casebook.storage.migrate import head_revision

    tables = {t.name: t for t in dumped_tables()}
    lines = _Lines(source, size, progress)
    header = lines.next()
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise lines.error(f"not a casebook dump (no {FORMAT!r} header)")
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise lines.error("the header has no format version")
    if version > FORMAT_VERSION:
        raise lines.error(
            f"the dump is format {version}, newer than this casebook reads ({FORMAT_VERSION});"
            " import it with the casebook version that made it, or a newer one"
        )
    revision = str(header.get("schema", ""))
    if not revision.isdigit() or int(revision) > int(head_revision()):
        raise lines.error(
            f"the dump's schema ({revision or '?'}) is newer than this casebook's"
            f" ({head_revision()}); upgrade casebook first"
        )
    done = Imported()
    with store.write() as tx:
        sql: Executor = tx.sql  # type: ignore[attr-defined]
        nonempty = _first_nonempty(sql)
        if nonempty is not None:
            raise DumpError(
                f"the database is not empty (table {nonempty} has rows): import into a new,"
                " empty database"
            )
        seen: set[str] = set()
        while True:
            head = lines.next()
            if not isinstance(head, dict):
                raise lines.error("expected a table line or the end line")
            if head.get("end") is True:
                if head.get("rows") != done.rows or head.get("tables") != done.tables:
                    raise lines.error(
                        f"the end line counts {head.get('rows')} rows in {head.get('tables')}"
                        f" tables; the dump holds {done.rows} in {done.tables}"
                    )
                if not lines.at_end():
                    raise DumpError(f"line {lines.number + 1}: more after the end line")
                break
            done.rows += _import_table(sql, tables, head, lines, seen, done)
            done.tables += 1
        if store.dialect == "postgres":
            _advance_sequences(sql)
        lines.finish()
    return done


def _import_table(
    sql: Executor,
    tables: dict[str, Table],
    head: dict[str, Any],
    lines: _Lines,
    seen: set[str],
    done: Imported,
) -> int:
    name = head.get("table")
    columns = head.get("columns")
    count = head.get("rows")
    if not isinstance(name, str) or name not in tables:
        raise lines.error(f"unknown table {name!r}")
    if name in seen:
        raise lines.error(f"table {name} appears twice")
    seen.add(name)
    table = tables[name]
    if (
        not isinstance(columns, list)
        or not all(isinstance(c, str) for c in columns)
        or len(set(columns)) != len(columns)
    ):
        raise lines.error(f"table {name}: expected its column names")
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise lines.error(f"table {name} has no column {unknown[0]!r}")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise lines.error(f"table {name}: expected its row count")
    check = _checker(table, columns, lines)
    batch: list[list[Any]] = []
    first = lines.number + 1
    for _ in range(count):
        batch.append(check(lines.next()))
        if len(batch) == BATCH:
            _insert(sql, name, columns, batch, first, lines.number)
            batch = []
            first = lines.number + 1
    _insert(sql, name, columns, batch, first, lines.number)
    if name == "orgs":
        done.orgs = [str(r[0]) for r in sql.all("SELECT name FROM orgs ORDER BY name")]
    if name == "casebook_meta":
        done.meta_names = [str(r[0]) for r in sql.all("SELECT name FROM casebook_meta")]
    if name == "cases":
        done.cases = count
    return count


def _insert(
    sql: Executor, table: str, columns: list[str], batch: list[list[Any]], first: int, last: int
) -> None:
    if not batch:
        return
    try:
        sql.copy_in(table, columns, batch)
    except (sqlite3.DatabaseError, psycopg.DatabaseError) as exc:
        where = f"line {first}" if first == last else f"lines {first}-{last}"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DumpError(f"{where}: the database refused a row: {reason}") from None


def _advance_sequences(sql: Executor) -> None:
    """Each serial column's sequence past the largest value imported (PostgreSQL)."""
    for table in schema.metadata.sorted_tables:
        column = table.autoincrement_column
        if column is None:
            continue
        sql.execute(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'),"
            f" (SELECT COALESCE(MAX({column.name}), 0) + 1 FROM {table.name}), false)"
        )


def read_lines(path: Path) -> Iterator[bytes]:
    """A dump file's lines (binary, as ``import_dump`` reads them)."""
    with path.open("rb") as f:
        yield from f


def backup_sqlite(
    source: Path, target: Path, *, pages: int = 1024, progress: Progress | None = None
) -> None:
    """Copy a live SQLite database to ``target`` with SQLite's online backup API.

    The copy is of one moment: a read transaction opened first holds its snapshot for
    every step, so writes committed by others meanwhile neither reach the copy nor restart
    it (in WAL mode readers and writers do not wait on each other; only checkpoints stop
    at the snapshot until the copy is done). ``pages`` per step; written to a file beside
    ``target`` and renamed over it at the end, so ``target`` is never half a database.
    """
    if not source.exists():
        raise DumpError(f"no database at {source}")
    if target.resolve() == source.resolve():
        raise DumpError("the backup cannot be the database itself")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, isolation_level=None, timeout=30)
    try:
        src.execute("BEGIN")
        src.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # opens the snapshot
        dst = sqlite3.connect(partial, isolation_level=None)
        try:

            def step(status: int, remaining: int, total: int) -> None:
                if progress is not None:
                    progress(total - remaining, total)

            src.backup(dst, pages=pages, progress=step, sleep=0)
            check = dst.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":  # pragma: no cover - SQLite's own copy
                raise DumpError(f"the copy fails its check: {check}")
        finally:
            dst.close()
        src.execute("COMMIT")
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise DumpError(f"backup failed: {exc}") from None
    finally:
        src.close()
    partial.replace(target)
