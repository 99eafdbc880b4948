"""Rule handlers: ``/api/v2/cases/projects/{project_id}/notification_rules`` and ``.../rules``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import Actor, AutomationRule
from casebook.domain import automation_rules, notification_rules
from casebook.http.endpoint import Context, decode, jsonapi, present, require_type
from casebook.http.schemas.rules import (
    AutomationRuleDocument,
    AutomationRuleList,
    AutomationRuleRequest,
    NotificationRuleCreateRequest,
    NotificationRuleDocument,
    NotificationRuleList,
    NotificationRuleUpdateRequest,
    automation_rule_public,
    notification_rule_public,
)


def _ids(request: Request, rule: str) -> tuple[str, str]:
    return request.path_params["project_id"], request.path_params[rule]


# --- notification rules ----------------------------------------------------------------
async def list_notification_rules(request: Request, ctx: Context, actor: Actor) -> Response:
    found = notification_rules.list_notification_rules(
        ctx.store, request.path_params["project_id"], actor=actor
    )
    return jsonapi(
        NotificationRuleList(
            [notification_rule_public(notification_rules.masked(r)) for r in found]
        )
    )


async def create_notification_rule(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, NotificationRuleCreateRequest)
    require_type(body.data.type, "notification_rule")
    attrs = present(body.data.attributes, "data.attributes")
    rule = notification_rules.create_notification_rule(
        ctx.store,
        request.path_params["project_id"],
        actor=actor,
        triggers=[t.given() for t in attrs.triggers],
        recipients=[r.given() for r in attrs.recipients],
        query="" if attrs.query is None else attrs.query,
        is_enabled=True if attrs.is_enabled is None else attrs.is_enabled,
    )
    public = notification_rule_public(notification_rules.masked(rule))
    return jsonapi(NotificationRuleDocument(public), 201)


async def update_notification_rule(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, NotificationRuleUpdateRequest)
    require_type(body.data.type, "notification_rule")
    attrs = body.data.attributes
    project_id, rule_id = _ids(request, "notification_rule_id")
    notification_rules.update_notification_rule(
        ctx.store,
        project_id,
        rule_id,
        actor=actor,
        triggers=None
        if attrs is None or attrs.triggers is None
        else [t.given() for t in attrs.triggers],
        recipients=None
        if attrs is None or attrs.recipients is None
        else [r.given() for r in attrs.recipients],
        query=None if attrs is None else attrs.query,
        is_enabled=None if attrs is None else attrs.is_enabled,
    )
    return Response(status_code=204)  # as the spec declares: no body


async def delete_notification_rule(request: Request, ctx: Context, actor: Actor) -> Response:
    project_id, rule_id = _ids(request, "notification_rule_id")
    notification_rules.delete_notification_rule(ctx.store, project_id, rule_id, actor=actor)
    return Response(status_code=204)


# --- automation rules ------------------------------------------------------------------
def _rule(rule: AutomationRule, status: int = 200) -> Response:
    return jsonapi(AutomationRuleDocument(automation_rule_public(rule)), status)


async def list_automation_rules(request: Request, ctx: Context, actor: Actor) -> Response:
    found = automation_rules.list_automation_rules(
        ctx.store, request.path_params["project_id"], actor=actor
    )
    return jsonapi(AutomationRuleList([automation_rule_public(r) for r in found]))


async def create_automation_rule(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, AutomationRuleRequest)
    require_type(body.data.type, "rule")
    attrs = present(body.data.attributes, "data.attributes")
    rule = automation_rules.create_automation_rule(
        ctx.store,
        request.path_params["project_id"],
        actor=actor,
        name=attrs.name,
        trigger=attrs.trigger.given(),
        action=attrs.action.given(),
        is_enabled=None if attrs.state is None else attrs.state == "ENABLED",
    )
    return _rule(rule, 201)


async def get_automation_rule(request: Request, ctx: Context, actor: Actor) -> Response:
    project_id, rule_id = _ids(request, "rule_id")
    return _rule(automation_rules.get_automation_rule(ctx.store, project_id, rule_id, actor=actor))


async def update_automation_rule(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, AutomationRuleRequest)
    require_type(body.data.type, "rule")
    attrs = present(body.data.attributes, "data.attributes")
    project_id, rule_id = _ids(request, "rule_id")
    rule = automation_rules.update_automation_rule(
        ctx.store,
        project_id,
        rule_id,
        actor=actor,
        name=attrs.name,
        trigger=attrs.trigger.given(),
        action=attrs.action.given(),
        is_enabled=None if attrs.state is None else attrs.state == "ENABLED",
    )
    return _rule(rule)


async def delete_automation_rule(request: Request, ctx: Context, actor: Actor) -> Response:
    project_id, rule_id = _ids(request, "rule_id")
    automation_rules.delete_automation_rule(ctx.store, project_id, rule_id, actor=actor)
    return Response(status_code=204)


async def enable_automation_rule(request: Request, ctx: Context, actor: Actor) -> Response:
    project_id, rule_id = _ids(request, "rule_id")
    return _rule(
        automation_rules.enable_automation_rule(ctx.store, project_id, rule_id, actor=actor)
    )


async def disable_automation_rule(request: Request, ctx: Context, actor: Actor) -> Response:
    project_id, rule_id = _ids(request, "rule_id")
    return _rule(
        automation_rules.disable_automation_rule(ctx.store, project_id, rule_id, actor=actor)
    )
