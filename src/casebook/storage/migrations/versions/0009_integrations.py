"""Jira and ServiceNow: each case's issue and ticket, each organisation's connections.

``cases`` gains ``jira_issue`` and ``service_now_ticket`` (JSON; NULL: none), added in
place on both dialects (nullable, no default: no table copy, so the full-text index and
the triggers of 0002 and 0006 are left as they are). ``integration_connections`` holds
how an organisation reaches its Jira and its ServiceNow, one row per system, the
credential sealed with the server's secret (domain/sealed.py).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "integration_connections",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("system", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("instance", sa.Text(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("modified_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"]),
        sa.PrimaryKeyConstraint("org_id", "system"),
    )
    op.add_column("cases", sa.Column("jira_issue", sa.Text(), nullable=True))
    op.add_column("cases", sa.Column("service_now_ticket", sa.Text(), nullable=True))


def downgrade() -> None:
    # SQLite drops a column in place since 3.35, and only when no index or trigger names it.
    op.drop_column("cases", "service_now_ticket")
    op.drop_column("cases", "jira_issue")
    op.drop_table("integration_connections")
