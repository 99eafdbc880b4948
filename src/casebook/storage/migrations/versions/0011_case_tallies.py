"""Case tallies: how many cases each combination of the case's own facets holds.

Exact counts (``GET /api/v2/cases/count``, ``POST /api/v2/cases/aggregate``) whose filter
and groups name only the case's own facets -- organisation, project, type, status,
status name, priority, assignee, archived -- sum these rows instead of reading every
matching case (storage/tallies.py). Triggers on ``cases`` append a -1 for the old
combination and a +1 for the new one to ``case_tally_deltas`` whenever one of those
columns changes (appends only: two writers never wait on one shared row, and no
deadlock can form); the delivery worker folds the deltas into ``case_tallies``. Both
tables together are always exact. The upgrade writes what the cases hold now as deltas,
which the worker folds (unique by ``bucket``) as it does every other.

``case_value_tallies`` and ``case_value_deltas`` do the same for the values of the
case's ``attributes`` map and custom attributes (the facets but the assignee, by key and
value, as the side tables of migrations 0002 and 0006 hold them: each distinct value of a
case once) and for "the case holds a value of this key", so ``service:payments`` counted
by status, or the cases counted by ``service``, read tallies too. Folded rows are unique
by ``bucket`` (their combination as text): the worker adds the deltas to them.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_FACETS = (
    "org_id",
    "project_id",
    "type_id",
    "status",
    "status_name",
    "priority_rank",
    "assignee_id",
    "archived_at",
)
_COLUMNS = ", ".join([*_FACETS, "n"])
_CHANGED = " OR ".join(
    [f"old.{c} IS NOT new.{c}" for c in _FACETS if c != "archived_at"]
    + ["(old.archived_at IS NULL) <> (new.archived_at IS NULL)"]
)


def _values(row: str, n: int) -> str:
    """One row's facets, as the tallies hold them, and ``n``."""
    facets = [f"{row}.{c}" for c in _FACETS if c != "archived_at"]
    archived = f"CASE WHEN {row}.archived_at IS NULL THEN NULL ELSE 1 END"
    return f"({', '.join([*facets, archived, str(n)])})"


_INSERT = f"INSERT INTO case_tally_deltas ({_COLUMNS}) VALUES "

_SQLITE = [
    f"""CREATE TRIGGER case_tallies_ai AFTER INSERT ON cases BEGIN
        {_INSERT}{_values("new", 1)};
    END""",
    f"""CREATE TRIGGER case_tallies_au AFTER UPDATE OF {", ".join(_FACETS)} ON cases
        WHEN {_CHANGED} BEGIN
        {_INSERT}{_values("old", -1)}, {_values("new", 1)};
    END""",
    f"""CREATE TRIGGER case_tallies_ad AFTER DELETE ON cases BEGIN
        {_INSERT}{_values("old", -1)};
    END""",
]

_POSTGRES = [
    f"""CREATE FUNCTION case_tallies_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {_INSERT}{_values("NEW", 1)};
        ELSIF TG_OP = 'DELETE' THEN
            {_INSERT}{_values("OLD", -1)};
        ELSIF {
        _CHANGED.replace("old.", "OLD.")
        .replace("new.", "NEW.")
        .replace(" IS NOT ", " IS DISTINCT FROM ")
    } THEN
            {_INSERT}{_values("OLD", -1)}, {_values("NEW", 1)};
        END IF;
        RETURN NULL;
    END
    $$""",
    f"""CREATE TRIGGER case_tallies_sync AFTER INSERT OR DELETE OR UPDATE OF {", ".join(_FACETS)}
        ON cases FOR EACH ROW EXECUTE FUNCTION case_tallies_sync()""",
]

# The values of a case's maps, each distinct value once: (source, key, value, num).
# ``a``: a value of ``attributes``, ``c``: of ``custom_attributes``; ``A``, ``C``: the case
# holds a value of the key. Lower-cased as the side tables are; no value is "".
_SQLITE_ATTRIBUTES = """FROM json_each(CASE WHEN json_valid({row}.attributes)
        THEN CASE json_type({row}.attributes) WHEN 'object' THEN {row}.attributes END END) AS a,
    json_each(CASE a.type WHEN 'array' THEN a.value ELSE json_array(a.value) END) AS e"""
