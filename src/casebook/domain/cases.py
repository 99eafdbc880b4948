"""Cases: create, read, search and change them. Each command is one transaction
that also writes the case's history rows.

A change that changes nothing (assigning the current assignee, archiving an
archived case) is a no-op: no history, no ``modified_at``, as Datadog does.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from casebook.core.clock import new_id, now_us, parse_uuid
from casebook.core.entities import (
    CASE_SORTS,
    STANDARD_CASE_TYPE_ID,
    Actor,
    Case,
    CaseChange,
    Page,
    Priority,
    Scope,
    Status,
    UserRef,
)
from casebook.core.errors import (
    CaseTypeNotFoundError,
    InvalidRequestError,
    InvalidValueError,
    ProjectNotFoundError,
    UserNotFoundError,
)
from casebook.domain import limits
from casebook.domain.access import access_case, require_scope
from casebook.domain.keys import user_ref
from casebook.search.parser import parse
from casebook.storage.base import CaseUpdate, Store, Transaction

CREATION_SOURCE_MANUAL = "MANUAL"


def _check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise InvalidRequestError("title must not be empty")
    if len(title) > limits.MAX_TITLE_CHARS:
        raise InvalidRequestError(f"title is longer than {limits.MAX_TITLE_CHARS} characters")
    return title


def _check_description(description: str) -> str:
    if len(description) > limits.MAX_DESCRIPTION_CHARS:
        raise InvalidRequestError(
            f"description is longer than {limits.MAX_DESCRIPTION_CHARS} characters"
        )
    return description


def _check_attributes(attributes: dict[str, list[str]]) -> dict[str, list[str]]:
    if len(attributes) > limits.MAX_ATTRIBUTE_KEYS:
        raise InvalidRequestError(f"attributes has more than {limits.MAX_ATTRIBUTE_KEYS} keys")
    for key, values in attributes.items():
        if not key or len(key) > limits.MAX_ATTRIBUTE_KEY_CHARS or not key.isprintable():
            raise InvalidRequestError(
                f"invalid attribute key {key!r}: 1 to {limits.MAX_ATTRIBUTE_KEY_CHARS}"
                " printable characters"
            )
        if len(values) > limits.MAX_ATTRIBUTE_VALUES:
            raise InvalidRequestError(
                f"attribute {key!r} has more than {limits.MAX_ATTRIBUTE_VALUES} values"
            )
        for value in values:
            if len(value) > limits.MAX_ATTRIBUTE_VALUE_CHARS:
                raise InvalidRequestError(
                    f"a value of attribute {key!r} is longer than"
                    f" {limits.MAX_ATTRIBUTE_VALUE_CHARS} characters"
                )
    return attributes


def _json(value: object) -> str:
    """A value as history keeps it: compact JSON, keys sorted."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _check_type(type_id: str | None) -> str:
    if type_id is None or type_id == STANDARD_CASE_TYPE_ID:
        return STANDARD_CASE_TYPE_ID
    # Only the built-in Standard type exists until custom case types are implemented.
    if parse_uuid(type_id) is None:
        raise InvalidRequestError(f"invalid type_id {type_id!r}: expected a UUID")
    raise CaseTypeNotFoundError(type_id)


def _assignable(tx: Transaction, actor: Actor, assignee_id: str) -> UserRef:
    canonical = parse_uuid(assignee_id)
    if canonical is None:
        raise InvalidRequestError(f"invalid assignee_id {assignee_id!r}: expected a UUID")
    user = tx.users.get(actor.org_id, canonical)
    if user is None:
        raise UserNotFoundError(assignee_id)
    if user.disabled:
        raise InvalidValueError(f"user {assignee_id} is disabled and cannot be assigned")
    return user_ref(user)


