"""Compile a search query tree (``casebook.search.query``) to a SQL condition.

The condition goes into the store's search statement::

    SELECT ... FROM cases c JOIN projects p ON p.id = c.project_id AND p.deleted_at IS NULL
    WHERE c.org_id = ? AND (<condition>) ORDER BY ...

Security invariant: **the compiled condition only narrows.** It is ANDed after
the caller's organisation scope, so it can remove rows but never add one, and
every subquery it contains that reads another table with an ``org_id``
(``users``) is itself restricted to ``org_id``, so no value is resolved
against another organisation's rows. Nothing the user typed reaches the SQL
text: the text is assembled only from the fixed fragments in this module, and
every value (words, keys, ids, times, full-text query strings) is a bound
``?`` parameter. The fragments contain no ``?`` or ``%`` other than
placeholders, because the PostgreSQL store rewrites ``?`` to ``%s`` and
doubles every ``%``.

Every leaf is two-valued (true or false, never NULL), so ``NOT`` means
"everything else": ``-assignee:<id>`` includes unassigned cases and
``-closed_at:>now-1d`` includes open ones. That also lets negations move to
the leaves (De Morgan), which keeps the SQL shallow enough for SQLite's parser.

Full text: SQLite reads the FTS5 table ``cases_fts`` (rowid = ``cases.seq``),
with each term passed as one quoted FTS5 string; PostgreSQL matches the
generated ``cases.search_vector`` column with ``phraseto_tsquery`` (its own
parser splits the words, as it did when indexing) or, for ``kube*``, a
``to_tsquery`` string whose only lexeme is quoted and marked ``:*``. Neither
uses ``LIKE`` scans.
"""

from __future__ import annotations

from dataclasses import dataclass

from casebook.search.query import (
    And,
    ArchivedIs,
    AttributeIs,
    CaseKeyIs,
    CaseTypeIs,
    CreationSourceIs,
    MatchAll,
    Not,
    Or,
    PriorityIs,
    ProjectIdIs,
    ProjectKeyIs,
    Query,
    StatusIs,
    Text,
    TimeField,
    TimeRange,
    UserField,
    UserIs,
    UserMatch,
    with_default_scope,
)
from casebook.storage.base import Dialect

_TRUE = "1 = 1"

_USER_COLUMNS = {UserField.ASSIGNEE: "c.assignee_id", UserField.CREATED_BY: "c.created_by"}
_TIME_COLUMNS = {
    TimeField.CREATED_AT: "c.created_at",
    TimeField.MODIFIED_AT: "c.modified_at",
    TimeField.CLOSED_AT: "c.closed_at",
    TimeField.ARCHIVED_AT: "c.archived_at",
}

# The values of one attribute key, whether stored as a list (the norm) or a
# single scalar, as rows of a one-column table `e`; a missing key gives no rows.
_SQLITE_ATTRIBUTE_VALUES = (
    "json_each(c.attributes) AS a, "
    "json_each(CASE a.type WHEN 'array' THEN a.value ELSE json_array(a.value) END) AS e"
)
_SQLITE_ATTRIBUTE_KEY = "a.key = ?"
_SQLITE_ATTRIBUTE_VALUE = "e.value"
_POSTGRES_ATTRIBUTE_VALUES = (
    "(SELECT c.attributes::jsonb -> CAST(? AS TEXT) AS v) AS a, "
    "jsonb_array_elements_text(CASE WHEN a.v IS NULL THEN '[]'::jsonb "
    "WHEN jsonb_typeof(a.v) = 'array' THEN a.v ELSE jsonb_build_array(a.v) END) AS e(x)"
)
_POSTGRES_ATTRIBUTE_VALUE = "e.x"


def compile_filter(
    query: Query, *, dialect: Dialect, org_id: str, actor_user_id: str
) -> tuple[str, list[object]]:
    """A boolean SQL expression over ``cases c`` and ``projects p``, and its parameters.

    Applies the default scope first: unless the query mentions archiving,
    archived cases are left out. ``org_id`` scopes the user lookups of
    ``assignee:`` and ``created_by:``; ``actor_user_id`` is ``me``.
    """
    fragment = _Compiler(dialect, org_id, actor_user_id).compile(with_default_scope(query))
    return fragment.sql, fragment.params


@dataclass(frozen=True, slots=True)
class _Fragment:
    sql: str
    params: list[object]
    top: str  # the loosest operator outside parentheses: "AND", "OR" or "" (none)