_SQLITE_CUSTOM = """FROM json_each(CASE WHEN json_valid({row}.custom_attributes)
        THEN CASE json_type({row}.custom_attributes) WHEN 'object'
        THEN {row}.custom_attributes END END) AS a,
    json_each(CASE json_type(a.value, '$.value')
        WHEN 'array' THEN json_extract(a.value, '$.value')
        ELSE json_array(json_extract(a.value, '$.value')) END) AS e
    WHERE a.type = 'object'"""
_SQLITE_NUMBER = "e.type IN ('integer', 'real')"
_SQLITE_VALUES = f"""
    SELECT DISTINCT 'a' AS source, a.key AS key, coalesce(lower(e.value), '') AS value,
        NULL AS num {_SQLITE_ATTRIBUTES}
    UNION ALL SELECT DISTINCT 'A', a.key, NULL, NULL {_SQLITE_ATTRIBUTES}
    UNION ALL SELECT DISTINCT 'c', a.key,
        CASE WHEN {_SQLITE_NUMBER} THEN '' ELSE coalesce(lower(e.value), '') END,
        CASE WHEN {_SQLITE_NUMBER} THEN e.value END {_SQLITE_CUSTOM}
    UNION ALL SELECT DISTINCT 'C', a.key, NULL, NULL {_SQLITE_CUSTOM}"""

_POSTGRES_ATTRIBUTES = """FROM jsonb_each(CASE WHEN jsonb_typeof(CAST({row}.attributes AS jsonb))
        = 'object' THEN CAST({row}.attributes AS jsonb) ELSE '{{}}'::jsonb END) AS a(key, v),
    jsonb_array_elements(CASE WHEN jsonb_typeof(a.v) = 'array' THEN a.v
        ELSE jsonb_build_array(a.v) END) AS e(x)"""
_POSTGRES_CUSTOM = """FROM jsonb_each(CASE WHEN jsonb_typeof(CAST({row}.custom_attributes AS jsonb))
        = 'object' THEN CAST({row}.custom_attributes AS jsonb) ELSE '{{}}'::jsonb END)
        AS a(key, v),
    jsonb_array_elements(CASE WHEN jsonb_typeof(a.v -> 'value') = 'array' THEN a.v -> 'value'
        ELSE jsonb_build_array(a.v -> 'value') END) AS e(x)
    WHERE jsonb_typeof(a.v) = 'object'"""
_POSTGRES_NUMBER = "jsonb_typeof(e.x) = 'number'"
_POSTGRES_VALUES = f"""
    SELECT DISTINCT 'a' AS source, a.key AS key, coalesce(lower(e.x #>> '{{{{}}}}'), '') AS value,
        NULL::double precision AS num {_POSTGRES_ATTRIBUTES}
    UNION ALL SELECT DISTINCT 'A', a.key, NULL::text, NULL::double precision
        {_POSTGRES_ATTRIBUTES}
    UNION ALL SELECT DISTINCT 'c', a.key,
        CASE WHEN {_POSTGRES_NUMBER} THEN '' ELSE coalesce(lower(e.x #>> '{{{{}}}}'), '') END,
        CASE WHEN {_POSTGRES_NUMBER} THEN (e.x #>> '{{{{}}}}')::double precision END
        {_POSTGRES_CUSTOM}
    UNION ALL SELECT DISTINCT 'C', a.key, NULL::text, NULL::double precision
        {_POSTGRES_CUSTOM}"""

_VALUE_FACETS = ("org_id", "project_id", "type_id", "status", "status_name", "priority_rank")
_VALUE_COLUMNS = ", ".join([*_VALUE_FACETS, "archived_at", "source", "key", "value", "num", "n"])


