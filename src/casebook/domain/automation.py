"""casebook's own automation: the actions of automation rules, and the auto-close of
inactive cases.

Automation changes a case exactly as a person's request would: each change is the
``decide_*`` rule of ``cases.py`` (or ``comments.add_comment``), stored with its history
rows by ``cases.store_change`` or ``store_changes``. So every change is a timeline cell,
moves the case's version (its ETag), and writes an outbox event that fires triggers and
notifies like any other; and a change that would change nothing writes nothing.

Its actor is no user: ``AUTOMATION_ACTOR`` and the rule's id (``rule_actor``), or
``AUTO_CLOSE_ACTOR`` (``auto_close_actor``). That is what the history, the outbox and a
case's ``modified_by`` record, and what a timeline cell shows as its ``automation``
(extension) in place of an ``author``. It watches nothing by acting.

- ``carry_out``: an automation rule's ``ASSIGN_USER``, ``SET_PRIORITY``, ``SET_STATUS`` or
  ``ADD_COMMENT`` on one case, in the delivery worker's transaction that handles the event
  (``events.handle_events``), one depth deeper than the event. What cannot be applied any
  more (a user disabled since, a status the case's type lacks) is skipped, and why is
  answered, for the worker to record.
- ``close_inactive_cases``: the projects whose ``auto_close_inactive_cases`` setting is on
  close their open cases that nothing has happened to for ``max_inactive_time_in_secs``:
  a batch at a time, each in a transaction of its own.
"""

from __future__ import annotations

from collections.abc import Callable

from casebook.core.clock import now_us
from casebook.core.entities import (
    AUTO_CLOSE_ACTOR,
    AUTOMATION_ACTOR,
    Actor,
    AutomationRule,
    Case,
    Priority,
    Project,
    Scope,
    Status,
    UserRef,
)
from casebook.core.errors import InvalidRequestError, NotFoundError
from casebook.domain import cases, rules
from casebook.domain.automation_rules import ACTIONS
from casebook.domain.comments import add_comment, check_comment
from casebook.domain.projects import settings_of
from casebook.storage.base import Store, Transaction
from casebook.storage.cases import IdleCase

_SCOPES = frozenset({Scope.CASES_READ, Scope.CASES_WRITE})
_HANDLE = "automation"

AUTO_CLOSE_SETTING = "auto_close_inactive_cases"
AUTO_CLOSE_DEPTH = 1
"""The depth of the auto-close's changes: automation, as a rule acting on a person's change
is, so rules may act on a case it closed, but one step fewer times."""
AUTO_CLOSE_BATCH = 100
"""Cases one transaction of the auto-close closes at most, so that closing a million
inactive cases holds the write lock for a batch at a time, never for the whole sweep."""


def rule_actor(rule: AutomationRule, depth: int) -> Actor:
    """An automation rule acting, at ``depth``: what its changes record as who made them."""
    user = UserRef(AUTOMATION_ACTOR + rule.id, "", _HANDLE, rule.name, True)
    return Actor(user=user, org_id=rule.org_id, is_admin=False, scopes=_SCOPES, depth=depth)


def auto_close_actor(org_id: str) -> Actor:
    """The auto-close of inactive cases, acting in an organisation."""
    user = UserRef(AUTO_CLOSE_ACTOR, "", _HANDLE, "Auto-close of inactive cases", True)
    return Actor(user=user, org_id=org_id, is_admin=False, scopes=_SCOPES, depth=AUTO_CLOSE_DEPTH)


# --- the actions of automation rules ---------------------------------------------------
def carry_out(tx: Transaction, rule: AutomationRule, case_id: str, *, depth: int) -> str | None:
    """Apply ``rule``'s own action (not ``EXECUTE_WORKFLOW``) to the case, locked in ``tx``,
    as the rule acting at ``depth``. None once applied (or when there was nothing to
    change); else why it could not be, and nothing was written."""
    kind = rule.action.type
    member = ACTIONS.get(kind)
    if member is None or kind == "EXECUTE_WORKFLOW":
        return f"{kind} is not an action casebook carries out itself"
    case = tx.cases.get(rule.org_id, case_id, for_update=True)
    if case is None:  # its project was deleted since: nothing to act on
        return None
    actor = rule_actor(rule, depth)
    value = rule.action.data.get(member, "")
    at = now_us()
    try:
        if kind == "ADD_COMMENT":
            add_comment(tx, actor, case, at, check_comment(value))
            return None
        decided = _decide(tx, actor, case, at, kind, value)
    except (InvalidRequestError, NotFoundError) as exc:
        # Checked when the rule was saved, true no longer: a user disabled since, a status
        # the case's type does not have. The other errors (the database's) are the worker's
        # to retry.
        return f"{kind} was not applied: {exc.message}"
    if decided is not None:
        update, changes = decided
        cases.store_change(tx, actor, case, at, update, changes)
    return None


