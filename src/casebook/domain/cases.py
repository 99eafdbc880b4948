"""Cases: create, read, search and change them. Each command is one transaction
that also writes the case's history rows.

A change that changes nothing (assigning the current assignee, archiving an
archived case) is a no-op: no history, no ``modified_at``, as Datadog does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from casebook.core.clock import new_id, now_us, parse_uuid
from casebook.core.entities import (
    CASE_SORTS,
    INSIGHT_TYPES,
    RESOLVED_REASONS,
    STANDARD_CASE_TYPE_ID,
    Actor,
    Case,
    CaseChange,
    CaseStatusDef,
    CustomValue,
    Insight,
    Page,
    Priority,
    Scope,
    Status,
    UserRef,
)
from casebook.core.errors import (
    InvalidRequestError,
    InvalidValueError,
    ProjectNotFoundError,
    UserNotFoundError,
)
from casebook.domain import case_types, limits, projects
from casebook.domain.access import access_case, require_match, require_scope
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


_json = case_types.json_text


def _check_type_id(type_id: str | None) -> str:
    if type_id is None:
        return STANDARD_CASE_TYPE_ID
    canonical = parse_uuid(type_id)
    if canonical is None:
        raise InvalidRequestError(f"invalid type_id {type_id!r}: expected a UUID")
    return canonical


def assignable(tx: Transaction, actor: Actor, assignee_id: str) -> UserRef:
    """The user ``assignee_id`` names, if a case of the actor's organisation may be assigned
    to them: UserNotFoundError for none (or another organisation's), 400 for a disabled one."""
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
    type_id = _check_type_id(type_id)
    level = Priority.parse(priority)
    project_uuid = parse_uuid(project_id)
    if project_uuid is None:
        raise ProjectNotFoundError(project_id)
    at = now_us()
    with store.write() as tx:
        allocated = tx.projects.allocate_case_number(actor.org_id, project_uuid)
        if allocated is None:
            raise ProjectNotFoundError(project_id)
        number, project_key = allocated
        case_type = case_types.type_of(tx, actor.org_id, type_id)
        case_types.allowed_in_project(tx, actor.org_id, project_uuid, case_type)
        status = (
            case_type.statuses[0]
            if status_name is None
            else case_types.status_for(case_type, None, status_name)
        )
        custom: dict[str, CustomValue] = {}
        if custom_attributes:
            configs = case_types.configs_of(tx, actor.org_id, type_id)
            custom = case_types.check_values(configs, custom_attributes)
        assignee = None if assignee_id is None else assignable(tx, actor, assignee_id)
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
            status=status.group,
            type_id=type_id,
            attributes={},
            custom_attributes=custom,
            creation_source=CREATION_SOURCE_MANUAL,
            created_at=at,
            created_by=actor.user,
            closed_at=at if status.group is Status.CLOSED else None,
            assignee=assignee,
            status_name=case_types.stored_name(status),
        )
        case.seq = tx.cases.insert(case)
        watchers = [actor.user_id] if assignee is None else [actor.user_id, assignee.id]
        changes = [
            CaseChange("created", None, case.key),
            *watch(tx, actor, case, watchers, at, new_case=True),
        ]
        tx.history.record(actor.org_id, case.id, actor.user_id, at, changes, depth=actor.depth)
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
IfMatch = Collection[int] | None
"""The case versions a write accepts (its ``If-Match``); None accepts any."""


def watch(
    tx: Transaction,
    actor: Actor,
    case: Case,
    user_ids: Iterable[str],
    at: int,
    *,
    new_case: bool = False,
) -> list[CaseChange]:
    """Make users watchers of the case (automatic watching: creator, assignee, commenters,
    mentions); the history rows of those who were not already. Stops silently at
    ``limits.MAX_WATCHERS``. A ``new_case`` has no watchers yet (no need to count)."""
    changes: list[CaseChange] = []
    room: int | None = limits.MAX_WATCHERS if new_case else None
    for user_id in dict.fromkeys(user_ids):
        if room is None:
            room = limits.MAX_WATCHERS - tx.watchers.count(actor.org_id, case.id)
        if room <= 0:
            break
        if tx.watchers.add(actor.org_id, case.id, case.seq, user_id, at):
            changes.append(CaseChange("watcher", None, user_id))
            room -= 1
    return changes


