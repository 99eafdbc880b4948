"""Notification rules, automation rules and maintenance windows.

``notification_rules`` and ``automation_rules`` belong to a project: a rule's
triggers, recipients and action are JSON (free-form on the wire, checked by the
domain when saved). ``maintenance_windows`` belong to the organisation: a search
query and a time range, found by the end of their range (the worker asks which
windows are not over yet).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _changed() -> list[sa.Column[Any]]:
    """Who made a row and when, who changed it last and when."""
    return [
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("modified_at", sa.BigInteger(), nullable=True),
        sa.Column("modified_by", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "notification_rules",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Text(), nullable=False),
        sa.Column("is_enabled", sa.Integer(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("triggers", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        *_changed(),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_notification_rules_project",
        "notification_rules",
        ["org_id", "project_id", "created_at"],
    )
    op.create_table(
        "automation_rules",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("is_enabled", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        *_changed(),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_automation_rules_project", "automation_rules", ["org_id", "project_id", "created_at"]
    )
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("start_at", sa.BigInteger(), nullable=False),
        sa.Column("end_at", sa.BigInteger(), nullable=False),
        *_changed(),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_maintenance_windows_end", "maintenance_windows", ["org_id", "end_at"])


def downgrade() -> None:
    op.drop_index("ix_maintenance_windows_end", table_name="maintenance_windows")
    op.drop_table("maintenance_windows")
    op.drop_index("ix_automation_rules_project", table_name="automation_rules")
    op.drop_table("automation_rules")
    op.drop_index("ix_notification_rules_project", table_name="notification_rules")
    op.drop_table("notification_rules")
