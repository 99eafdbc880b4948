"""What rules have in common, and what the delivery worker asks of them.

A rule (``notification_rules.py``, ``automation_rules.py``) acts when a *trigger*
fires on a case of its project that matches its *query*; a maintenance window
(``maintenance_windows.py``) mutes the cases its query matches while it lasts.

Triggers are read from the history rows one command writes (``CaseChange``: the
``created`` row of a new case, ``status``/``status_name`` of a status move, a
field's row, ``comment``), so whatever writes history — a single change, a bulk,
an automation acting — fires them alike (``triggered``). Queries are the search
language, parsed when a rule or window is saved and matched by the search itself
(``case_matches``), never by a second evaluator.

The worker's calls, each inside one of its transactions: ``notification_rules_for``
and ``automation_rules_for`` (the enabled rules of the case's project that fire on
the changes and match the case), ``muting_window`` (the active window that mutes the
case), and the pieces they are made of.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from casebook.core.clock import now_us, parse_uuid
from casebook.core.entities import (
    BUILTIN_CASE_TYPES,
    COMMENT_ADDED,
    AutomationRule,
    Case,
    CaseChange,
    MaintenanceWindow,
    NotificationRule,
    Project,
    RuleTrigger,
    Status,
)
from casebook.core.errors import (
    InvalidRequestError,
    InvalidValueError,
    ProjectNotFoundError,
)
from casebook.search import MAX_QUERY_LENGTH, And, ArchivedIs, CaseKeyIs, MatchAll, parse
from casebook.storage.base import Transaction

TRIGGER_TYPES = ("CASE_CREATED", "STATUS_TRANSITIONED", "ATTRIBUTE_VALUE_CHANGED", "COMMENT_ADDED")
"""The triggers casebook fires."""
UNSUPPORTED_TRIGGERS = {
    "EVENT_CORRELATION_SIGNAL_CORRELATED": "casebook has no event correlation",
    "CASE_REVIEW_APPROVED": "casebook has no case reviews",
}
"""Datadog's triggers that nothing in casebook can fire: refused when saved, rather than
kept by a rule that would never act."""

CHANGE_TYPES = {
    "VALUE_ADDED": "VALUE_ADDED",
    "ADDED": "VALUE_ADDED",
    "VALUE_DELETED": "VALUE_DELETED",
    "DELETED": "VALUE_DELETED",
    "REMOVED": "VALUE_DELETED",
    "ANY_CHANGES": "ANY_CHANGES",
    "CHANGED": "ANY_CHANGES",
}
"""An ``ATTRIBUTE_VALUE_CHANGED`` trigger's ``change_type`` (any letter case; the automation
spec's names and the notification spec's), by what it means."""

CASE_FIELDS = frozenset(
    {
        "priority",
        "assignee",
        "title",
        "description",
        "due_date",
        "resolved_reason",
        "type",
        "project",
        "key",
        "archived",
        "insights",
        "attributes",
        "status",
        "status_name",
    }
)
"""Fields of the case an ``ATTRIBUTE_VALUE_CHANGED`` trigger may name, as its history
(and the timeline) names them."""
ATTRIBUTES_PREFIX = "attributes."
CUSTOM_PREFIX = "custom_attributes."

_STATUS_MEMBERS = ("from_status", "to_status", "from_status_name", "to_status_name")


# --- checks when a rule is saved -------------------------------------------------------
def check_query(query: str) -> str:
    """A rule's or window's query, parsed (400 naming the term and its position, as a
    search answers)."""
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidRequestError(f"query is longer than {MAX_QUERY_LENGTH} characters")
    parse(query, now_us=now_us())  # raises InvalidQueryError with the position
    return query


def status_names(tx: Transaction, org_id: str) -> dict[str, str]:
    """Every status name of the organisation's live case types, built-in ones included,
    by its case-folded form."""
    types = [*BUILTIN_CASE_TYPES.values(), *tx.case_types.list(org_id)]
    return {s.name.casefold(): s.name for t in types for s in t.statuses}


def _member(data: dict[str, str], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def check_trigger(tx: Transaction, org_id: str, given: RuleTrigger, where: str) -> RuleTrigger:
    """A trigger as a rule keeps it: its type in upper case, and the members of ``data`` its
    type reads (others dropped, blanks dropped), each checked. ``where`` names it in errors
    (``triggers[1]``)."""
    kind = given.type.strip().upper()
    if kind in UNSUPPORTED_TRIGGERS:
        raise InvalidValueError(
            f"{where}: {kind} triggers are not supported: {UNSUPPORTED_TRIGGERS[kind]}"
        )
    if kind not in TRIGGER_TYPES:
        raise InvalidValueError(
            f"{where}: invalid trigger type {given.type}. Must be one of {', '.join(TRIGGER_TYPES)}"
        )
    data: dict[str, str] = {}
    if kind == "STATUS_TRANSITIONED":
        names: dict[str, str] | None = None
        for member in _STATUS_MEMBERS:
            value = _member(given.data, member)
            if value is None:
                continue
            if member.endswith("_name"):
                names = status_names(tx, org_id) if names is None else names
                if value.casefold() not in names:
                    raise InvalidValueError(
                        f"{where}: invalid {member} {value}: no case type has a status of that"
                        f" name (statuses: {', '.join(sorted(set(names.values())))})"
                    )
            else:
                try:
                    Status.of_group(value)
                except InvalidValueError:
                    raise InvalidValueError(
                        f"{where}: invalid {member} {value}. Must be a status group: OPEN,"
                        " IN_PROGRESS or CLOSED (or SG_OPEN, SG_IN_PROGRESS, SG_CLOSED)"
                    ) from None
            data[member] = value
    elif kind == "ATTRIBUTE_VALUE_CHANGED":
        field = _member(given.data, "field")
        if field is None:
            raise InvalidRequestError(f"{where}: ATTRIBUTE_VALUE_CHANGED needs data.field")
        if not field.isprintable() or field in (ATTRIBUTES_PREFIX, CUSTOM_PREFIX):
            raise InvalidValueError(f"{where}: invalid field {field!r}")
        data["field"] = field
        change_type = _member(given.data, "change_type")
        if change_type is not None:
            if change_type.upper() not in CHANGE_TYPES:
                raise InvalidValueError(
                    f"{where}: invalid change_type {change_type}. Must be one of VALUE_ADDED,"
                    " VALUE_DELETED, ANY_CHANGES"
                )
            data["change_type"] = change_type
    return RuleTrigger(kind, data)


def webhook_name(value: str, where: str) -> str:
    """A webhook's name, as an ``HTTP`` recipient or an ``EXECUTE_WORKFLOW`` handle gives it:
    printable, without spaces (``@webhook-<name>`` in Datadog's notifications)."""
    if not value.isprintable() or any(ch.isspace() for ch in value):
        raise InvalidValueError(f"{where}: invalid webhook name {value!r}: no spaces")
    return value


def access_project(tx: Transaction, org_id: str, project_id: str) -> Project:
    """A live project of the organisation; another's, or a deleted one, is 404 like none."""
    canonical = parse_uuid(project_id)
    project = None if canonical is None else tx.projects.get(org_id, canonical)
    if project is None:
        raise ProjectNotFoundError(project_id)
    return project


# --- triggers against history rows -----------------------------------------------------
def triggered(trigger: RuleTrigger, changes: Sequence[CaseChange]) -> bool:
    """Whether the history rows one command wrote on one case fire ``trigger``.

    - ``CASE_CREATED``: the case was created (its ``created`` row).
    - ``COMMENT_ADDED``: a comment was added (a ``comment`` row; edits and deletions are not).
    - ``STATUS_TRANSITIONED``: the case moved to another status. ``from_status`` and
      ``to_status`` name status groups and match moves between groups only;
      ``from_status_name`` and ``to_status_name`` name statuses (any letter case). Each
      member left out matches any.
    - ``ATTRIBUTE_VALUE_CHANGED``: ``field`` changed: a field of the case (``CASE_FIELDS``,
      ``priority``, ``assignee``...), ``attributes.<key>`` (one key of the ``attributes``
      map), ``custom_attributes.<key>`` (a custom attribute), or a bare name that is none of
      the case's fields: that key of the ``attributes`` map or that custom attribute.
      ``change_type``: ``VALUE_ADDED`` (a value the field did not have), ``VALUE_DELETED``
      (a value it no longer has), ``ANY_CHANGES`` (the default). A field's values are a set:
      P2 -> P1 both adds P1 and deletes P2; ``NOT_DEFINED``, an unset field and
      ``archived`` false hold none.
    """
    kind = trigger.type
    if kind == "CASE_CREATED":
        return any(c.field == "created" for c in changes)
    if kind == "COMMENT_ADDED":
        return any(c.field == COMMENT_ADDED for c in changes)
    if kind == "STATUS_TRANSITIONED":
        return _transitioned(trigger.data, changes)
    if kind == "ATTRIBUTE_VALUE_CHANGED":
        field = trigger.data.get("field", "")
        change_type = CHANGE_TYPES.get(trigger.data.get("change_type", "").upper(), "ANY_CHANGES")
        return any(_changed(old, new, change_type) for old, new in _values_of(field, changes))
    return False


def _group(value: str | None) -> Status | None:
    if value is None:
        return None
    try:
        return Status.of_group(value)
    except InvalidValueError:
        return None


def _transitioned(data: dict[str, str], changes: Sequence[CaseChange]) -> bool:
    group = next((c for c in changes if c.field == "status"), None)
    named = next((c for c in changes if c.field == "status_name"), None)
    if group is None and named is None:
        return False
    groups = (None, None) if group is None else (_group(group.old), _group(group.new))
    if named is not None:
        names = (named.old or "", named.new or "")
    else:  # the groups' own names: a Standard case's move writes no status_name row
        old, new = groups
        names = ("" if old is None else old.display_name, "" if new is None else new.display_name)
    for member, have in zip(("from_status", "to_status"), groups, strict=True):
        want = data.get(member)
        if want is not None and (have is None or have is not _group(want)):
            return False
    for member, name in zip(("from_status_name", "to_status_name"), names, strict=True):
        want = data.get(member)
        if want is not None and want.strip().casefold() != name.casefold():
            return False
    return True


Values = frozenset[str]


def _changed(old: Values, new: Values, change_type: str) -> bool:
    if change_type == "VALUE_ADDED":
        return bool(new - old)
    if change_type == "VALUE_DELETED":
        return bool(old - new)
    return old != new


def _json(text: str | None) -> object:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _scalar_values(field: str, value: str | None) -> Values:
    if value is None or value == "":
        return frozenset()
    if field == "priority" and value == "NOT_DEFINED":
        return frozenset()
    if field == "archived":
        return frozenset({"archived"}) if value == "true" else frozenset()
    if field == "insights":
        found = _json(value)
        items = found if isinstance(found, list) else []
        return frozenset(json.dumps(i, sort_keys=True) for i in items)
    if field == "attributes":
        return frozenset(
            f"{key}:{v}" for key, values in _attribute_map(value).items() for v in values
        )
    return frozenset({value})


def _attribute_map(text: str | None) -> dict[str, list[str]]:
    found = _json(text)
    if not isinstance(found, dict):
        return {}
    return {str(k): [str(x) for x in v] for k, v in found.items() if isinstance(v, list)}


def _custom_values(text: str | None) -> Values:
    found = _json(text)
    if found is None:
        return frozenset()
    items = found if isinstance(found, list) else [found]
    return frozenset(json.dumps(i) for i in items)


def _values_of(field: str, changes: Sequence[CaseChange]) -> Iterator[tuple[Values, Values]]:
    """(values before, values after) of ``field`` for each row of ``changes`` about it."""
    key = None  # a key of the attributes map
    custom = None  # a custom attribute's history field
    if field in CASE_FIELDS:
        for c in changes:
            if c.field == field:
                yield _scalar_values(field, c.old), _scalar_values(field, c.new)
        return
    if field.startswith(ATTRIBUTES_PREFIX):
        key = field.removeprefix(ATTRIBUTES_PREFIX)
    elif field.startswith(CUSTOM_PREFIX):
        custom = field
    else:
        key, custom = field, CUSTOM_PREFIX + field
    for c in changes:
        if key is not None and c.field == "attributes":
            before, after = _attribute_map(c.old), _attribute_map(c.new)
            yield frozenset(before.get(key, [])), frozenset(after.get(key, []))
        elif custom is not None and c.field == custom:
            yield _custom_values(c.old), _custom_values(c.new)


# --- queries against cases -------------------------------------------------------------
def case_matches(
    tx: Transaction,
    org_id: str,
    case: Case,
    query: str,
    *,
    me: str | None = None,
    at: int | None = None,
) -> bool:
    """Whether ``case`` matches ``query``, by the search itself: the query ANDed with the
    case's key, as ``GET /api/v2/cases?filter=key:SEC-12 archived:* (<query>)`` would.

    Archived cases match too, unless the query says ``archived:false``; ``me`` is the user
    the query's ``me`` names (a rule's or window's author; None matches no one); ``at``
    anchors relative times (``created_at:>now-1h``; default: now). A case of a deleted
    project matches nothing.
    """
    tree = parse(query, now_us=now_us() if at is None else at)
    terms = (CaseKeyIs(case.key), ArchivedIs(None))
    scoped = And(terms if isinstance(tree, MatchAll) else (*terms, tree))
    found, _ = tx.cases.search(
        org_id,
        scoped,
        actor_user_id=me or "",
        sort="created_at",
        ascending=False,
        limit=1,
        offset=0,
    )
    return any(c.id == case.id for c in found)


# --- what the worker reads -------------------------------------------------------------
def enabled_notification_rules(
    tx: Transaction, org_id: str, project_id: str
) -> list[NotificationRule]:
    """The project's enabled notification rules, oldest first (none for a deleted project)."""
    return tx.notification_rules.list(org_id, project_id, enabled_only=True)


def enabled_automation_rules(tx: Transaction, org_id: str, project_id: str) -> list[AutomationRule]:
    """The project's enabled automation rules, oldest first (none for a deleted project)."""
    return tx.automation_rules.list(org_id, project_id, enabled_only=True)


def active_windows(tx: Transaction, org_id: str, at: int) -> list[MaintenanceWindow]:
    """The organisation's maintenance windows that ``at`` (microseconds) falls in:
    ``start_at <= at < end_at``."""
    return tx.maintenance_windows.active(org_id, at)


def notification_rules_for(
    tx: Transaction, case: Case, changes: Sequence[CaseChange]
) -> list[NotificationRule]:
    """The enabled notification rules of the case's project that one of ``changes`` (the
    history rows of one command on ``case``, the case as it is after them) fires: a trigger
    of the rule fires, and the case matches its query (``me``: the rule's author)."""
    return [
        rule
        for rule in enabled_notification_rules(tx, case.org_id, case.project_id)
        if any(triggered(t, changes) for t in rule.triggers)
        and case_matches(tx, case.org_id, case, rule.query, me=rule.created_by)
    ]


def automation_rules_for(
    tx: Transaction, case: Case, changes: Sequence[CaseChange]
) -> list[AutomationRule]:
    """The enabled automation rules of the case's project whose trigger ``changes`` fires.
    (Automation rules have no query of their own: every case of the project.)"""
    return [
        rule
        for rule in enabled_automation_rules(tx, case.org_id, case.project_id)
        if triggered(rule.trigger, changes)
    ]


def muting_window(tx: Transaction, case: Case, at: int) -> MaintenanceWindow | None:
    """The first maintenance window active ``at`` whose query matches ``case``, if any: then
    the case's events notify no one and run no automation."""
    for window in active_windows(tx, case.org_id, at):
        if case_matches(tx, case.org_id, case, window.query, me=window.created_by, at=at):
            return window
    return None
