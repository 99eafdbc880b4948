"""Handlers of case types and custom attributes: ``/api/v2/cases/types``, and a case's values."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import Actor
from casebook.domain import case_types, cases
from casebook.http.endpoint import Context, decode, jsonapi, present, require_type
from casebook.http.routes.cases import case_response, if_match
from casebook.http.schemas.case_types import (
    CaseTypeDocument,
    CaseTypeList,
    CaseTypeRequest,
    ConfigCreateRequest,
    ConfigDocument,
    ConfigList,
    ConfigUpdateRequest,
    case_type_public,
    config_public,
    options_of,
    status_ins,
)


async def list_types(request: Request, ctx: Context, actor: Actor) -> Response:
    found = case_types.list_types(ctx.store, actor=actor)
    return jsonapi(CaseTypeList([case_type_public(t) for t in found]))


async def create_type(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, CaseTypeRequest)
    require_type(body.data.type, "case_type")
    attrs = present(body.data.attributes, "data.attributes")
    case_type = case_types.create_type(
        ctx.store,
        actor=actor,
        name=present(attrs.name, "data.attributes.name"),
        description=attrs.description or "",
        emoji=attrs.emoji or "",
        statuses=status_ins(attrs.statuses),
    )
    return jsonapi(CaseTypeDocument(case_type_public(case_type)), 201)


async def update_type(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, CaseTypeRequest)
    require_type(body.data.type, "case_type")
    attrs = body.data.attributes
    case_type = case_types.update_type(
        ctx.store,
        request.path_params["case_type_id"],
        actor=actor,
        name=None if attrs is None else attrs.name,
        description=None if attrs is None else attrs.description,
        emoji=None if attrs is None else attrs.emoji,
        statuses=None if attrs is None else status_ins(attrs.statuses),
    )
    return jsonapi(CaseTypeDocument(case_type_public(case_type)))


async def delete_type(request: Request, ctx: Context, actor: Actor) -> Response:
    case_types.delete_type(ctx.store, request.path_params["case_type_id"], actor=actor)
    return Response(status_code=204)


async def list_all_configs(request: Request, ctx: Context, actor: Actor) -> Response:
    found = case_types.list_configs(ctx.store, actor=actor)
    return jsonapi(ConfigList([config_public(c) for c in found]))


async def list_configs(request: Request, ctx: Context, actor: Actor) -> Response:
    found = case_types.list_configs(
        ctx.store, actor=actor, type_ref=request.path_params["case_type_id"]
    )
    return jsonapi(ConfigList([config_public(c) for c in found]))


async def create_config(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, ConfigCreateRequest)
    require_type(body.data.type, "custom_attribute")
    attrs = present(body.data.attributes, "data.attributes")
    config = case_types.create_config(
        ctx.store,
        request.path_params["case_type_id"],
        actor=actor,
        key=attrs.key,
        display_name=attrs.display_name,
        type=attrs.type,
        is_multi=attrs.is_multi,
        description=attrs.description,
        options=options_of(attrs.type_data),
    )
    return jsonapi(ConfigDocument(config_public(config)), 201)


async def update_config(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, ConfigUpdateRequest)
    require_type(body.data.type, "custom_attribute")
    attrs = body.data.attributes
    config = case_types.update_config(
        ctx.store,
        request.path_params["case_type_id"],
        request.path_params["custom_attribute_id"],
        actor=actor,
        display_name=None if attrs is None else attrs.display_name,
        description=None if attrs is None else attrs.description,
        type=None if attrs is None else attrs.type,
        options=None if attrs is None else options_of(attrs.type_data),
        map_from=None if attrs is None else attrs.map_from,
    )
    return jsonapi(ConfigDocument(config_public(config)))


async def delete_config(request: Request, ctx: Context, actor: Actor) -> Response:
    case_types.delete_config(
        ctx.store,
        request.path_params["case_type_id"],
        request.path_params["custom_attribute_id"],
        actor=actor,
    )
    return Response(status_code=204)


async def delete_case_custom_attribute(request: Request, ctx: Context, actor: Actor) -> Response:
    case = cases.delete_custom_attribute(
        ctx.store,
        request.path_params["case_id"],
        actor=actor,
        custom_attribute_key=request.path_params["custom_attribute_key"],
        if_match=if_match(request),
    )
    return case_response(case)