def store_change(
    tx: Transaction,
    actor: Actor,
    case: Case,
    at: int,
    update: CaseUpdate,
    changes: list[CaseChange],
    *,
    modifies: bool = True,
) -> None:
    """Write a change the in-memory ``case`` already shows, with its history rows; a new
    version (ETag). ``modifies``: it also sets ``modified_at``/``modified_by`` (a comment
    does not: it changes only ``comment_count``)."""
    tx.cases.update(actor.org_id, case.id, _stamped(actor, case, at, update, modifies))
    tx.history.record(actor.org_id, case.id, actor.user_id, at, changes, depth=actor.depth)


def store_changes(
    tx: Transaction, actor: Actor, at: int, changed: Sequence[tuple[Case, Change]]
) -> None:
    """``store_change`` for several cases at once, in a few statements whatever their
    number (a bulk's)."""
    tx.cases.update_many(
        actor.org_id,
        [(case.id, _stamped(actor, case, at, update)) for case, (update, _) in changed],
    )
    tx.history.record_many(
        actor.org_id,
        actor.user_id,
        at,
        [(case.id, changes) for case, (_, changes) in changed],
        depth=actor.depth,
    )


def _stamped(
    actor: Actor, case: Case, at: int, update: CaseUpdate, modifies: bool = True
) -> CaseUpdate:
    """``update`` with the case's next version (and, if it ``modifies``, who changed it when),
    which the in-memory case takes too."""
    case.version += 1
    if not modifies:
        return dataclasses.replace(update, version=case.version)
    case.modified_at = at
    case.modified_by = actor.user
    return dataclasses.replace(
        update, modified_at=at, modified_by=actor.user_id, version=case.version
    )


@contextmanager
def writing_case(
    store: Store, ref: str, actor: Actor, if_match: IfMatch = None
) -> Iterator[tuple[Transaction, Case, int]]:
    """A write transaction on one case: the case, locked until commit, once the actor may
    write it and ``if_match`` accepts its version; and the time of the change."""
    require_scope(actor, Scope.CASES_WRITE)
    at = now_us()
    with store.write() as tx:
        case = access_case(tx, ref, actor=actor, for_update=True)
        require_match(case, if_match)
        yield tx, case, at


Decide = Callable[[Transaction, Case, int], Change | None]
"""What a change does to one case, locked in the transaction: it mutates the in-memory case
to its new state and returns the fields to store and the history rows, or None for a no-op
(the case already is as asked).

Each rule is a ``decide_*`` function below, which the single-case command and the bulk
command (``domain/bulk.py``) both call, so a case changes alike, with the same history
rows and the same no-ops, whichever way it is asked to."""


def _change_case(
    store: Store, ref: str, actor: Actor, decide: Decide, if_match: IfMatch = None
) -> Case:
    """Lock the case, check ``if_match``, let ``decide`` pick new values, store them with
    history."""
    with writing_case(store, ref, actor, if_match) as (tx, case, at):
        decided = decide(tx, case, at)
        if decided is None:
            return case
        update, changes = decided
        store_change(tx, actor, case, at, update, changes)
    return case


def check_status(status: str | None, status_name: str | None) -> None:
    """Refuse a status request before reading the case: neither given, or a ``status``
    (a group) that is none."""
    if status is None and status_name is None:
        raise InvalidRequestError("one of status or status_name is required")
    if status is not None and status_name is None:
        Status.parse(status)


def decide_status(
    tx: Transaction,
    actor: Actor,
    case: Case,
    at: int,
    status: str | None,
    status_name: str | None,
) -> Change | None:
    """To the status of the case's type that ``status_name`` names, else to the first of
    the ``status`` group unless the case is in that group already (``check_status`` first)."""
    case_type = case_types.type_of(tx, actor.org_id, case.type_id)
    if status_name is None and Status.parse(status) is case.status:  # type: ignore[arg-type]
        return None
    target = case_types.status_for(case_type, status, status_name)
    return _to_status(case, target, at)


