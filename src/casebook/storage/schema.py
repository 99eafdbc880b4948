"""The expected schema, as SQLAlchemy metadata.

The migrations in ``storage/migrations/versions`` build this schema on both
dialects; ``tests/storage/test_migrations.py`` compares a migrated database with
this metadata so the two cannot drift apart. Queries do not go through
SQLAlchemy: the hot path uses the bare drivers (see ``storage/executor.py``).

Shared types only: TEXT, INTEGER/BIGINT, times as BIGINT microseconds since the
epoch (UTC), JSON as TEXT. The full-text index is the one dialect-specific part
(SQLite FTS5 table ``cases_fts``; PostgreSQL generated column ``search_vector``)
and is created by the migrations only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

# Made by the migrations only, per dialect: the full-text index and its shadow tables.
MIGRATIONS_ONLY = frozenset(
    {
        "alembic_version",
        "cases_fts",
        "cases_fts_data",
        "cases_fts_idx",
        "cases_fts_docsize",
        "cases_fts_config",
        "search_vector",
        "ix_cases_search_vector",
        # 0005: the comments' full-text index (SQLite) and its GIN index (PostgreSQL,
        # over a generated column also named search_vector).
        "case_comments_fts",
        "case_comments_fts_data",
        "case_comments_fts_idx",
        "case_comments_fts_docsize",
        "case_comments_fts_config",
        "ix_case_comments_search_vector",
    }
)


def declared_here(
    obj: object, name: str | None, type_: str, reflected: bool, other: object
) -> bool:
    """Alembic's ``include_object``: compare (and autogenerate) only what this module declares."""
    return name not in MIGRATIONS_ONLY


# SQLite wants INTEGER PRIMARY KEY for a rowid alias; PostgreSQL wants BIGINT.
RowId = BigInteger().with_variant(Integer(), "sqlite")

