"""Exact counts of the cases a search matches, grouped by fields (``search.grouping``),
and the rows reports read: statements over ``SearchPlanner.matches``, so a count is
always over exactly the cases the same filter finds (the same parse, resolution,
default scope, deleted projects left out and organisation scope).

A group's value is what the case holds, as text: ``status`` is ``OPEN``, ``priority``
``P2``, ``assignee`` a user id, ``status_name`` the status's name (``Open`` for a
status named as its group). The attribute fields read the side tables search reads
(``case_attributes``, ``case_custom_values``): one group per value a case holds,
lower-cased as search compares it, numbers written as ``7`` or ``2.5``; a case
with several values counts once under each. A case with no value counts under
``""`` (an empty attribute value counts there too).

Groups come in one order on both back ends: the count, descending, then the values
in code point order (``COLLATE "C"`` on PostgreSQL, SQLite's own binary order), with,
for a custom attribute, "no value" first and numbers in numeric order before text.

The security invariant of ``sql_search`` holds: every statement here is built from
fixed fragments, a join reads only the side-table rows of the case at hand, and
every value is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from casebook.core.entities import Status
from casebook.search.grouping import GroupBy, GroupField
from casebook.storage.executor import Dialect
from casebook.storage.sql_search import Fetch, SearchPlanner, Statement, custom_kinds

# The columns of ``cases`` a grouped count or a report reads: what a set-driven search
# keeps of each case when it drops repeats (``SearchPlanner.matches``).
_COLUMNS = (
    "seq",
    "id",
    "status",
    "status_name",
    "priority",
    "project_id",
    "assignee_id",
    "created_by",
    "type_id",
    "creation_source",
    "resolved_reason",
    "created_at",
    "closed_at",
)

_STATUS_NAME = (
    "coalesce(c.status_name, CASE c.status"
    + "".join(f" WHEN '{s.value}' THEN '{s.display_name}'" for s in Status)
    + " END)"
)
# Columns every case has, and the expression of each group's value.
_PLAIN: dict[GroupField, str] = {
    GroupField.STATUS: "c.status",
    GroupField.STATUS_GROUP: "'SG_' || c.status",
    GroupField.STATUS_NAME: _STATUS_NAME,
    GroupField.PRIORITY: "c.priority",
    GroupField.PROJECT: "c.project_id",
    GroupField.ASSIGNEE: "coalesce(c.assignee_id, '')",
    GroupField.CREATED_BY: "coalesce(c.created_by, '')",
    GroupField.TYPE: "c.type_id",
    GroupField.CREATION_SOURCE: "c.creation_source",
    GroupField.RESOLVED_REASON: "coalesce(c.resolved_reason, '')",
}
# The project's key, looked up once per group (keys are unique in an organisation).
_PROJECT_KEY = "(SELECT p.key FROM projects p WHERE p.id = c.project_id)"


@dataclass(frozen=True, slots=True)
class _Grouped:
    """One field as SQL: its output columns (one; two for a custom attribute that may
    hold numbers: its text and its number), what to group by, and a join."""

    outputs: tuple[str, ...]
    group_by: tuple[str, ...]
    join: str = ""
    join_params: tuple[object, ...] = ()
    number: bool = False

    @property
    def multi(self) -> bool:
        """Whether a case may fall under several of its values."""
        return bool(self.join)


MatchRow = tuple[str, int, int | None, str, str | None, str]
"""A report's row: (case id, created at, closed at, status, assignee id, a group's value)."""


def number_text(number: float) -> str:
    """A number as a group's value, as a search writes it: ``7``, ``2.5``, ``1e+20``."""
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