def create_case(
    store: Store,
    *,
    actor: Actor,
    project_id: str,
    title: str,
    type_id: str | None = None,
    priority: str = Priority.NOT_DEFINED.value,
    description: str = "",
    status_name: str | None = None,
    assignee_id: str | None = None,
    custom_attributes: dict[str, Any] | None = None,
) -> Case:
    """Open a case in a project, giving it the project's next key (``SEC-43``).

    Raises ProjectNotFoundError before UserNotFoundError when both are unknown,
    as Datadog does.
    """
    require_scope(actor, Scope.CASES_WRITE)
    title = _check_title(title)
    description = _check_description(description)
    type_id = _check_type(type_id)
    level = Priority.parse(priority)
    status = Status.OPEN if status_name is None else Status.parse(status_name)
    if custom_attributes:
        name = next(iter(custom_attributes))
        raise InvalidValueError(f"unknown custom attribute {name!r}: none is configured")
    project_uuid = parse_uuid(project_id)
    if project_uuid is None:
        raise ProjectNotFoundError(project_id)
    at = now_us()
    with store.write() as tx:
        allocated = tx.projects.allocate_case_number(actor.org_id, project_uuid)
        if allocated is None:
            raise ProjectNotFoundError(project_id)
        number, project_key = allocated
        assignee = None if assignee_id is None else _assignable(tx, actor, assignee_id)
        case = Case(
            id=new_id(),
            seq=0,
            org_id=actor.org_id,
            project_id=project_uuid,
            number=number,
            key=f"{project_key}-{number}",
            title=title,
            description=description,
            priority=level,
            status=status,
            type_id=type_id,
            attributes={},
            custom_attributes={},
            creation_source=CREATION_SOURCE_MANUAL,
            created_at=at,
            created_by=actor.user,
            closed_at=at if status is Status.CLOSED else None,
            assignee=assignee,
        )
        case.seq = tx.cases.insert(case)
        tx.history.record(
            actor.org_id, case.id, actor.user_id, at, [CaseChange("created", None, case.key)]
        )
    return case


def get_case(store: Store, ref: str, *, actor: Actor) -> Case:
    require_scope(actor, Scope.CASES_READ)
    with store.read() as tx:
        return access_case(tx, ref, actor=actor)


def case_history(
    store: Store, ref: str, *, actor: Actor
) -> list[tuple[int, str | None, CaseChange]]:
    """The case's changes, oldest first: (time, actor id, change)."""
    require_scope(actor, Scope.CASES_READ)
    with store.read(snapshot=True) as tx:
        case = access_case(tx, ref, actor=actor)
        return tx.history.list(actor.org_id, case.id)


Change = tuple[CaseUpdate, list[CaseChange]]


def _change_case(
    store: Store, ref: str, actor: Actor, decide: Callable[[Transaction, Case, int], Change | None]
) -> Case:
    """Lock the case, let ``decide`` pick new values, store them with history.

    ``decide`` mutates the in-memory case to its new state and returns the
    fields to store and the history rows, or None for a no-op.
    """
    require_scope(actor, Scope.CASES_WRITE)
    at = now_us()
    with store.write() as tx:
        case = access_case(tx, ref, actor=actor, for_update=True)
        decided = decide(tx, case, at)
        if decided is None:
            return case
        update, changes = decided
        case.modified_at = at
        case.modified_by = actor.user
        update = dataclasses.replace(update, modified_at=at, modified_by=actor.user_id)
        tx.cases.update(actor.org_id, case.id, update)
        tx.history.record(actor.org_id, case.id, actor.user_id, at, changes)
    return case


def update_status(
    store: Store, ref: str, *, actor: Actor, status: str | None, status_name: str | None
) -> Case:
    """Move a case to another status; CLOSED sets ``closed_at``, leaving CLOSED clears it."""
    if status is None and status_name is None:
        raise InvalidRequestError("one of status or status_name is required")
    target = Status.parse(status_name if status_name is not None else status)  # type: ignore[arg-type]

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        if case.status is target:
            return None
        case.status.require_move_to(target)
        old = case.status
        case.status = target
        case.closed_at = at if target is Status.CLOSED else None
        return (
            CaseUpdate(status=target, closed_at=case.closed_at),
            [CaseChange("status", old.value, target.value)],
        )

    return _change_case(store, ref, actor, decide)


def update_priority(store: Store, ref: str, *, actor: Actor, priority: str) -> Case:
    level = Priority.parse(priority)

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        if case.priority is level:
            return None
        old = case.priority
        case.priority = level
        return CaseUpdate(priority=level), [CaseChange("priority", old.value, level.value)]

    return _change_case(store, ref, actor, decide)


