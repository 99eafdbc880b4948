"""A project's notification rules: whom to tell when something happens to its cases.

A rule has triggers (``rules.check_trigger``), recipients, a query (search language,
parsed when saved; empty: every case of the project) and ``is_enabled``. The delivery
worker reads enabled rules (``rules.notification_rules_for``); this module only keeps
them. Anyone who may write cases may change any rule of their organisation's projects
(rules are the team's, as views are).

Recipients, by type, with the members of ``data`` each needs (others are dropped):

- ``EMAIL``: ``email``, an address (kept lower-cased).
- ``HTTP``: ``name``, a webhook of the Webhooks integration API, which need not exist
  yet (its deliveries then fail, visibly, in the delivery log).
- ``SLACK_CHANNEL``: ``url``, a Slack incoming-webhook URL (casebook's member: the spec's
  ``channel``, ``channel_id``, ``workspace`` and ``workspace_id`` are labels, kept).
- ``MS_TEAMS_CHANNEL``: ``url``, a Microsoft Teams incoming-webhook URL (the spec's team,
  channel, connector and tenant members are labels, kept).
- ``PAGERDUTY_SERVICE``: ``routing_key``, the service's Events API v2 integration key
  (casebook's member; ``service_name`` is a label, kept).

``url`` and ``routing_key`` are secrets: answers show them masked (``masked``), and an
update that sends a masked value back keeps the stored one.
"""

from __future__ import annotations

import dataclasses
import email.errors
import urllib.parse
from collections.abc import Sequence
from email.headerregistry import Address

from casebook.core.clock import new_id, now_us, parse_uuid
from casebook.core.entities import Actor, NotificationRule, RuleRecipient, RuleTrigger, Scope
from casebook.core.errors import (
    ConflictError,
    InvalidRequestError,
    InvalidValueError,
    NotificationRuleNotFoundError,
)
from casebook.domain import limits
from casebook.domain.access import require_scope
from casebook.domain.rules import access_project, check_query, check_trigger, webhook_name
from casebook.domain.users import normalise_email
from casebook.storage.base import Store, Transaction

RECIPIENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "EMAIL": ("email", ()),
    "HTTP": ("name", ()),
    "SLACK_CHANNEL": ("url", ("channel", "channel_id", "workspace", "workspace_id")),
    "MS_TEAMS_CHANNEL": (
        "url",
        (
            "team_id",
            "team_name",
            "channel_name",
            "connector_name",
            "tenant_id",
            "tenant_name",
        ),
    ),
    "PAGERDUTY_SERVICE": ("routing_key", ("service_name",)),
}
"""Each recipient type: the member of ``data`` it needs, and the labels it keeps."""

SECRETS = ("url", "routing_key")
"""Members of a recipient's ``data`` that answers mask."""
MASK = "…"


def masked_value(secret: str) -> str:
    """What answers show of a secret: an URL's scheme and host, and the last four characters
    of a long secret (``https://hooks.slack.com/…Xa9Q``)."""
    tail = secret[-4:] if len(secret) >= 16 else ""
    parts = urllib.parse.urlsplit(secret)
    if parts.scheme in ("http", "https") and parts.hostname:
        return f"{parts.scheme}://{parts.hostname}/{MASK}{tail}"
    return f"{MASK}{tail}"


def masked(rule: NotificationRule) -> NotificationRule:
    """The rule as answers show it: its recipients' secrets masked."""
    recipients = [
        RuleRecipient(
            r.type, {k: masked_value(v) if k in SECRETS else v for k, v in r.data.items()}
        )
        for r in rule.recipients
    ]
    return dataclasses.replace(rule, recipients=recipients)


def _url(value: str, where: str) -> str:
    parts = urllib.parse.urlsplit(value)
    try:
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError:
        parts = parts._replace(scheme="")
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or len(value) > limits.MAX_DESTINATION_URL_CHARS
        or not value.isprintable()
        or " " in value
    ):
        raise InvalidValueError(
            f"{where}: invalid url: an http(s) URL of at most"
            f" {limits.MAX_DESTINATION_URL_CHARS} characters"
        )
    return value


def _email(value: str, where: str) -> str:
    """An address the worker can write in a ``To`` header and an SMTP envelope as it is:
    one unquoted ``local@domain`` (no commas, quotes or comments that would make it more
    than one address, or another)."""
    try:
        value = normalise_email(value)
        written = Address(addr_spec=value).addr_spec
    except (InvalidValueError, ValueError, email.errors.MessageError):
        written = ""
    if written != value:
        raise InvalidValueError(f"{where}: invalid email {value!r}")
    return value


def _check_recipient(
    given: RuleRecipient, where: str, stored: Sequence[RuleRecipient]
) -> RuleRecipient:
    kind = given.type.strip().upper()
    if kind not in RECIPIENTS:
        raise InvalidValueError(
            f"{where}: invalid recipient type {given.type}. Must be one of {', '.join(RECIPIENTS)}"
        )
    needed, labels = RECIPIENTS[kind]
    data: dict[str, str] = {}
    for member in labels:
        value = (given.data.get(member) or "").strip()
        if value:
            data[member] = value
    value = (given.data.get(needed) or "").strip()
    if not value:
        raise InvalidRequestError(f"{where}: {kind} recipients need data.{needed}")
    if needed in SECRETS and MASK in value:
        # An answer's masked secret sent back: the stored one it masks, unchanged.
        kept = next(
            (
                r.data[needed]
                for r in stored
                if r.type == kind and masked_value(r.data.get(needed, "")) == value
            ),
            None,
        )
        if kept is None:
            raise InvalidValueError(
                f"{where}: data.{needed} is masked; send the whole value (answers mask it)"
            )
        value = kept
    elif kind == "EMAIL":
        value = _email(value, where)
    elif kind == "HTTP":
        value = webhook_name(value, where)
    elif needed == "url":
        value = _url(value, where)
    elif not value.isprintable() or " " in value:
        raise InvalidValueError(f"{where}: invalid {needed}")
    data[needed] = value
    return RuleRecipient(kind, data)


