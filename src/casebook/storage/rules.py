"""A project's rules: ``notification_rules`` and ``automation_rules``.

A rule's triggers, recipients and action are free-form JSON columns (their shapes are
checked by the domain, and by the request structs before it); a rule of a deleted
project is found by no query, and comes back with the project.
"""

from __future__ import annotations

import builtins
from typing import Any, Protocol

import msgspec

from casebook.core.entities import (
    AutomationRule,
    NotificationRule,
    RuleAction,
    RuleRecipient,
    RuleTrigger,
)
from casebook.storage.columns import Column, Table, json_text
from casebook.storage.executor import Repository

_triggers = msgspec.json.Decoder(list[RuleTrigger])
_recipients = msgspec.json.Decoder(list[RuleRecipient])
_trigger = msgspec.json.Decoder(RuleTrigger)
_action = msgspec.json.Decoder(RuleAction)

NOTIFICATION_RULES = Table(
    "notification_rules",
    NotificationRule,
    (
        Column("id"),
        Column("org_id"),
        Column("project_id"),
        Column("is_enabled", load=bool, dump=int),
        Column("query"),
        Column("triggers", load=_triggers.decode, dump=json_text),
        Column("recipients", load=_recipients.decode, dump=json_text),
        Column("created_at"),
        Column("created_by"),
        Column("modified_at"),
        Column("modified_by"),
    ),
)

AUTOMATION_RULES = Table(
    "automation_rules",
    AutomationRule,
    (
        Column("id"),
        Column("org_id"),
        Column("project_id"),
        Column("name"),
        Column("is_enabled", load=bool, dump=int),
        Column("trigger", load=_trigger.decode, dump=json_text),
        Column("action", load=_action.decode, dump=json_text),
        Column("created_at"),
        Column("created_by"),
        Column("modified_at"),
        Column("modified_by"),
    ),
)

# What update() writes; the rest is set once, by insert().
_NOTIFICATION_CHANGEABLE = (
    "is_enabled",
    "query",
    "triggers",
    "recipients",
    "modified_at",
    "modified_by",
)
_AUTOMATION_CHANGEABLE = ("name", "is_enabled", "trigger", "action", "modified_at", "modified_by")


class _Statements:
    """The statements of one rule table, whose rows belong to live projects only."""

    def __init__(self, table: Table[Any], changeable: tuple[str, ...]) -> None:
        name = table.name
        select = f"SELECT {table.select('r')} FROM {name} r JOIN projects p ON p.id = r.project_id"
        live = "r.org_id = ? AND r.project_id = ? AND p.deleted_at IS NULL"
        self.get = f"{select} WHERE {live} AND r.id = ?"
        self.list = f"{select} WHERE {live} ORDER BY r.created_at, r.id"
        self.enabled = f"{select} WHERE {live} AND r.is_enabled = 1 ORDER BY r.created_at, r.id"
        self.count = f"SELECT count(*) FROM {name} WHERE org_id = ? AND project_id = ?"
        self.update = (
            f"UPDATE {name} SET {table.assignments(changeable)} WHERE org_id = ? AND id = ?"
        )
        self.delete = f"DELETE FROM {name} WHERE org_id = ? AND id = ?"


_NOTIFICATION = _Statements(NOTIFICATION_RULES, _NOTIFICATION_CHANGEABLE)
_AUTOMATION = _Statements(AUTOMATION_RULES, _AUTOMATION_CHANGEABLE)


class NotificationRules(Protocol):
    def insert(self, rule: NotificationRule) -> None: ...
    def get(self, org_id: str, project_id: str, rule_id: str) -> NotificationRule | None:
        """The project's rule, unless it or its project is gone."""
        ...

    def list(
        self, org_id: str, project_id: str, *, enabled_only: bool = False
    ) -> builtins.list[NotificationRule]:
        """The project's rules (or its enabled ones), oldest first; none for a deleted
        project."""
        ...

    def count(self, org_id: str, project_id: str) -> int: ...
    def update(self, rule: NotificationRule) -> None:
        """Store what a rule's ``is_enabled``, query, triggers, recipients and last change
        now are."""
        ...

    def delete(self, org_id: str, rule_id: str) -> None: ...


