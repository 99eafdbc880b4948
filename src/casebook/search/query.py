"""The search query tree: what a ``filter`` means, with no database in sight.

``casebook.search.parser.parse`` builds these frozen dataclasses from the text
of ``GET /api/v2/cases?filter=...``; ``casebook.storage.sql_search`` compiles
them to SQL. Values in the tree are already validated and normalised (enum
members, upper-case keys, lower-case ids, microsecond bounds), so the compiler
has no decisions left to make about what the user meant.

Every node is a plain value: two trees are equal when they mean the same thing
in the same shape, which is what the parser's table-driven tests compare.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeAlias

from casebook.core.entities import Priority, Status


@dataclass(frozen=True, slots=True)
class MatchAll:
    """Every case: an empty filter, or a bare ``*``."""


@dataclass(frozen=True, slots=True)
class And:
    """All of ``terms`` (two or more)."""

    terms: tuple[Query, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Any of ``terms`` (two or more)."""

    terms: tuple[Query, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """Cases that do not match ``term``."""

    term: Query


@dataclass(frozen=True, slots=True)
class Text:
    """Words in the title or description, or in one live comment, case-insensitively,
    as a phrase.

    ``text`` is as the user wrote it (unquoted); the database's full-text
    tokenizer splits it into words, which must appear in this order within
    one text: the title and description, or one comment that is not deleted.
    ``prefix`` makes the last word a prefix (``kube*``).
    """

    text: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class StatusIs:
    """``status:`` or ``status_group:``."""

    status: Status


@dataclass(frozen=True, slots=True)
class StatusNameIs:
    """``status_name:`` -- a status of a case type, by name.

    As parsed, ``group`` is None and ``name`` is as written; the domain resolves it
    against the organisation's case types into one such node per status of that
    name, with its ``group`` and ``name`` as cases store it ("" for the group's
    own name, such as "Open"). Only resolved nodes reach the database.
    """

    name: str
    group: Status | None = None


@dataclass(frozen=True, slots=True)
class PriorityIs:
    priority: Priority


@dataclass(frozen=True, slots=True)
class ProjectKeyIs:
    """``project:`` with a project key, upper-cased."""

    key: str


@dataclass(frozen=True, slots=True)
class ProjectIdIs:
    """``project_id:`` with a lower-case UUID."""

    project_id: str


@dataclass(frozen=True, slots=True)
class CaseKeyIs:
    """``key:`` with a case key such as ``SEC-12``, upper-cased."""

    key: str


@dataclass(frozen=True, slots=True)
class CaseTypeIs:
    """``type_id:`` or ``type:`` with a lower-case UUID; holds the type id."""

    type_id: str


@dataclass(frozen=True, slots=True)
class CaseTypeNameIs:
    """``type:`` with a name (``"Security Incident"``, ``standard``), which the domain
    resolves to ``CaseTypeIs`` nodes against the organisation's case types."""

    name: str


@dataclass(frozen=True, slots=True)
class CreationSourceIs:
    """``creation_source:``, upper-cased with spaces as underscores (``EVENT_MANAGEMENT``)."""

    source: str


@dataclass(frozen=True, slots=True)
class ArchivedIs:
    """``archived:true`` / ``archived:false``; ``None`` is ``archived:*`` (both).

    A query that mentions neither this nor ``archived_at`` gets ``archived:false``
    added (see ``with_default_scope``), as archived cases leave searches in Datadog.
    """

    archived: bool | None


class UserField(enum.Enum):
    """The case's user references that a filter can name."""

    ASSIGNEE = "assignee"
    CREATED_BY = "created_by"
    WATCHER = "watcher"  # any of the case's watchers


class UserMatch(enum.Enum):
    """How a user facet's value picks users."""

    ANY = "any"  # `*`: the field is set
    ME = "me"  # the caller
    ID = "id"  # value is a lower-case user UUID
    NAME = "name"  # value is a lower-cased email or handle


@dataclass(frozen=True, slots=True)
class UserIs:
    """``assignee:`` / ``assignee_id:`` / ``created_by:`` / ``watcher:``; ``value`` is
    empty for ANY and ME. For ``watcher`` ANY means "has a watcher"."""

    field: UserField
    match: UserMatch
    value: str = ""


class TimeField(enum.Enum):
    CREATED_AT = "created_at"
    MODIFIED_AT = "modified_at"
    CLOSED_AT = "closed_at"
    ARCHIVED_AT = "archived_at"
    DUE_DATE = "due_date"  # 00:00 UTC of the day the case is due


@dataclass(frozen=True, slots=True)
class TimeRange:
    """``start <= field < end`` in microseconds since the epoch (UTC).

    Either bound may be ``None`` (open); with both ``None`` it means "the field
    is set" (``closed_at:*``). A case whose field is unset never matches.
    """

    field: TimeField
    start: int | None
    end: int | None


class CountField(enum.Enum):
    COMMENT_COUNT = "comment_count"


@dataclass(frozen=True, slots=True)
class CountRange:
    """``start <= field < end`` over a whole-number field every case has.

    Either bound may be ``None`` (open); with both ``None`` every case matches.
    """

    field: CountField
    start: int | None
    end: int | None


@dataclass(frozen=True, slots=True)
class ResolvedReasonIs:
    """``resolved_reason:`` with one of ``RESOLVED_REASONS``; ``None`` is "has one" (``*``)."""

    reason: str | None


@dataclass(frozen=True, slots=True)
class AttributeIs:
    """A key of the case's ``attributes`` map (or, ``custom``, of its custom attributes)
    holds ``value`` (compared lower-cased).

    ``value`` is lower-case; ``None`` means the key holds any value
    (``service:*``). ``prefix`` matches values starting with ``value``. ``bare``:
    written without the ``attributes.`` prefix, so the domain makes it a custom
    attribute's term when an organisation's case type has that key.
    """

    key: str
    value: str | None
    prefix: bool = False
    custom: bool = False
    bare: bool = field(default=False, compare=False)
    pos: int = field(default=0, compare=False)  # where the term starts, for messages


@dataclass(frozen=True, slots=True)
class NumberRange:
    """A NUMBER custom attribute holds a value in the range (``severity_score:>7``,
    ``score:[1 TO 5]``, or ``score:7`` once resolved); a bound of None is open."""

    key: str
    low: float | None
    high: float | None
    low_inclusive: bool = True
    high_inclusive: bool = True
    pos: int = field(default=0, compare=False)


Query: TypeAlias = (
    MatchAll
    | And
    | Or
    | Not
    | Text
    | StatusIs
    | StatusNameIs
    | PriorityIs
    | ProjectKeyIs
    | ProjectIdIs
    | CaseKeyIs
    | CaseTypeIs
    | CaseTypeNameIs
    | CreationSourceIs
    | ArchivedIs
    | UserIs
    | TimeRange
    | CountRange
    | ResolvedReasonIs
    | AttributeIs
    | NumberRange
)
"""Any node of a search query tree."""


def iter_nodes(query: Query) -> Iterator[Query]:
    """Every node of the tree, ``query`` first (depth first, last branch first)."""
    stack: list[Query] = [query]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, And | Or):
            stack.extend(node.terms)
        elif isinstance(node, Not):
            stack.append(node.term)


def mentions_archived(query: Query) -> bool:
    """Whether any term of ``query`` is about archiving (``archived:`` or ``archived_at:``)."""
    return any(
        isinstance(node, ArchivedIs)
        or (isinstance(node, TimeRange) and node.field is TimeField.ARCHIVED_AT)
        for node in iter_nodes(query)
    )


def with_default_scope(query: Query) -> Query:
    """``query`` restricted to non-archived cases unless it says anything about archiving."""
    if mentions_archived(query):
        return query
    not_archived = ArchivedIs(False)
    if isinstance(query, MatchAll):
        return not_archived
    if isinstance(query, And):
        return And((*query.terms, not_archived))
    return And((query, not_archived))
