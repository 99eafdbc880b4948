"""Case search: the ``filter`` language, parsed into a query tree without touching the database.

``parse`` turns text into a tree (``casebook.search.query``);
``casebook.storage.sql_search.compile_filter`` turns a tree into SQL.
"""

from casebook.search.parser import MAX_DEPTH, MAX_QUERY_LENGTH, MAX_TERMS, parse
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
    mentions_archived,
    with_default_scope,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_QUERY_LENGTH",
    "MAX_TERMS",
    "And",
    "ArchivedIs",
    "AttributeIs",
    "CaseKeyIs",
    "CaseTypeIs",
    "CreationSourceIs",
    "MatchAll",
    "Not",
    "Or",
    "PriorityIs",
    "ProjectIdIs",
    "ProjectKeyIs",
    "Query",
    "StatusIs",
    "Text",
    "TimeField",
    "TimeRange",
    "UserField",
    "UserIs",
    "UserMatch",
    "mentions_archived",
    "parse",
    "with_default_scope",
]
