"""Case types, custom attribute configs, the values cases hold, and custom status names.

``case_types`` holds an organisation's own types with their statuses (JSON, in
order); the built-in types live in code. ``custom_attribute_configs`` holds the
typed fields of each type. ``cases.status_name`` is NULL unless a case's status
is named otherwise than its group's own name ("Open"), so existing cases need no
rewrite. ``case_custom_values`` holds one row per value of each case's
``custom_attributes`` (text lower-cased in ``value``, numbers in ``num``), kept in
step by triggers as ``case_attributes`` is (migration 0002): ``region:eu-west-1``
and ``severity_score:>7`` read one index range.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STANDARD = "00000000-0000-0000-0000-000000000001"
# (name, columns, predicate): the live cases of the other types, and those whose
# status has a name of its own; both small where most cases are Standard. Status,
# priority and project ride along, as in ix_cases_live_assignee: "open cases of a
# type" is counted from the index, deleted projects left out, with no row read.
_CASE_INDEXES = [
    (
        "ix_cases_live_type",
        ["org_id", "type_id", "created_at", "seq", "status", "priority_rank", "project_id"],
        f"archived_at IS NULL AND type_id <> '{STANDARD}'",
    ),
    (
        "ix_cases_live_status_name",
        ["org_id", "status_name", "created_at", "seq"],
        "archived_at IS NULL AND status_name IS NOT NULL",
    ),
]

# The status and priority indexes gain the project at their end: with a deleted
# project in the organisation, a count ("P1s holding customer_tier:gold") leaves its
# cases out from the index alone, with no row read.
_LIVE = "archived_at IS NULL"
_WIDENED = [
    ("ix_cases_live_status", ["org_id", "status DESC", "created_at", "seq", "priority_rank"]),
    ("ix_cases_live_priority", ["org_id", "priority_rank", "created_at", "seq", "status"]),
]

# PostgreSQL's planner takes a side table's (org, key, value) columns for independent
# and misjudges how common a value of one key is; statistics on them together fix it.
_POSTGRES_STATISTICS = [
    "CREATE STATISTICS st_case_custom_values ON org_id, key, value FROM case_custom_values",
    "CREATE STATISTICS st_case_attributes ON org_id, key, value FROM case_attributes",
]


def _index(name: str, columns: list[str], predicate: str) -> None:
    where = sa.text(predicate)
    op.create_index(
        name,
        "cases",
        [sa.text(c) if " " in c else c for c in columns],
        sqlite_where=where,
        postgresql_where=where,
    )


# One row per value: {"key": {"type": ..., "is_multi": ..., "value": v or [v, ...]}}.
_SQLITE_VALUES = """
    SELECT {seq}, {org}, a.key,
           CASE WHEN e.type IN ('integer', 'real') THEN NULL ELSE lower(e.value) END,
           CASE WHEN e.type IN ('integer', 'real') THEN e.value END
    FROM json_each(CASE WHEN json_valid({attrs})
                        THEN CASE json_type({attrs}) WHEN 'object' THEN {attrs} END END) AS a,
         json_each(CASE json_type(a.value, '$.value')
                   WHEN 'array' THEN json_extract(a.value, '$.value')
                   ELSE json_array(json_extract(a.value, '$.value')) END) AS e
    WHERE a.type = 'object'"""

_SQLITE = [
    """CREATE TRIGGER case_custom_values_ai AFTER INSERT ON cases
        WHEN new.custom_attributes <> '{}' BEGIN
        INSERT INTO case_custom_values (case_seq, org_id, key, value, num)"""
    + _SQLITE_VALUES.format(seq="new.seq", org="new.org_id", attrs="new.custom_attributes")
    + """;
    END""",
    """CREATE TRIGGER case_custom_values_au AFTER UPDATE OF custom_attributes ON cases BEGIN
        DELETE FROM case_custom_values WHERE case_seq = old.seq;
        INSERT INTO case_custom_values (case_seq, org_id, key, value, num)"""
    + _SQLITE_VALUES.format(seq="new.seq", org="new.org_id", attrs="new.custom_attributes")
    + """;
    END""",
    """CREATE TRIGGER case_custom_values_ad AFTER DELETE ON cases BEGIN
        DELETE FROM case_custom_values WHERE case_seq = old.seq;
    END""",
    "INSERT INTO case_custom_values (case_seq, org_id, key, value, num)"
    + _SQLITE_VALUES.format(seq="c.seq", org="c.org_id", attrs="c.custom_attributes").replace(
        "FROM json_each", "FROM cases c, json_each", 1
    )
    + " AND c.custom_attributes <> '{}'",
]

_POSTGRES_VALUES = """
    SELECT {seq}, {org}, a.key,
           CASE WHEN jsonb_typeof(e.x) = 'number' THEN NULL ELSE lower(e.x #>> '{{}}') END,
           CASE WHEN jsonb_typeof(e.x) = 'number' THEN (e.x #>> '{{}}')::double precision END
    FROM jsonb_each(CASE WHEN jsonb_typeof(CAST({attrs} AS jsonb)) = 'object'
                         THEN CAST({attrs} AS jsonb) ELSE '{{}}'::jsonb END) AS a(key, v),
         jsonb_array_elements(CASE WHEN jsonb_typeof(a.v -> 'value') = 'array' THEN a.v -> 'value'
                                   ELSE jsonb_build_array(a.v -> 'value') END) AS e(x)
    WHERE jsonb_typeof(a.v) = 'object'"""

_POSTGRES = [
    """CREATE FUNCTION case_custom_values_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            DELETE FROM case_custom_values WHERE case_seq = OLD.seq;
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.custom_attributes <> '{}' THEN
            INSERT INTO case_custom_values (case_seq, org_id, key, value, num)"""
    + _POSTGRES_VALUES.format(seq="NEW.seq", org="NEW.org_id", attrs="NEW.custom_attributes")
    + """;
        END IF;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER case_custom_values_sync AFTER INSERT OR DELETE OR UPDATE OF custom_attributes
        ON cases FOR EACH ROW EXECUTE FUNCTION case_custom_values_sync()""",
    "INSERT INTO case_custom_values (case_seq, org_id, key, value, num)"
    + _POSTGRES_VALUES.format(seq="c.seq", org="c.org_id", attrs="c.custom_attributes").replace(
        "FROM jsonb_each", "FROM cases c, jsonb_each", 1
    )
    + " AND c.custom_attributes <> '{}'",
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("cases", sa.Column("status_name", sa.Text(), nullable=True))
    for name, columns, predicate in _CASE_INDEXES:
        _index(name, columns, predicate)
    for name, columns in _WIDENED:
        op.drop_index(name, "cases")
        _index(name, [*columns, "project_id"], _LIVE)
    op.create_table(
        "case_types",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("emoji", sa.Text(), nullable=False),
        sa.Column("statuses", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("modified_at", sa.BigInteger(), nullable=True),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_types_org", "case_types", ["org_id"])
    op.create_table(
        "custom_attribute_configs",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("type_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("is_multi", sa.Integer(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("map_from", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("modified_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "type_id", "key", name="uq_custom_attribute_configs_key"),
    )
    op.create_index(
        "ix_custom_attribute_configs_key", "custom_attribute_configs", ["org_id", "key"]
    )
    op.create_table(
        "case_custom_values",
        sa.Column("case_seq", sa.BigInteger(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        # Byte order ("C") on PostgreSQL, as SQLite's BINARY: a prefix is an index range.
        sa.Column("value", sa.Text(collation="C") if postgres else sa.Text(), nullable=True),
        sa.Column("num", sa.Float(), nullable=True),
    )
    op.create_index(
        "ix_case_custom_values_lookup", "case_custom_values", ["org_id", "key", "value", "case_seq"]
    )
    numbers = sa.text("num IS NOT NULL")
    op.create_index(
        "ix_case_custom_values_number",
        "case_custom_values",
        ["org_id", "key", "num", "case_seq"],
        sqlite_where=numbers,
        postgresql_where=numbers,
    )
    op.create_index(
        "ix_case_custom_values_case", "case_custom_values", ["case_seq", "key", "value"]
    )
    for statement in [*_POSTGRES, *_POSTGRES_STATISTICS] if postgres else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    for name, columns in _WIDENED:
        op.drop_index(name, "cases")
        _index(name, columns, _LIVE)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS st_case_custom_values, st_case_attributes")
        op.execute("DROP TRIGGER case_custom_values_sync ON cases")
        op.execute("DROP FUNCTION case_custom_values_sync()")
    else:
        for suffix in ("ai", "au", "ad"):
            op.execute(f"DROP TRIGGER case_custom_values_{suffix}")
    op.drop_table("case_custom_values")
    op.drop_table("custom_attribute_configs")
    op.drop_table("case_types")
    for name, _, _ in _CASE_INDEXES:
        op.drop_index(name, "cases")
    op.drop_column("cases", "status_name")
