"""Rule shapes: ``/api/v2/cases/projects/{project_id}/notification_rules`` and ``.../rules``.

Triggers, recipients and actions are declared with every member either spec gives
them (and casebook's own: a recipient's ``url`` and ``routing_key``, an action's
``assignee_id``, ``priority``, ``status_name`` and ``comment``); the domain keeps
the members each type reads. Answers carry ``data`` as the rule keeps it.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from casebook.core.entities import (
    AutomationRule,
    NotificationRule,
    RuleAction,
    RuleRecipient,
    RuleTrigger,
)
from casebook.domain import limits
from casebook.http.schemas.common import Link, link, optional_rfc3339, rfc3339
from casebook.search import MAX_QUERY_LENGTH

Value = Annotated[str, msgspec.Meta(max_length=limits.MAX_RULE_VALUE_CHARS)]
Url = Annotated[str, msgspec.Meta(max_length=limits.MAX_DESTINATION_URL_CHARS)]
Query = Annotated[str, msgspec.Meta(max_length=MAX_QUERY_LENGTH)]
Name = Annotated[str, msgspec.Meta(max_length=limits.MAX_RULE_NAME_CHARS)]
Comment = Annotated[str, msgspec.Meta(max_length=limits.MAX_COMMENT_CHARS)]
State = Literal["ENABLED", "DISABLED"]


def _given(data: msgspec.Struct | None) -> dict[str, str]:
    """The members a request's ``data`` gives (those it leaves out or sends null, dropped)."""
    if data is None:
        return {}
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}


# --- triggers --------------------------------------------------------------------------
class TriggerData(msgspec.Struct):
    """Every member of a notification or automation rule trigger's ``data``."""

    change_type: Value | None = None
    field: Value | None = None
    from_status: Value | None = None
    from_status_name: Value | None = None
    to_status: Value | None = None
    to_status_name: Value | None = None
    approval_type: Value | None = None


class TriggerIn(msgspec.Struct):
    type: Value
    data: TriggerData | None = None

    def given(self) -> RuleTrigger:
        return RuleTrigger(self.type, _given(self.data))


class TriggerPublic(msgspec.Struct):
    type: str
    data: dict[str, str]


def trigger_public(trigger: RuleTrigger) -> TriggerPublic:
    return TriggerPublic(type=trigger.type, data=dict(trigger.data))


Triggers = Annotated[list[TriggerIn], msgspec.Meta(max_length=limits.MAX_RULE_TRIGGERS)]


# --- notification rules ----------------------------------------------------------------
class RecipientData(msgspec.Struct):
    """Every member of the spec's recipient ``data``, and casebook's ``url`` (Slack, Microsoft
    Teams) and ``routing_key`` (PagerDuty)."""

    channel: Value | None = None
    channel_id: Value | None = None
    channel_name: Value | None = None
    connector_name: Value | None = None
    email: Value | None = None
    name: Value | None = None
    service_name: Value | None = None
    team_id: Value | None = None
    team_name: Value | None = None
    tenant_id: Value | None = None
    tenant_name: Value | None = None
    workspace: Value | None = None
    workspace_id: Value | None = None
    url: Url | None = None
    routing_key: Value | None = None


class RecipientIn(msgspec.Struct):
    type: Value
    data: RecipientData | None = None

    def given(self) -> RuleRecipient:
        return RuleRecipient(self.type, _given(self.data))


class RecipientPublic(msgspec.Struct):
    type: str
    data: dict[str, str]


Recipients = Annotated[list[RecipientIn], msgspec.Meta(max_length=limits.MAX_RULE_RECIPIENTS)]


class NotificationRuleCreateAttributes(msgspec.Struct):
    recipients: Recipients
    triggers: Triggers
    is_enabled: bool | None = None
    query: Query | None = None


class NotificationRuleCreate(msgspec.Struct):
    type: str
    attributes: NotificationRuleCreateAttributes | None = None  # checked after type


class NotificationRuleCreateRequest(msgspec.Struct):
    data: NotificationRuleCreate


class NotificationRuleUpdateAttributes(msgspec.Struct):
    is_enabled: bool | None = None
    query: Query | None = None
    recipients: Recipients | None = None
    triggers: Triggers | None = None


