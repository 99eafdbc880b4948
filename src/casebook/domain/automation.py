"""casebook's own automation: the actions of automation rules.

Automation changes a case exactly as a person's request would: each change is the
``decide_*`` rule of ``cases.py`` (or ``comments.add_comment``), stored with its history
rows by ``cases.store_change`` or ``store_changes``. So every change is a timeline cell,
moves the case's version (its ETag), and writes an outbox event that fires triggers and
notifies like any other; and a change that would change nothing writes nothing.

Its actor is no user: ``AUTOMATION_ACTOR`` and the rule's id (``rule_actor``). That is
what the history, the outbox and a case's ``modified_by`` record, and what a timeline cell
shows as its ``automation`` (extension) in place of an ``author``. It watches nothing by
acting.

- ``carry_out``: an automation rule's ``ASSIGN_USER``, ``SET_PRIORITY``, ``SET_STATUS`` or
  ``ADD_COMMENT`` on one case, in the delivery worker's transaction that handles the event
  (``events.handle_events``), one depth deeper than the event. What cannot be applied any
  more (a user disabled since, a status the case's type lacks) is skipped, and why is
  answered, for the worker to record.
"""

from __future__ import annotations

from casebook.core.clock import now_us
from casebook.core.entities import (
    AUTOMATION_ACTOR,
    Actor,
    AutomationRule,
    Case,
    Priority,
    Scope,
    UserRef,
)
from casebook.core.errors import InvalidRequestError, NotFoundError
from casebook.domain import cases
from casebook.domain.automation_rules import ACTIONS
from casebook.domain.comments import add_comment, check_comment
from casebook.storage.base import Transaction

_SCOPES = frozenset({Scope.CASES_READ, Scope.CASES_WRITE})
_HANDLE = "automation"


def rule_actor(rule: AutomationRule, depth: int) -> Actor:
    """An automation rule acting, at ``depth``: what its changes record as who made them."""
    user = UserRef(AUTOMATION_ACTOR + rule.id, "", _HANDLE, rule.name, True)
    return Actor(user=user, org_id=rule.org_id, is_admin=False, scopes=_SCOPES, depth=depth)


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
