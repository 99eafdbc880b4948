"""Saved view handlers: ``/api/v2/cases/views``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import Actor
from casebook.core.errors import InvalidRequestError
from casebook.domain import views
from casebook.http.endpoint import Context, decode, jsonapi, present, require_type
from casebook.http.schemas.views import (
    ViewCreateRequest,
    ViewDocument,
    ViewList,
    ViewUpdateRequest,
    view_public,
)


async def list_views(request: Request, ctx: Context, actor: Actor) -> Response:
    project_id = request.query_params.get("project_id")
    if not project_id:
        raise InvalidRequestError("the query parameter project_id is required")
    found = views.list_views(ctx.store, actor=actor, project_id=project_id)
    return jsonapi(ViewList([view_public(v) for v in found]))


async def create_view(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, ViewCreateRequest)
    require_type(body.data.type, "view")
    attrs = present(body.data.attributes, "data.attributes")
    view = views.create_view(
        ctx.store,
        actor=actor,
        project_id=attrs.project_id,
        name=attrs.name,
        query=attrs.query,
        np_rule_id=attrs.np_rule_id,
    )
    return jsonapi(ViewDocument(view_public(view)), 201)


async def get_view(request: Request, ctx: Context, actor: Actor) -> Response:
    view = views.get_view(ctx.store, request.path_params["view_id"], actor=actor)
    return jsonapi(ViewDocument(view_public(view)))


async def update_view(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, ViewUpdateRequest)
    require_type(body.data.type, "view")
    attrs = body.data.attributes
    view = views.update_view(
        ctx.store,
        request.path_params["view_id"],
        actor=actor,
        name=None if attrs is None else attrs.name,
        query=None if attrs is None else attrs.query,
        np_rule_id=None if attrs is None else attrs.np_rule_id,
    )
    return jsonapi(ViewDocument(view_public(view)))


async def delete_view(request: Request, ctx: Context, actor: Actor) -> Response:
    views.delete_view(ctx.store, request.path_params["view_id"], actor=actor)
    return Response(status_code=204)
