"""Case endpoints: ``/api/v2/cases`` and ``/api/v2/cases/{case_id:caseref}/...``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import Actor
from casebook.core.errors import InvalidRequestError
from casebook.domain import cases
from casebook.http import schemas
from casebook.http.endpoint import (
    Context,
    decode,
    endpoint,
    jsonapi,
    present,
    query_bool,
    query_int,
    require_type,
)
from casebook.http.routing import Endpoint, route


@endpoint("jsonapi")
async def search_cases(request: Request, ctx: Context, actor: Actor) -> Response:
    size = query_int(request, "page[size]", 10)
    number = query_int(request, "page[number]", 1)
    page = cases.search_cases(
        ctx.store,
        actor=actor,
        query=request.query_params.get("filter", ""),
        page_size=size,
        page_number=number,
        sort_field=request.query_params.get("sort[field]", "created_at"),
        ascending=query_bool(request, "sort[asc]", False),
    )
    document = schemas.case_list(page.items, total=page.total, page=max(number, 1), size=size)
    return jsonapi(document)


@endpoint("jsonapi")
async def create_case(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, schemas.CaseCreateRequest)
    data = body.data
    require_type(data.type, "case")
    attrs = present(data.attributes, "data.attributes")
    if attrs.type is not None and attrs.type != "STANDARD":
        raise InvalidRequestError(f'invalid type "{attrs.type}": must be "STANDARD"')
    rels = data.relationships
    project = None if rels is None or rels.project is None else rels.project.data
    if project is None:
        raise InvalidRequestError("relationships.project.data is required")
    require_type(project.type, "project")
    assignee_id = None
    if rels is not None and rels.assignee is not None and rels.assignee.data is not None:
        require_type(rels.assignee.data.type, "user")
        assignee_id = rels.assignee.data.id
    case = cases.create_case(
        ctx.store,
        actor=actor,
        project_id=project.id,
        title=attrs.title,
        type_id=attrs.type_id,
        priority=attrs.priority,
        description=attrs.description,
        status_name=attrs.status_name,
        assignee_id=assignee_id,
        custom_attributes=attrs.custom_attributes,
    )
    return jsonapi(schemas.case_document(case), 201)


@endpoint("jsonapi")
async def get_case(request: Request, ctx: Context, actor: Actor) -> Response:
    case = cases.get_case(ctx.store, request.path_params["case_id"], actor=actor)
    return jsonapi(schemas.case_document(case))


@endpoint("jsonapi")
async def update_status(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, schemas.CaseStatusRequest)
    require_type(body.data.type, "case")
    attrs = present(body.data.attributes, "data.attributes")
    case = cases.update_status(
        ctx.store,
        request.path_params["case_id"],
        actor=actor,
        status=attrs.status,
        status_name=attrs.status_name,
    )
    return jsonapi(schemas.case_document(case))


@endpoint("jsonapi")
async def update_priority(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, schemas.CasePriorityRequest)
    require_type(body.data.type, "case")
    case = cases.update_priority(
        ctx.store,
        request.path_params["case_id"],
        actor=actor,
        priority=present(body.data.attributes, "data.attributes").priority,
    )
    return jsonapi(schemas.case_document(case))


@endpoint("jsonapi")
async def assign_case(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, schemas.CaseAssignRequest)
    require_type(body.data.type, "case")
    case = cases.assign_case(
        ctx.store,
        request.path_params["case_id"],
        actor=actor,
        assignee_id=present(body.data.attributes, "data.attributes").assignee_id,
    )
    return jsonapi(schemas.case_document(case))


def _empty_body_command(command: cases.EmptyCommand) -> Endpoint:
    @endpoint("jsonapi")
    async def handle(request: Request, ctx: Context, actor: Actor) -> Response:
        body = await decode(request, ctx, schemas.CaseEmptyRequest)
        require_type(body.data.type, "case")
        case = command(ctx.store, request.path_params["case_id"], actor=actor)
        return jsonapi(schemas.case_document(case))

    return handle


routes = [
    route("/api/v2/cases/{case_id:caseref}", GET=get_case),  # the hottest path first
    route("/api/v2/cases", GET=search_cases, POST=create_case),
    route("/api/v2/cases/{case_id:caseref}/status", POST=update_status),
    route("/api/v2/cases/{case_id:caseref}/priority", POST=update_priority),
    route("/api/v2/cases/{case_id:caseref}/assign", POST=assign_case),
    route(
        "/api/v2/cases/{case_id:caseref}/unassign", POST=_empty_body_command(cases.unassign_case)
    ),
    route("/api/v2/cases/{case_id:caseref}/archive", POST=_empty_body_command(cases.archive_case)),
    route(
        "/api/v2/cases/{case_id:caseref}/unarchive", POST=_empty_body_command(cases.unarchive_case)
    ),
]
