"""Case handlers: search, create, read, and the generic case action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import Actor, Case
from casebook.core.errors import InvalidRequestError
from casebook.domain import cases
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
from casebook.http.schemas.cases import (
    CaseActionRequest,
    CaseCreateRequest,
    CaseEmptyRequest,
    case_document,
    case_list,
)

CaseCommand = Callable[..., Case]
"""A domain command on one case: ``command(store, ref, actor=..., if_match=..., **attributes)``."""

_MAX_TAG = 20


def if_match(request: Request) -> frozenset[int] | None:
    """The case versions an ``If-Match`` header accepts; None without one, or for ``*``.

    casebook's ETags are strong: ``"7"``. A weak (``W/``) or unknown tag matches
    no version, so the write answers 412.
    """
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    tags = [tag.strip() for tag in raw.split(",")]
    if "*" in tags:
        return None
    return frozenset(
        int(tag[1:-1])
        for tag in tags
        if len(tag) <= _MAX_TAG and tag[:1] == tag[-1:] == '"' and tag[1:-1].isdigit()
    )


def case_response(case: Case, status: int = 200) -> Response:
    """A case document with the case's ``ETag``."""
    response = jsonapi(case_document(case), status)
    response.raw_headers.append((b"etag", b'"%d"' % case.version))
    return response


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
    return jsonapi(case_list(page.items, total=page.total, page=max(number, 1), size=size))


async def create_case(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, CaseCreateRequest)
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
    return case_response(case, 201)


async def get_case(request: Request, ctx: Context, actor: Actor) -> Response:
    case = cases.get_case(ctx.store, request.path_params["case_id"], actor=actor)
    return case_response(case)


def action_request(attributes: type | None) -> Any:
    """The body struct of a case action whose attributes are ``attributes`` (None: none)."""
    return CaseEmptyRequest if attributes is None else CaseActionRequest[attributes]  # type: ignore[valid-type]


def case_action(command: CaseCommand, attributes: type | None) -> Handler:
    """A handler for ``POST /api/v2/cases/{case_id}/<action>``.

    The body is decoded into ``action_request(attributes)``; the type must be
    ``case``; the attributes' fields, and the path's parameters other than
    ``case_id``, are the command's keyword arguments.
    """
    kind = action_request(attributes)

    async def handle(request: Request, ctx: Context, actor: Actor) -> Response:
        body = await decode(request, ctx, kind)
        require_type(body.data.type, "case")
        given: dict[str, Any] = {}
        if attributes is not None:
            given = msgspec.structs.asdict(present(body.data.attributes, "data.attributes"))
        params = request.path_params
        if len(params) > 1:
            given.update((k, v) for k, v in params.items() if k != "case_id")
        case = command(
            ctx.store, params["case_id"], actor=actor, if_match=if_match(request), **given
        )
        return case_response(case)

    handle.__name__ = getattr(command, "__name__", "case_action")
    return handle
