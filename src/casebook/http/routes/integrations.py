"""Handlers of a case's integrations: Jira issues, ServiceNow tickets, notebooks, incidents.

Making an issue or a ticket waits on Jira or ServiceNow: those commands run in a worker
thread, so a slow external system holds up only its own request, never the event loop.
"""

from __future__ import annotations

from functools import partial

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import Actor
from casebook.domain import integrations
from casebook.http.endpoint import Context, decode, present, require_type
from casebook.http.routes.cases import case_response, if_match
from casebook.http.schemas.integrations import (
    JiraIssueCreateRequest,
    JiraIssueLinkRequest,
    NotebookCreateRequest,
    RelationshipToIncidentRequest,
    ServiceNowTicketCreateRequest,
)


async def create_jira_issue(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, JiraIssueCreateRequest)
    require_type(body.data.type, "issues")
    attrs = present(body.data.attributes, "data.attributes")
    command = partial(
        integrations.create_jira_issue,
        ctx.store,
        request.path_params["case_id"],
        actor=actor,
        connector=ctx.jira,
        server_secret=ctx.secret,
        project_id=attrs.project_id,
        issue_type_id=attrs.issue_type_id,
        jira_account_id=attrs.jira_account_id,
        fields=attrs.fields,
        if_match=if_match(request),
    )
    await run_in_threadpool(command)
    return Response(status_code=202)


async def link_jira_issue(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, JiraIssueLinkRequest)
    require_type(body.data.type, "issues")
    attrs = present(body.data.attributes, "data.attributes")
    integrations.link_jira_issue(
        ctx.store,
        request.path_params["case_id"],
        actor=actor,
        jira_issue_url=attrs.jira_issue_url,
        if_match=if_match(request),
    )
    return Response(status_code=204)


async def unlink_jira_issue(request: Request, ctx: Context, actor: Actor) -> Response:
    integrations.unlink_jira_issue(
        ctx.store, request.path_params["case_id"], actor=actor, if_match=if_match(request)
    )
    return Response(status_code=204)


async def create_service_now_ticket(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, ServiceNowTicketCreateRequest)
    require_type(body.data.type, "tickets")
    attrs = present(body.data.attributes, "data.attributes")
    command = partial(
        integrations.create_service_now_ticket,
        ctx.store,
        request.path_params["case_id"],
        actor=actor,
        connector=ctx.service_now,
        server_secret=ctx.secret,
        instance_name=attrs.instance_name,
        assignment_group=attrs.assignment_group,
        if_match=if_match(request),
    )
    await run_in_threadpool(command)
    return Response(status_code=202)


async def create_notebook(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, NotebookCreateRequest)
    require_type(body.data.type, "notebook")
    integrations.create_notebook(
        ctx.store, request.path_params["case_id"], actor=actor, if_match=if_match(request)
    )
    return Response(status_code=204)


async def link_incident(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, RelationshipToIncidentRequest)
    require_type(body.data.type, "incidents")
    case = integrations.link_incident(
        ctx.store,
        request.path_params["case_id"],
        actor=actor,
        incident_id=body.data.id,
        if_match=if_match(request),
    )
    return case_response(case, 201)
