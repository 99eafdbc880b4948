"""Comments and the timeline of a case.

A comment is a row of its own and a history row (``comment``, new value: its
id) in one transaction, which also counts it in ``comment_count`` and makes its
author and the users it mentions (``@handle`` or ``@email``) watchers. An edit
or a delete leaves an activity row; a deleted comment keeps its place in the
timeline with its ``deleted_at`` but loses its text for good. Only the author
or an admin may edit or delete a comment.

The timeline is the case's history, one cell per row: each comment, and an
activity cell for every change (who, when, old value, new value).
"""

from __future__ import annotations

import re

from casebook.core.clock import new_id, parse_uuid
from casebook.core.entities import (
    COMMENT_ADDED,
    COMMENT_DELETED,
    COMMENT_EDITED,
    Actor,
    Case,
    CaseChange,
    Comment,
    Scope,
    TimelineEntry,
    UserRef,
)
from casebook.core.errors import (
    InvalidParameterError,
    InvalidRequestError,
    PermissionDeniedError,
    TimelineCellNotFoundError,
)
from casebook.domain import limits
from casebook.domain.access import access_case, require_scope
from casebook.domain.cases import IfMatch, store_change, watch, writing_case
from casebook.domain.keys import user_ref
from casebook.storage.base import CaseUpdate, Store, Transaction

# "@ann", "@ann.lee", "@ann@example.com": not inside a word or an email address.
_MENTION = re.compile(r"(?<![\w.@])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")


def mentions(text: str) -> list[str]:
    """The handles and emails a comment mentions, lower case, in order, without repeats."""
    found = (m.group(1).rstrip(".").lower() for m in _MENTION.finditer(text))
    return list(dict.fromkeys(name for name in found if name))


def check_comment(comment: str) -> str:
    if not comment.strip():
        raise InvalidRequestError("comment must not be empty")
    if len(comment) > limits.MAX_COMMENT_CHARS:
        raise InvalidRequestError(f"comment is longer than {limits.MAX_COMMENT_CHARS} characters")
    return comment


def _cell_id(cell_id: str) -> str:
    canonical = parse_uuid(cell_id)
    if canonical is None:
        raise InvalidParameterError("CommentID")
    return canonical


def comment_case(
    store: Store, ref: str, *, actor: Actor, comment: str, if_match: IfMatch = None
) -> TimelineEntry:
    """Add a comment; its timeline cell."""
    body = check_comment(comment)
    with writing_case(store, ref, actor, if_match) as (tx, case, at):
        added, change = add_comment(tx, actor, case, at, body)
    return TimelineEntry(0, at, actor.user, change, added)


def add_comment(
    tx: Transaction, actor: Actor, case: Case, at: int, body: str
) -> tuple[Comment, CaseChange]:
    """Add a checked comment to a case locked in ``tx``, with its history rows: its author
    (unless casebook's automation) and the users it mentions start watching. The comment,
    and its history row."""
    added = Comment(new_id(), case.id, actor.user_id, body, at)
    tx.comments.insert(actor.org_id, case.seq, added)
    mentioned = [u.id for u in tx.users.by_names(actor.org_id, mentions(body)) if not u.disabled]
    watching = mentioned if actor.is_automation else [actor.user_id, *mentioned]
    changes = [CaseChange(COMMENT_ADDED, None, added.id), *watch(tx, actor, case, watching, at)]
    case.comment_count += 1
    store_change(
        tx, actor, case, at, CaseUpdate(comment_count=case.comment_count), changes,
        modifies=False,
    )  # fmt: skip
    return added, changes[0]


def _own_comment(tx: Transaction, case: Case, cell_id: str, actor: Actor) -> Comment:
    found = tx.comments.get(actor.org_id, case.id, cell_id)
    if found is None or found.deleted_at is not None:
        raise TimelineCellNotFoundError(cell_id)
    if found.author_id != actor.user_id and not actor.is_admin:
        raise PermissionDeniedError("only the comment's author or an admin may change it")
    return found


def edit_comment(
    store: Store,
    ref: str,
    cell_id: str,
    *,
    actor: Actor,
    comment: str,
    if_match: IfMatch = None,
) -> TimelineEntry:
    """Replace a comment's text; its timeline cell as it now is."""
    comment_id = _cell_id(cell_id)
    body = check_comment(comment)
    with writing_case(store, ref, actor, if_match) as (tx, case, at):
        found = _own_comment(tx, case, comment_id, actor)
        if found.body != body:
            tx.comments.edit(actor.org_id, found.id, body, at)
            found.body, found.modified_at = body, at
            tx.history.record(
                actor.org_id, case.id, actor.user_id, at,
                [CaseChange(COMMENT_EDITED, None, found.id)], depth=actor.depth,
            )  # fmt: skip
        author: UserRef | None = actor.user
        if found.author_id != actor.user_id:  # an admin editing another's comment
            user = None if found.author_id is None else tx.users.get(actor.org_id, found.author_id)
            author = None if user is None else user_ref(user)
    return TimelineEntry(
        0,
        found.created_at,
        author,
        CaseChange(COMMENT_ADDED, None, found.id),
        found,
    )


def delete_comment(
    store: Store, ref: str, cell_id: str, *, actor: Actor, if_match: IfMatch = None
) -> None:
    """Delete a comment: its text is gone for good, its cell stays with ``deleted_at``."""
    comment_id = _cell_id(cell_id)
    with writing_case(store, ref, actor, if_match) as (tx, case, at):
        found = _own_comment(tx, case, comment_id, actor)
        tx.comments.delete(actor.org_id, found.id, at)
        case.comment_count -= 1
        store_change(
            tx, actor, case, at, CaseUpdate(comment_count=case.comment_count),
            [CaseChange(COMMENT_DELETED, found.id, None)], modifies=False,
        )  # fmt: skip


def timeline(
    store: Store,
    ref: str,
    *,
    actor: Actor,
    page_size: int = 10,
    page_number: int = 1,
    ascending: bool = False,
) -> tuple[list[TimelineEntry], int]:
    """One page (1-based; 0 also means the first) of the case's timeline, newest first
    unless ``ascending``, and the number of cells."""
    require_scope(actor, Scope.CASES_READ)
    if not 1 <= page_size <= limits.MAX_TIMELINE_PAGE_SIZE:
        raise InvalidRequestError(
            f"page[size] must be between 1 and {limits.MAX_TIMELINE_PAGE_SIZE}, got {page_size}"
        )
    if page_number < 0:
        raise InvalidRequestError(f"page[number] must not be negative, got {page_number}")
    offset = min((max(page_number, 1) - 1) * page_size, limits.MAX_OFFSET)
    with store.read(snapshot=True) as tx:
        case = access_case(tx, ref, actor=actor)
        return tx.history.timeline(
            actor.org_id, case.id, ascending=ascending, limit=page_size, offset=offset
        )
