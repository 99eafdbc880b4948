"""Compile a search query tree (``casebook.search.query``) to SQL, and plan the
statements the store runs for one search.

``compile_filter`` gives a boolean condition for the store's search statement::

    SELECT ... FROM cases c
    WHERE c.org_id = ? [AND c.project_id NOT IN (deleted projects)] AND (<condition>)
    ORDER BY ...

``SearchPlanner`` writes the whole statements: a page of ``c.seq`` in sort
order, and a count of the matches bounded by ``COUNT_LIMIT`` (see
``docs/benchmarks-search.md``). It may look things up first, in the search's
own transaction: the ids behind ``assignee:ann@example.com`` and ``project:SEC``
(so the condition is an equality an index can serve in sort order), and, on
SQLite, how many cases each full-text and attribute term matches (SQLite's
planner has no statistics for them; PostgreSQL's has, and decides alone).

Security invariant: **the compiled condition only narrows.** It is ANDed after
the caller's organisation scope, so it can remove rows but never add one, and
every subquery it contains that reads another table with an ``org_id``
(``users``, ``projects``, ``case_attributes``, ``case_comments``,
``case_watchers``) is itself restricted to ``org_id`` -- or, for
``case_attributes`` probes, to the rows of the case at hand -- so no value is
resolved against another organisation's rows. Nothing
the user typed reaches the SQL text: the text is assembled only from the fixed
fragments in this module, and every value (words, keys, ids, times, full-text
query strings, looked-up ids) is a bound ``?`` parameter. The fragments contain
no ``?`` or ``%`` other than placeholders, because the PostgreSQL store rewrites
``?`` to ``%s`` and doubles every ``%``.

Every leaf is two-valued (true or false, never NULL), so ``NOT`` means
"everything else": ``-assignee:<id>`` includes unassigned cases and
``-closed_at:>now-1d`` includes open ones. That also lets negations move to
the leaves (De Morgan), which keeps the SQL shallow enough for SQLite's parser.

Full text: SQLite reads the FTS5 table ``cases_fts`` (rowid = ``cases.seq``),
with each term passed as one quoted FTS5 string; PostgreSQL matches the
generated ``cases.search_vector`` column with ``phraseto_tsquery`` (its own
parser splits the words, as it did when indexing) or, for ``kube*``, a
``to_tsquery`` string whose only lexeme is quoted and marked ``:*``. Neither
uses ``LIKE`` scans. Comments are read the same way from their own index
(``case_comments_fts``, rowid = ``case_comments.seq``; ``case_comments.search_vector``,
migration 0005), which holds live comments only: a text term is the union of
the cases whose title and description match and the cases with a matching
comment, so a phrase matches within one text, and each side stays an index
read (never a test of every case against the other). Attributes read
``case_attributes`` (one lower-cased row per value, kept by triggers); a
prefix is an index range there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard

import msgspec

from casebook.core.entities import BUILTIN_CASE_TYPES, STANDARD_CASE_TYPE_ID, Priority, Status
from casebook.core.errors import InvalidQueryError
from casebook.search.parser import parse_number
from casebook.search.query import (
    And,
    ArchivedIs,
    AttributeIs,
    CaseKeyIs,
    CaseTypeIs,
    CaseTypeNameIs,
    CountField,
    CountRange,
    CreationSourceIs,
    MatchAll,
    Not,
    NumberRange,
    Or,
    PriorityIs,
    ProjectIdIs,
    ProjectKeyIs,
    Query,
    ResolvedReasonIs,
    StatusIs,
    StatusNameIs,
    Text,
    TimeField,
    TimeRange,
    UserField,
    UserIs,
    UserMatch,
    iter_nodes,
    mentions_archived,
    with_default_scope,
)
from casebook.storage import tallies
from casebook.storage.executor import Dialect

_COUNT_DRIVE_BUDGET = 8
"""A SQLite count driven by a large set reads at most this many times its bound of the
set's rows before it starts from the other terms instead (see ``SearchPlanner.count``)."""

_COMMENTS_PER_COUNTED = 4
"""A PostgreSQL count first reads up to this many matching comments per case it must
count (cases have 1.5 comments on average in the benchmark's data)."""

COUNT_LIMIT = 1_000
"""Matches counted beyond the requested page: ``meta.total_cases`` is exact up to
``max(COUNT_LIMIT, offset + page size)`` matches and ``that + 1`` ("more") past it."""

MAX_ROWS = 2**62
"""More rows than any table holds, and less than SQL's largest integer (2**63 - 1):
offsets and count bounds stop here, so ``page[number]=10**20`` is an empty page."""

Fetch = Callable[[str, Sequence[object]], Sequence[Sequence[Any]]]
"""Runs one query in the search's transaction and returns its rows."""

_TRUE = "1 = 1"
_FALSE = "0 = 1"

_USER_COLUMNS = {UserField.ASSIGNEE: "c.assignee_id", UserField.CREATED_BY: "c.created_by"}
_TIME_COLUMNS = {
    TimeField.CREATED_AT: "c.created_at",
    TimeField.MODIFIED_AT: "c.modified_at",
    TimeField.CLOSED_AT: "c.closed_at",
    TimeField.ARCHIVED_AT: "c.archived_at",
    TimeField.DUE_DATE: "c.due_date",
}
_COUNT_COLUMNS = {CountField.COMMENT_COUNT: "c.comment_count"}

# SQLite full text: the cases whose title or description match, and the cases
# with a live comment that matches ({bound}: nothing, or a window on the rowids).
_FTS_SEQS = "SELECT rowid AS seq FROM cases_fts WHERE cases_fts MATCH ?"
_FTS_PROBE = "EXISTS (SELECT 1 FROM cases_fts WHERE cases_fts MATCH ? AND rowid = c.seq)"
_COMMENT_SEQS = (
    "SELECT m.case_seq AS seq FROM case_comments m WHERE m.seq IN"
    " (SELECT rowid FROM case_comments_fts WHERE case_comments_fts MATCH ?{bound})"
    " AND m.org_id = ? AND m.deleted_at IS NULL"
)
# Probing: the case's comments (ix_case_comments_case) against the rowids of the
# matching comments, read once per statement: an FTS5 probe per comment would
# cost more than the doclist. "+" keeps SQLite from looking each rowid of that
# list up in the case's index entries instead.
_COMMENT_PROBE = (
    "EXISTS (SELECT 1 FROM case_comments m"
    " WHERE m.case_id = c.id AND m.org_id = ? AND m.deleted_at IS NULL AND +m.seq IN"
    " (SELECT rowid FROM case_comments_fts WHERE case_comments_fts MATCH ?))"
)
# An estimate of a text term's cases: FTS5 doclists only, no row read. It counts
# comments rather than cases, of every organisation: never less than the truth.
_TEXT_ESTIMATE = (
    "SELECT rowid FROM cases_fts WHERE cases_fts MATCH ?"
    " UNION ALL SELECT rowid FROM case_comments_fts WHERE case_comments_fts MATCH ?"
)
# PostgreSQL full text: both GIN indexes, as one set of case seqs. {limit}: nothing,
# or " LIMIT ?" -- at most that many matching comments, a subset of the term's
# cases, which a count may use as long as the subset already reaches its bound.
_PG_TEXT_SEQS = (
    "c.seq IN (SELECT s.seq FROM cases s WHERE s.org_id = ? AND s.search_vector @@ {q}"
    " UNION ALL (SELECT m.case_seq FROM case_comments m"
    " WHERE m.org_id = ? AND m.deleted_at IS NULL AND m.search_vector @@ {q}{limit}))"
)
# OFFSET 0 keeps PostgreSQL from making this a hashed SubPlan, which would
# read every matching comment first: a common word is asked about per case.
_PG_COMMENT_PROBE = (
    "EXISTS (SELECT 1 FROM case_comments m WHERE m.case_id = c.id AND m.org_id = ?"
    " AND m.deleted_at IS NULL AND m.search_vector @@ {q} OFFSET 0)"
)