def update_title(store: Store, ref: str, *, actor: Actor, title: str) -> Case:
    """Rename a case; surrounding spaces are dropped and an empty title is refused."""
    title = _check_title(title)

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        if case.title == title:
            return None
        old = case.title
        case.title = title
        return CaseUpdate(title=title), [CaseChange("title", old, title)]

    return _change_case(store, ref, actor, decide)


def update_description(store: Store, ref: str, *, actor: Actor, description: str) -> Case:
    """Replace a case's description (it may be empty)."""
    description = _check_description(description)

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        if case.description == description:
            return None
        old = case.description
        case.description = description
        return CaseUpdate(description=description), [CaseChange("description", old, description)]

    return _change_case(store, ref, actor, decide)


def update_attributes(
    store: Store, ref: str, *, actor: Actor, attributes: dict[str, list[str]]
) -> Case:
    """Replace a case's ``attributes`` map as a whole (``{"team": ["sre"]}``); ``{}`` clears it.

    Keys are 1 to 64 characters with no control characters; only keys in the
    search language's name form (``team``, ``aws.region``) can be searched by facet.
    """
    attributes = _check_attributes(attributes)

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        if case.attributes == attributes:
            return None
        old = case.attributes
        case.attributes = attributes
        return CaseUpdate(attributes=attributes), [
            CaseChange("attributes", _json(old), _json(attributes))
        ]

    return _change_case(store, ref, actor, decide)


def assign_case(store: Store, ref: str, *, actor: Actor, assignee_id: str) -> Case:
    if parse_uuid(assignee_id) is None:
        raise InvalidRequestError(f"invalid assignee_id {assignee_id!r}: expected a UUID")

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        assignee = _assignable(tx, actor, assignee_id)
        if case.assignee is not None and case.assignee.id == assignee.id:
            return None
        old = None if case.assignee is None else case.assignee.id
        case.assignee = assignee
        return CaseUpdate(assignee_id=assignee.id), [CaseChange("assignee", old, assignee.id)]

    return _change_case(store, ref, actor, decide)


def unassign_case(store: Store, ref: str, *, actor: Actor) -> Case:
    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        if case.assignee is None:
            return None
        old = case.assignee.id
        case.assignee = None
        return CaseUpdate(assignee_id=None), [CaseChange("assignee", old, None)]

    return _change_case(store, ref, actor, decide)


def archive_case(store: Store, ref: str, *, actor: Actor) -> Case:
    """Archive a case: it keeps its status and drops out of search unless asked for."""

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        if case.archived_at is not None:
            return None
        case.archived_at = at
        return CaseUpdate(archived_at=at), [CaseChange("archived", "false", "true")]

    return _change_case(store, ref, actor, decide)


def unarchive_case(store: Store, ref: str, *, actor: Actor) -> Case:
    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        if case.archived_at is None:
            return None
        case.archived_at = None
        return CaseUpdate(archived_at=None), [CaseChange("archived", "true", "false")]

    return _change_case(store, ref, actor, decide)


def search_cases(
    store: Store,
    *,
    actor: Actor,
    query: str,
    page_size: int = 10,
    page_number: int = 1,
    sort_field: str = "created_at",
    ascending: bool = False,
) -> Page:
    """One page (1-based; 0 also means the first) of the cases matching ``query``."""
    require_scope(actor, Scope.CASES_READ)
    if not 1 <= page_size <= limits.MAX_PAGE_SIZE:
        raise InvalidRequestError(
            f"page[size] must be between 1 and {limits.MAX_PAGE_SIZE}, got {page_size}"
        )
    if page_number < 0:
        raise InvalidRequestError(f"page[number] must not be negative, got {page_number}")
    if sort_field not in CASE_SORTS:
        raise InvalidRequestError(
            f"invalid sort[field] {sort_field!r}: use one of {', '.join(CASE_SORTS)}"
        )
    tree = parse(query, now_us=now_us())
    # Past MAX_OFFSET every page is empty anyway; clamping keeps the number bounded.
    offset = min((max(page_number, 1) - 1) * page_size, limits.MAX_OFFSET)
    with store.read(snapshot=True) as tx:
        items, total = tx.cases.search(
            actor.org_id,
            tree,
            actor_user_id=actor.user_id,
            sort=sort_field,
            ascending=ascending,
            limit=page_size,
            offset=offset,
        )
    return Page(items=items, total=total)