class GroupCounter:
    """The exact counts of one search's matches, as a whole and by groups."""

    def __init__(self, planner: SearchPlanner, fetch: Fetch) -> None:
        self.planner = planner
        self.fetch = fetch
        self.dialect: Dialect = planner.dialect
        self._source, self._where, self._params = planner.matches(_COLUMNS)
        self._kinds: dict[str, set[str]] = {}

    # --- statements ---------------------------------------------------------------
    def total_statement(self) -> Statement:
        where = f" WHERE {self._where}" if self._where else ""
        return Statement(f"SELECT count(*) FROM {self._source}{where}", list(self._params))

    def groups_statement(self, groups: Sequence[GroupBy], limit: int) -> Statement:
        """The ``limit`` largest groups of the matches by ``groups`` (at least one):
        their values' columns, then the count."""
        compiled = [self._compile(group, index) for index, group in enumerate(groups)]
        outputs: list[str] = []
        for part in compiled:
            outputs += part.outputs
        aliases = [f"k{i}" for i in range(len(outputs))]
        selects = [f"{sql} AS {alias}" for sql, alias in zip(outputs, aliases, strict=True)]
        grouped = [sql for part in compiled for sql in part.group_by]
        counted = "count(DISTINCT c.seq)" if any(p.multi for p in compiled) else "count(*)"
        joins = "".join(part.join for part in compiled)
        join_params = [param for part in compiled for param in part.join_params]
        # Nullable columns are numbers only; "no value" first, as in code point order.
        order = [f"{alias} NULLS FIRST" for alias in aliases]
        source, params = self._from(joins, join_params)
        return Statement(
            f"SELECT {', '.join(selects)}, {counted} AS n FROM {source}"
            f" GROUP BY {', '.join(grouped)} ORDER BY n DESC, {', '.join(order)} LIMIT ?",
            [*params, limit],
        )

    def cases_statement(self, group: GroupBy | None) -> Statement:
        """Each match once per value of ``group`` (once without): its id, creation and
        close times, status and assignee, then the value's columns."""
        compiled = None if group is None else self._compile(group, 0)
        outputs = [] if compiled is None else list(compiled.outputs)
        columns = ", ".join(
            ["c.id", "c.created_at", "c.closed_at", "c.status", "c.assignee_id", *outputs]
        )
        if compiled is None:
            source, params = self._from("", [])
        else:
            source, params = self._from(compiled.join, list(compiled.join_params))
        return Statement(f"SELECT {columns} FROM {source}", params)

    def _from(self, joins: str, join_params: list[object]) -> tuple[str, list[object]]:
        """The matches joined to ``joins``, with the condition: FROM's text and parameters.
        A set-driven source is a subquery with its own WHERE, its parameters first."""
        if not self._where:
            return f"{self._source}{joins}", [*self._params, *join_params]
        return f"{self._source}{joins} WHERE {self._where}", [*join_params, *self._params]

    # --- running them -------------------------------------------------------------
    def total(self) -> int:
        statement = self.total_statement()
        return int(self.fetch(statement.sql, statement.params)[0][0])

    def groups(self, groups: Sequence[GroupBy], limit: int) -> list[tuple[tuple[str, ...], int]]:
        """The ``limit`` largest groups: (the values, one per field, and the count)."""
        statement = self.groups_statement(groups, limit)
        compiled = [self._compile(group, index) for index, group in enumerate(groups)]
        found = []
        for row in self.fetch(statement.sql, statement.params):
            found.append((self._values(compiled, row), int(row[-1])))
        return found

    def cases(self, group: GroupBy | None) -> list[MatchRow]:
        """(case id, created at, closed at, status, assignee id, the value of ``group``,
        "" without one) of each match, once per value."""
        statement = self.cases_statement(group)
        compiled = [] if group is None else [self._compile(group, 0)]
        found = []
        for row in self.fetch(statement.sql, statement.params):
            value = self._values(compiled, row[5:])[0] if compiled else ""
            found.append((row[0], int(row[1]), row[2], row[3], row[4], value))
        return found

    # --- compiling the fields -----------------------------------------------------
    @staticmethod
    def _values(compiled: Sequence[_Grouped], row: Sequence[Any]) -> tuple[str, ...]:
        values = []
        at = 0
        for part in compiled:
            if part.number:
                text, number = row[at], row[at + 1]
                values.append(text if number is None else number_text(float(number)))
            else:
                values.append(row[at])
            at += len(part.outputs)
        return tuple(values)

    def _collated(self, sql: str) -> str:
        return f'({sql}) COLLATE "C"' if self.dialect == "postgres" else sql

    def _compile(self, group: GroupBy, index: int) -> _Grouped:
        field = group.field
        if field is GroupField.KEY:
            custom = bool(self._custom_kinds(group.key))
            field = GroupField.CUSTOM if custom else GroupField.ATTRIBUTE
        if field in _PLAIN:
            sql = _PLAIN[field]
            return _Grouped((self._collated(sql),), (sql,))
        if field is GroupField.PROJECT_KEY:
            return _Grouped((self._collated(_PROJECT_KEY),), ("c.project_id",))
        alias = f"a{index}"
        table = "case_custom_values" if field is GroupField.CUSTOM else "case_attributes"
        join = f" LEFT JOIN {table} {alias} ON {alias}.case_seq = c.seq AND {alias}.key = ?"
        text = f"coalesce({alias}.value, '')"
        if field is GroupField.CUSTOM and "NUMBER" in self._custom_kinds(group.key):
            return _Grouped(
                (self._collated(text), f"{alias}.num"),
                (text, f"{alias}.num"),
                join,
                (group.key,),
                number=True,
            )
        return _Grouped((self._collated(text),), (text,), join, (group.key,))

    def _custom_kinds(self, key: str) -> set[str]:
        """The types of the organisation's custom attribute configs of ``key`` (none: the
        key is no custom attribute's)."""
        if key not in self._kinds:
            self._kinds.update(custom_kinds(self.planner.org_id, [key], self.fetch))
            self._kinds.setdefault(key, set())
        return self._kinds[key]
