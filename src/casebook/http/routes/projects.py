"""Project handlers: ``/api/v2/cases/projects``, and the caller's favourite projects."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import Actor
from casebook.domain import projects
from casebook.http.endpoint import Context, decode, jsonapi, present, require_type
from casebook.http.schemas.projects import (
    ProjectCreateRequest,
    ProjectList,
    ProjectUpdateAttributes,
    ProjectUpdateRequest,
    favorite_list,
    patch_of,
    project_document,
    project_public,
)


async def create_project(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, ProjectCreateRequest)
    require_type(body.data.type, "project")
    attrs = present(body.data.attributes, "data.attributes")
    project = projects.create_project(
        ctx.store,
        actor=actor,
        key=attrs.key,
        name=attrs.name,
        enabled_custom_case_types=attrs.enabled_custom_case_types,
        team_uuid=attrs.team_uuid,
    )
    return jsonapi(project_document(project), 201)


async def list_projects(request: Request, ctx: Context, actor: Actor) -> Response:
    found = projects.list_projects(ctx.store, actor=actor)
    return jsonapi(ProjectList([project_public(p) for p in found]))


async def get_project(request: Request, ctx: Context, actor: Actor) -> Response:
    project = projects.get_project(ctx.store, request.path_params["project_id"], actor=actor)
    return jsonapi(project_document(project))


async def delete_project(request: Request, ctx: Context, actor: Actor) -> Response:
    projects.delete_project(ctx.store, request.path_params["project_id"], actor=actor)
    return Response(status_code=204)


async def update_project(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, ProjectUpdateRequest)
    require_type(body.data.type, "project")
    attrs = body.data.attributes or ProjectUpdateAttributes()
    project = projects.update_project(
        ctx.store,
        request.path_params["project_id"],
        actor=actor,
        name=attrs.name,
        settings=patch_of(attrs.settings),
        columns_config=patch_of(attrs.columns_config),
        enabled_custom_case_types=attrs.enabled_custom_case_types,
        team_uuid=attrs.team_uuid,
    )
    return jsonapi(project_document(project))


async def list_favorites(request: Request, ctx: Context, actor: Actor) -> Response:
    return jsonapi(favorite_list(projects.list_favorites(ctx.store, actor=actor)))


async def favorite_project(request: Request, ctx: Context, actor: Actor) -> Response:
    projects.favorite_project(ctx.store, request.path_params["project_id"], actor=actor)
    return Response(status_code=204)


async def unfavorite_project(request: Request, ctx: Context, actor: Actor) -> Response:
    projects.unfavorite_project(ctx.store, request.path_params["project_id"], actor=actor)
    return Response(status_code=204)