def update_status(
    store: Store,
    ref: str,
    *,
    actor: Actor,
    status: str | None,
    status_name: str | None,
    if_match: IfMatch = None,
) -> Case:
    """Move a case to another status of its type, by ``status_name`` or by the deprecated
    ``status`` (a group: its first status, unless the case is in that group already).
    Entering the closed group sets ``closed_at``, leaving it clears it."""
    check_status(status, status_name)  # refuse a bad value before reading the case

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_status(tx, actor, case, at, status, status_name)

    return _change_case(store, ref, actor, decide, if_match)


def _to_status(case: Case, target: CaseStatusDef, at: int) -> Change | None:
    """Put the in-memory case in ``target``: the fields to store and the history rows."""
    changes = case_types.status_changes(case, target)
    if not changes:
        return None
    if target.group is not case.status:
        case.status.require_move_to(target.group)
        case.closed_at = at if target.group is Status.CLOSED else None
    case.status, case.status_name = target.group, case_types.stored_name(target)
    update = CaseUpdate(status=case.status, status_name=case.status_name, closed_at=case.closed_at)
    return update, changes


def decide_custom_attribute(
    tx: Transaction,
    actor: Actor,
    case: Case,
    custom_attribute_key: str,
    type: str,
    is_multi: bool,
    value: Any,
) -> Change | None:
    config = case_types.require_config(
        tx, actor.org_id, case, custom_attribute_key, "UpdateCustomAttribute"
    )
    new = case_types.check_value(config, type, is_multi, value)
    return _set_custom(case, config.key, new)


def update_custom_attribute(
    store: Store,
    ref: str,
    *,
    actor: Actor,
    custom_attribute_key: str,
    type: str,
    is_multi: bool,
    value: Any,
    if_match: IfMatch = None,
) -> Case:
    """Set one custom attribute of a case, validated against its type's config of that key
    (an empty list clears a multi-valued one)."""

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_custom_attribute(tx, actor, case, custom_attribute_key, type, is_multi, value)

    return _change_case(store, ref, actor, decide, if_match)


def decide_custom_attribute_removal(
    tx: Transaction, actor: Actor, case: Case, custom_attribute_key: str
) -> Change | None:
    config = case_types.require_config(
        tx, actor.org_id, case, custom_attribute_key, "RemoveCustomAttribute"
    )
    return _set_custom(case, config.key, None)


def delete_custom_attribute(
    store: Store, ref: str, *, actor: Actor, custom_attribute_key: str, if_match: IfMatch = None
) -> Case:
    """Clear one custom attribute of a case (a no-op when it holds no value)."""

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_custom_attribute_removal(tx, actor, case, custom_attribute_key)

    return _change_case(store, ref, actor, decide, if_match)


def _set_custom(case: Case, key: str, new: CustomValue | None) -> Change | None:
    old = case.custom_attributes.get(key)
    if old == new:
        return None
    values = dict(case.custom_attributes)
    if new is None:
        del values[key]
    else:
        values[key] = new
    case.custom_attributes = values
    return CaseUpdate(custom_attributes=values), [case_types.custom_change(key, old, new)]


def decide_type(
    tx: Transaction, actor: Actor, case: Case, at: int, target_id: str
) -> Change | None:
    """To the case type ``target_id`` (a canonical UUID), as ``change_type`` says."""
    if case.type_id == target_id:
        return None
    new_type = case_types.type_of(tx, actor.org_id, target_id)
    case_types.allowed_in_project(tx, actor.org_id, case.project_id, new_type)
    changes = [CaseChange("type", case.type_id, new_type.id)]
    configs = case_types.configs_of(tx, actor.org_id, new_type.id)
    kept: dict[str, CustomValue] = {}
    for key, old in case.custom_attributes.items():
        value: CustomValue | None = None
        config = configs.get(key)
        if config is not None:
            with contextlib.suppress(InvalidRequestError):
                value = case_types.check_value(
                    config, None, None, old.get("value") if isinstance(old, dict) else None
                )
        if value is None:
            changes.append(case_types.custom_change(key, old, None))
        else:
            kept[key] = value
            if value != old:
                changes.append(case_types.custom_change(key, old, value))
    name = case.status_name or case.status.display_name
    target = new_type.status_named(name) or new_type.first_of(case.status)
    moved = _to_status(case, target, at)
    case.type_id, case.custom_attributes = new_type.id, kept
    update = CaseUpdate(type_id=new_type.id, custom_attributes=kept)
    if moved is not None:
        update = dataclasses.replace(moved[0], type_id=new_type.id, custom_attributes=kept)
        changes += moved[1]
    return update, changes


