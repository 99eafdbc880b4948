"""Case tallies: exact counts by the case's own facets without reading every case.

Two kinds, each a table of folded rows and a table of deltas (migration 0011):

- ``case_tallies``: (organisation, project, type, status, status name, priority rank,
  assignee, archived) and ``n``, how many cases hold that combination;
- ``case_value_tallies``: the same facets but the assignee, and one value of the case's
  ``attributes`` map or custom attributes (``source`` ``a`` or ``c``, ``key``,
  ``value``, ``num``) -- or, ``source`` ``A`` or ``C``, "holds a value of ``key``" --
  and how many cases hold it.

Triggers on ``cases`` append a -1 for the old combination and a +1 for the new one to
the deltas whenever a case changes what it holds: appends only, so writers never wait on
a shared row and no deadlock can form. ``fold`` adds the deltas to the folded rows
(unique by ``bucket``, their combination as text) and deletes them, a chunk at a time. A
count sums both tables (``TALLIES``, ``VALUE_TALLIES``), so it is exact whenever it is
read, folded or not.

The columns are named, and hold NULL, as in ``cases`` (``archived_at`` is 1 for an
archived case), so the condition a search compiles for ``cases c`` reads the tallies
unchanged when every term of it is one of these facets (``sql_search.tallied``).
"""

from __future__ import annotations

from dataclasses import dataclass

from casebook.storage.executor import Executor


@dataclass(frozen=True, slots=True)
class _Kind:
    table: str
    deltas: str
    facets: tuple[str, ...]

    @property
    def columns(self) -> str:
        return ", ".join(self.facets)

    @property
    def relation(self) -> str:
        """Both tables as one relation ``c``: every row counts ``c.n``."""
        return (
            f"(SELECT {self.columns}, n FROM {self.table}"
            f" UNION ALL SELECT {self.columns}, n FROM {self.deltas}) c"
        )

    def _upsert(self, source: str) -> str:
        # A folded row's combination as text, one to one: each column's length, whether
        # it is NULL, and its text.
        bucket = " || ".join(
            f"length(coalesce(CAST({c} AS TEXT), ''))"
            f" || CASE WHEN {c} IS NULL THEN '!' ELSE ':' END || coalesce(CAST({c} AS TEXT), '')"
            for c in self.facets
        )
        return (
            f"INSERT INTO {self.table} (bucket, {self.columns}, n)"
            f" SELECT {bucket}, {self.columns}, sum(n) FROM {source} GROUP BY {self.columns}"
            f" ON CONFLICT (bucket) DO UPDATE SET n = {self.table}.n + excluded.n"
        )

    def fold_statements(self, dialect: str) -> list[str]:
        """Fold the oldest ``?1`` deltas: on PostgreSQL deleted and added by one statement,
        so each is folded exactly once even while others commit new ones (a second
        statement could see, and delete, a delta the first did not add); SQLite has one
        writer at a time. Then the rows that came to nothing go."""
        emptied = f"DELETE FROM {self.table} WHERE n = 0"
        if dialect == "postgres":
            moved = (
                f"WITH moved AS (DELETE FROM {self.deltas}"
                f" WHERE id IN (SELECT id FROM {self.deltas} ORDER BY id LIMIT ?)"
                f" RETURNING {self.columns}, n) "
            )
            return [moved + self._upsert("moved"), emptied]
        bound = f"(SELECT max(id) FROM (SELECT id FROM {self.deltas} ORDER BY id LIMIT ?1))"
        return [
            self._upsert(f"{self.deltas} WHERE id <= {bound}"),
            f"DELETE FROM {self.deltas} WHERE id <= {bound}",
            emptied,
        ]


_CASES = _Kind(
    "case_tallies",
    "case_tally_deltas",
    (
        "org_id",
        "project_id",
        "type_id",
        "status",
        "status_name",
        "priority_rank",
        "assignee_id",
        "archived_at",
    ),
)
_VALUES = _Kind(
    "case_value_tallies",
    "case_value_deltas",
    (
        "org_id",
        "project_id",
        "type_id",
        "status",
        "status_name",
        "priority_rank",
        "archived_at",
        "source",
        "key",
        "value",
        "num",
    ),
)
TALLIES = _CASES.relation
"""The case tallies as one relation ``c``: every row counts ``c.n`` cases."""
VALUE_TALLIES = _VALUES.relation
"""The value tallies as one relation ``c``: every row counts ``c.n`` cases holding a value."""


def pending(sql: Executor, at_most: int) -> int:
    """How many deltas of one kind or the other wait to be folded, counting no further
    than ``at_most``."""
    row = sql.one(
        "SELECT (SELECT count(*) FROM (SELECT 1 FROM case_tally_deltas LIMIT ?) AS d),"
        " (SELECT count(*) FROM (SELECT 1 FROM case_value_deltas LIMIT ?) AS v)",
        (at_most, at_most),
    )
    return 0 if row is None else max(int(row[0]), int(row[1]))


def fold(sql: Executor, limit: int) -> None:
    """Fold the oldest ``limit`` deltas of each kind into the tallies (a chunk: a backlog
    is folded over several transactions, none of them long)."""
    for kind in (_CASES, _VALUES):
        for statement in kind.fold_statements(sql.dialect):
            sql.execute(statement, (limit,) if "?" in statement else ())