_DELETED_PROJECTS = (
    "c.project_id NOT IN"
    " (SELECT p.id FROM projects p WHERE p.org_id = ? AND p.deleted_at IS NOT NULL)"
)

# How a full-text or attribute term is tested on SQLite (see SearchPlanner).
Mode = Literal["list", "probe"]
SeqSetLeaf = Text | AttributeIs | NumberRange | UserIs
"""A term SQLite can read as a set of case seqs: text, an attribute or custom attribute
value, and ``watcher:`` with ``me`` or a user id (the other user terms are columns)."""
ValueLeaf = AttributeIs | NumberRange
"""A term on the rows of ``case_attributes`` or ``case_custom_values`` (alias ``a``)."""


def _is_seq_set(query: Query) -> TypeGuard[SeqSetLeaf]:
    if isinstance(query, UserIs):
        return query.field is UserField.WATCHER and query.match in (UserMatch.ME, UserMatch.ID)
    return isinstance(query, Text | AttributeIs | NumberRange)


def _values_table(query: ValueLeaf) -> str:
    custom = isinstance(query, NumberRange) or query.custom
    return "case_custom_values" if custom else "case_attributes"


# --- names the organisation defines: resolved before planning -----------------------

_NOTHING: Query = Not(MatchAll())
_CUSTOM_KEYS = "SELECT key, type FROM custom_attribute_configs WHERE org_id = ? AND key IN ({})"
_ORG_TYPES = "SELECT id, name, statuses FROM case_types WHERE org_id = ? AND deleted_at IS NULL"
_statuses = msgspec.json.Decoder(list[tuple[str, str, str]])


def _fold(name: str) -> str:
    """A type or status name as a search compares it: letter case and ``_`` for space aside."""
    return " ".join(name.replace("_", " ").split()).casefold()


def _any_of(terms: Sequence[Query]) -> Query:
    unique = tuple(dict.fromkeys(terms))
    if not unique:
        return _NOTHING
    return unique[0] if len(unique) == 1 else Or(unique)


def resolve(query: Query, org_id: str, fetch: Fetch | None) -> Query:
    """``query`` with the names the organisation defines made concrete, or InvalidQueryError.

    ``type:<name>`` becomes the ids of the types of that name, ``status_name:`` the
    (group, stored name) of each status of that name, and a key that is no facet a
    term on the custom attribute of that key when a case type has one (``region:x``,
    ``severity_score:>7``), else on the case's ``attributes`` map. ``fetch`` None:
    an organisation with only the built-in types and no custom attributes.
    """
    nodes = list(iter_nodes(query))
    keys = sorted(
        {n.key for n in nodes if isinstance(n, NumberRange | AttributeIs) and _is_bare(n)}
    )
    custom = custom_kinds(org_id, keys, fetch) if keys and fetch is not None else {}
    types: list[tuple[str, str, list[tuple[str, str, str]]]] = [
        (t.id, t.name, [(s.id, s.name, s.group.value) for s in t.statuses])
        for t in BUILTIN_CASE_TYPES.values()
    ]
    if fetch is not None and any(isinstance(n, CaseTypeNameIs | StatusNameIs) for n in nodes):
        types += [(r[0], r[1], _statuses.decode(r[2])) for r in fetch(_ORG_TYPES, [org_id])]
    return _Resolver(custom, types).rewrite(query)


def custom_kinds(org_id: str, keys: Sequence[str], fetch: Fetch) -> dict[str, set[str]]:
    """The types (TEXT, NUMBER...) of the organisation's custom attribute configs of each
    of ``keys`` that has one (a key may have configs of several types, one per case type)."""
    custom: dict[str, set[str]] = {}
    for key, kind in fetch(_CUSTOM_KEYS.format(", ".join("?" * len(keys))), [org_id, *keys]):
        custom.setdefault(key, set()).add(kind)
    return custom


def _is_bare(node: NumberRange | AttributeIs) -> bool:
    return isinstance(node, NumberRange) or node.bare


@dataclass(slots=True)
class _Resolver:
    custom: dict[str, set[str]]  # key -> the types of its configs
    types: list[tuple[str, str, list[tuple[str, str, str]]]]  # (id, name, statuses)

    def rewrite(self, query: Query) -> Query:
        if isinstance(query, And):
            return And(tuple(self.rewrite(t) for t in query.terms))
        if isinstance(query, Or):
            return Or(tuple(self.rewrite(t) for t in query.terms))
        if isinstance(query, Not):
            return Not(self.rewrite(query.term))
        if isinstance(query, CaseTypeNameIs):
            name = _fold(query.name)
            return _any_of([CaseTypeIs(i) for i, n, _ in self.types if _fold(n) == name])
        if isinstance(query, StatusNameIs) and query.group is None:
            name = _fold(query.name)
            found = []
            for _, _, statuses in self.types:
                for _, status_name, group_value in statuses:
                    if _fold(status_name) == name:
                        group = Status(group_value)
                        stored = "" if status_name == group.display_name else status_name
                        found.append(StatusNameIs(stored, group))
            return _any_of(found)
        if isinstance(query, NumberRange):
            if "NUMBER" not in self.custom.get(query.key, ()):
                raise InvalidQueryError(
                    f'"{query.key}" at {query.pos} takes no ranges or comparisons: only'
                    " NUMBER custom attributes do",
                    position=query.pos,
                    term=query.key,
                )
            return query
        if isinstance(query, AttributeIs) and query.bare and query.key in self.custom:
            return self.custom_term(query, self.custom[query.key])
        return query

    @staticmethod
    def custom_term(query: AttributeIs, kinds: set[str]) -> Query:
        if query.value is None:
            return AttributeIs(query.key, None, custom=True)
        terms: list[Query] = []
        if "NUMBER" in kinds and not query.prefix:
            number = parse_number(query.value)
            if number is not None:
                terms.append(NumberRange(query.key, number, number))
            elif kinds == {"NUMBER"}:
                raise InvalidQueryError(
                    f'invalid {query.key} "{query.value}" at {query.pos}; {query.key} is a'
                    " NUMBER custom attribute",
                    position=query.pos,
                    term=query.value,
                )
        if kinds - {"NUMBER"} or query.prefix:
            terms.append(AttributeIs(query.key, query.value, query.prefix, custom=True))
        return _any_of(terms)


