"""Comment text in free-text search: a full-text index over ``case_comments.body``.

SQLite: an external-content FTS5 table ``case_comments_fts`` (rowid =
``case_comments.seq``, the tokenizer and prefix indexes of ``cases_fts``), kept
in step by triggers on insert, update of ``body`` or ``deleted_at``, and delete,
so every writer (the domain, an import, a test) keeps it right. PostgreSQL: a
generated ``case_comments.search_vector`` column (the ``'simple'`` configuration
of ``cases.search_vector``) and a GIN index over it.

Only a live comment's text is indexed: the indexed value is ``body`` while
``deleted_at`` is NULL, and nothing once the comment is deleted, whatever a
writer leaves in ``body``. Every comment row has its FTS5 entry (empty when
deleted), so the triggers' ``'delete'`` always removes exactly what was added.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_LIVE_BODY = "CASE WHEN {row}.deleted_at IS NULL THEN {row}.body END"

_SQLITE = [
    """CREATE VIRTUAL TABLE case_comments_fts USING fts5(
        body, content='case_comments', content_rowid='seq',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3')""",
    f"""CREATE TRIGGER case_comments_fts_ai AFTER INSERT ON case_comments BEGIN
        INSERT INTO case_comments_fts(rowid, body)
        VALUES (new.seq, {_LIVE_BODY.format(row="new")});
    END""",
    f"""CREATE TRIGGER case_comments_fts_ad AFTER DELETE ON case_comments BEGIN
        INSERT INTO case_comments_fts(case_comments_fts, rowid, body)
        VALUES ('delete', old.seq, {_LIVE_BODY.format(row="old")});
    END""",
    f"""CREATE TRIGGER case_comments_fts_au AFTER UPDATE OF body, deleted_at ON case_comments
    BEGIN
        INSERT INTO case_comments_fts(case_comments_fts, rowid, body)
        VALUES ('delete', old.seq, {_LIVE_BODY.format(row="old")});
        INSERT INTO case_comments_fts(rowid, body)
        VALUES (new.seq, {_LIVE_BODY.format(row="new")});
    END""",
    "INSERT INTO case_comments_fts(rowid, body)"
    f" SELECT c.seq, {_LIVE_BODY.format(row='c')} FROM case_comments c",
]

_POSTGRES = [
    """ALTER TABLE case_comments ADD COLUMN search_vector tsvector GENERATED ALWAYS AS
        (to_tsvector('simple', CASE WHEN deleted_at IS NULL THEN coalesce(body, '')
                                    ELSE '' END)) STORED""",
    "CREATE INDEX ix_case_comments_search_vector ON case_comments USING gin (search_vector)",
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES if postgres else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_case_comments_search_vector")
        op.execute("ALTER TABLE case_comments DROP COLUMN search_vector")
        return
    for trigger in ("case_comments_fts_ai", "case_comments_fts_ad", "case_comments_fts_au"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute("DROP TABLE case_comments_fts")
