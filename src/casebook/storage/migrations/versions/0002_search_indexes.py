"""Search at scale: indexes in each sort order over live cases, and an attribute index.

The partial indexes cover the cases a search sees by default (not archived),
each in the order a search sorts by, after the organisation and one facet:
the newest cases of a status, a priority, an assignee or a project are the
first entries of their index range. ``case_attributes`` holds one row per value
of each case's ``attributes`` map, lower-cased, kept in step by triggers (so
every writer, the domain or a script, keeps it right); ``service:web-store``
reads one index range of it instead of parsing every case's JSON.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

LIVE = "archived_at IS NULL"
ARCHIVED = "archived_at IS NOT NULL"

# (name, columns, predicate)
_CASE_INDEXES: list[tuple[str, list[str], str]] = [
    ("ix_cases_live_created", ["org_id", "created_at", "seq"], LIVE),
    # status DESC: read forwards it is CLOSED... then OPEN, read backwards OPEN
    # first, each with created_at in the other direction -- both of the
    # workflow sorts (see storage/cases.py, _SORT_SQL).
    ("ix_cases_live_status", ["org_id", "status DESC", "created_at", "seq"], LIVE),
    ("ix_cases_live_priority", ["org_id", "priority_rank", "created_at", "seq"], LIVE),
    # Status and priority ride along at the end: "my open cases", "open cases
    # of SEC" are tested (and counted) from the index, with no row read.
    (
        "ix_cases_live_assignee",
        ["org_id", "assignee_id", "created_at", "seq", "status", "priority_rank"],
        LIVE,
    ),
    (
        "ix_cases_live_project",
        ["org_id", "project_id", "created_at", "seq", "status", "priority_rank"],
        LIVE,
    ),
    ("ix_cases_archived_created", ["org_id", "created_at", "seq"], ARCHIVED),
]

# One row per value: a list gives a row per element, a scalar one row, a JSON
# null a NULL value; keys whose list is empty give none. Values are
# lower-cased as the search compares them (SQLite: ASCII letters only).
_SQLITE_VALUES = """
    SELECT {seq}, {org}, a.key, lower(e.value)
    FROM json_each(CASE WHEN json_valid({attrs})
                        THEN CASE json_type({attrs}) WHEN 'object' THEN {attrs} END END) AS a,
         json_each(CASE a.type WHEN 'array' THEN a.value ELSE json_array(a.value) END) AS e"""

_SQLITE = [
    """CREATE TRIGGER case_attributes_ai AFTER INSERT ON cases BEGIN
        INSERT INTO case_attributes (case_seq, org_id, key, value)"""
    + _SQLITE_VALUES.format(seq="new.seq", org="new.org_id", attrs="new.attributes")
    + """;
    END""",
    """CREATE TRIGGER case_attributes_au AFTER UPDATE OF attributes ON cases BEGIN
        DELETE FROM case_attributes WHERE case_seq = old.seq;
        INSERT INTO case_attributes (case_seq, org_id, key, value)"""
    + _SQLITE_VALUES.format(seq="new.seq", org="new.org_id", attrs="new.attributes")
    + """;
    END""",
    """CREATE TRIGGER case_attributes_ad AFTER DELETE ON cases BEGIN
        DELETE FROM case_attributes WHERE case_seq = old.seq;
    END""",
    "INSERT INTO case_attributes (case_seq, org_id, key, value)"
    + _SQLITE_VALUES.format(seq="c.seq", org="c.org_id", attrs="c.attributes").replace(
        "FROM json_each", "FROM cases c, json_each", 1
    ),
]

_POSTGRES_VALUES = """
    SELECT {seq}, {org}, a.key, lower(e.x)
    FROM jsonb_each(CASE WHEN jsonb_typeof(CAST({attrs} AS jsonb)) = 'object'
                         THEN CAST({attrs} AS jsonb) ELSE '{{}}'::jsonb END) AS a(key, v),
         jsonb_array_elements_text(CASE WHEN jsonb_typeof(a.v) = 'array' THEN a.v
                                        ELSE jsonb_build_array(a.v) END) AS e(x)"""

_POSTGRES = [
    """CREATE FUNCTION case_attributes_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            DELETE FROM case_attributes WHERE case_seq = OLD.seq;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            INSERT INTO case_attributes (case_seq, org_id, key, value)"""
    + _POSTGRES_VALUES.format(seq="NEW.seq", org="NEW.org_id", attrs="NEW.attributes")
    + """;
        END IF;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER case_attributes_sync AFTER INSERT OR DELETE OR UPDATE OF attributes
        ON cases FOR EACH ROW EXECUTE FUNCTION case_attributes_sync()""",
    "INSERT INTO case_attributes (case_seq, org_id, key, value)"
    + _POSTGRES_VALUES.format(seq="c.seq", org="c.org_id", attrs="c.attributes").replace(
        "FROM jsonb_each", "FROM cases c, jsonb_each", 1
    ),
]


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for name, columns, predicate in _CASE_INDEXES:
        where = sa.text(predicate)
        op.create_index(
            name,
            "cases",
            [sa.text(c) if " " in c else c for c in columns],
            unique=False,
            sqlite_where=where,
            postgresql_where=where,
        )
    op.create_table(
        "case_attributes",
        sa.Column("case_seq", sa.BigInteger(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        # Byte order ("C") on PostgreSQL, as SQLite's BINARY: a prefix is an index range.
        sa.Column("value", sa.Text(collation="C") if postgres else sa.Text(), nullable=True),
    )
    op.create_index(
        "ix_case_attributes_lookup",
        "case_attributes",
        ["org_id", "key", "value", "case_seq"],
        unique=False,
    )
    op.create_index(
        "ix_case_attributes_case", "case_attributes", ["case_seq", "key", "value"], unique=False
    )
    for statement in _POSTGRES if postgres else _SQLITE:
        op.execute(statement)