def change_type(
    store: Store, ref: str, *, actor: Actor, type_id: str, if_match: IfMatch = None
) -> Case:
    """Move a case to another case type (a casebook extension). It keeps its custom
    attribute values whose keys the new type has (and that are valid there), and its
    status if the new type has one of that name, else the new type's first status of the
    same group; each value dropped and each change is a timeline cell."""
    target_id = _check_type_id(type_id)

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_type(tx, actor, case, at, target_id)

    return _change_case(store, ref, actor, decide, if_match)


def decide_priority(case: Case, level: Priority) -> Change | None:
    if case.priority is level:
        return None
    old = case.priority
    case.priority = level
    return CaseUpdate(priority=level), [CaseChange("priority", old.value, level.value)]


def update_priority(
    store: Store, ref: str, *, actor: Actor, priority: str, if_match: IfMatch = None
) -> Case:
    level = Priority.parse(priority)

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_priority(case, level)

    return _change_case(store, ref, actor, decide, if_match)


def decide_title(case: Case, title: str) -> Change | None:
    if case.title == title:
        return None
    old = case.title
    case.title = title
    return CaseUpdate(title=title), [CaseChange("title", old, title)]


def update_title(
    store: Store, ref: str, *, actor: Actor, title: str, if_match: IfMatch = None
) -> Case:
    """Rename a case; surrounding spaces are dropped and an empty title is refused."""
    title = _check_title(title)

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_title(case, title)

    return _change_case(store, ref, actor, decide, if_match)


def decide_description(case: Case, description: str) -> Change | None:
    if case.description == description:
        return None
    old = case.description
    case.description = description
    return CaseUpdate(description=description), [CaseChange("description", old, description)]


def update_description(
    store: Store, ref: str, *, actor: Actor, description: str, if_match: IfMatch = None
) -> Case:
    """Replace a case's description (it may be empty)."""
    description = _check_description(description)

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_description(case, description)

    return _change_case(store, ref, actor, decide, if_match)


def decide_attributes(case: Case, attributes: dict[str, list[str]]) -> Change | None:
    if case.attributes == attributes:
        return None
    old = case.attributes
    case.attributes = attributes
    return CaseUpdate(attributes=attributes), [
        CaseChange("attributes", _json(old), _json(attributes))
    ]


def update_attributes(
    store: Store,
    ref: str,
    *,
    actor: Actor,
    attributes: dict[str, list[str]],
    if_match: IfMatch = None,
) -> Case:
    """Replace a case's ``attributes`` map as a whole (``{"team": ["sre"]}``); ``{}`` clears it.

    Keys are 1 to 64 characters with no control characters; only keys in the
    search language's name form (``team``, ``aws.region``) can be searched by facet.
    """
    attributes = _check_attributes(attributes)

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_attributes(case, attributes)

    return _change_case(store, ref, actor, decide, if_match)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EPOCH = datetime.date(1970, 1, 1)
_DAY_US = 86_400_000_000