meta = Table(
    "casebook_meta",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

orgs = Table(
    "orgs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, ForeignKey("orgs.id"), nullable=False),
    Column("email", Text, nullable=False),
    Column("handle", Text, nullable=False),
    Column("name", Text),
    Column("title", Text),
    Column("status", Text, nullable=False),
    Column("is_admin", Integer, nullable=False),
    Column("service_account", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("modified_at", BigInteger, nullable=False),
    UniqueConstraint("org_id", "email", name="uq_users_org_email"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, ForeignKey("orgs.id"), nullable=False),
    Column("key_hash", Text, nullable=False, unique=True),
    Column("hint", Text, nullable=False),
    Column("created_by", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

app_keys = Table(
    "app_keys",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, ForeignKey("orgs.id"), nullable=False),
    Column("user_id", Text, ForeignKey("users.id"), nullable=False),
    Column("key_hash", Text, nullable=False, unique=True),
    Column("hint", Text, nullable=False),
    # NULL: unscoped (whatever the user's role allows); else comma-separated scopes.
    Column("scopes", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

projects = Table(
    "projects",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, ForeignKey("orgs.id"), nullable=False),
    Column("key", Text, nullable=False),
    Column("name", Text, nullable=False),
    # The last case number handed out. Incremented in the transaction that
    # inserts the case, so numbers are never repeated nor skipped.
    Column("last_case_number", BigInteger, nullable=False),
    Column("enabled_custom_case_types", Text, nullable=False),
    Column("team_uuid", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", Text),
    Column("deleted_at", BigInteger),
    Column("deleted_by", Text),
    # Migration 0007: settings and board columns (JSON; NULL: the defaults), last change.
    Column("settings", Text),
    Column("columns_config", Text),
    Column("modified_at", BigInteger),
    Column("modified_by", Text),
)
# Migration 0007: a key is unique among live projects (deleting one frees its key, as in
# Datadog); deleted projects are found by key through the plain index.
Index(
    "uq_projects_org_key_live",
    projects.c.org_id,
    projects.c.key,
    unique=True,
    sqlite_where=text("deleted_at IS NULL"),
    postgresql_where=text("deleted_at IS NULL"),
)
Index("ix_projects_org_key", projects.c.org_id, projects.c.key)

cases = Table(
    "cases",
    metadata,
    # seq is the public_id and the full-text index's rowid; id is the UUID clients use.
    Column("seq", RowId, primary_key=True, autoincrement=True),
    Column("id", Text, nullable=False, unique=True),
    Column("org_id", Text, ForeignKey("orgs.id"), nullable=False),
    Column("project_id", Text, ForeignKey("projects.id"), nullable=False),
    Column("number", BigInteger, nullable=False),
    Column("key", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("priority", Text, nullable=False),
    Column("priority_rank", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("type_id", Text, nullable=False),
    Column("attributes", Text, nullable=False),
    Column("custom_attributes", Text, nullable=False),
    Column("creation_source", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", Text),
    Column("modified_at", BigInteger),
    Column("modified_by", Text),
    Column("closed_at", BigInteger),
    Column("archived_at", BigInteger),
    Column("assignee_id", Text),
    # Migration 0004 (working a case). due_date: 00:00 UTC of the day, microseconds.
    Column("due_date", BigInteger),
    Column("resolved_reason", Text),
    Column("comment_count", Integer, nullable=False, server_default=text("0")),
    Column("insights", Text, nullable=False, server_default=text("'[]'")),
    # Counts the changes to what a case response shows: the ETag (If-Match checks it).
    Column("version", BigInteger, nullable=False, server_default=text("1")),
    # Migration 0006: NULL unless the status is named otherwise than its group ("Open").
    Column("status_name", Text),
    # Migration 0009: the case's Jira issue and ServiceNow ticket (JSON); NULL: none.
    Column("jira_issue", Text),
    Column("service_now_ticket", Text),
    UniqueConstraint("project_id", "number", name="uq_cases_project_number"),
    UniqueConstraint("org_id", "key", name="uq_cases_org_key"),
)
Index("ix_cases_org_created", cases.c.org_id, cases.c.created_at)
Index("ix_cases_org_status_created", cases.c.org_id, cases.c.status, cases.c.created_at)
Index("ix_cases_org_assignee", cases.c.org_id, cases.c.assignee_id)
Index("ix_cases_project_created", cases.c.project_id, cases.c.created_at)

# Search (migration 0002): the cases a search sees by default (not archived), in
# each sort order after the organisation and one facet. See storage/sql_search.py.
_LIVE: dict[str, Any] = {
    "sqlite_where": text("archived_at IS NULL"),
    "postgresql_where": text("archived_at IS NULL"),
}
Index("ix_cases_live_created", cases.c.org_id, cases.c.created_at, cases.c.seq, **_LIVE)
Index(
    "ix_cases_live_status",
    cases.c.org_id,
    cases.c.status.desc(),
    cases.c.created_at,
    cases.c.seq,
    cases.c.priority_rank,  # migration 0003: status + priority counted from the index
    cases.c.project_id,  # migration 0006: deleted projects left out from the index
    **_LIVE,
)
Index(
    "ix_cases_live_priority",
    cases.c.org_id,
    cases.c.priority_rank,
    cases.c.created_at,
    cases.c.seq,
    cases.c.status,  # migration 0003
    cases.c.project_id,  # migration 0006
    **_LIVE,
)
Index(
    "ix_cases_live_assignee",
    cases.c.org_id,
    cases.c.assignee_id,
    cases.c.created_at,
    cases.c.seq,
    cases.c.status,
    cases.c.priority_rank,
    **_LIVE,
)
Index(
    "ix_cases_live_project",
    cases.c.org_id,
    cases.c.project_id,
    cases.c.created_at,
    cases.c.seq,
    cases.c.status,
    cases.c.priority_rank,
    **_LIVE,
)
# Migration 0006: the live cases of types other than Standard, and those whose status
# has a name of its own ("Triage"); both small where most cases are Standard.
Index(
    "ix_cases_live_type",
    cases.c.org_id,
    cases.c.type_id,
    cases.c.created_at,
    cases.c.seq,
    cases.c.status,
    cases.c.priority_rank,
    cases.c.project_id,
    sqlite_where=text("archived_at IS NULL AND type_id <> '00000000-0000-0000-0000-000000000001'"),
    postgresql_where=text(
        "archived_at IS NULL AND type_id <> '00000000-0000-0000-0000-000000000001'"
    ),
)
Index(
    "ix_cases_live_status_name",
    cases.c.org_id,
    cases.c.status_name,
    cases.c.created_at,
    cases.c.seq,
    sqlite_where=text("archived_at IS NULL AND status_name IS NOT NULL"),
    postgresql_where=text("archived_at IS NULL AND status_name IS NOT NULL"),
)
Index(
    "ix_cases_archived_created",
    cases.c.org_id,
    cases.c.created_at,
    cases.c.seq,
    sqlite_where=text("archived_at IS NOT NULL"),
    postgresql_where=text("archived_at IS NOT NULL"),
)
# Migration 0012: a project's open cases from the oldest, where the auto-close of
# inactive cases looks (storage/cases.py, ``idle``); closed cases, most of a project's in
# time, are not in it.
_OPEN = "archived_at IS NULL AND status <> 'CLOSED'"
Index(
    "ix_cases_open_project",
    cases.c.org_id,
    cases.c.project_id,
    cases.c.created_at,
    cases.c.seq,
    sqlite_where=text(_OPEN),
    postgresql_where=text(_OPEN),
)

# One row per value of each case's ``attributes`` map, lower-cased; kept in step
# with ``cases.attributes`` by triggers (created by migration 0002 only).
case_attributes = Table(
    "case_attributes",
    metadata,
    Column("case_seq", BigInteger, nullable=False),
    Column("org_id", Text, nullable=False),
    Column("key", Text, nullable=False),
    # Byte order on PostgreSQL too (SQLite's BINARY), so a prefix is an index range.
    Column("value", Text().with_variant(Text(collation="C"), "postgresql")),
)
Index(
    "ix_case_attributes_lookup",
    case_attributes.c.org_id,
    case_attributes.c.key,
    case_attributes.c.value,
    case_attributes.c.case_seq,
)
Index(
    "ix_case_attributes_case",
    case_attributes.c.case_seq,
    case_attributes.c.key,
    case_attributes.c.value,
)

case_events = Table(
    "case_events",
    metadata,
    Column("seq", RowId, primary_key=True, autoincrement=True),
    Column("case_id", Text, ForeignKey("cases.id"), nullable=False),
    Column("org_id", Text, nullable=False),
    Column("actor_id", Text),
    Column("at", BigInteger, nullable=False),
    Column("field", Text, nullable=False),
    Column("old_value", Text),
    Column("new_value", Text),
)
Index("ix_case_events_case", case_events.c.case_id, case_events.c.seq)

# Migration 0004: comments, watchers, links and the keys a moved case had.
case_comments = Table(
    "case_comments",
    metadata,
    # seq: the comment full-text index's rowid on SQLite.
    Column("seq", RowId, primary_key=True, autoincrement=True),
    Column("id", Text, nullable=False, unique=True),
    Column("org_id", Text, nullable=False),
    Column("case_id", Text, ForeignKey("cases.id"), nullable=False),
    Column("case_seq", BigInteger, nullable=False),
    Column("author_id", Text),
    # NULL once deleted: the text is gone, the cell stays with its deleted_at.
    Column("body", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("modified_at", BigInteger),
    Column("deleted_at", BigInteger),
)
Index("ix_case_comments_case", case_comments.c.case_id, case_comments.c.seq)

case_watchers = Table(
    "case_watchers",
    metadata,
    Column("case_id", Text, ForeignKey("cases.id"), primary_key=True),
    Column("user_id", Text, ForeignKey("users.id"), primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("case_seq", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
# ``watcher:me``: the seqs of the cases one user watches.
Index(
    "ix_case_watchers_user",
    case_watchers.c.org_id,
    case_watchers.c.user_id,
    case_watchers.c.case_seq,
)

case_links = Table(
    "case_links",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("parent_id", Text, ForeignKey("cases.id"), nullable=False),
    Column("child_id", Text, ForeignKey("cases.id"), nullable=False),
    Column("relationship", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", Text),
    UniqueConstraint("parent_id", "child_id", "relationship", name="uq_case_links_pair"),
)
Index("ix_case_links_child", case_links.c.child_id)

case_key_aliases = Table(
    "case_key_aliases",
    metadata,
    # A key a case had before it moved to another project: it keeps resolving.
    Column("org_id", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("case_id", Text, ForeignKey("cases.id"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Migration 0006: case types, custom attribute configs, and the values cases hold.
case_types = Table(
    "case_types",
    metadata,
    # An organisation's own types; the built-in ones live in code (entities.BUILTIN_CASE_TYPES).
    Column("id", Text, primary_key=True),
    Column("org_id", Text, ForeignKey("orgs.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("emoji", Text, nullable=False),
    Column("statuses", Text, nullable=False),  # JSON: [[id, name, group], ...] in order
    Column("created_at", BigInteger, nullable=False),
    Column("modified_at", BigInteger),
    Column("deleted_at", BigInteger),
)
Index("ix_case_types_org", case_types.c.org_id)

custom_attribute_configs = Table(
    "custom_attribute_configs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, ForeignKey("orgs.id"), nullable=False),
    Column("type_id", Text, nullable=False),  # a built-in type's id is no row
    Column("key", Text, nullable=False),
    Column("display_name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("is_multi", Integer, nullable=False),
    Column("options", Text, nullable=False),  # JSON list of the SELECT values
    Column("map_from", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("modified_at", BigInteger),
    UniqueConstraint("org_id", "type_id", "key", name="uq_custom_attribute_configs_key"),
)
Index(
    "ix_custom_attribute_configs_key",
    custom_attribute_configs.c.org_id,
    custom_attribute_configs.c.key,
)

# One row per value of each case's ``custom_attributes``, kept in step with
# ``cases.custom_attributes`` by triggers (created by migration 0006 only): text
# values lower-cased in ``value``, numbers in ``num``.
case_custom_values = Table(
    "case_custom_values",
    metadata,
    Column("case_seq", BigInteger, nullable=False),
    Column("org_id", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("value", Text().with_variant(Text(collation="C"), "postgresql")),
    Column("num", Float),
)
Index(
    "ix_case_custom_values_lookup",
    case_custom_values.c.org_id,
    case_custom_values.c.key,
    case_custom_values.c.value,
    case_custom_values.c.case_seq,
)
Index(
    "ix_case_custom_values_number",
    case_custom_values.c.org_id,
    case_custom_values.c.key,
    case_custom_values.c.num,
    case_custom_values.c.case_seq,
    sqlite_where=text("num IS NOT NULL"),
    postgresql_where=text("num IS NOT NULL"),
)
Index(
    "ix_case_custom_values_case",
    case_custom_values.c.case_seq,
    case_custom_values.c.key,
    case_custom_values.c.value,
)

# Migration 0007: each user's favourite projects, and the organisation's saved views.
project_favorites = Table(
    "project_favorites",
    metadata,
    Column("org_id", Text, ForeignKey("orgs.id"), nullable=False),
    Column("user_id", Text, ForeignKey("users.id"), primary_key=True),
    Column("project_id", Text, ForeignKey("projects.id"), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
)

case_views = Table(
    "case_views",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, ForeignKey("orgs.id"), nullable=False),
    Column("project_id", Text, ForeignKey("projects.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("query", Text, nullable=False),
    Column("np_rule_id", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", Text),
    Column("modified_at", BigInteger),
    Column("modified_by", Text),
)
Index(
    "ix_case_views_project", case_views.c.org_id, case_views.c.project_id, case_views.c.created_at
)

# Migration 0008: what happens after a change. Every command that writes a case's history
# also writes one outbox row, in its transaction (a transactional outbox): the delivery
# worker turns each into deliveries (and automation) and deletes it, in one transaction.
case_outbox = Table(
    "case_outbox",
    metadata,
    Column("seq", RowId, primary_key=True, autoincrement=True),
    Column("org_id", Text, nullable=False),
    Column("case_id", Text, nullable=False),
    Column("actor_id", Text),
    Column("at", BigInteger, nullable=False),
    # [[field, old, new], ...]: the command's history rows, as written.
    Column("changes", Text, nullable=False),
    # 0 for a person's change; n + 1 for a change an automation rule made at depth n.
    Column("depth", Integer, nullable=False, server_default=text("0")),
)

webhooks = Table(
    "webhooks",
    metadata,
    # Datadog's Webhooks integration: named HTTP destinations that rules point at.
    Column("org_id", Text, ForeignKey("orgs.id"), primary_key=True),
    Column("name", Text, primary_key=True),
    Column("url", Text, nullable=False),
    Column("payload", Text),
    Column("custom_headers", Text),
    Column("encode_as", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("modified_at", BigInteger),
)

deliveries = Table(
    "deliveries",
    metadata,
    # id: the idempotency id receivers dedupe on (X-Casebook-Delivery).
    Column("id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("project_id", Text, nullable=False),
    Column("case_id", Text, nullable=False),
    Column("rule_id", Text),
    Column("channel", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("body", Text, nullable=False),
    # pending, delivered, failed (given up)
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger),
    Column("last_error", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger),
)
Index(
    "ix_deliveries_due",
    deliveries.c.next_attempt_at,
    sqlite_where=text("state = 'pending'"),
    postgresql_where=text("state = 'pending'"),
)
Index(
    "ix_deliveries_project", deliveries.c.org_id, deliveries.c.project_id, deliveries.c.created_at
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("delivery_id", Text, ForeignKey("deliveries.id"), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("status", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
)

leases = Table(
    "leases",
    metadata,
    # One holder per name at a time (the delivery worker: one per deployment).
    Column("name", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

# Migration 0009: how each organisation reaches its Jira and its ServiceNow, one connection
# per system; ``secret`` is sealed with the server's secret (domain/sealed.py).
integration_connections = Table(
    "integration_connections",
    metadata,
    Column("org_id", Text, ForeignKey("orgs.id"), primary_key=True),
    Column("system", Text, primary_key=True),
    Column("url", Text, nullable=False),
    Column("instance", Text, nullable=False),
    Column("username", Text, nullable=False),
    Column("secret", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("modified_at", BigInteger, nullable=False),
)

# Migration 0010: a project's notification and automation rules (their triggers, recipients
# and action JSON), and the organisation's maintenance windows.
notification_rules = Table(
    "notification_rules",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, ForeignKey("orgs.id"), nullable=False),
    Column("project_id", Text, ForeignKey("projects.id"), nullable=False),
    Column("is_enabled", Integer, nullable=False),
    Column("query", Text, nullable=False),
    Column("triggers", Text, nullable=False),  # JSON: [{"type", "data": {...}}, ...]
    Column("recipients", Text, nullable=False),  # JSON: [{"type", "data": {...}}, ...]
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", Text),
    Column("modified_at", BigInteger),
    Column("modified_by", Text),
)
Index(
    "ix_notification_rules_project",
    notification_rules.c.org_id,
    notification_rules.c.project_id,
    notification_rules.c.created_at,
)

automation_rules = Table(
    "automation_rules",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, ForeignKey("orgs.id"), nullable=False),
    Column("project_id", Text, ForeignKey("projects.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("is_enabled", Integer, nullable=False),
    Column("trigger", Text, nullable=False),  # JSON: {"type", "data": {...}}
    Column("action", Text, nullable=False),  # JSON: {"type", "data": {...}}
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", Text),
    Column("modified_at", BigInteger),
    Column("modified_by", Text),
)
Index(
    "ix_automation_rules_project",
    automation_rules.c.org_id,
    automation_rules.c.project_id,
    automation_rules.c.created_at,
)

maintenance_windows = Table(
    "maintenance_windows",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, ForeignKey("orgs.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("query", Text, nullable=False),
    Column("start_at", BigInteger, nullable=False),
    Column("end_at", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", Text),
    Column("modified_at", BigInteger),
    Column("modified_by", Text),
)
# The windows not over yet, which the worker asks for at each event.
Index("ix_maintenance_windows_end", maintenance_windows.c.org_id, maintenance_windows.c.end_at)

# Migration 0013: the web UI's sign-in. A user's password (argon2id, ``domain/sessions.py``)
# and the server-side sessions, each known by a digest of its cookie's token only, so a
# copy of the database does not yield a usable session; signing out deletes the row.
user_passwords = Table(
    "user_passwords",
    metadata,
    Column("user_id", Text, ForeignKey("users.id"), primary_key=True),
    Column("org_id", Text, ForeignKey("orgs.id"), nullable=False),
    Column("hash", Text, nullable=False),
    Column("changed_at", BigInteger, nullable=False),
)

ui_sessions = Table(
    "ui_sessions",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("org_id", Text, ForeignKey("orgs.id"), nullable=False),
    Column("user_id", Text, ForeignKey("users.id"), nullable=False),
    Column("csrf", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("seen_at", BigInteger, nullable=False),
)
Index("ix_ui_sessions_user", ui_sessions.c.user_id)

# Migration 0011: how many cases each combination of the case's own facets holds, for
# exact counts that read a few thousand rows instead of every match (storage/tallies.py).
# Triggers on ``cases`` append a +1 and a -1 to the deltas for each change of a facet
# (never an update of a shared row: writers do not wait on each other); the delivery
# worker adds them to the folded rows, unique by ``bucket``. A count sums both. The
# columns are named and hold NULLs as ``cases`` does, so a search's compiled filter reads
# them unchanged; ``archived_at`` is 1 for an archived case. The value tallies hold the
# facets but the assignee, and ``source`` (``a`` a value of ``attributes``, ``c`` of
# ``custom_attributes``; ``A``, ``C``: "holds a value of ``key``"), ``key``, ``value``
# (lower-cased, "" for none or a number) and ``num``.
_FACETS: tuple[tuple[str, Any, bool], ...] = (
    ("org_id", Text, False),
    ("project_id", Text, False),
    ("type_id", Text, False),
    ("status", Text, False),
    ("status_name", Text, True),
    ("priority_rank", Integer, False),
    ("archived_at", Integer, True),
)
_VALUES: tuple[tuple[str, Any, bool], ...] = (
    ("source", Text, False),
    ("key", Text, False),
    ("value", Text, True),
    ("num", Float, True),
)


def _tallies(
    name: str, deltas: str, columns: tuple[tuple[str, Any, bool], ...], covering: tuple[str, ...]
) -> tuple[Table, Table]:
    """A kind of tallies: its folded rows, unique by ``bucket``, with an index that covers
    the counts (they are written only when folded), and its deltas."""

    def table(table_name: str, *extra: Column[Any]) -> Table:
        return Table(
            table_name,
            metadata,
            Column("id", RowId, primary_key=True, autoincrement=True),
            *extra,
            *(Column(column, kind, nullable=nullable) for column, kind, nullable in columns),
            Column("n", BigInteger, nullable=False),
        )

    folded = table(name, Column("bucket", Text, nullable=False))
    Index(f"ux_{name}_bucket", folded.c.bucket, unique=True)
    Index(covering[0], *(folded.c[column] for column in covering[1:]))
    return folded, table(deltas)


_COVERED = ("priority_rank", "project_id", "type_id", "status_name")
case_tallies, case_tally_deltas = _tallies(
    "case_tallies",
    "case_tally_deltas",
    (*_FACETS, ("assignee_id", Text, True)),
    ("ix_case_tallies_org", "org_id", "status", *_COVERED, "assignee_id", "archived_at", "n"),
)
case_value_tallies, case_value_deltas = _tallies(
    "case_value_tallies",
    "case_value_deltas",
    (*_FACETS, *_VALUES),
    (
        "ix_case_value_tallies_value",
        *("org_id", "key", "source", "value", "num", "status"),
        *(*_COVERED, "archived_at", "n"),
    ),
)