def _value_rows(row: str, n: int, values: str) -> str:
    """INSERT of the deltas of every value ``row`` (new, old) holds, each counting ``n``."""
    facets = [f"{row}.{c}" for c in _VALUE_FACETS]
    archived = f"CASE WHEN {row}.archived_at IS NULL THEN NULL ELSE 1 END"
    return (
        f"INSERT INTO case_value_deltas ({_VALUE_COLUMNS})"
        f" SELECT {', '.join([*facets, archived])}, v.source, v.key, v.value, v.num, {n}"
        f" FROM ({values.format(row=row)}) AS v"
    )


_VALUES_CHANGED = (
    "old.attributes IS NOT new.attributes OR old.custom_attributes IS NOT new.custom_attributes"
)
_VALUE_FACETS_CHANGED = " OR ".join(
    [f"old.{c} IS NOT new.{c}" for c in _VALUE_FACETS]
    + ["(old.archived_at IS NULL) <> (new.archived_at IS NULL)", _VALUES_CHANGED]
)
_WATCHED = ", ".join([*_VALUE_FACETS, "archived_at", "attributes", "custom_attributes"])

_SQLITE += [
    f"""CREATE TRIGGER case_value_tallies_ai AFTER INSERT ON cases BEGIN
        {_value_rows("new", 1, _SQLITE_VALUES)};
    END""",
    f"""CREATE TRIGGER case_value_tallies_au AFTER UPDATE OF {_WATCHED} ON cases
        WHEN {_VALUE_FACETS_CHANGED} BEGIN
        {_value_rows("old", -1, _SQLITE_VALUES)};
        {_value_rows("new", 1, _SQLITE_VALUES)};
    END""",
    f"""CREATE TRIGGER case_value_tallies_ad AFTER DELETE ON cases BEGIN
        {_value_rows("old", -1, _SQLITE_VALUES)};
    END""",
]

_PG_VALUE_FACETS_CHANGED = (
    _VALUE_FACETS_CHANGED.replace("old.", "OLD.")
    .replace("new.", "NEW.")
    .replace(" IS NOT ", " IS DISTINCT FROM ")
)
_POSTGRES += [
    f"""CREATE FUNCTION case_value_tallies_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {_value_rows("NEW", 1, _POSTGRES_VALUES)};
        ELSIF TG_OP = 'DELETE' THEN
            {_value_rows("OLD", -1, _POSTGRES_VALUES)};
        ELSIF {_PG_VALUE_FACETS_CHANGED} THEN
            {_value_rows("OLD", -1, _POSTGRES_VALUES)};
            {_value_rows("NEW", 1, _POSTGRES_VALUES)};
        END IF;
        RETURN NULL;
    END
    $$""",
    f"""CREATE TRIGGER case_value_tallies_sync AFTER INSERT OR DELETE OR UPDATE OF {_WATCHED}
        ON cases FOR EACH ROW EXECUTE FUNCTION case_value_tallies_sync()""",
]

_FILL = (
    f"INSERT INTO case_tally_deltas ({_COLUMNS})"
    f" SELECT {', '.join(_FACETS[:-1])}, CASE WHEN archived_at IS NULL THEN NULL ELSE 1 END,"
    f" count(*) FROM cases GROUP BY {', '.join(str(i) for i in range(1, len(_FACETS) + 1))}"
)


_FACETS_OF_C = ", ".join(
    [*(f"c.{f}" for f in _VALUE_FACETS), "CASE WHEN c.archived_at IS NULL THEN NULL ELSE 1 END"]
)
_GROUPED = ", ".join(str(i) for i in range(1, len(_VALUE_FACETS) + 6))
_NO_NUMBER = "CAST(NULL AS DOUBLE PRECISION)"
# The values the side tables hold now, as deltas the worker's first fold sums.
_FILL_VALUES = [
    f"INSERT INTO case_value_deltas ({_VALUE_COLUMNS})"
    f" SELECT {_FACETS_OF_C}, {source}, count(DISTINCT c.seq)"
    f" FROM {table} s JOIN cases c ON c.seq = s.case_seq GROUP BY {_GROUPED}"
    for table, source in [
        ("case_attributes", f"'a', s.key, coalesce(s.value, ''), {_NO_NUMBER}"),
        ("case_attributes", f"'A', s.key, NULL, {_NO_NUMBER}"),
        (
            "case_custom_values",
            "'c', s.key, CASE WHEN s.num IS NULL THEN coalesce(s.value, '') ELSE '' END, s.num",
        ),
        ("case_custom_values", f"'C', s.key, NULL, {_NO_NUMBER}"),
    ]
]