class SqlNotificationRules(Repository):
    """Implements ``NotificationRules``."""

    __slots__ = ()

    def insert(self, rule: NotificationRule) -> None:
        self._sql.execute(NOTIFICATION_RULES.insert, NOTIFICATION_RULES.row(rule))

    def get(self, org_id: str, project_id: str, rule_id: str) -> NotificationRule | None:
        row = self._sql.one(_NOTIFICATION.get, (org_id, project_id, rule_id))
        return None if row is None else NOTIFICATION_RULES.load(row)

    def list(
        self, org_id: str, project_id: str, *, enabled_only: bool = False
    ) -> builtins.list[NotificationRule]:
        sql = _NOTIFICATION.enabled if enabled_only else _NOTIFICATION.list
        return [NOTIFICATION_RULES.load(row) for row in self._sql.all(sql, (org_id, project_id))]

    def count(self, org_id: str, project_id: str) -> int:
        row = self._sql.one(_NOTIFICATION.count, (org_id, project_id))
        assert row is not None
        return int(row[0])

    def update(self, rule: NotificationRule) -> None:
        values = NOTIFICATION_RULES.dump(rule, _NOTIFICATION_CHANGEABLE)
        self._sql.execute(_NOTIFICATION.update, (*values, rule.org_id, rule.id))

    def delete(self, org_id: str, rule_id: str) -> None:
        self._sql.execute(_NOTIFICATION.delete, (org_id, rule_id))


class AutomationRules(Protocol):
    def insert(self, rule: AutomationRule) -> None: ...
    def get(self, org_id: str, project_id: str, rule_id: str) -> AutomationRule | None:
        """The project's rule, unless it or its project is gone."""
        ...

    def list(
        self, org_id: str, project_id: str, *, enabled_only: bool = False
    ) -> builtins.list[AutomationRule]:
        """The project's rules (or its enabled ones), oldest first; none for a deleted
        project."""
        ...

    def count(self, org_id: str, project_id: str) -> int: ...
    def update(self, rule: AutomationRule) -> None:
        """Store what a rule's name, state, trigger, action and last change now are."""
        ...

    def delete(self, org_id: str, rule_id: str) -> None: ...


class SqlAutomationRules(Repository):
    """Implements ``AutomationRules``."""

    __slots__ = ()

    def insert(self, rule: AutomationRule) -> None:
        self._sql.execute(AUTOMATION_RULES.insert, AUTOMATION_RULES.row(rule))

    def get(self, org_id: str, project_id: str, rule_id: str) -> AutomationRule | None:
        row = self._sql.one(_AUTOMATION.get, (org_id, project_id, rule_id))
        return None if row is None else AUTOMATION_RULES.load(row)

    def list(
        self, org_id: str, project_id: str, *, enabled_only: bool = False
    ) -> builtins.list[AutomationRule]:
        sql = _AUTOMATION.enabled if enabled_only else _AUTOMATION.list
        return [AUTOMATION_RULES.load(row) for row in self._sql.all(sql, (org_id, project_id))]

    def count(self, org_id: str, project_id: str) -> int:
        row = self._sql.one(_AUTOMATION.count, (org_id, project_id))
        assert row is not None
        return int(row[0])

    def update(self, rule: AutomationRule) -> None:
        values = AUTOMATION_RULES.dump(rule, _AUTOMATION_CHANGEABLE)
        self._sql.execute(_AUTOMATION.update, (*values, rule.org_id, rule.id))

    def delete(self, org_id: str, rule_id: str) -> None:
        self._sql.execute(_AUTOMATION.delete, (org_id, rule_id))
