"""Tables declared once: a repository lists its table's columns, and the SELECT list, the
INSERT statement and the row mapper are built from that list.

A ``Table`` maps the rows of one SQL table to one entity (a dataclass). Each
``Column`` names an entity field and says how a value crosses: ``load`` turns the
stored value into the field's value, ``dump`` the field's value into the stored
one (None: as it is). A ``Join`` is a column holding the key of another table's
row, read through a LEFT JOIN into an entity of its own (a case's assignee).

A row lists the entity's columns in the order of its fields, then the columns
of each join, so the mapper makes the entity positionally from one slice of the
row: as fast as a mapper written by hand, with no index written by hand.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

E = TypeVar("E")
Row = Sequence[Any]
Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Column:
    """A column and the entity field it holds.

    ``field`` defaults to the column's name. A column that is not ``read`` is
    only written (a sort key derived from a field, a counter); one that is not
    ``written`` is assigned by the database. A written column whose field the
    entity lacks takes its value from ``Table.row``'s keywords, by column name.
    """

    name: str
    load: Convert | None = None
    dump: Convert | None = None
    field: str = ""
    read: bool = True
    written: bool = True

    def __post_init__(self) -> None:
        if not self.field:
            object.__setattr__(self, "field", self.name)


@dataclass(frozen=True, slots=True)
class Join:
    """A column holding the key (the first column) of a row of ``table``, read through a
    LEFT JOIN as that table's entity; ``alias`` names the joined table in SQL.

    Within one query's rows, each joined row becomes one object: rows that
    mention the same user share one ``UserRef``.
    """

    name: str
    field: str
    alias: str
    table: Table[Any]


def as_is(value: Any) -> Any:
    """The conversion of a value that crosses unchanged."""
    return value


# --- conversions columns share ------------------------------------------------------
def enum_load(kind: type[enum.Enum]) -> Convert:
    """The load of an enum column: a dict lookup of the member (calling the enum costs more)."""
    return {m.value: m for m in kind}.__getitem__


def enum_dump(member: enum.Enum) -> Any:
    """The dump of an enum column."""
    return member.value


_json_encode = msgspec.json.encode


def json_text(data: Any) -> str:
    """The dump of a JSON column: compact JSON text."""
    return _json_encode(data).decode()


class Table(Generic[E]):
    """The columns of table ``name`` and how they make an ``entity``.

    ``fixed`` gives entity fields that no column holds, with the value every
    row of this table has (the ``kind`` of a listed key). Raises ValueError
    unless every field of the entity comes from exactly one place.
    """

    __slots__ = (
        "_extras",
        "_head",
        "_joins",
        "_key",
        "_loads",
        "_make",
        "_reads",
        "_writes",
        "_writes_of",
        "fields",
        "insert",
        "join_columns",
        "name",
        "width",
    )

    def __init__(
        self,
        name: str,
        entity: type[E],
        columns: Sequence[Column | Join],
        *,
        fixed: Mapping[str, object] | None = None,
    ) -> None:
        fixed = fixed or {}
        self.name = name
        self._make: Callable[..., E] = entity
        self.fields = tuple(f.name for f in dataclasses.fields(entity))  # type: ignore[arg-type]
        reads = {c.field: c for c in columns if isinstance(c, Column) and c.read}
        joins = {j.field: j for j in columns if isinstance(j, Join)}
        sources = [c.field for c in columns if not isinstance(c, Column) or c.read] + [*fixed]
        if sorted(sources) != sorted(self.fields):
            raise ValueError(f"{name}: columns for {sorted(sources)}, fields {self.fields}")
        # The entity's own columns in field order: a slice of the row is its arguments.
        self._reads = tuple(reads[f] for f in self.fields if f in reads)
        self._key = self._reads[0].name
        self.width = len(self._reads)
        self._loads = tuple((i, c.load) for i, c in enumerate(self._reads) if c.load)
        # Joined and fixed fields go in between, at their places among the fields;
        # each join's columns follow the entity's in the row.
        self._joins = tuple(joins[f] for f in self.fields if f in joins)
        self.join_columns = frozenset(j.name for j in self._joins)
        extras: list[tuple[int, Callable[[Row, dict[Any, Any]], Any]]] = []
        at = self.width
        for position, field in enumerate(self.fields):
            if field in joins:
                joined = joins[field].table
                if joined._joins:
                    raise ValueError(f"{name}: {field} joins a table that joins again")
                extras.append((position, _joined(joined, at)))
                at += joined.width
            elif field in fixed:
                extras.append((position, _constant(fixed[field])))
        self._extras = tuple(extras)
        self._writes = tuple(self._write(c) for c in columns if isinstance(c, Join) or c.written)
        self._writes_of: dict[str | None, tuple[tuple[str, Convert], ...]] = {}
        for column, holds, dump in self._writes:
            self._writes_of[holds] = (*self._writes_of.get(holds, ()), (column, dump))
        self._head = f"INSERT INTO {name} ({', '.join(w[0] for w in self._writes)}) VALUES "
        self.insert = self._head + self._marks()

    def _write(self, column: Column | Join) -> tuple[str, str | None, Convert]:
        """(column, the entity field it holds or None for a keyword of ``row``, dump)."""
        if isinstance(column, Join):
            return column.name, column.field, _key_of(column.table._reads[0].field)
        field = column.field if column.field in self.fields else None
        return column.name, field, column.dump or as_is

    def _marks(self) -> str:
        return "(" + ", ".join("?" for _ in self._writes) + ")"

    # --- reading --------------------------------------------------------------
    def select(self, alias: str = "") -> str:
        """The SELECT list that ``load`` reads: the entity's columns, then each join's."""
        prefix = f"{alias}." if alias else ""
        names = [prefix + c.name for c in self._reads]
        names += [j.table.select(j.alias) for j in self._joins]
        return ", ".join(names)

    def joins(self, alias: str) -> str:
        """The LEFT JOINs that ``select(alias)`` reads, to follow the FROM clause."""
        return "".join(
            f" LEFT JOIN {j.table.name} {j.alias} ON {j.alias}.{j.table._key} = {alias}.{j.name}"
            for j in self._joins
        )

    def position(self, field: str) -> int:
        """Where ``field``'s column is in a row of ``select()``."""
        return next(i for i, c in enumerate(self._reads) if c.field == field)

    def load(self, row: Row, seen: dict[Any, Any] | None = None) -> E:
        """The entity of a row of ``select()``. ``seen`` shares joined objects across the
        rows of one query, by key (UUIDs: no two tables share one)."""
        values = list(row[: self.width])
        for i, load in self._loads:
            values[i] = load(values[i])
        if self._extras:
            if seen is None:
                seen = {}
            for position, extra in self._extras:
                values.insert(position, extra(row, seen))
        return self._make(*values)

    # --- writing --------------------------------------------------------------
    def row(self, entity: E, **columns: Any) -> tuple[Any, ...]:
        """The parameters of ``insert`` for ``entity``; ``columns`` gives, by name, the
        written columns that hold no field of the entity."""
        return tuple(
            dump(columns[name] if field is None else getattr(entity, field))
            for name, field, dump in self._writes
        )

    def insert_many(self, count: int) -> str:
        """``insert`` for ``count`` rows in one statement (one round trip)."""
        return self._head + ", ".join([self._marks()] * count)

    def writes_of(self, field: str) -> tuple[tuple[str, Convert], ...]:
        """The columns that hold ``field``, each with its dump (priority: priority and its rank)."""
        return self._writes_of.get(field, ())

    def assignments(self, fields: Sequence[str]) -> str:
        """``a = ?, b = ?`` for the columns of ``fields``; ``dump`` gives their values."""
        return ", ".join(f"{column} = ?" for f in fields for column, _ in self.writes_of(f))

    def dump(self, entity: E, fields: Sequence[str]) -> list[Any]:
        """The values of ``assignments(fields)`` for ``entity``."""
        return [dump(getattr(entity, f)) for f in fields for _, dump in self.writes_of(f)]


def _joined(table: Table[Any], at: int) -> Callable[[Row, dict[Any, Any]], Any]:
    end = at + table.width

    def read(row: Row, seen: dict[Any, Any]) -> Any:
        key = row[at]
        if key is None:
            return None
        found = seen.get(key)
        if found is None:
            found = seen[key] = table.load(row[at:end])
        return found

    return read


def _constant(value: object) -> Callable[[Row, dict[Any, Any]], Any]:
    return lambda row, seen: value


def _key_of(attr: str) -> Convert:
    """The dump of a join: the key of the entity it holds, or None."""
    return lambda entity: None if entity is None else getattr(entity, attr)