def _check_triggers(
    tx: Transaction, actor: Actor, given: Sequence[RuleTrigger]
) -> list[RuleTrigger]:
    if not given:
        raise InvalidRequestError("triggers: a rule needs at least one trigger")
    if len(given) > limits.MAX_RULE_TRIGGERS:
        raise InvalidRequestError(f"triggers: at most {limits.MAX_RULE_TRIGGERS}")
    return [check_trigger(tx, actor.org_id, t, f"triggers[{i}]") for i, t in enumerate(given)]


def _check_recipients(
    given: Sequence[RuleRecipient], stored: Sequence[RuleRecipient] = ()
) -> list[RuleRecipient]:
    if not given:
        raise InvalidRequestError("recipients: a rule needs at least one recipient")
    if len(given) > limits.MAX_RULE_RECIPIENTS:
        raise InvalidRequestError(f"recipients: at most {limits.MAX_RULE_RECIPIENTS}")
    return [_check_recipient(r, f"recipients[{i}]", stored) for i, r in enumerate(given)]


def normalised(
    store: Store,
    *,
    actor: Actor,
    triggers: Sequence[RuleTrigger],
    recipients: Sequence[RuleRecipient],
) -> tuple[list[RuleTrigger], list[RuleRecipient]]:
    """The triggers and recipients as a rule made of them would keep them (``casebook
    apply`` compares a file's rules with the stored ones this way)."""
    with store.read() as tx:
        return _check_triggers(tx, actor, triggers), _check_recipients(recipients)


def _rule(tx: Transaction, actor: Actor, project_id: str, rule_id: str) -> NotificationRule:
    project = access_project(tx, actor.org_id, project_id)
    canonical = parse_uuid(rule_id)
    rule = (
        None
        if canonical is None
        else tx.notification_rules.get(actor.org_id, project.id, canonical)
    )
    if rule is None:
        raise NotificationRuleNotFoundError(rule_id)
    return rule


def create_notification_rule(
    store: Store,
    project_id: str,
    *,
    actor: Actor,
    triggers: Sequence[RuleTrigger],
    recipients: Sequence[RuleRecipient],
    query: str = "",
    is_enabled: bool = True,
) -> NotificationRule:
    """Add a rule to a project (at most ``MAX_NOTIFICATION_RULES_PER_PROJECT``)."""
    require_scope(actor, Scope.CASES_WRITE)
    query = check_query(query)
    checked_recipients = _check_recipients(recipients)
    with store.write() as tx:
        project = access_project(tx, actor.org_id, project_id)
        checked_triggers = _check_triggers(tx, actor, triggers)
        if tx.notification_rules.count(actor.org_id, project.id) >= (
            limits.MAX_NOTIFICATION_RULES_PER_PROJECT
        ):
            raise ConflictError(
                f"project {project.key} has {limits.MAX_NOTIFICATION_RULES_PER_PROJECT}"
                " notification rules already, the most one project may have"
            )
        rule = NotificationRule(
            id=new_id(),
            org_id=actor.org_id,
            project_id=project.id,
            is_enabled=is_enabled,
            query=query,
            triggers=checked_triggers,
            recipients=checked_recipients,
            created_at=now_us(),
            created_by=actor.user_id,
        )
        tx.notification_rules.insert(rule)
    return rule


def list_notification_rules(
    store: Store, project_id: str, *, actor: Actor
) -> list[NotificationRule]:
    """The project's rules, oldest first."""
    require_scope(actor, Scope.CASES_READ)
    with store.read() as tx:
        project = access_project(tx, actor.org_id, project_id)
        return tx.notification_rules.list(actor.org_id, project.id)


def update_notification_rule(
    store: Store,
    project_id: str,
    rule_id: str,
    *,
    actor: Actor,
    triggers: Sequence[RuleTrigger] | None = None,
    recipients: Sequence[RuleRecipient] | None = None,
    query: str | None = None,
    is_enabled: bool | None = None,
) -> NotificationRule:
    """Change what is sent (None: kept); a list sent replaces the whole list."""
    require_scope(actor, Scope.CASES_WRITE)
    new_query = None if query is None else check_query(query)
    with store.write() as tx:
        rule = _rule(tx, actor, project_id, rule_id)
        if triggers is not None:
            rule.triggers = _check_triggers(tx, actor, triggers)
        if recipients is not None:
            rule.recipients = _check_recipients(recipients, rule.recipients)
        if new_query is not None:
            rule.query = new_query
        if is_enabled is not None:
            rule.is_enabled = is_enabled
        rule.modified_at = now_us()
        rule.modified_by = actor.user_id
        tx.notification_rules.update(rule)
    return rule


def delete_notification_rule(store: Store, project_id: str, rule_id: str, *, actor: Actor) -> None:
    require_scope(actor, Scope.CASES_WRITE)
    with store.write() as tx:
        rule = _rule(tx, actor, project_id, rule_id)
        tx.notification_rules.delete(actor.org_id, rule.id)
