"""Alembic environment: runs on the connection that ``storage.migrate`` hands over.

Migrations are forward-only; each one must work with the code already running
(add first, remove in a later release).
"""

from __future__ import annotations

from alembic import context

from casebook.storage.schema import declared_here, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    include_object=declared_here,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
