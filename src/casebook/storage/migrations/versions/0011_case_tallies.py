"""Case tallies: how many cases each combination of the case's own facets holds.

Exact counts (``GET /api/v2/cases/count``, ``POST /api/v2/cases/aggregate``) whose filter
and groups name only the case's own facets -- organisation, project, type, status,
status name, priority, assignee, archived -- sum these rows instead of reading every
matching case (storage/tallies.py). Triggers on ``cases`` append a -1 for the old
combination and a +1 for the new one to ``case_tally_deltas`` whenever one of those
columns changes (appends only: two writers never wait on one shared row, and no
deadlock can form); the delivery worker folds the deltas into ``case_tallies``. Both
tables together are always exact. The upgrade fills ``case_tallies`` from the cases.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

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

_FILL = (
    f"INSERT INTO case_tallies ({_COLUMNS})"
    f" SELECT {', '.join(_FACETS[:-1])}, CASE WHEN archived_at IS NULL THEN NULL ELSE 1 END,"
    f" count(*) FROM cases GROUP BY {', '.join(str(i) for i in range(1, len(_FACETS) + 1))}"
)


def _table(name: str) -> None:
    op.create_table(
        name,
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Text(), nullable=False),
        sa.Column("type_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("status_name", sa.Text(), nullable=True),
        sa.Column("priority_rank", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Text(), nullable=True),
        sa.Column("archived_at", sa.Integer(), nullable=True),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def upgrade() -> None:
    _table("case_tallies")
    op.create_index("ix_case_tallies_org", "case_tallies", ["org_id", "status"], unique=False)
    _table("case_tally_deltas")
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES if postgres else _SQLITE:
        op.execute(statement)
    op.execute(_FILL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER case_tallies_sync ON cases")
        op.execute("DROP FUNCTION case_tallies_sync()")
    else:
        for suffix in ("ai", "au", "ad"):
            op.execute(f"DROP TRIGGER case_tallies_{suffix}")
    op.drop_table("case_tally_deltas")
    op.drop_index("ix_case_tallies_org", "case_tallies")
    op.drop_table("case_tallies")
