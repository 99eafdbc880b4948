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

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from casebook.core.entities import PRIORITY_RANK, Priority, Status
from casebook.search.grouping import GroupBy, GroupField
from casebook.storage.executor import Dialect
from casebook.storage.sql_search import Fetch, SearchPlanner, Statement, custom_kinds

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
    # The rank, which the live indexes hold (the name is in the case's row only).
    GroupField.PRIORITY: "CASE c.priority_rank"
    + "".join(f" WHEN {PRIORITY_RANK[p]} THEN '{p.value}'" for p in Priority)
    + " END",
    GroupField.PROJECT: "c.project_id",
    GroupField.ASSIGNEE: "coalesce(c.assignee_id, '')",
    GroupField.CREATED_BY: "coalesce(c.created_by, '')",
    GroupField.TYPE: "c.type_id",
    GroupField.CREATION_SOURCE: "c.creation_source",
    GroupField.RESOLVED_REASON: "coalesce(c.resolved_reason, '')",
}
# Fields of a few fixed values: counted by one sum per value (or per combination of
# values) in a single pass, rather than sorted into groups (SQLite has no hash
# aggregation: a GROUP BY sorts every row). The conditions read indexed columns.
_ENUMS: dict[GroupField, list[tuple[str, str]]] = {
    GroupField.STATUS: [(s.value, f"c.status = '{s.value}'") for s in Status],
    GroupField.STATUS_GROUP: [(s.group, f"c.status = '{s.value}'") for s in Status],
    GroupField.PRIORITY: [(p.value, f"c.priority_rank = {PRIORITY_RANK[p]}") for p in Priority],
}
# The fields the case tallies hold (storage/tallies.py): counted from them when the
# filter's terms are all held there too (``SearchPlanner.tallied``).
TALLIED_FIELDS = frozenset(
    {
        GroupField.STATUS,
        GroupField.STATUS_GROUP,
        GroupField.STATUS_NAME,
        GroupField.PRIORITY,
        GroupField.PROJECT,
        GroupField.PROJECT_KEY,
        GroupField.ASSIGNEE,
        GroupField.TYPE,
    }
)
VALUE_TALLIED_FIELDS = TALLIED_FIELDS - {GroupField.ASSIGNEE}
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


Found = tuple[str, list[object], str, list[object]]
"""What a count reads: (FROM clause naming its rows ``c``, its parameters, WHERE clause,
its parameters)."""

Groups = list[tuple[tuple[str, ...], int]]
"""Groups of cases: (one value per field, how many cases), largest first."""


