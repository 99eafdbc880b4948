"""Status and priority ride along in each other's index, so their combination counts fast.

``status:open priority:P2`` walked the priority index and read every P2 case's
row for its status: 1.4 ms to count 708 matches of 10,000 cases on SQLite.
With the other facet at the end of each index, the count reads index entries
only (0.19 ms). Same columns in front, so every sort the indexes served they
still serve.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LIVE = "archived_at IS NULL"

# (name, columns before, columns after)
_INDEXES = [
    (
        "ix_cases_live_status",
        ["org_id", "status DESC", "created_at", "seq"],
        ["org_id", "status DESC", "created_at", "seq", "priority_rank"],
    ),
    (
        "ix_cases_live_priority",
        ["org_id", "priority_rank", "created_at", "seq"],
        ["org_id", "priority_rank", "created_at", "seq", "status"],
    ),
]


def _create(name: str, columns: list[str]) -> None:
    where = sa.text(LIVE)
    op.create_index(
        name,
        "cases",
        [sa.text(c) if " " in c else c for c in columns],
        unique=False,
        sqlite_where=where,
        postgresql_where=where,
    )


def upgrade() -> None:
    for name, _, after in _INDEXES:
        op.drop_index(name, table_name="cases")
        _create(name, after)


def downgrade() -> None:
    for name, before, _ in _INDEXES:
        op.drop_index(name, table_name="cases")
        _create(name, before)