class NotificationRuleUpdate(msgspec.Struct):
    type: str
    attributes: NotificationRuleUpdateAttributes | None = None


class NotificationRuleUpdateRequest(msgspec.Struct):
    data: NotificationRuleUpdate


class NotificationRuleAttributesPublic(msgspec.Struct):
    is_enabled: bool
    query: str
    recipients: list[RecipientPublic]
    triggers: list[TriggerPublic]


class NotificationRulePublic(msgspec.Struct):
    id: str
    type: Literal["notification_rule"]
    attributes: NotificationRuleAttributesPublic


class NotificationRuleDocument(msgspec.Struct):
    data: NotificationRulePublic


class NotificationRuleList(msgspec.Struct):
    data: list[NotificationRulePublic]


def notification_rule_public(rule: NotificationRule) -> NotificationRulePublic:
    """The rule as answered (its secrets masked by the caller: ``notification_rules.masked``)."""
    return NotificationRulePublic(
        id=rule.id,
        type="notification_rule",
        attributes=NotificationRuleAttributesPublic(
            is_enabled=rule.is_enabled,
            query=rule.query,
            recipients=[RecipientPublic(r.type, dict(r.data)) for r in rule.recipients],
            triggers=[trigger_public(t) for t in rule.triggers],
        ),
    )


# --- automation rules ------------------------------------------------------------------
class ActionData(msgspec.Struct):
    """The spec's action ``data`` (``handle``; ``agent_type`` and ``assigned_agent_id`` of
    ``ASSIGN_AGENT``, which casebook refuses) and casebook's actions' members."""

    handle: Value | None = None
    agent_type: Value | None = None
    assigned_agent_id: Value | None = None
    assignee_id: Value | None = None
    priority: Value | None = None
    status_name: Value | None = None
    comment: Comment | None = None


class ActionIn(msgspec.Struct):
    type: Value
    data: ActionData | None = None

    def given(self) -> RuleAction:
        return RuleAction(self.type, _given(self.data))


class ActionPublic(msgspec.Struct):
    type: str
    data: dict[str, str]


class AutomationRuleAttributesIn(msgspec.Struct):
    """``AutomationRuleCreateAttributes``, which both create and update send."""

    action: ActionIn
    name: Name
    trigger: TriggerIn
    state: State | None = None


class AutomationRuleIn(msgspec.Struct):
    type: str
    attributes: AutomationRuleAttributesIn | None = None  # checked after type


class AutomationRuleRequest(msgspec.Struct):
    data: AutomationRuleIn


class AutomationRuleAttributesPublic(msgspec.Struct, omit_defaults=True):
    action: ActionPublic
    created_at: str
    name: str
    state: State
    trigger: TriggerPublic
    modified_at: str | None = None


class AutomationRuleRelationshipsPublic(msgspec.Struct, omit_defaults=True):
    created_by: Link | None = None
    modified_by: Link | None = None


class AutomationRulePublic(msgspec.Struct):
    id: str
    type: Literal["rule"]
    attributes: AutomationRuleAttributesPublic
    relationships: AutomationRuleRelationshipsPublic


class AutomationRuleDocument(msgspec.Struct):
    data: AutomationRulePublic


class AutomationRuleList(msgspec.Struct):
    data: list[AutomationRulePublic]


def automation_rule_public(rule: AutomationRule) -> AutomationRulePublic:
    return AutomationRulePublic(
        id=rule.id,
        type="rule",
        attributes=AutomationRuleAttributesPublic(
            action=ActionPublic(rule.action.type, dict(rule.action.data)),
            created_at=rfc3339(rule.created_at),
            name=rule.name,
            state="ENABLED" if rule.is_enabled else "DISABLED",
            trigger=trigger_public(rule.trigger),
            modified_at=optional_rfc3339(rule.modified_at),
        ),
        relationships=AutomationRuleRelationshipsPublic(
            created_by=None if rule.created_by is None else link(rule.created_by, "user"),
            modified_by=None if rule.modified_by is None else link(rule.modified_by, "user"),
        ),
    )
