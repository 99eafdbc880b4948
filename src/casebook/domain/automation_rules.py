"""A project's automation rules: what casebook does by itself when something happens.

A rule has a name, one trigger (``rules.check_trigger``), one action and a state
(enabled or not; ``EnableCaseAutomationRule`` and ``DisableCaseAutomationRule`` are
idempotent). The delivery worker runs the enabled rules
(``rules.automation_rules_for``); this module only keeps them, checked when saved.

Actions, by type, with the member of ``data`` each needs (others are dropped):

- ``EXECUTE_WORKFLOW``: ``handle``, a webhook of the Webhooks integration API (it need
  not exist yet): casebook has no workflows, so the worker makes the signed HTTP call a
  webhook delivery is.
- casebook's own changes of the case (extensions): ``ASSIGN_USER`` (``assignee_id``, an
  active user of the organisation), ``SET_PRIORITY`` (``priority``), ``SET_STATUS``
  (``status_name``, a status some case type of the organisation has) and ``ADD_COMMENT``
  (``comment``).

``ASSIGN_AGENT`` is refused: casebook has no AI agents.
"""

from __future__ import annotations

from casebook.core.clock import new_id, now_us, parse_uuid
from casebook.core.entities import Actor, AutomationRule, Priority, RuleAction, RuleTrigger, Scope
from casebook.core.errors import (
    AutomationRuleNotFoundError,
    ConflictError,
    InvalidRequestError,
    InvalidValueError,
)
from casebook.domain import limits
from casebook.domain.access import require_scope
from casebook.domain.cases import assignable
from casebook.domain.comments import check_comment
from casebook.domain.rules import access_project, check_trigger, status_names, webhook_name
from casebook.storage.base import Store, Transaction

ACTIONS: dict[str, str] = {
    "EXECUTE_WORKFLOW": "handle",
    "ASSIGN_USER": "assignee_id",
    "SET_PRIORITY": "priority",
    "SET_STATUS": "status_name",
    "ADD_COMMENT": "comment",
}
"""Each action type and the member of ``data`` it needs."""
EXTENSION_ACTIONS = frozenset({"ASSIGN_USER", "SET_PRIORITY", "SET_STATUS", "ADD_COMMENT"})
UNSUPPORTED_ACTIONS = {"ASSIGN_AGENT": "casebook has no AI agents"}


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > limits.MAX_RULE_NAME_CHARS or not name.isprintable():
        raise InvalidValueError(
            f"invalid rule name: 1 to {limits.MAX_RULE_NAME_CHARS} printable characters"
        )
    return name


def _check_action(tx: Transaction, actor: Actor, given: RuleAction) -> RuleAction:
    kind = given.type.strip().upper()
    if kind in UNSUPPORTED_ACTIONS:
        raise InvalidValueError(
            f"action: {kind} actions are not supported: {UNSUPPORTED_ACTIONS[kind]}"
        )
    if kind not in ACTIONS:
        raise InvalidValueError(
            f"action: invalid action type {given.type}. Must be one of {', '.join(ACTIONS)}"
        )
    member = ACTIONS[kind]
    raw = given.data.get(member)
    value = None if raw is None else (raw if kind == "ADD_COMMENT" else raw.strip())
    if not value or not value.strip():
        raise InvalidRequestError(f"action: {kind} actions need data.{member}")
    if kind == "EXECUTE_WORKFLOW":
        value = webhook_name(value, "action")
    elif kind == "ASSIGN_USER":
        value = assignable(tx, actor, value).id
    elif kind == "SET_PRIORITY":
        value = Priority.parse(value).value
    elif kind == "SET_STATUS":
        names = status_names(tx, actor.org_id)
        if value.casefold() not in names:
            raise InvalidValueError(
                f"action: invalid status_name {value}: no case type has a status of that name"
                f" (statuses: {', '.join(sorted(set(names.values())))})"
            )
    else:
        try:
            value = check_comment(value)
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"action: {exc.message}") from None
    return RuleAction(kind, {member: value})


def _rule(tx: Transaction, actor: Actor, project_id: str, rule_id: str) -> AutomationRule:
    project = access_project(tx, actor.org_id, project_id)
    canonical = parse_uuid(rule_id)
    rule = (
        None if canonical is None else tx.automation_rules.get(actor.org_id, project.id, canonical)
    )
    if rule is None:
        raise AutomationRuleNotFoundError(rule_id)
    return rule


