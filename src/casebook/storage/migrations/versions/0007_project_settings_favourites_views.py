"""Project settings and board columns, project keys freed by deletion, favourites, views.

``projects`` gains ``settings`` and ``columns_config`` (JSON; NULL: never set, the
defaults apply) and ``modified_at``/``modified_by``. A key is now unique among live
projects only (a partial unique index), so deleting ``SEC`` frees the key as in
Datadog; a new ``SEC`` numbers its cases after the deleted ones' (storage/projects.py),
so case keys stay unique. ``project_favorites`` holds each user's favourite projects,
``case_views`` the organisation's saved views (a named query on a project).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_LIVE = sa.text("deleted_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "case_views",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("np_rule_id", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("modified_at", sa.BigInteger(), nullable=True),
        sa.Column("modified_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_views_project", "case_views", ["org_id", "project_id", "created_at"])
    op.create_table(
        "project_favorites",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id", "project_id"),
    )
    # SQLite cannot drop a table constraint: batch mode copies the (small) table.
    with op.batch_alter_table("projects") as batch_op:
        batch_op.add_column(sa.Column("settings", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("columns_config", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("modified_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("modified_by", sa.Text(), nullable=True))
        batch_op.drop_constraint("uq_projects_org_key", type_="unique")
        batch_op.create_index("ix_projects_org_key", ["org_id", "key"], unique=False)
        batch_op.create_index(
            "uq_projects_org_key_live",
            ["org_id", "key"],
            unique=True,
            sqlite_where=_LIVE,
            postgresql_where=_LIVE,
        )


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_index("uq_projects_org_key_live")
        batch_op.drop_index("ix_projects_org_key")
        batch_op.create_unique_constraint("uq_projects_org_key", ["org_id", "key"])
        batch_op.drop_column("modified_by")
        batch_op.drop_column("modified_at")
        batch_op.drop_column("columns_config")
        batch_op.drop_column("settings")
    op.drop_table("project_favorites")
    op.drop_index("ix_case_views_project", table_name="case_views")
    op.drop_table("case_views")
