"""Shapes of working a case: comments and timeline cells, watchers, links.

A timeline cell is a comment (``type: COMMENT``, ``cell_content.message``) or,
as a documented extension, an activity cell (``type: ACTIVITY``,
``cell_content`` with the ``field`` that changed and its ``old_value`` and
``new_value``, each left out when there was none). A deleted comment keeps its
cell with ``deleted_at`` and no message. A change casebook's automation made has no
``author`` (the spec's authors are users) and, as an extension, ``automation``: the
automation rule that made it, or the auto-close of inactive cases.
"""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Literal

import msgspec

from casebook.core.entities import (
    COMMENT_ADDED,
    AutomationRef,
    CaseLink,
    TimelineEntry,
    UserRef,
    Watcher,
)
from casebook.domain import limits
from casebook.http.schemas.cases import IncludedUser, included_users
from casebook.http.schemas.common import Link, Short, link, optional_rfc3339, rfc3339

CommentText = Annotated[str, msgspec.Meta(max_length=limits.MAX_COMMENT_CHARS)]

# --- requests -------------------------------------------------------------------


class CommentAttributes(msgspec.Struct):
    comment: CommentText


class LinkAttributesIn(msgspec.Struct):
    parent_entity_type: Short
    parent_entity_id: Short
    child_entity_type: Short
    child_entity_id: Short
    relationship: Short


class LinkCreate(msgspec.Struct):
    type: str
    attributes: LinkAttributesIn | None = None  # checked after type, as Datadog does


class LinkCreateRequest(msgspec.Struct):
    data: LinkCreate


# --- timeline cells -------------------------------------------------------------


class AuthorContent(msgspec.Struct, omit_defaults=True):
    id: str
    email: str
    handle: str
    name: str | None = None


class Author(msgspec.Struct):
    type: Literal["USER"]
    content: AuthorContent


class CellContent(msgspec.Struct, omit_defaults=True):
    """A comment's ``message``; or an activity's ``field``, ``old_value``, ``new_value``."""

    message: str | None = None
    field: str | None = None
    old_value: str | None = None
    new_value: str | None = None


class CellAutomation(msgspec.Struct, omit_defaults=True):
    """Extension: what made a change without a user. ``AUTOMATION_RULE`` (its ``rule_id``,
    and ``rule_name`` while the rule exists) or ``AUTO_CLOSE_INACTIVE_CASES`` (a project's
    ``auto_close_inactive_cases`` setting)."""

    type: str
    rule_id: str | None = None
    rule_name: str | None = None


class CellAttributes(msgspec.Struct, kw_only=True, omit_defaults=True):
    author: Author | None = None
    automation: CellAutomation | None = None  # extension
    cell_content: CellContent
    created_at: str
    deleted_at: str | None = None
    modified_at: str | None = None
    type: str  # COMMENT, or ACTIVITY (extension)


class Cell(msgspec.Struct):
    id: str
    type: Literal["timeline_cell"]
    attributes: CellAttributes


class Cells(msgspec.Struct):
    """``CommentCase``'s answer: ``data`` is an array holding the new cell (as recorded)."""

    data: list[Cell]


class TimelinePage(msgspec.Struct):
    current: int
    size: int
    total: int


class TimelineMeta(msgspec.Struct):
    page: TimelinePage
    total_cells: int


class TimelineList(msgspec.Struct):
    data: list[Cell]
    meta: TimelineMeta  # extension, as SearchCases' meta


_ACTIVITY_IDS = uuid.UUID("6f1d3c3e-7c5b-4b8e-9a51-2d0c8b9f4e11")


def _author(ref: UserRef | None) -> Author | None:
    if ref is None:
        return None
    return Author("USER", AuthorContent(ref.id, ref.email, ref.handle, ref.name))


def _automation(ref: AutomationRef | None) -> CellAutomation | None:
    if ref is None:
        return None
    if ref.rule_id is None:
        return CellAutomation("AUTO_CLOSE_INACTIVE_CASES")
    return CellAutomation("AUTOMATION_RULE", ref.rule_id, ref.rule_name)


def cell(entry: TimelineEntry) -> Cell:
    comment = entry.comment
    if entry.change.field == COMMENT_ADDED and comment is not None:
        return Cell(
            comment.id,
            "timeline_cell",
            CellAttributes(
                author=_author(entry.actor),
                automation=_automation(entry.automation),
                cell_content=CellContent(message=comment.body),
                created_at=rfc3339(comment.created_at),
                deleted_at=optional_rfc3339(comment.deleted_at),
                modified_at=optional_rfc3339(comment.modified_at),
                type="COMMENT",
            ),
        )
    change = entry.change
    return Cell(
        # A stable id per history row, a UUID as every cell id is.
        str(uuid.uuid5(_ACTIVITY_IDS, str(entry.seq))),
        "timeline_cell",
        CellAttributes(
            author=_author(entry.actor),
            automation=_automation(entry.automation),
            cell_content=CellContent(
                field=change.field, old_value=change.old, new_value=change.new
            ),
            created_at=rfc3339(entry.at),
            type="ACTIVITY",
        ),
    )


def timeline_list(
    entries: list[TimelineEntry], *, total: int, page: int, size: int
) -> TimelineList:
    return TimelineList(
        data=[cell(e) for e in entries],
        meta=TimelineMeta(
            TimelinePage(current=page, size=len(entries), total=math.ceil(total / size)),
            total_cells=total,
        ),
    )


# --- watchers -------------------------------------------------------------------


class WatcherRelationships(msgspec.Struct):
    user: Link


class WatcherPublic(msgspec.Struct):
    id: str  # the user's id
    type: Literal["watcher"]
    relationships: WatcherRelationships


class WatcherList(msgspec.Struct):
    data: list[WatcherPublic]
    included: list[IncludedUser]  # extension: the watching users, as case responses include


def watcher_list(watchers: list[Watcher]) -> WatcherList:
    return WatcherList(
        data=[
            WatcherPublic(w.user.id, "watcher", WatcherRelationships(link(w.user.id, "user")))
            for w in watchers
        ],
        included=included_users([w.user for w in watchers]),
    )


# --- links ----------------------------------------------------------------------


class LinkAttributesPublic(msgspec.Struct):
    child_entity_id: str
    child_entity_type: Literal["CASE"]
    parent_entity_id: str
    parent_entity_type: Literal["CASE"]
    relationship: str


class LinkPublic(msgspec.Struct):
    id: str
    type: Literal["link"]
    attributes: LinkAttributesPublic


class LinkDocument(msgspec.Struct):
    data: LinkPublic


class LinkList(msgspec.Struct):
    data: list[LinkPublic]


def link_public(found: CaseLink) -> LinkPublic:
    return LinkPublic(
        found.id,
        "link",
        LinkAttributesPublic(
            child_entity_id=found.child_id,
            child_entity_type="CASE",
            parent_entity_id=found.parent_id,
            parent_entity_type="CASE",
            relationship=found.relationship,
        ),
    )
