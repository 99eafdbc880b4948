"""Working a case: comments, watchers, links, the keys of moved cases, and new case fields.

``cases`` gains ``due_date`` (00:00 UTC of the day, microseconds),
``resolved_reason``, ``comment_count`` (live comments, kept by the domain in
the comment's transaction), ``insights`` (JSON) and ``version`` (the ETag).
Comments keep their row once deleted, without their text. A case that moves
to another project keeps its old key in ``case_key_aliases``.

Plain ``ADD COLUMN`` on both dialects (no table copy on SQLite, so the full-text
and attribute triggers on ``cases`` stay as they are).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("cases", sa.Column("due_date", sa.BigInteger(), nullable=True))
    op.add_column("cases", sa.Column("resolved_reason", sa.Text(), nullable=True))
    op.add_column(
        "cases",
        sa.Column("comment_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column(
        "cases", sa.Column("insights", sa.Text(), server_default=sa.text("'[]'"), nullable=False)
    )
    op.add_column(
        "cases", sa.Column("version", sa.BigInteger(), server_default=sa.text("1"), nullable=False)
    )
    op.create_table(
        "case_comments",
        sa.Column("seq", RowId, autoincrement=True, nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("case_seq", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("modified_at", sa.BigInteger(), nullable=True),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    op.create_index("ix_case_comments_case", "case_comments", ["case_id", "seq"])
    op.create_table(
        "case_watchers",
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("case_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("case_id", "user_id"),
    )
    op.create_index("ix_case_watchers_user", "case_watchers", ["org_id", "user_id", "case_seq"])
    op.create_table(
        "case_links",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Text(), nullable=False),
        sa.Column("child_id", sa.Text(), nullable=False),
        sa.Column("relationship", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["child_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["parent_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("parent_id", "child_id", "relationship", name="uq_case_links_pair"),
    )
    op.create_index("ix_case_links_child", "case_links", ["child_id"])
    op.create_table(
        "case_key_aliases",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("org_id", "key"),
    )


def downgrade() -> None:
    op.drop_table("case_key_aliases")
    op.drop_index("ix_case_links_child", table_name="case_links")
    op.drop_table("case_links")
    op.drop_index("ix_case_watchers_user", table_name="case_watchers")
    op.drop_table("case_watchers")
    op.drop_index("ix_case_comments_case", table_name="case_comments")
    op.drop_table("case_comments")
    for column in ("version", "insights", "comment_count", "resolved_reason", "due_date"):
        op.drop_column("cases", column)  # SQLite 3.35+: in place, triggers kept
