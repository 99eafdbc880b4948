"""Project endpoints: ``/api/v2/cases/projects``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import Actor
from casebook.domain import projects
from casebook.http import schemas
from casebook.http.endpoint import Context, decode, endpoint, jsonapi, present, require_type
from casebook.http.routing import route


@endpoint("jsonapi")
async def create_project(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, schemas.ProjectCreateRequest)
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
    return jsonapi(schemas.ProjectDocument(schemas.project_public(project)), 201)


@endpoint("jsonapi")
async def list_projects(request: Request, ctx: Context, actor: Actor) -> Response:
    found = projects.list_projects(ctx.store, actor=actor)
    return jsonapi(schemas.ProjectList([schemas.project_public(p) for p in found]))


@endpoint("jsonapi")
async def get_project(request: Request, ctx: Context, actor: Actor) -> Response:
    project = projects.get_project(ctx.store, request.path_params["project_id"], actor=actor)
    return jsonapi(schemas.ProjectDocument(schemas.project_public(project)))


@endpoint("jsonapi")
async def delete_project(request: Request, ctx: Context, actor: Actor) -> Response:
    projects.delete_project(ctx.store, request.path_params["project_id"], actor=actor)
    return Response(status_code=204)


routes = [
    route("/api/v2/cases/projects", GET=list_projects, POST=create_project),
    route("/api/v2/cases/projects/{project_id}", GET=get_project, DELETE=delete_project),
]
