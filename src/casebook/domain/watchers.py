"""Who watches a case. Besides ``WatchCase``, people become watchers by creating the
case, being assigned it, commenting on it or being mentioned in a comment
(``domain.cases.watch``). Every change of watchers is a history row (``watcher``:
old or new value the user's id), so the timeline shows it. Watchers are not part of
the case's own document: watching does not change the case's version (ETag)."""

from __future__ import annotations

from casebook.core.clock import parse_uuid
from casebook.core.entities import Actor, CaseChange, Scope, Watcher
from casebook.core.errors import (
    InvalidParameterError,
    InvalidRequestError,
    InvalidValueError,
    UserNotFoundError,
)
from casebook.domain import limits
from casebook.domain.access import access_case, require_scope
from casebook.domain.cases import IfMatch, writing_case
from casebook.storage.base import Store


def list_watchers(store: Store, ref: str, *, actor: Actor) -> list[Watcher]:
    require_scope(actor, Scope.CASES_READ)
    with store.read(snapshot=True) as tx:
        case = access_case(tx, ref, actor=actor)
        return tx.watchers.list(actor.org_id, case.id)


def _user_id(user_uuid: str) -> str:
    canonical = parse_uuid(user_uuid)
    if canonical is None:
        raise InvalidParameterError("UserUUID")
    return canonical


def watch_case(
    store: Store, ref: str, user_uuid: str, *, actor: Actor, if_match: IfMatch = None
) -> None:
    """Make a user of the organisation watch the case; watching again changes nothing."""
    user_id = _user_id(user_uuid)
    with writing_case(store, ref, actor, if_match) as (tx, case, at):
        user = tx.users.get(actor.org_id, user_id)
        if user is None:
            raise UserNotFoundError(user_uuid)
        if user.disabled:
            raise InvalidValueError(f"user {user_uuid} is disabled and cannot watch a case")
        if tx.watchers.count(actor.org_id, case.id) >= limits.MAX_WATCHERS:
            raise InvalidRequestError(f"a case has at most {limits.MAX_WATCHERS} watchers")
        if tx.watchers.add(actor.org_id, case.id, case.seq, user_id, at):
            tx.history.record(
                actor.org_id,
                case.id,
                actor.user_id,
                at,
                [CaseChange("watcher", None, user_id)],
                depth=actor.depth,
            )


def unwatch_case(
    store: Store, ref: str, user_uuid: str, *, actor: Actor, if_match: IfMatch = None
) -> None:
    """Stop a user watching the case; a user who was not watching is no error."""
    user_id = _user_id(user_uuid)
    with writing_case(store, ref, actor, if_match) as (tx, case, at):
        if tx.users.get(actor.org_id, user_id) is None:
            raise UserNotFoundError(user_uuid)
        if tx.watchers.remove(actor.org_id, case.id, user_id):
            tx.history.record(
                actor.org_id,
                case.id,
                actor.user_id,
                at,
                [CaseChange("watcher", user_id, None)],
                depth=actor.depth,
            )