def create_automation_rule(
    store: Store,
    project_id: str,
    *,
    actor: Actor,
    name: str,
    trigger: RuleTrigger,
    action: RuleAction,
    is_enabled: bool | None = None,
) -> AutomationRule:
    """Add a rule to a project, enabled unless said otherwise (at most
    ``MAX_AUTOMATION_RULES_PER_PROJECT``)."""
    require_scope(actor, Scope.CASES_WRITE)
    name = _check_name(name)
    with store.write() as tx:
        project = access_project(tx, actor.org_id, project_id)
        checked_trigger = check_trigger(tx, actor.org_id, trigger, "trigger")
        checked_action = _check_action(tx, actor, action)
        if tx.automation_rules.count(actor.org_id, project.id) >= (
            limits.MAX_AUTOMATION_RULES_PER_PROJECT
        ):
            raise ConflictError(
                f"project {project.key} has {limits.MAX_AUTOMATION_RULES_PER_PROJECT}"
                " automation rules already, the most one project may have"
            )
        rule = AutomationRule(
            id=new_id(),
            org_id=actor.org_id,
            project_id=project.id,
            name=name,
            is_enabled=True if is_enabled is None else is_enabled,
            trigger=checked_trigger,
            action=checked_action,
            created_at=now_us(),
            created_by=actor.user_id,
        )
        tx.automation_rules.insert(rule)
    return rule


def list_automation_rules(store: Store, project_id: str, *, actor: Actor) -> list[AutomationRule]:
    """The project's rules, oldest first."""
    require_scope(actor, Scope.CASES_READ)
    with store.read() as tx:
        project = access_project(tx, actor.org_id, project_id)
        return tx.automation_rules.list(actor.org_id, project.id)


def get_automation_rule(
    store: Store, project_id: str, rule_id: str, *, actor: Actor
) -> AutomationRule:
    require_scope(actor, Scope.CASES_READ)
    with store.read() as tx:
        return _rule(tx, actor, project_id, rule_id)


def update_automation_rule(
    store: Store,
    project_id: str,
    rule_id: str,
    *,
    actor: Actor,
    name: str,
    trigger: RuleTrigger,
    action: RuleAction,
    is_enabled: bool | None = None,
) -> AutomationRule:
    """Replace a rule's name, trigger and action (all three are required, as on create);
    its state changes only if ``is_enabled`` is given."""
    require_scope(actor, Scope.CASES_WRITE)
    name = _check_name(name)
    with store.write() as tx:
        rule = _rule(tx, actor, project_id, rule_id)
        rule.name = name
        rule.trigger = check_trigger(tx, actor.org_id, trigger, "trigger")
        rule.action = _check_action(tx, actor, action)
        if is_enabled is not None:
            rule.is_enabled = is_enabled
        rule.modified_at = now_us()
        rule.modified_by = actor.user_id
        tx.automation_rules.update(rule)
    return rule


def set_automation_rule_state(
    store: Store, project_id: str, rule_id: str, *, actor: Actor, enabled: bool
) -> AutomationRule:
    """Enable or disable a rule; one already so is answered unchanged (nothing written)."""
    require_scope(actor, Scope.CASES_WRITE)
    with store.write() as tx:
        rule = _rule(tx, actor, project_id, rule_id)
        if rule.is_enabled is not enabled:
            rule.is_enabled = enabled
            rule.modified_at = now_us()
            rule.modified_by = actor.user_id
            tx.automation_rules.update(rule)
    return rule


def enable_automation_rule(
    store: Store, project_id: str, rule_id: str, *, actor: Actor
) -> AutomationRule:
    return set_automation_rule_state(store, project_id, rule_id, actor=actor, enabled=True)


def disable_automation_rule(
    store: Store, project_id: str, rule_id: str, *, actor: Actor
) -> AutomationRule:
    return set_automation_rule_state(store, project_id, rule_id, actor=actor, enabled=False)


def delete_automation_rule(store: Store, project_id: str, rule_id: str, *, actor: Actor) -> None:
    require_scope(actor, Scope.CASES_WRITE)
    with store.write() as tx:
        rule = _rule(tx, actor, project_id, rule_id)
        tx.automation_rules.delete(actor.org_id, rule.id)