_TALLIES_INDEX = (
    "org_id",
    "status",
    "priority_rank",
    "project_id",
    "type_id",
    "status_name",
    "assignee_id",
    "archived_at",
    "n",
)
_VALUE_INDEX = (
    "org_id",
    "key",
    "source",
    "value",
    "num",
    "status",
    "priority_rank",
    "project_id",
    "type_id",
    "status_name",
    "archived_at",
    "n",
)


_Typed = list[tuple[str, Any, bool]]
_FACET_COLUMNS: _Typed = [
    ("org_id", sa.Text(), False),
    ("project_id", sa.Text(), False),
    ("type_id", sa.Text(), False),
    ("status", sa.Text(), False),
    ("status_name", sa.Text(), True),
    ("priority_rank", sa.Integer(), False),
]
_CASE_COLUMNS: _Typed = [
    *_FACET_COLUMNS,
    ("assignee_id", sa.Text(), True),
    ("archived_at", sa.Integer(), True),
]
_VALUE_COLUMNS_TYPED: _Typed = [
    *_FACET_COLUMNS,
    ("archived_at", sa.Integer(), True),
    ("source", sa.Text(), False),
    ("key", sa.Text(), False),
    ("value", sa.Text(), True),
    ("num", sa.Float(), True),
]


def _table(name: str, columns: _Typed) -> None:
    """Folded rows (``*_tallies``, with their ``bucket``) or deltas."""
    bucket = [sa.Column("bucket", sa.Text(), nullable=False)] if name.endswith("_tallies") else []
    op.create_table(
        name,
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        *bucket,
        *(sa.Column(column, kind, nullable=nullable) for column, kind, nullable in columns),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def upgrade() -> None:
    _table("case_tallies", _CASE_COLUMNS)
    op.create_index("ux_case_tallies_bucket", "case_tallies", ["bucket"], unique=True)
    # Covering: a count reads the index alone (the tallies are written only when folded).
    op.create_index("ix_case_tallies_org", "case_tallies", list(_TALLIES_INDEX), unique=False)
    _table("case_tally_deltas", _CASE_COLUMNS)
    _table("case_value_tallies", _VALUE_COLUMNS_TYPED)
    op.create_index("ux_case_value_tallies_bucket", "case_value_tallies", ["bucket"], unique=True)
    op.create_index(
        "ix_case_value_tallies_value", "case_value_tallies", list(_VALUE_INDEX), unique=False
    )
    _table("case_value_deltas", _VALUE_COLUMNS_TYPED)
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES if postgres else _SQLITE:
        op.execute(statement)
    op.execute(_FILL)
    for statement in _FILL_VALUES:
        op.execute(statement)


def downgrade() -> None:
    for name in ("case_tallies", "case_value_tallies"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER {name}_sync ON cases")
            op.execute(f"DROP FUNCTION {name}_sync()")
        else:
            for suffix in ("ai", "au", "ad"):
                op.execute(f"DROP TRIGGER {name}_{suffix}")
    op.drop_table("case_value_deltas")
    op.drop_index("ix_case_value_tallies_value", "case_value_tallies")
    op.drop_index("ux_case_value_tallies_bucket", "case_value_tallies")
    op.drop_table("case_value_tallies")
    op.drop_table("case_tally_deltas")
    op.drop_index("ix_case_tallies_org", "case_tallies")
    op.drop_index("ux_case_tallies_bucket", "case_tallies")
    op.drop_table("case_tallies")