class _Compiler:
    def __init__(self, dialect: Dialect, org_id: str, actor_user_id: str) -> None:
        if dialect not in ("sqlite", "postgres"):
            raise ValueError(f"unknown SQL dialect {dialect!r}")
        self.dialect = dialect
        self.org_id = org_id
        self.actor_user_id = actor_user_id

    def compile(self, query: Query, negated: bool = False) -> _Fragment:
        """SQL for ``query``, or for its negation, with NOT pushed down to the leaves.

        SQLite's parser has a fixed stack (about a dozen levels of
        ``NOT (a OR (b AND ...))``), so the SQL is kept shallow: negation moves
        inward by De Morgan's laws, which is exact because every leaf is
        two-valued, and parentheses appear only around an OR inside an AND.
        Recursion is bounded by the parser's MAX_DEPTH.
        """
        while isinstance(query, Not):
            query, negated = query.term, not negated
        if isinstance(query, And | Or):
            conjunction = isinstance(query, And) != negated
            parts = [self.compile(term, negated) for term in query.terms]
            params = [param for part in parts for param in part.params]
            if len(parts) == 1:
                return parts[0]
            if conjunction:
                texts = [f"({part.sql})" if part.top == "OR" else part.sql for part in parts]
                return _Fragment(" AND ".join(texts), params, "AND")
            return _Fragment(" OR ".join(part.sql for part in parts), params, "OR")
        sql, params = self.leaf(query)
        return _Fragment(f"NOT ({sql})" if negated else sql, params, "")

    def leaf(self, query: Query) -> tuple[str, list[object]]:
        """A term as SQL that needs no parentheses around it (it has its own)."""
        if isinstance(query, MatchAll):
            return _TRUE, []
        if isinstance(query, Text):
            return self.text(query)
        if isinstance(query, StatusIs):
            return "c.status = ?", [query.status.value]
        if isinstance(query, PriorityIs):
            return "c.priority = ?", [query.priority.value]
        if isinstance(query, ProjectKeyIs):
            return "p.key = ?", [query.key]
        if isinstance(query, ProjectIdIs):
            return "c.project_id = ?", [query.project_id]
        if isinstance(query, CaseKeyIs):
            return "c.key = ?", [query.key]
        if isinstance(query, CaseTypeIs):
            return "c.type_id = ?", [query.type_id]
        if isinstance(query, CreationSourceIs):
            return "upper(c.creation_source) = ?", [query.source]
        if isinstance(query, ArchivedIs):
            if query.archived is None:
                return _TRUE, []
            return ("c.archived_at IS NOT NULL" if query.archived else "c.archived_at IS NULL"), []
        if isinstance(query, UserIs):
            return self.user(query)
        if isinstance(query, TimeRange):
            return self.time_range(query)
        if isinstance(query, AttributeIs):
            return self.attribute(query)
        raise TypeError(f"not a query node: {query!r}")

    def text(self, query: Text) -> tuple[str, list[object]]:
        if self.dialect == "sqlite":
            # One FTS5 string: every character inside is literal but '"', doubled.
            # The tokenizer splits it into a phrase; a trailing * makes the
            # last word a prefix.
            match = '"' + query.text.replace('"', '""') + '"' + ("*" if query.prefix else "")
            return "c.seq IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH ?)", [match]
        if query.prefix:
            # One quoted tsquery lexeme: '' and \\ are its only escapes.
            lexeme = query.text.replace("\\", "\\\\").replace("'", "''")
            return "c.search_vector @@ to_tsquery('simple', ?)", [f"'{lexeme}':*"]
        return "c.search_vector @@ phraseto_tsquery('simple', ?)", [query.text]

    def user(self, query: UserIs) -> tuple[str, list[object]]:
        column = _USER_COLUMNS[query.field]
        if query.match is UserMatch.ANY:
            return f"{column} IS NOT NULL", []
        if query.match is UserMatch.ME:
            return f"({column} IS NOT NULL AND {column} = ?)", [self.actor_user_id]
        if query.match is UserMatch.ID:
            return f"({column} IS NOT NULL AND {column} = ?)", [query.value]
        # Emails are stored lower-case; handles may not be.
        return (
            f"({column} IS NOT NULL AND {column} IN (SELECT u.id FROM users u "
            "WHERE u.org_id = ? AND (u.email = ? OR lower(u.handle) = ?)))"
        ), [self.org_id, query.value, query.value]

    def time_range(self, query: TimeRange) -> tuple[str, list[object]]:
        column = _TIME_COLUMNS[query.field]
        parts = [f"{column} IS NOT NULL"]
        params: list[object] = []
        if query.start is not None:
            parts.append(f"{column} >= ?")
            params.append(query.start)
        if query.end is not None:
            parts.append(f"{column} < ?")
            params.append(query.end)
        return "(" + " AND ".join(parts) + ")", params

    def attribute(self, query: AttributeIs) -> tuple[str, list[object]]:
        params: list[object] = [query.key]
        if self.dialect == "sqlite":
            source, value = _SQLITE_ATTRIBUTE_VALUES, _SQLITE_ATTRIBUTE_VALUE
            where = [_SQLITE_ATTRIBUTE_KEY]
        else:
            source, value = _POSTGRES_ATTRIBUTE_VALUES, _POSTGRES_ATTRIBUTE_VALUE
            where = []
        if query.value is not None:
            if query.prefix:
                # substr rather than LIKE: nothing in the value is a pattern character.
                where.append(f"substr(lower({value}), 1, CAST(? AS INTEGER)) = ?")
                params += [len(query.value), query.value]
            else:
                where.append(f"lower({value}) = ?")
                params.append(query.value)
        condition = " WHERE " + " AND ".join(where) if where else ""
        return f"EXISTS (SELECT 1 FROM {source}{condition})", params