def due_day(us: int) -> str:
    """A stored due date (00:00 UTC of the day, microseconds) as ``YYYY-MM-DD``."""
    return (_EPOCH + datetime.timedelta(days=us // _DAY_US)).isoformat()


def _parse_due_date(value: str) -> int:
    day = None
    if _DATE.fullmatch(value):
        with contextlib.suppress(ValueError):  # 2026-02-30
            day = datetime.date.fromisoformat(value)
    if day is None:
        raise InvalidValueError(f"invalid due_date {value!r}: expected a date as YYYY-MM-DD")
    return (day - _EPOCH).days * _DAY_US


def decide_due_date(case: Case, target: int | None) -> Change | None:
    if case.due_date == target:
        return None
    old = case.due_date
    case.due_date = target
    return CaseUpdate(due_date=target), [
        CaseChange(
            "due_date",
            None if old is None else due_day(old),
            None if target is None else due_day(target),
        )
    ]


def update_due_date(
    store: Store, ref: str, *, actor: Actor, due_date: str | None, if_match: IfMatch = None
) -> Case:
    """Set the day a case is due (``2026-12-05``) or clear it (None)."""
    target = None if due_date is None else _parse_due_date(due_date)

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_due_date(case, target)

    return _change_case(store, ref, actor, decide, if_match)


def decide_resolved_reason(case: Case, reason: str | None) -> Change | None:
    if case.resolved_reason == reason:
        return None
    old = case.resolved_reason
    case.resolved_reason = reason
    return CaseUpdate(resolved_reason=reason), [CaseChange("resolved_reason", old, reason)]


def update_resolved_reason(
    store: Store,
    ref: str,
    *,
    actor: Actor,
    security_resolved_reason: str,
    if_match: IfMatch = None,
) -> Case:
    """Record why a case was resolved (``FALSE_POSITIVE``, ``TRUE_POSITIVE``,
    ``BENIGN_POSITIVE``, in any letter case); an empty string clears it. Allowed at any
    status, so it can be recorded before the case is closed."""
    reason: str | None = security_resolved_reason.strip().upper() or None
    if reason is not None and reason not in RESOLVED_REASONS:
        raise InvalidValueError(
            f"invalid security_resolved_reason {security_resolved_reason}."
            f" Must be one of {', '.join(RESOLVED_REASONS)}"
        )

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_resolved_reason(case, reason)

    return _change_case(store, ref, actor, decide, if_match)


def _check_insights(insights: list[Insight]) -> list[Insight]:
    if not insights:
        raise InvalidRequestError("insights must hold at least one insight")
    for insight in insights:
        if insight.type not in INSIGHT_TYPES:
            raise InvalidValueError(
                f"invalid insight type {insight.type}. Must be one of {', '.join(INSIGHT_TYPES)}"
            )
        if not insight.resource_id.strip() or not insight.ref.strip():
            raise InvalidRequestError("an insight's ref and resource_id must not be empty")
    return insights


def _insight_json(insights: list[Insight]) -> str:
    return _json([dataclasses.asdict(i) for i in insights])


def _set_insights(case: Case, new: list[Insight]) -> Change:
    old = case.insights
    case.insights = new
    return CaseUpdate(insights=new), [
        CaseChange("insights", _insight_json(old), _insight_json(new))
    ]


def decide_insights_added(case: Case, given: list[Insight]) -> Change | None:
    merged = {(i.type, i.resource_id): i for i in case.insights}
    for insight in given:
        merged[(insight.type, insight.resource_id)] = insight
    new = list(merged.values())
    if new == case.insights:
        return None
    if len(new) > limits.MAX_INSIGHTS:
        raise InvalidRequestError(f"a case holds at most {limits.MAX_INSIGHTS} insights")
    return _set_insights(case, new)


def add_insights(
    store: Store, ref: str, *, actor: Actor, insights: list[Insight], if_match: IfMatch = None
) -> Case:
    """Add insights to a case. One insight per (type, resource_id): adding one the case
    has replaces its ``ref``. At most ``limits.MAX_INSIGHTS`` per case."""
    given = _check_insights(insights)

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_insights_added(case, given)

    return _change_case(store, ref, actor, decide, if_match)


def decide_insights_removed(case: Case, gone: set[tuple[str, str]]) -> Change | None:
    new = [i for i in case.insights if (i.type, i.resource_id) not in gone]
    if len(new) == len(case.insights):
        return None
    return _set_insights(case, new)


def remove_insights(
    store: Store, ref: str, *, actor: Actor, insights: list[Insight], if_match: IfMatch = None
) -> Case:
    """Remove insights from a case, matched by type and resource_id; others are ignored."""
    gone = {(i.type, i.resource_id) for i in _check_insights(insights)}

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_insights_removed(case, gone)

    return _change_case(store, ref, actor, decide, if_match)


def check_project_id(project_id: str) -> str:
    """The canonical UUID of a project to move to, or ProjectNotFoundError."""
    project_uuid = parse_uuid(project_id)
    if project_uuid is None:
        raise ProjectNotFoundError(project_id)
    return project_uuid


def decide_move(
    tx: Transaction, actor: Actor, case: Case, at: int, project_uuid: str, project_id: str
) -> Change | None:
    """To the project ``project_uuid`` (``project_id`` as the caller gave it, for the
    error), with that project's next key; the old key stays the case's alias."""
    if case.project_id == project_uuid:
        return None
    allocated = tx.projects.allocate_case_number(actor.org_id, project_uuid)
    if allocated is None:
        raise ProjectNotFoundError(project_id)
    number, project_key = allocated
    old_project, old_key = case.project_id, case.key
    tx.cases.add_alias(actor.org_id, old_key, case.id, at)
    case.project_id, case.number, case.key = project_uuid, number, f"{project_key}-{number}"
    return CaseUpdate(project_id=project_uuid, number=number, key=case.key), [
        CaseChange("project", old_project, project_uuid),
        CaseChange("key", old_key, case.key),
    ]


def move_case(
    store: Store, ref: str, *, actor: Actor, project_id: str, if_match: IfMatch = None
) -> Case:
    """Move a case to another project of the organisation: it gets that project's next
    key (``NET-8``), and its old key keeps naming it (unlike Datadog)."""
    project_uuid = check_project_id(project_id)

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_move(tx, actor, case, at, project_uuid, project_id)

    return _change_case(store, ref, actor, decide, if_match)


def check_assignee_id(assignee_id: str) -> None:
    """Refuse an assignee id that is not a UUID, before reading anything."""
    if parse_uuid(assignee_id) is None:
        raise InvalidRequestError(f"invalid assignee_id {assignee_id!r}: expected a UUID")


def decide_assign(
    tx: Transaction, actor: Actor, case: Case, at: int, assignee: UserRef
) -> Change | None:
    """To ``assignee`` (an ``assignable`` user), who also starts watching the case. A user
    who takes an open case in a project set to ``auto_transition_assigned_cases_on_self_assigned``
    moves it to its type's first In Progress status, in the same change."""
    if case.assignee is not None and case.assignee.id == assignee.id:
        return None
    old = None if case.assignee is None else case.assignee.id
    case.assignee = assignee
    changes = [
        CaseChange("assignee", old, assignee.id),
        *watch(tx, actor, case, [assignee.id], at),
    ]
    update = CaseUpdate(assignee_id=assignee.id)
    if assignee.id == actor.user_id and case.status is Status.OPEN:
        project = tx.projects.get(actor.org_id, case.project_id)
        if project is not None and projects.auto_transitions_self_assigned(project):
            case_type = case_types.type_of(tx, actor.org_id, case.type_id)
            moved = _to_status(case, case_type.first_of(Status.IN_PROGRESS), at)
            if moved is not None:
                moved_update, moved_changes = moved
                update = dataclasses.replace(moved_update, assignee_id=assignee.id)
                changes += moved_changes
    return update, changes


def assign_case(
    store: Store, ref: str, *, actor: Actor, assignee_id: str, if_match: IfMatch = None
) -> Case:
    check_assignee_id(assignee_id)

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_assign(tx, actor, case, at, assignable(tx, actor, assignee_id))

    return _change_case(store, ref, actor, decide, if_match)


def decide_unassign(case: Case) -> Change | None:
    if case.assignee is None:
        return None
    old = case.assignee.id
    case.assignee = None
    return CaseUpdate(assignee_id=None), [CaseChange("assignee", old, None)]


def unassign_case(store: Store, ref: str, *, actor: Actor, if_match: IfMatch = None) -> Case:
    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_unassign(case)

    return _change_case(store, ref, actor, decide, if_match)


def decide_archive(case: Case, at: int) -> Change | None:
    if case.archived_at is not None:
        return None
    case.archived_at = at
    return CaseUpdate(archived_at=at), [CaseChange("archived", "false", "true")]


def archive_case(store: Store, ref: str, *, actor: Actor, if_match: IfMatch = None) -> Case:
    """Archive a case: it keeps its status and drops out of search unless asked for."""

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_archive(case, at)

    return _change_case(store, ref, actor, decide, if_match)


def decide_unarchive(case: Case) -> Change | None:
    if case.archived_at is None:
        return None
    case.archived_at = None
    return CaseUpdate(archived_at=None), [CaseChange("archived", "true", "false")]


def unarchive_case(store: Store, ref: str, *, actor: Actor, if_match: IfMatch = None) -> Case:
    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_unarchive(case)

    return _change_case(store, ref, actor, decide, if_match)


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
