"""Handlers of working a case: comments and the timeline, watchers, links, insights, moves."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import Actor, Case, Insight
from casebook.core.errors import InvalidRequestError
from casebook.domain import cases, comments, links, watchers
from casebook.http.endpoint import (
    Context,
    Handler,
    decode,
    jsonapi,
    present,
    query_bool,
    query_int,
    require_type,
)
from casebook.http.routes.cases import case_response, if_match
from casebook.http.schemas.cases import CaseActionRequest, InsightsAttributes, MoveRequest
from casebook.http.schemas.working import (
    Cells,
    CommentAttributes,
    LinkCreateRequest,
    LinkDocument,
    LinkList,
    cell,
    link_public,
    timeline_list,
    watcher_list,
)

CommentRequest = CaseActionRequest[CommentAttributes]
InsightsRequest = CaseActionRequest[InsightsAttributes]


async def _comment_text(request: Request, ctx: Context) -> str:
    body = await decode(request, ctx, CommentRequest)
    require_type(body.data.type, "case")
    return present(body.data.attributes, "data.attributes").comment


async def comment_case(request: Request, ctx: Context, actor: Actor) -> Response:
    text = await _comment_text(request, ctx)
    entry = comments.comment_case(
        ctx.store,
        request.path_params["case_id"],
        actor=actor,
        comment=text,
        if_match=if_match(request),
    )
    return jsonapi(Cells([cell(entry)]))


async def update_comment(request: Request, ctx: Context, actor: Actor) -> Response:
    text = await _comment_text(request, ctx)
    entry = comments.edit_comment(
        ctx.store,
        request.path_params["case_id"],
        request.path_params["cell_id"],
        actor=actor,
        comment=text,
        if_match=if_match(request),
    )
    return jsonapi(Cells([cell(entry)]))


async def delete_comment(request: Request, ctx: Context, actor: Actor) -> Response:
    comments.delete_comment(
        ctx.store,
        request.path_params["case_id"],
        request.path_params["cell_id"],
        actor=actor,
        if_match=if_match(request),
    )
    return Response(status_code=204)


async def list_timeline(request: Request, ctx: Context, actor: Actor) -> Response:
    size = query_int(request, "page[size]", 10)
    number = query_int(request, "page[number]", 1)
    entries, total = comments.timeline(
        ctx.store,
        request.path_params["case_id"],
        actor=actor,
        page_size=size,
        page_number=number,
        ascending=query_bool(request, "sort[ascending]", False),
    )
    return jsonapi(timeline_list(entries, total=total, page=max(number, 1), size=size))


async def list_watchers(request: Request, ctx: Context, actor: Actor) -> Response:
    found = watchers.list_watchers(ctx.store, request.path_params["case_id"], actor=actor)
    return jsonapi(watcher_list(found))


async def watch_case(request: Request, ctx: Context, actor: Actor) -> Response:
    watchers.watch_case(
        ctx.store,
        request.path_params["case_id"],
        request.path_params["user_uuid"],
        actor=actor,
        if_match=if_match(request),
    )
    return Response(status_code=201)


async def unwatch_case(request: Request, ctx: Context, actor: Actor) -> Response:
    watchers.unwatch_case(
        ctx.store,
        request.path_params["case_id"],
        request.path_params["user_uuid"],
        actor=actor,
        if_match=if_match(request),
    )
    return Response(status_code=204)


def _required_query(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise InvalidRequestError(f"query parameter {name} is required")
    if len(value) > 256:
        raise InvalidRequestError(f"query parameter {name} is longer than 256 characters")
    return value


async def list_links(request: Request, ctx: Context, actor: Actor) -> Response:
    found = links.list_links(
        ctx.store,
        actor=actor,
        entity_type=_required_query(request, "entity_type"),
        entity_id=_required_query(request, "entity_id"),
        relationship=request.query_params.get("relationship") or None,
    )
    return jsonapi(LinkList([link_public(link) for link in found]))


async def create_link(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, LinkCreateRequest)
    require_type(body.data.type, "link")
    attrs = present(body.data.attributes, "data.attributes")
    created = links.create_link(
        ctx.store,
        actor=actor,
        parent_entity_type=attrs.parent_entity_type,
        parent_entity_id=attrs.parent_entity_id,
        child_entity_type=attrs.child_entity_type,
        child_entity_id=attrs.child_entity_id,
        relationship=attrs.relationship,
    )
    return jsonapi(LinkDocument(link_public(created)), 201)


async def delete_link(request: Request, ctx: Context, actor: Actor) -> Response:
    links.delete_link(ctx.store, request.path_params["link_id"], actor=actor)
    return Response(status_code=204)


async def _insights(request: Request, ctx: Context) -> list[Insight]:
    body = await decode(request, ctx, InsightsRequest)
    require_type(body.data.type, "case")
    given = present(body.data.attributes, "data.attributes").insights
    return [Insight(i.type, i.ref, i.resource_id) for i in given]


def _insights_handler(command: Callable[..., Case]) -> Handler:
    """``PUT`` (add) or ``DELETE`` (remove) ``/api/v2/cases/{case_id}/insights``."""

    async def handle(request: Request, ctx: Context, actor: Actor) -> Response:
        insights = await _insights(request, ctx)
        case = command(
            ctx.store,
            request.path_params["case_id"],
            actor=actor,
            insights=insights,
            if_match=if_match(request),
        )
        return case_response(case)

    handle.__name__ = command.__name__
    return handle


add_insights = _insights_handler(cases.add_insights)
remove_insights = _insights_handler(cases.remove_insights)


async def move_case(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, MoveRequest)
    require_type(body.data.type, "project")
    case = cases.move_case(
        ctx.store,
        request.path_params["case_id"],
        actor=actor,
        project_id=body.data.id,
        if_match=if_match(request),
    )
    return case_response(case)