class GroupCounter:
    """The exact counts of one search's matches, as a whole and by groups.

    Fields with one value per case (columns of ``cases``) are counted together in one
    statement, whatever their number: its groups give each field's groups and the total
    too, ordered here (their values are plain text, and Python's order is code point
    order). A field with several values per case is a statement of its own, ordered and
    cut in SQL.
    """

    def __init__(self, planner: SearchPlanner, fetch: Fetch, *, tallied: Found | None = None):
        """Counts over the matching cases (planned on first use: a count the tallies
        answer never plans the read of the cases), or, with ``tallied`` (the planner's
        ``tallied`` or ``value_tallied``), over those tallies."""
        self.planner = planner
        self.fetch = fetch
        self.dialect: Dialect = planner.dialect
        self._found = tallied
        # Each row counts one case, or (the tallies) ``c.n`` cases.
        self._one = "c.n" if tallied else "1"
        self._count = "coalesce(sum(c.n), 0)" if tallied else "count(*)"
        self._kinds: dict[str, set[str]] = {}
        self._tallies: GroupCounter | None = None
        self._value_tallies: GroupCounter | None = None
        if tallied is None:
            if (cases := planner.tallied()) is not None:
                self._tallies = GroupCounter(planner, fetch, tallied=cases)
            elif (values := planner.value_tallied()) is not None:
                self._value_tallies = GroupCounter(planner, fetch, tallied=values)

    @property
    def found(self) -> Found:
        """(FROM clause naming the rows ``c``, its parameters, WHERE clause, its
        parameters): the tallies given, or the matching cases (``planner.matches``)."""
        if self._found is None:
            self._found = self.planner.matches()
        return self._found

    def _over(self, groups: Sequence[GroupBy]) -> GroupCounter:
        """The counter that counts by ``groups`` the cheapest way: the tallies when they
        hold the filter's terms and every field of ``groups``."""
        fields = {g.field for g in groups}
        if self._tallies is not None and fields <= TALLIED_FIELDS:
            return self._tallies
        if self._value_tallies is not None and fields <= VALUE_TALLIED_FIELDS:
            return self._value_tallies
        return self

    # --- what the domain asks -------------------------------------------------------
    def multi(self, group: GroupBy) -> bool:
        """Whether a case may fall under several values of ``group``."""
        return self._compile(group, 0).multi

    def total(self) -> int:
        if (over := self._over(())) is not self:
            return over.total()
        statement = self.total_statement()
        return int(self.fetch(statement.sql, statement.params)[0][0])

    def facets(self, groups: Sequence[GroupBy], limit: int) -> tuple[int, list[Groups]]:
        """The total, and for each field on its own the ``limit`` largest groups.

        The enumerations (status, priority) are counted together, one sum per value,
        in one pass that also counts the total; every other field takes a pass of its
        own (a product of several fields' values would only be summed up again)."""
        if (over := self._over(groups)) is not self:
            return over.facets(groups, limit)
        if (tallied := self._tallied_facets(groups, limit)) is not None:
            return tallied
        found: dict[GroupBy, Groups] = {}
        total: int | None = None
        enums = [g for g in groups if g.field in _ENUMS]
        if enums:
            statement = self.enum_statement(enums)
            row = self.fetch(statement.sql, statement.params)[0]
            total = int(row[0])
            sums = iter(row[1:])
            for group in enums:
                counts = [((value,), int(next(sums) or 0)) for value, _ in _ENUMS[group.field]]
                found[group] = _largest([c for c in counts if c[1]], limit)
        for group in groups:
            if group in found:
                continue
            if self.multi(group):
                found[group] = self.groups([group], limit)
            else:
                counted = self._all_groups([group])
                total = sum(n for _, n in counted) if total is None else total
                found[group] = _largest(counted, limit)
        return self.total() if total is None else total, [found[group] for group in groups]

    def _tallied_facets(
        self, groups: Sequence[GroupBy], limit: int
    ) -> tuple[int, list[Groups]] | None:
        """``facets`` from the case tallies and the value tallies, when they hold the
        filter's terms and every field (an attribute field on its own: ``_by_key``)."""
        if self._tallies is None:
            return None
        found: dict[GroupBy, Groups] = {}
        for group in groups:
            if group.field not in TALLIED_FIELDS:
                keyed = self._by_key([group], limit)
                if keyed is None:
                    return None
                found[group] = keyed
        plain = [group for group in groups if group.field in TALLIED_FIELDS]
        if not plain:
            return self._tallies.total(), [found[group] for group in groups]
        total, counted = self._tallies.facets(plain, limit)
        found.update(zip(plain, counted, strict=True))
        return total, [found[group] for group in groups]

    def aggregate(self, groups: Sequence[GroupBy], limit: int) -> tuple[int, Groups]:
        """The total, and the ``limit`` largest groups by ``groups`` together."""
        if (over := self._over(groups)) is not self:
            return over.aggregate(groups, limit)
        if self._tallies is not None and (keyed := self._by_key(groups, limit)) is not None:
            return self._tallies.total(), keyed
        if not groups:
            return self.total(), []
        if any(self.multi(g) for g in groups):
            return self.total(), self.groups(groups, limit)
        combined = self._all_groups(groups)
        return sum(n for _, n in combined), _largest(combined, limit)

    def groups(self, groups: Sequence[GroupBy], limit: int) -> Groups:
        """The ``limit`` largest groups by ``groups`` together, ordered and cut in SQL."""
        statement = self.groups_statement(groups, limit)
        compiled = [self._compile(group, index) for index, group in enumerate(groups)]
        return [
            (self._values(compiled, row), int(row[-1]))
            for row in self.fetch(statement.sql, statement.params)
        ]

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

    def _key_source(self, group: GroupBy) -> tuple[str, str] | None:
        """(source, key) of the value tallies that hold ``group``'s values (``a``: the
        attributes map, ``c``: custom attributes); None for a field of the case."""
        field = group.field
        if field is GroupField.KEY:
            field = GroupField.CUSTOM if self._custom_kinds(group.key) else GroupField.ATTRIBUTE
        if field is GroupField.ATTRIBUTE:
            return "a", group.key
        if field is GroupField.CUSTOM:
            return "c", group.key
        return None

    def _by_key(self, groups: Sequence[GroupBy], limit: int) -> Groups | None:
        """The ``limit`` largest groups by ``groups`` -- one attribute or custom attribute
        field, and facets the value tallies hold -- counted from the tallies: the groups
        of the key's values, and "" for the cases that hold none (all the cases of the
        other fields' values, from the case tallies, less those holding one). None when
        the tallies do not hold them all, or the filter's terms."""
        keyed = [(index, self._key_source(group)) for index, group in enumerate(groups)]
        sources = [(index, source) for index, source in keyed if source is not None]
        others = [group for index, group in enumerate(groups) if keyed[index][1] is None]
        if self._tallies is None or len(sources) != 1:
            return None
        if not {group.field for group in others} <= VALUE_TALLIED_FIELDS:
            return None
        at, (source, key) = sources[0]
        values = self.planner.tallied(values_of=(source, key))
        holding = self.planner.tallied(values_of=(source.upper(), key))
        if values is None or holding is None:
            return None
        parts = [self._compile(group, index) for index, group in enumerate(others)]
        outputs = [part.outputs[0] for part in parts]
        grouped = [sql for part in parts for sql in part.group_by]

        def rows(found: Found, extra: list[str]) -> Any:
            relation, _, where, params = found
            keys = [*grouped, *extra]
            group_by = f" GROUP BY {', '.join(keys)}" if keys else ""
            columns = ", ".join([*outputs, *extra, "coalesce(sum(c.n), 0)"])
            return self.fetch(f"SELECT {columns} FROM {relation} WHERE {where}{group_by}", params)

        Sort = tuple[str, int, float]  # as SQL orders a value: text, a number's, the number
        counts: dict[tuple[Sort, ...], int] = {}

        def add(other: Sequence[Any], value: Sort, n: int) -> None:
            plain: list[Sort] = [(str(v), 0, 0.0) for v in other]
            combination = tuple([*plain[:at], value, *plain[at:]])
            counts[combination] = counts.get(combination, 0) + n

        assert self._tallies is not None
        tallies = self._tallies
        for row in rows(tallies.found, []):
            add(row[:-1], ("", 0, 0.0), int(row[-1]))
        for row in rows(holding, []):
            add(row[:-1], ("", 0, 0.0), -int(row[-1]))
        for row in rows(values, ["c.value", "c.num"]):
            text, number, n = row[-3], row[-2], int(row[-1])
            value = ("", 1, float(number)) if number is not None else (str(text), 0, 0.0)
            add(row[:-3], value, n)
        ordered = sorted(
            ((combination, n) for combination, n in counts.items() if n),
            key=lambda item: (-item[1], item[0]),
        )
        return [
            (tuple(number_text(v[2]) if v[1] else v[0] for v in combination), n)
            for combination, n in ordered[:limit]
        ]

    # --- statements -----------------------------------------------------------------
    def total_statement(self) -> Statement:
        source, params = self._from("", [])
        return Statement(f"SELECT {self._count} FROM {source}", params)

    def enum_statement(self, groups: Sequence[GroupBy]) -> Statement:
        """The number of matches, then for each enumeration of ``groups`` and each of its
        values (``_ENUMS`` order) how many matches hold it: one pass, one row."""
        sums = [
            f"sum(CASE WHEN {condition} THEN {self._one} ELSE 0 END)"
            for group in groups
            for _, condition in _ENUMS[group.field]
        ]
        source, params = self._from("", [])
        return Statement(f"SELECT {', '.join([self._count, *sums])} FROM {source}", params)

    def all_groups_statement(self, groups: Sequence[GroupBy]) -> Statement:
        """Every group of the matches by ``groups`` (each with one value per case), in no
        order: a row per value of the fields that are not enumerations (one row without
        any), holding those values, then how many cases hold each combination of the
        enumerations' values (``_ENUMS``, in ``itertools.product`` order)."""
        compiled = [self._compile(group, index) for index, group in enumerate(groups)]
        assert not any(part.multi for part in compiled)
        others = [
            part for group, part in zip(groups, compiled, strict=True) if group.field not in _ENUMS
        ]
        keys = [self._key(sql) for part in others for sql in part.outputs]
        grouped = [self._key(sql) for part in others for sql in part.group_by]
        enums = [_ENUMS[group.field] for group in groups if group.field in _ENUMS]
        sums = [
            "sum(CASE WHEN "
            + " AND ".join(cond for _, cond in combination)
            + f" THEN {self._one} ELSE 0 END)"
            for combination in (itertools.product(*enums) if enums else [])
        ]
        source, params = self._from("", [])
        group_by = f" GROUP BY {', '.join(grouped)}" if grouped else ""
        return Statement(
            f"SELECT {', '.join([*keys, self._count, *sums])} FROM {source}{group_by}", params
        )

    def groups_statement(self, groups: Sequence[GroupBy], limit: int) -> Statement:
        """The ``limit`` largest groups of the matches by ``groups`` (at least one):
        their values' columns, then the count."""
        compiled = [self._compile(group, index) for index, group in enumerate(groups)]
        outputs = [self._collated(sql) for part in compiled for sql in part.outputs]
        aliases = [f"k{i}" for i in range(len(outputs))]
        selects = [f"{sql} AS {alias}" for sql, alias in zip(outputs, aliases, strict=True)]
        grouped = [self._key(sql) for part in compiled for sql in part.group_by]
        counted = "count(DISTINCT c.seq)" if any(p.multi for p in compiled) else self._count
        joins = "".join(part.join for part in compiled)
        join_params = [param for part in compiled for param in part.join_params]
        # Nullable columns are numbers only; "no value" first, as in code point order.
        order = [f"{alias} NULLS FIRST" for alias in aliases]
        source, params = self._from(joins, join_params)
        # Tallies may sum to nothing for a group their deltas emptied.
        having = f" HAVING {counted} <> 0" if self._one != "1" else ""
        return Statement(
            f"SELECT {', '.join(selects)}, {counted} AS n FROM {source}"
            f" GROUP BY {', '.join(grouped)}{having} ORDER BY n DESC, {', '.join(order)} LIMIT ?",
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
        """The matches joined to ``joins``, with the condition: FROM's text and parameters."""
        source, source_params, where, where_params = self.found
        return f"{source}{joins} WHERE {where}", [*source_params, *join_params, *where_params]

    def _all_groups(self, groups: Sequence[GroupBy]) -> Groups:
        statement = self.all_groups_statement(groups)
        enums = [index for index, group in enumerate(groups) if group.field in _ENUMS]
        others = [index for index, group in enumerate(groups) if group.field not in _ENUMS]
        combinations = list(itertools.product(*(_ENUMS[groups[index].field] for index in enums)))
        found: Groups = []
        for row in self.fetch(statement.sql, statement.params):
            counts = row[len(others) + 1 :] if enums else row[len(others) :]
            for combination, n in zip(combinations, counts, strict=True):
                if not n:
                    continue
                values = [""] * len(groups)
                for index, value in zip(others, row, strict=False):
                    values[index] = value
                for index, (value, _) in zip(enums, combination, strict=True):
                    values[index] = value
                found.append((tuple(values), int(n)))
        return found

    # --- compiling the fields -------------------------------------------------------
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

    def _key(self, sql: str) -> str:
        """A grouping key that SQLite's planner does not try to read in index order: it
        would pick the index that sorts by it over the index that serves the filter."""
        return f"+{sql}" if self.dialect == "sqlite" and sql.startswith("c.") else sql

    def _collated(self, sql: str) -> str:
        """An output sorted in code point order on PostgreSQL too; nullable outputs are
        numbers (``num``), which have no collation."""
        if self.dialect != "postgres" or sql.endswith(".num"):
            return sql
        return f'({sql}) COLLATE "C"'

    def _compile(self, group: GroupBy, index: int) -> _Grouped:
        field = group.field
        if field is GroupField.KEY:
            custom = bool(self._custom_kinds(group.key))
            field = GroupField.CUSTOM if custom else GroupField.ATTRIBUTE
        if field in _PLAIN:
            sql = _PLAIN[field]
            return _Grouped((sql,), (sql,))
        if field is GroupField.PROJECT_KEY:
            return _Grouped((_PROJECT_KEY,), ("c.project_id",))
        alias = f"a{index}"
        table = "case_custom_values" if field is GroupField.CUSTOM else "case_attributes"
        join = f" LEFT JOIN {table} {alias} ON {alias}.case_seq = c.seq AND {alias}.key = ?"
        text = f"coalesce({alias}.value, '')"
        if field is GroupField.CUSTOM and "NUMBER" in self._custom_kinds(group.key):
            number = f"{alias}.num"
            return _Grouped((text, number), (text, number), join, (group.key,), number=True)
        return _Grouped((text,), (text,), join, (group.key,))

    def _custom_kinds(self, key: str) -> set[str]:
        """The types of the organisation's custom attribute configs of ``key`` (none: the
        key is no custom attribute's)."""
        if key not in self._kinds:
            self._kinds.update(custom_kinds(self.planner.org_id, [key], self.fetch))
            self._kinds.setdefault(key, set())
        return self._kinds[key]


def _largest(groups: Iterable[tuple[tuple[str, ...], int]], limit: int) -> Groups:
    """The ``limit`` largest groups, ties in code point order of the values (as SQL orders
    them in ``groups_statement``)."""
    return sorted(groups, key=lambda group: (-group[1], group[0]))[:limit]
