"""A project's open cases, from the oldest: where the auto-close of inactive cases looks.

A partial index of the cases that are neither closed nor archived, by project and creation:
the worker's search for inactive cases (``storage/cases.py``, ``idle``) walks it instead of
every case of the project, most of which, in time, are closed.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_OPEN = "archived_at IS NULL AND status <> 'CLOSED'"


def upgrade() -> None:
    op.create_index(
        "ix_cases_open_project",
        "cases",
        ["org_id", "project_id", "created_at", "seq"],
        sqlite_where=sa.text(_OPEN),
        postgresql_where=sa.text(_OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_open_project", table_name="cases")