def _decide(
    tx: Transaction, actor: Actor, case: Case, at: int, kind: str, value: str
) -> cases.Change | None:
    if kind == "SET_PRIORITY":
        return cases.decide_priority(case, Priority.parse(value))
    if kind == "SET_STATUS":
        return cases.decide_status(tx, actor, case, at, None, value)
    assert kind == "ASSIGN_USER", kind
    return cases.decide_assign(tx, actor, case, at, cases.assignable(tx, actor, value))


# --- the auto-close of inactive cases --------------------------------------------------
def auto_close_seconds(project: Project) -> int | None:
    """How long the project's open cases may stay untouched before they are closed: its
    ``auto_close_inactive_cases.max_inactive_time_in_secs`` while ``enabled``; None when it
    is off, or when no time (or 0) is set, which closes nothing."""
    setting = settings_of(project).get(AUTO_CLOSE_SETTING)
    if not isinstance(setting, dict) or setting.get("enabled") is not True:
        return None
    seconds = setting.get("max_inactive_time_in_secs")
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
        return None
    return seconds


def close_inactive_cases(
    store: Store,
    *,
    now: int | None = None,
    batch: int = AUTO_CLOSE_BATCH,
    proceed: Callable[[], bool] = lambda: True,
) -> int:
    """Close the inactive cases of every project that auto-closes them; how many.

    A case is inactive when nothing is in its timeline since ``now`` (default: the present)
    minus the project's time: no change, no comment, nothing. Only open (not closed),
    unarchived cases of live projects close; one whose type has no closed status any more
    (a deleted type), or that an active maintenance window's query matches, is left as it
    is. Each is moved to its type's first closed status (Closed, for the built-in types)
    by ``AUTO_CLOSE_ACTOR``, with its timeline cells. Cases are found in a read
    transaction, then locked and closed ``batch`` at a time, each batch in a write
    transaction of its own; a case changed in between is left alone (it is not inactive
    any more). ``proceed`` is asked before each batch (the worker: while it holds its
    lease)."""
    at = now_us() if now is None else now
    with store.read() as tx:
        projects = tx.projects.with_setting(AUTO_CLOSE_SETTING)
    closed = 0
    for project in projects:
        seconds = auto_close_seconds(project)
        if seconds is None:
            continue
        before = at - seconds * 1_000_000
        after: IdleCase | None = None
        while proceed():
            with store.read() as tx:
                found = tx.cases.idle(
                    project.org_id, project.id, before=before, after=after, limit=batch
                )
            if found:
                closed += _close(store, project.org_id, found)
                after = found[-1]
            if len(found) < batch:
                break
    return closed


def _close(store: Store, org_id: str, found: list[IdleCase]) -> int:
    """Close the cases ``found`` that are as they were found, in one transaction."""
    actor = auto_close_actor(org_id)
    versions = {c.id: c.version for c in found}
    with store.write() as tx:
        at = now_us()
        windows = rules.active_windows(tx, org_id, at)
        changed: list[tuple[Case, cases.Change]] = []
        for case in tx.cases.get_many(org_id, versions, for_update=True):
            if case.version != versions[case.id] or case.status is Status.CLOSED:
                continue
            if any(
                rules.case_matches(tx, org_id, case, w.query, me=w.created_by, at=at)
                for w in windows
            ):
                continue
            try:
                decided = cases.decide_status(tx, actor, case, at, Status.CLOSED.value, None)
            except NotFoundError:  # its case type is gone
                continue
            if decided is not None:
                changed.append((case, decided))
        cases.store_changes(tx, actor, at, changed)
    return len(changed)
