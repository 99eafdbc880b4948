"""Case tallies: exact counts by the case's own facets without reading every case.

``case_tallies`` and ``case_tally_deltas`` (migration 0011) hold rows of (organisation,
project, type, status, status name, priority rank, assignee, archived, ``n``): together,
for each combination, how many cases hold it. Triggers on ``cases`` append a -1 and a
+1 to the deltas for each change of one of those columns; ``fold`` moves the deltas into
``case_tallies``, summed, so the deltas stay few. A count sums the rows of both
(``TALLIES``), so it is exact whenever it is read, folded or not.

The columns are named, and hold NULL, as in ``cases`` (``archived_at`` is 1 for an
archived case), so the condition a search compiles for ``cases c`` reads ``TALLIES c``
unchanged when every term of it is one of these facets (``sql_search.tallied``).
"""

from __future__ import annotations

from casebook.storage.executor import Executor

FACETS = (
    "org_id",
    "project_id",
    "type_id",
    "status",
    "status_name",
    "priority_rank",
    "assignee_id",
    "archived_at",
)
_LIST = ", ".join(FACETS)
TALLIES = (
    f"(SELECT {_LIST}, n FROM case_tallies UNION ALL SELECT {_LIST}, n FROM case_tally_deltas) c"
)
"""The tallies as one relation ``c``: every row counts ``c.n`` cases."""

# Folding rewrites the tallies whole (a few rows per combination in use: tens of
# thousands at a million cases, a fraction of a second), summed with the deltas.
# PostgreSQL: both deleted and summed by one statement, so each delta is folded exactly
# once even while others commit new ones (a second statement could see, and delete, a
# delta the first did not sum). Two folds at once may each leave a row for the same
# combination; a count sums them all, so that is harmless.
_FOLD_POSTGRES = f"""
WITH moved AS (
    DELETE FROM case_tally_deltas
    WHERE id IN (SELECT id FROM case_tally_deltas ORDER BY id LIMIT ?)
    RETURNING {_LIST}, n
), old AS (
    DELETE FROM case_tallies RETURNING {_LIST}, n
)
INSERT INTO case_tallies ({_LIST}, n)
SELECT {_LIST}, sum(n) FROM (SELECT * FROM moved UNION ALL SELECT * FROM old) AS x
GROUP BY {_LIST} HAVING sum(n) <> 0
"""

# SQLite: one writer at a time, so a few statements in the caller's write transaction.
_FOLD_SQLITE = (
    f"CREATE TEMP TABLE IF NOT EXISTS folded_tallies AS SELECT {_LIST}, n FROM case_tallies"
    " WHERE 0",
    "DELETE FROM temp.folded_tallies",
    f"""INSERT INTO temp.folded_tallies ({_LIST}, n)
    SELECT {_LIST}, sum(n) FROM (
        SELECT {_LIST}, n FROM case_tallies
        UNION ALL SELECT {_LIST}, n FROM case_tally_deltas WHERE id <= ?1
    ) GROUP BY {_LIST} HAVING sum(n) <> 0""",
    "DELETE FROM case_tallies",
    "DELETE FROM case_tally_deltas WHERE id <= ?1",
    f"INSERT INTO case_tallies ({_LIST}, n) SELECT {_LIST}, n FROM temp.folded_tallies",
)


VALUE_FACETS = (
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
)
_VALUE_LIST = ", ".join(VALUE_FACETS)
VALUE_TALLIES = (
    f"(SELECT {_VALUE_LIST}, n FROM case_value_tallies"
    f" UNION ALL SELECT {_VALUE_LIST}, n FROM case_value_deltas) c"
)
"""The value tallies as one relation ``c``: every row counts ``c.n`` cases' values."""
# A folded row's combination as text, one to one: each column's length, whether it is
# NULL, and its text.
_BUCKET = " || ".join(
    f"length(coalesce(CAST({c} AS TEXT), '')) || CASE WHEN {c} IS NULL THEN '!' ELSE ':' END"
    f" || coalesce(CAST({c} AS TEXT), '')"
    for c in VALUE_FACETS
)
_UPSERT = (
    f"INSERT INTO case_value_tallies (bucket, {_VALUE_LIST}, n)"
    f" SELECT {_BUCKET}, {_VALUE_LIST}, sum(n) FROM {{source}} GROUP BY {_VALUE_LIST}"
    " ON CONFLICT (bucket) DO UPDATE SET n = case_value_tallies.n + excluded.n"
)
# PostgreSQL: the deltas deleted and added by one statement (each exactly once, as above).
_FOLD_VALUES_POSTGRES = (
    "WITH moved AS (DELETE FROM case_value_deltas"
    " WHERE id IN (SELECT id FROM case_value_deltas ORDER BY id LIMIT ?)"
    f" RETURNING {_VALUE_LIST}, n) " + _UPSERT.format(source="moved")
)
_FOLD_VALUES_SQLITE = (
    _UPSERT.format(source="case_value_deltas WHERE id <= ?1"),
    "DELETE FROM case_value_deltas WHERE id <= ?1",
)
_EMPTIED = "DELETE FROM case_value_tallies WHERE n = 0"


def pending(sql: Executor, at_most: int) -> int:
    """How many deltas wait to be folded, counting no further than ``at_most``."""
    row = sql.one(
        "SELECT (SELECT count(*) FROM (SELECT 1 FROM case_tally_deltas LIMIT ?) AS d),"
        " (SELECT count(*) FROM (SELECT 1 FROM case_value_deltas LIMIT ?) AS v)",
        (at_most, at_most),
    )
    return 0 if row is None else max(int(row[0]), int(row[1]))


def fold(sql: Executor, limit: int) -> None:
    """Fold the oldest ``limit`` deltas of each kind into the tallies (a chunk: a backlog
    is folded over several transactions, none of them long)."""
    if sql.dialect == "postgres":
        sql.execute(_FOLD_POSTGRES, (limit,))
        sql.execute(_FOLD_VALUES_POSTGRES, (limit,))
        sql.execute(_EMPTIED)
        return
    row = sql.one(
        "SELECT (SELECT max(id) FROM (SELECT id FROM case_tally_deltas ORDER BY id LIMIT ?1)),"
        " (SELECT max(id) FROM (SELECT id FROM case_value_deltas ORDER BY id LIMIT ?1))",
        (limit,),
    )
    if row is not None and row[0] is not None:
        for statement in _FOLD_SQLITE:
            sql.execute(statement, (row[0],) if "?1" in statement else ())
    if row is not None and row[1] is not None:
        for statement in _FOLD_VALUES_SQLITE:
            sql.execute(statement, (row[1],))
        sql.execute(_EMPTIED)