def _watched(query: UserIs, actor_user_id: str) -> str:
    return actor_user_id if query.match is UserMatch.ME else query.value


def compile_filter(
    query: Query, *, dialect: Dialect, org_id: str, actor_user_id: str
) -> tuple[str, list[object]]:
    """A boolean SQL expression over ``cases c``, and its parameters.

    Applies the default scope first: unless the query mentions archiving,
    archived cases are left out. ``org_id`` scopes the lookups of users
    (``assignee:``, ``created_by:``), projects (``project:``) and attributes;
    ``actor_user_id`` is ``me``. Needs no database: lookups are subqueries.
    """
    query = resolve(with_default_scope(query), org_id, None)
    fragment = _Compiler(dialect, org_id, actor_user_id).compile(query)
    return fragment.sql, fragment.params


@dataclass(frozen=True, slots=True)
class _Fragment:
    sql: str
    params: list[object]
    top: str  # the loosest operator outside parentheses: "AND", "OR" or "" (none)


def _fts_match(query: Text) -> str:
    # One FTS5 string: every character inside is literal but '"', doubled. The
    # tokenizer splits it into a phrase; a trailing * makes the last word a prefix.
    return '"' + query.text.replace('"', '""') + '"' + ("*" if query.prefix else "")


def _prefix_end(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (code point order)."""
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:
        last = 0xE000
    return None if last > 0x10FFFF else prefix[:-1] + chr(last)


def _attribute_values(query: ValueLeaf) -> tuple[str, list[object]]:
    """Conditions on ``case_attributes a`` (``case_custom_values a``) beyond its case: the
    key, and the value."""
    if isinstance(query, NumberRange):
        parts: list[str] = ["a.key = ?"]
        params: list[object] = [query.key]
        if query.low is not None:
            parts.append("a.num >= ?" if query.low_inclusive else "a.num > ?")
            params.append(query.low)
        if query.high is not None:
            parts.append("a.num <= ?" if query.high_inclusive else "a.num < ?")
            params.append(query.high)
        if len(parts) == 1:
            parts.append("a.num IS NOT NULL")
        return " AND ".join(parts), params
    if query.value is None:
        return "a.key = ?", [query.key]
    if not query.prefix:
        return "a.key = ? AND a.value = ?", [query.key, query.value]
    end = _prefix_end(query.value)
    if end is not None:
        # Byte order (BINARY, COLLATE "C") is code point order: an index range.
        return "a.key = ? AND a.value >= ? AND a.value < ?", [query.key, query.value, end]
    return (
        "a.key = ? AND a.value >= ? AND substr(a.value, 1, CAST(? AS INTEGER)) = ?",
        [query.key, query.value, len(query.value), query.value],
    )


def _text_only_positive(query: Query) -> bool:
    """Whether ``query`` has text terms, none of them under a NOT (so more text matches
    can only mean more matching cases)."""
    found = False
    stack: list[tuple[Query, bool]] = [(query, False)]
    while stack:
        node, negated = stack.pop()
        if isinstance(node, Text):
            if negated:
                return False
            found = True
        elif isinstance(node, And | Or):
            stack.extend((term, negated) for term in node.terms)
        elif isinstance(node, Not):
            stack.append((node.term, not negated))
    return found


def _seq_set(query: SeqSetLeaf, org_id: str, actor_user_id: str) -> tuple[str, list[object]]:
    """``SELECT`` of the ``seq`` of the cases the term matches, maybe more than once
    (SQLite; attributes and watchers on both)."""
    if isinstance(query, UserIs):
        return (
            "SELECT w.case_seq AS seq FROM case_watchers w WHERE w.org_id = ? AND w.user_id = ?",
            [org_id, _watched(query, actor_user_id)],
        )
    if isinstance(query, Text):
        match = _fts_match(query)
        comments = _COMMENT_SEQS.format(bound="")
        return f"{_FTS_SEQS} UNION ALL {comments}", [match, match, org_id]
    values, params = _attribute_values(query)
    return (
        f"SELECT a.case_seq AS seq FROM {_values_table(query)} a WHERE a.org_id = ? AND {values}",
        [org_id, *params],
    )


class _Compiler:
    def __init__(
        self,
        dialect: Dialect,
        org_id: str,
        actor_user_id: str,
        *,
        fetch: Fetch | None = None,
        priority_rank: Mapping[Priority, int] | None = None,
        modes: Mapping[Query, Mode] | None = None,
        window: _Window | None = None,
        titles_only: bool = False,
        comment_limit: int | None = None,
    ) -> None:
        """``fetch`` turns user and project lookups into parameters;
        ``priority_rank`` compiles ``priority:`` to the indexed rank column;
        ``modes`` says how SQLite tests each full-text or attribute term;
        ``window`` restricts full-text sets to the window's rowids (SQLite)."""
        if dialect not in ("sqlite", "postgres"):
            raise ValueError(f"unknown SQL dialect {dialect!r}")
        self.dialect = dialect
        self.org_id = org_id
        self.actor_user_id = actor_user_id
        self.fetch = fetch
        self.priority_rank = priority_rank
        self.modes = modes or {}
        self.window = window
        self.titles_only = titles_only
        self.comment_limit = comment_limit

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
            terms = list(query.terms)
            parts = []
            if isinstance(query, Or) and self.dialect == "postgres":
                # team:(a OR b): one EXISTS over both, which PostgreSQL can make
                # a semi-join when it is a top-level term (see ``attribute``).
                for table in ("case_attributes", "case_custom_values"):
                    same = [
                        t
                        for t in terms
                        if isinstance(t, AttributeIs | NumberRange) and _values_table(t) == table
                    ]
                    if len(same) > 1:
                        terms = [t for t in terms if t not in same]
                        sql, leaf_params = self.attributes_exist(same)
                        parts.append(_Fragment(f"NOT ({sql})" if negated else sql, leaf_params, ""))
            parts += [self.compile(term, negated) for term in terms]
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
        if isinstance(query, StatusNameIs):
            assert query.group is not None, "resolve() first"
            if not query.name:  # the group's own name ("Open"), stored as NULL
                return "(c.status = ? AND c.status_name IS NULL)", [query.group.value]
            # The partial index ix_cases_live_status_name (migration 0006) holds these.
            return (
                "(c.status = ? AND c.status_name IS NOT NULL AND c.status_name = ?)",
                [query.group.value, query.name],
            )
        if isinstance(query, PriorityIs):
            if self.priority_rank is not None:
                return "c.priority_rank = ?", [self.priority_rank[query.priority]]
            return "c.priority = ?", [query.priority.value]
        if isinstance(query, ProjectKeyIs):
            return self.project_key(query)
        if isinstance(query, ProjectIdIs):
            return "c.project_id = ?", [query.project_id]
        if isinstance(query, CaseKeyIs):
            return "c.key = ?", [query.key]
        if isinstance(query, CaseTypeIs):
            if query.type_id == STANDARD_CASE_TYPE_ID:
                return "c.type_id = ?", [query.type_id]
            # Only other types' cases are in the partial index ix_cases_live_type
            # (migration 0006); the constant lets both planners see it applies.
            return f"(c.type_id <> '{STANDARD_CASE_TYPE_ID}' AND c.type_id = ?)", [query.type_id]
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
        if isinstance(query, CountRange):
            return self.count_range(query)
        if isinstance(query, ResolvedReasonIs):
            if query.reason is None:
                return "c.resolved_reason IS NOT NULL", []
            return "(c.resolved_reason IS NOT NULL AND c.resolved_reason = ?)", [query.reason]
        if isinstance(query, AttributeIs | NumberRange):
            return self.attribute(query)
        if isinstance(query, CaseTypeNameIs):
            raise TypeError("resolve() first")
        raise TypeError(f"not a query node: {query!r}")

    def text(self, query: Text) -> tuple[str, list[object]]:
        """The title and description, or a live comment of the case, match ``query``.

        Each side reads its own full-text index, and the term is the union of
        the two sets of cases (never a test of every case against the other
        side), so a rare word stays an index read on both databases.
        """
        org = self.org_id
        if self.dialect == "sqlite":
            match = _fts_match(query)
            if self.window is not None:
                # The statement reads only the window's cases: so do the sets,
                # the comments' by their own window (see SearchPlanner._window).
                op = ">=" if self.window.condition == "c.seq >= ?" else "<="
                comments = _COMMENT_SEQS.format(bound=f" AND rowid {op} ?")
                return (
                    f"+c.seq IN ({_FTS_SEQS} AND rowid {op} ? UNION ALL {comments})",
                    [match, self.window.bound, match, self.window.comment_bound, org],
                )
            mode = self.modes.get(query)
            if mode == "probe":
                return f"({_FTS_PROBE} OR {_COMMENT_PROBE})", [match, org, match]
            # "+" keeps SQLite from driving the search from this set (the planner chose not to).
            column = "+c.seq" if mode == "list" else "c.seq"
            seqs, params = _seq_set(query, org, self.actor_user_id)
            return f"{column} IN ({seqs})", params
        tsquery, param = self.tsquery(query)
        if self.titles_only:
            return f"c.search_vector @@ {tsquery}", [param]
        if self.window is not None:
            # Read in sort order within the window, never through the GIN
            # index: IS TRUE is not an operator an index can serve. Each case
            # read asks for its own comments (ix_case_comments_case).
            comments = _PG_COMMENT_PROBE.format(q=tsquery)
            return (
                f"((c.search_vector @@ {tsquery}) IS TRUE OR {comments})",
                [param, org, param],
            )
        both: list[object] = [org, param, org, param]
        if self.comment_limit is None:
            return _PG_TEXT_SEQS.format(q=tsquery, limit=""), both
        return _PG_TEXT_SEQS.format(q=tsquery, limit=" LIMIT ?"), [*both, self.comment_limit]

    @staticmethod
    def tsquery(query: Text) -> tuple[str, object]:
        """A tsquery expression with one parameter, and the parameter."""
        if query.prefix:
            # One quoted tsquery lexeme: '' and \\ are its only escapes.
            lexeme = query.text.replace("\\", "\\\\").replace("'", "''")
            return "to_tsquery('simple', ?)", f"'{lexeme}':*"
        return "phraseto_tsquery('simple', ?)", query.text

    def attributes_exist(self, queries: Sequence[ValueLeaf]) -> tuple[str, list[object]]:
        """PostgreSQL: the case holds any of these attribute values.

        A correlated EXISTS, restricted to the organisation too: PostgreSQL
        makes it a semi-join when it is a top-level term, and can then start
        from either side (the case's rows by ``case_seq``, or the value's rows
        by ``org_id, key, value``) or, under OR or NOT, probe or hash it.
        """
        conditions = [_attribute_values(query) for query in queries]
        params: list[object] = [self.org_id]
        for _, values in conditions:
            params += values
        test = " OR ".join(f"({sql})" for sql, _ in conditions)
        return (
            f"EXISTS (SELECT 1 FROM {_values_table(queries[0])} a"
            f" WHERE a.case_seq = c.seq AND a.org_id = ? AND ({test}))"
        ), params

    def attribute(self, query: ValueLeaf) -> tuple[str, list[object]]:
        if self.dialect == "postgres":
            return self.attributes_exist([query])
        mode = self.modes.get(query)
        if mode == "probe" or self.window is not None:
            values, params = _attribute_values(query)
            table = _values_table(query)
            return (
                f"EXISTS (SELECT 1 FROM {table} a WHERE a.case_seq = c.seq AND {values})",
                params,
            )
        seqs, params = _seq_set(query, self.org_id, self.actor_user_id)
        column = "+c.seq" if mode == "list" else "c.seq"
        return f"{column} IN ({seqs})", params

    def project_key(self, query: ProjectKeyIs) -> tuple[str, list[object]]:
        lookup = "SELECT p.id FROM projects p WHERE p.org_id = ? AND p.key = ?"
        params: list[object] = [self.org_id, query.key]
        if self.fetch is None:
            return f"c.project_id IN ({lookup})", params
        return self.one_of("c.project_id", [row[0] for row in self.fetch(lookup, params)])

    def user(self, query: UserIs) -> tuple[str, list[object]]:
        if query.field is UserField.WATCHER:
            return self.watcher(query)
        column = _USER_COLUMNS[query.field]
        if query.match is UserMatch.ANY:
            return f"{column} IS NOT NULL", []
        if query.match is UserMatch.ME:
            return f"({column} IS NOT NULL AND {column} = ?)", [self.actor_user_id]
        if query.match is UserMatch.ID:
            return f"({column} IS NOT NULL AND {column} = ?)", [query.value]
        # Emails are stored lower-case; handles may not be.
        lookup = (
            "SELECT u.id FROM users u WHERE u.org_id = ? AND (u.email = ? OR lower(u.handle) = ?)"
        )
        params: list[object] = [self.org_id, query.value, query.value]
        if self.fetch is None:
            return f"({column} IS NOT NULL AND {column} IN ({lookup}))", params
        return self.one_of(column, [row[0] for row in self.fetch(lookup, params)])

    def watcher(self, query: UserIs) -> tuple[str, list[object]]:
        """The case's watchers include the user: one range of ``ix_case_watchers_user``."""
        if query.match is UserMatch.ANY:
            return (
                "EXISTS (SELECT 1 FROM case_watchers w WHERE w.case_id = c.id AND w.org_id = ?)",
                [self.org_id],
            )
        watched = "c.seq IN (SELECT w.case_seq FROM case_watchers w WHERE w.org_id = ? AND {})"
        if query.match in (UserMatch.ME, UserMatch.ID):
            user_id = _watched(query, self.actor_user_id)
            mode = self.modes.get(query) if self.dialect == "sqlite" else None
            if mode == "probe" or (self.window is not None and self.dialect == "sqlite"):
                # The primary key (case_id, user_id): one lookup per case read.
                return (
                    "EXISTS (SELECT 1 FROM case_watchers w"
                    " WHERE w.case_id = c.id AND w.user_id = ? AND w.org_id = ?)",
                    [user_id, self.org_id],
                )
            if mode == "list":
                watched = "+" + watched
            return watched.format("w.user_id = ?"), [self.org_id, user_id]
        lookup = (
            "SELECT u.id FROM users u WHERE u.org_id = ? AND (u.email = ? OR lower(u.handle) = ?)"
        )
        params: list[object] = [self.org_id, query.value, query.value]
        if self.fetch is None:
            return watched.format(f"w.user_id IN ({lookup})"), [self.org_id, *params]
        ids = [row[0] for row in self.fetch(lookup, params)]
        if not ids:
            return _FALSE, []
        return watched.format(f"w.user_id IN ({', '.join('?' * len(ids))})"), [self.org_id, *ids]

    @staticmethod
    def one_of(column: str, ids: list[object]) -> tuple[str, list[object]]:
        """``column`` is one of ``ids`` (an equality when there is one: index order)."""
        if not ids:
            return _FALSE, []
        if len(ids) == 1:
            return f"({column} IS NOT NULL AND {column} = ?)", ids
        return f"({column} IS NOT NULL AND {column} IN ({', '.join('?' * len(ids))}))", ids

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

    @staticmethod
    def count_range(query: CountRange) -> tuple[str, list[object]]:
        column = _COUNT_COLUMNS[query.field]
        parts: list[str] = []
        params: list[object] = []
        if query.start is not None:
            parts.append(f"{column} >= ?")
            params.append(query.start)
        if query.end is not None:
            parts.append(f"{column} < ?")
            params.append(query.end)
        if not parts:
            return _TRUE, []
        return "(" + " AND ".join(parts) + ")", params


# --- planning the statements --------------------------------------------------------

# SQLite: estimates are exact counts up to these caps (a few milliseconds at
# most); "capped" means "at least this many", a common term.
TEXT_ESTIMATE_CAP = 5_000
ATTRIBUTE_ESTIMATE_CAP = 5_000
# Relative costs per row (bench/search.py on SQLite): looking a case up by seq
# and sorting it, against reading it from an index in sort order.
_DRIVE_ROW = 1.0
_SCAN_ROW = 0.2
# A window holds this many times the newest cases the estimates say a page
# needs, and grows this many times when the page comes back short.
USE_WINDOWS = True
POSTGRES_WINDOW_FACTOR = 100
_WINDOW_SLACK = 4.0
_WINDOW_GROWTH = 16
_COMMENT_WINDOW_SLACK = 2.0


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    params: list[object]


@dataclass(frozen=True, slots=True)
class _Window:
    """Only the newest (``c.seq >= ?``) or oldest (``c.seq <= ?``) cases.

    On SQLite, full-text terms also read only the newest (oldest) comments,
    from ``comment_bound`` on (up to it): as many of the comments as the window
    holds of the cases, twice over, since a case's comments come after it.
    """

    condition: str
    bound: int
    comment_bound: int = 0


@dataclass(frozen=True, slots=True)
class _Drive:
    """A set of case seqs the statement starts from, standing for some top-level terms."""

    terms: tuple[Query, ...]
    sql: str
    params: list[object]
    repeats: bool  # the set may hold a case twice


@dataclass(frozen=True, slots=True)
class _Choice:
    drive: _Drive | None
    modes: dict[Query, Mode]
    window_rows: int | None  # a window of this many newest (or oldest) seqs
    drive_capped: bool = False  # the drive's set is at least its estimate's cap


@dataclass
class SearchPlanner:
    """The statements of one search, planned and run in the search's transaction.

    ``page`` returns the ``seq`` of the cases of one page in ``order_by`` order;
    ``count`` counts the matches, no further than a bound. ``created_order``
    is "desc" or "asc" when the order is by creation time (else None).

    On SQLite the planner also chooses, from estimates, how the search reads
    full-text and attribute terms, which SQLite's own planner cannot weigh:

    * **drive**: start from the term's set of cases (the FTS5 rowids of a rare
      word -- all top-level words in one FTS5 query -- or the cases holding a
      rare attribute value) and look each case up: cheap when the set is
      small, and for counting, which stops after ``bound`` matches;
    * **window**: for a common word, sorted by creation time: read only the
      newest (or oldest) cases, where the page's matches are bound to be as
      cases are written in creation order; the page is kept only if no case
      outside the window could sort into it (else a bigger window, or none);
    * **list**: read cases in sort order from an index and test each against
      the term's set, built once (``+c.seq IN (...)``);
    * **probe**: as list, asking FTS5 or the attribute index about each case.

    PostgreSQL plans from its own statistics (``ANALYZE``); only the lookups apply.
    """

    query: Query
    dialect: Dialect
    org_id: str
    actor_user_id: str
    fetch: Fetch
    priority_rank: Mapping[Priority, int]
    exclude_deleted_projects: bool
    order_by: str
    created_order: Literal["desc", "asc"] | None = None
    _estimates: dict[str, int] = field(default_factory=dict)
    _seq_range: tuple[int, int] | None = None
    _comment_seq_range: tuple[int, int] | None = None
    _lookups: dict[tuple[str, tuple[object, ...]], Sequence[Sequence[Any]]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        self._live_only = not mentions_archived(self.query)
        self.query = resolve(with_default_scope(self.query), self.org_id, self._lookup)

    # --- pages ----------------------------------------------------------------------
    def page_statement(self, limit: int, offset: int) -> Statement:
        """The first statement ``page`` runs (for EXPLAIN)."""
        choice = self._choose(offset + limit, counting=False)
        return self._page_statement(choice, limit, offset, self._window(choice))

    def page(self, limit: int, offset: int) -> list[int]:
        """The ``seq`` of the cases of one page, in order."""
        if offset + limit > MAX_ROWS:
            return []
        choice = self._choose(offset + limit, counting=False)
        window = self._window(choice)
        while window is not None:
            statement = self._page_statement(choice, limit, offset, window)
            rows = self.fetch(statement.sql, statement.params)
            if len(rows) == limit and not self._outside_window_sorts_first(window, rows[-1][1]):
                return [int(row[0]) for row in rows]
            window = self._grow(window)
        statement = self._page_statement(choice, limit, offset, None)
        return [int(row[0]) for row in self.fetch(statement.sql, statement.params)]

    def _page_statement(
        self, choice: _Choice, limit: int, offset: int, window: _Window | None
    ) -> Statement:
        source, where, params = self._where(choice, window)
        distinct = "DISTINCT " if choice.drive is not None and choice.drive.repeats else ""
        return Statement(
            f"SELECT {distinct}c.seq, c.created_at FROM {source} WHERE {where}"
            f" ORDER BY {self.order_by} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )

    def _window(self, choice: _Choice) -> _Window | None:
        if choice.window_rows is None:
            return None
        return self._window_of(choice.window_rows)

    def _window_of(self, rows: int) -> _Window:
        low, high = self._seqs()
        comment_low = comment_high = comment_rows = 0
        if self.dialect == "sqlite":
            comment_low, comment_high = self._comment_seqs()
            span = comment_high - comment_low + 1
            comment_rows = math.ceil(rows * span / self._seq_span() * _COMMENT_WINDOW_SLACK)
        if self.created_order == "desc":
            return _Window("c.seq >= ?", high - rows + 1, comment_high - comment_rows + 1)
        return _Window("c.seq <= ?", low + rows - 1, comment_low + comment_rows - 1)

    def _grow(self, window: _Window) -> _Window | None:
        if self.dialect == "postgres":
            return None  # its planner does well enough with a word that rare
        low, high = self._seqs()
        if window.condition == "c.seq >= ?":
            rows = (high - window.bound + 1) * _WINDOW_GROWTH
        else:
            rows = (window.bound - low + 1) * _WINDOW_GROWTH
        return self._window_of(rows) if rows < high - low else None

    def _outside_window_sorts_first(self, window: _Window, last_created_at: object) -> bool:
        """Whether a case outside the window was created after (before, ascending)
        the page's last case: it would sort into the page. Any case counts, even
        one the filter would drop, so this reads one index range and no more.

        On SQLite, when full-text terms read the comments' window, also whether
        a case created after (before) the page's last case, or with it, has a
        comment outside that window: it may match by that comment. These are
        the cases the page statement read, and an index probe each."""
        newest = window.condition == "c.seq >= ?"
        check = "c.created_at > ? AND c.seq < ?" if newest else "c.created_at < ? AND c.seq > ?"
        live = " AND c.archived_at IS NULL" if self._live_only else ""
        # The index of live cases holds it all.
        found = self.fetch(
            f"SELECT 1 FROM cases c WHERE c.org_id = ? AND {check}{live} LIMIT 1",
            [self.org_id, last_created_at, window.bound],
        )
        if found or self.dialect != "sqlite" or not self._has_text():
            return bool(found)
        check = "c.created_at >= ? AND m.seq < ?" if newest else "c.created_at <= ? AND m.seq > ?"
        found = self.fetch(
            "SELECT 1 FROM cases c, case_comments m WHERE c.org_id = ?"
            f" AND m.case_id = c.id AND {check}{live} LIMIT 1",
            [self.org_id, last_created_at, window.comment_bound],
        )
        return bool(found)

    def _has_text(self) -> bool:
        return any(isinstance(node, Text) for node in iter_nodes(self.query))

    # --- counts ---------------------------------------------------------------------
    def count_statement(
        self,
        bound: int,
        *,
        titles_only: bool = False,
        comment_limit: int | None = None,
        choice: _Choice | None = None,
        drive_limit: int | None = None,
    ) -> Statement:
        """How many cases match, counting no further than ``bound``. PostgreSQL only:
        ``titles_only``, with text terms matching titles and descriptions only;
        ``comment_limit``, with each text term reading at most that many comments.
        SQLite: ``choice`` instead of the planner's, ``drive_limit`` reads only that many
        rows of its drive's set."""
        if choice is None:
            choice = self._choose(bound, counting=True)
        source, where, params = self._where(
            choice,
            None,
            titles_only=titles_only,
            comment_limit=comment_limit,
            drive_limit=drive_limit,
        )
        select = "DISTINCT c.seq" if choice.drive is not None and choice.drive.repeats else "1"
        return Statement(
            f"SELECT count(*) FROM (SELECT {select} FROM {source} WHERE {where} LIMIT ?) AS t",
            [*params, bound],
        )

    def count(self, bound: int) -> int:
        if self.dialect == "postgres" and _text_only_positive(self.query):
            # Comments only add matches where no text term is negated, so a count over a
            # subset of each term's cases that reaches the bound is the whole count's:
            # first titles and descriptions alone, then with some of the matching
            # comments. Only when both fall short are all matching comments read (each
            # a heap read: hundreds of thousands for a common word at 1M cases).
            for subset in (
                self.count_statement(bound, titles_only=True),
                self.count_statement(bound, comment_limit=bound * _COMMENTS_PER_COUNTED),
            ):
                found = int(self.fetch(subset.sql, subset.params)[0][0])
                if found >= bound:
                    return found
        if self.dialect == "sqlite":
            choice = self._choose(bound, counting=True)
            if choice.drive is not None and choice.drive_capped and self._others(choice.drive):
                # A large set drives the count, with other terms to test: when its first
                # rows hold too few matches (gold cases, few of them P1), those other
                # terms' indexes are the better start, each row tested against the set,
                # built once.
                first = self.count_statement(
                    bound, choice=choice, drive_limit=bound * _COUNT_DRIVE_BUDGET
                )
                found = int(self.fetch(first.sql, first.params)[0][0])
                if found >= bound:
                    return found
                choice = self._choose(bound, counting=True, may_drive=False)
            statement = self.count_statement(bound, choice=choice)
            return int(self.fetch(statement.sql, statement.params)[0][0])
        statement = self.count_statement(bound)
        return int(self.fetch(statement.sql, statement.params)[0][0])

    # --- every match: exact counts, groups and reports (storage/sql_counts.py) ---------
    def matches(self) -> tuple[str, list[object], str, list[object]]:
        """Every case the query matches, once, for statements that read all matches -- no
        bound, no order: (FROM clause naming the cases ``c``, its parameters, WHERE
        clause, its parameters). A set that drives the search (SQLite) is made unique
        first (``SELECT DISTINCT seq``: integers, in seq order).
        """
        choice = self._choose(MAX_ROWS, counting=True)
        if choice.drive is not None and choice.drive_capped and self._others(choice.drive):
            # As a count past its bound (``count``): a large set is tested against, built
            # once, while the other terms' indexes drive.
            choice = self._choose(MAX_ROWS, counting=True, may_drive=False)
        source, where, params = self._where(choice, None, unique_drive=True)
        drive = choice.drive
        split = 0 if drive is None else len(drive.params)
        return source, params[:split], where, params[split:]

    def tallied(
        self, *, values_of: tuple[str, str] | None = None
    ) -> tuple[str, list[object], str, list[object]] | None:
        """As ``matches``, over the case tallies (``storage/tallies.py``: each row ``c``
        counts ``c.n`` cases) when every term of the query is a facet they hold (status,
        status name, priority, project, type, assignee, archived); else None.
        ``values_of`` (source, key): over the value tallies of that key instead (each
        row counts the cases holding one value, or any: ``A`` ``C``), which hold no
        assignee."""
        if not all(_is_tallied(node) for node in iter_nodes(self.query)):
            return None
        scope = ["c.org_id = ?"]
        params: list[object] = [self.org_id]
        relation = tallies.TALLIES
        if values_of is not None:
            if any(isinstance(node, UserIs) for node in iter_nodes(self.query)):
                return None
            relation = tallies.VALUE_TALLIES
            scope += ["c.source = ?", "c.key = ?"]
            params += list(values_of)
        where, where_params = self._tallied_where(scope, params, self.query)
        return relation, [], where, where_params

    def _tallied_where(
        self, scope: list[str], params: list[object], query: Query | None
    ) -> tuple[str, list[object]]:
        """``scope`` and the tallies' conditions, deleted projects left out, then ``query``
        compiled over ``c`` (the tallies' columns are named as the cases')."""
        scope, params = list(scope), list(params)
        if self.exclude_deleted_projects:
            scope.append(_DELETED_PROJECTS)
            params.append(self.org_id)
        if query is not None:
            compiler = _Compiler(
                self.dialect,
                self.org_id,
                self.actor_user_id,
                fetch=self._lookup,
                priority_rank=self.priority_rank,
            )
            condition = compiler.compile(query)
            scope.append(f"({condition.sql})")
            params += condition.params
        return " AND ".join(scope), params

    def value_tallied(self) -> tuple[str, list[object], str, list[object]] | None:
        """As ``tallied``, over the value tallies of one attribute or custom attribute term
        (``service:payments``, ``region:*``; no prefix, no number range) and facets the
        tallies hold but the assignee, all of them required (a conjunction); else None.
        Each row ``c`` counts ``c.n`` cases holding the value."""
        conjuncts = _conjuncts(self.query)
        values = [term for term in conjuncts if isinstance(term, AttributeIs)]
        if len(values) != 1 or values[0].prefix:
            return None
        term = values[0]
        others = [t for t in conjuncts if t is not term]
        if not all(
            _is_tallied(node) and not isinstance(node, UserIs)
            for other in others
            for node in iter_nodes(other)
        ):
            return None
        source = "c" if term.custom else "a"
        if term.value is None:
            source = source.upper()  # "holds a value of the key"
        scope = ["c.org_id = ?", "c.key = ?", "c.source = ?"]
        params: list[object] = [self.org_id, term.key, source]
        if term.value is not None:
            scope.append("c.value = ?")
            params.append(term.value)
        rest = None if not others else And(tuple(others)) if len(others) > 1 else others[0]
        where, where_params = self._tallied_where(scope, params, rest)
        return tallies.VALUE_TALLIES, [], where, where_params

    def _others(self, drive: _Drive) -> bool:
        """Whether terms other than the drive's (and the default scope) remain to be tested."""
        return any(
            term not in drive.terms and not isinstance(term, ArchivedIs)
            for term in _conjuncts(self.query)
        )

    # --- the condition --------------------------------------------------------------
    def _where(
        self,
        choice: _Choice,
        window: _Window | None,
        *,
        titles_only: bool = False,
        comment_limit: int | None = None,
        drive_limit: int | None = None,
        unique_drive: bool = False,
    ) -> tuple[str, str, list[object]]:
        """(FROM clause, WHERE clause, parameters of both, in order). ``unique_drive``:
        the driving set without repeats (``drive_limit`` must then be None)."""
        conjuncts = _conjuncts(self.query)
        drive = choice.drive
        rest = [term for term in conjuncts if drive is None or term not in drive.terms]
        compiler = _Compiler(
            self.dialect,
            self.org_id,
            self.actor_user_id,
            fetch=self._lookup,
            priority_rank=self.priority_rank,
            modes=choice.modes,
            window=window,
            titles_only=titles_only,
            comment_limit=comment_limit,
        )
        scope = ["c.org_id = ?"]
        params: list[object] = [self.org_id]
        if self.exclude_deleted_projects:
            scope.append(_DELETED_PROJECTS)
            params.append(self.org_id)
        if window is not None:
            scope.append(window.condition)
            params.append(window.bound)
        source = "cases c"
        if drive is not None:
            limited = "" if drive_limit is None else " LIMIT ?"
            seqs = f"{drive.sql}{limited}"
            if unique_drive:
                assert drive_limit is None
                seqs = f"SELECT DISTINCT s.seq FROM ({seqs}) AS s"
            source = f"({seqs}) AS d CROSS JOIN cases c"
            scope.insert(0, "c.seq = d.seq")
            budget = [] if drive_limit is None else [drive_limit]
            params = [*drive.params, *budget, *params]
        if rest:
            condition = compiler.compile(And(tuple(rest)) if len(rest) > 1 else rest[0])
            scope.append(f"({condition.sql})")
            params += condition.params
        return source, " AND ".join(scope), params

    # --- SQLite's choices ------------------------------------------------------------
    def _choose(self, rows: int, counting: bool, *, may_drive: bool = True) -> _Choice:
        """Which set drives the statement (none unless ``may_drive``), and how the other
        terms are tested."""
        leaves = _all_seq_set_leaves(self.query)
        if not leaves:
            return _Choice(None, {}, None)
        if self.dialect == "postgres":
            # PostgreSQL's statistics say how common one word is, but not a
            # phrase (it multiplies its words' shares): "rate limit exceeded"
            # looks rare and is read whole from the GIN index and sorted. Try
            # the newest (oldest) cases first, where a common one is found.
            window_rows = rows * POSTGRES_WINDOW_FACTOR
            texts = any(isinstance(leaf, Text) for leaf in leaves)
            if not (texts and not counting and self.created_order and USE_WINDOWS):
                return _Choice(None, {}, None)
            return _Choice(None, {}, window_rows if window_rows < self._seq_span() else None)
        total = self._seq_span()
        candidates = self._drive_candidates() if may_drive else []
        drive = None
        drive_capped = False
        if candidates:
            # Of sets as large, a text set: the other terms are then tested
            # by index lookups, cheaper than FTS5 probes (tens of microseconds).
            size, capped, best = min(
                candidates,
                key=lambda c: (c[0], not all(isinstance(x, Text) for x in _drive_leaves(c[2]))),
            )
            # Counting stops after `rows` matches, wherever it starts; a page in
            # sort order must otherwise read about rows * total / size cases.
            if counting or (not capped and size * size * _DRIVE_ROW <= rows * total * _SCAN_ROW):
                drive, drive_capped = best, capped
        common_text = [
            leaf
            for leaf in leaves
            if isinstance(leaf, Text)
            and (drive is None or leaf not in _drive_leaves(drive))
            and self._estimate_leaf(leaf) >= TEXT_ESTIMATE_CAP
        ]
        if not counting and drive is None and common_text and self.created_order and USE_WINDOWS:
            window_rows = max(
                rows, math.ceil(rows * total / max(TEXT_ESTIMATE_CAP, 1) * _WINDOW_SLACK)
            )
            if window_rows < total:
                return _Choice(None, {}, window_rows)
        modes: dict[Query, Mode] = {}
        for leaf in leaves:
            capped = self._estimate_leaf(leaf) >= (
                TEXT_ESTIMATE_CAP if isinstance(leaf, Text) else ATTRIBUTE_ESTIMATE_CAP
            )
            # A prefix probe merges the doclists of every word with that prefix,
            # for every case read: build the set once instead. So does a recount
            # (``may_drive`` False), which reads another term's index range whole.
            prefix = isinstance(leaf, Text) and leaf.prefix
            modes[leaf] = "probe" if capped and not prefix and may_drive else "list"
        return _Choice(drive, modes, None, drive_capped)

    def _drive_candidates(self) -> list[tuple[int, bool, _Drive]]:
        """(estimated size, whether capped, set) for each way to start the search.

        Each top-level term on its own: two words are no longer one FTS5 query
        (``a AND b``), since one may be in the title and the other in a comment.
        """
        conjuncts = _conjuncts(self.query)
        found = []
        for term in conjuncts:
            leaves = _seq_set_leaves(term)
            if leaves is None:
                continue
            parts = [_seq_set(leaf, self.org_id, self.actor_user_id) for leaf in leaves]
            sizes = [self._estimate_leaf(leaf) for leaf in leaves]
            capped = any(
                size >= (TEXT_ESTIMATE_CAP if isinstance(leaf, Text) else ATTRIBUTE_ESTIMATE_CAP)
                for leaf, size in zip(leaves, sizes, strict=True)
            )
            # UNION ALL streams (UNION would build the whole set first); the
            # statement drops the repeats with DISTINCT.
            drive = _Drive(
                (term,),
                " UNION ALL ".join(sql for sql, _ in parts),
                [param for _, part in parts for param in part],
                repeats=True,
            )
            found.append((sum(sizes), capped, drive))
        return found

    def _lookup(self, sql: str, params: Sequence[object]) -> Sequence[Sequence[Any]]:
        """A user or project lookup, run once per search though every statement needs it."""
        key = (sql, tuple(params))
        rows = self._lookups.get(key)
        if rows is None:
            rows = self._lookups[key] = self.fetch(sql, params)
        return rows

    def _seqs(self) -> tuple[int, int]:
        """The lowest and highest case seq: the ends of the cases table."""
        if self._seq_range is None:
            # Two subqueries: each is one step to an end of the rowid b-tree
            # (a single SELECT of both aggregates would read the whole table).
            row = self.fetch(
                "SELECT (SELECT min(seq) FROM cases), (SELECT max(seq) FROM cases)", []
            )
            self._seq_range = (int(row[0][0] or 0), int(row[0][1] or 0))
        return self._seq_range

    def _seq_span(self) -> int:
        low, high = self._seqs()
        return max(high - low + 1, 1)

    def _comment_seqs(self) -> tuple[int, int]:
        """The lowest and highest comment seq, as ``_seqs`` (0, 0 with no comments)."""
        if self._comment_seq_range is None:
            row = self.fetch(
                "SELECT (SELECT min(seq) FROM case_comments), (SELECT max(seq) FROM case_comments)",
                [],
            )
            self._comment_seq_range = (int(row[0][0] or 0), int(row[0][1] or 0))
        return self._comment_seq_range

    def _estimate_leaf(self, leaf: SeqSetLeaf) -> int:
        if isinstance(leaf, Text):
            match = _fts_match(leaf)
            return self._estimate(_TEXT_ESTIMATE, [match, match], TEXT_ESTIMATE_CAP)
        sql, params = _seq_set(leaf, self.org_id, self.actor_user_id)
        return self._estimate(sql, params, ATTRIBUTE_ESTIMATE_CAP)

    def _estimate(self, sql: str, params: list[object], cap: int) -> int:
        key = repr((sql, params, cap))
        if key not in self._estimates:
            rows = self.fetch(f"SELECT count(*) FROM ({sql} LIMIT ?) AS t", [*params, cap])
            self._estimates[key] = int(rows[0][0])
        return self._estimates[key]


_TALLIED = (
    And,
    Or,
    Not,
    MatchAll,
    StatusIs,
    StatusNameIs,
    PriorityIs,
    ProjectKeyIs,
    ProjectIdIs,
    CaseTypeIs,
    ArchivedIs,
)


def _is_tallied(node: Query) -> bool:
    """Whether the case tallies hold what ``node`` asks about (its terms apart)."""
    if isinstance(node, UserIs):
        return node.field is UserField.ASSIGNEE
    return isinstance(node, _TALLIED)


def _conjuncts(query: Query) -> tuple[Query, ...]:
    return query.terms if isinstance(query, And) else (query,)


def _drive_leaves(drive: _Drive) -> list[SeqSetLeaf]:
    return [leaf for term in drive.terms for leaf in _seq_set_leaves(term) or []]


def _seq_set_leaves(query: Query) -> list[SeqSetLeaf] | None:
    """The terms of ``query`` if it is a full-text or attribute term or an OR of them."""
    if _is_seq_set(query):
        return [query]
    if isinstance(query, Or):
        leaves: list[SeqSetLeaf] = []
        for term in query.terms:
            inner = _seq_set_leaves(term)
            if inner is None:
                return None
            leaves += inner
        return leaves
    return None


def _all_seq_set_leaves(query: Query) -> list[SeqSetLeaf]:
    return [node for node in iter_nodes(query) if _is_seq_set(node)]


def bounded_total(offset: int, limit: int) -> int:
    """How far a count goes for a full page at ``offset``: the bound of ``count``."""
    return min(max(COUNT_LIMIT, offset + limit) + 1, MAX_ROWS)
