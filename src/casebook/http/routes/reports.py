"""Count, aggregate and durations handlers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import Actor
from casebook.domain import reports
from casebook.http.endpoint import Context, decode, jsonapi, present, query_int, require_type
from casebook.http.schemas.reports import (
    AggregateRequest,
    DurationsRequest,
    aggregate_response,
    answer_id,
    count_response,
    durations_response,
)


async def count_cases(request: Request, ctx: Context, actor: Actor) -> Response:
    query = request.query_params.get("query_filter", "")
    group_bys = request.query_params.get("group_bys", "")
    raw_limit = request.query_params.get("limit")
    limit = None if raw_limit in (None, "") else query_int(request, "limit", 0)
    count = reports.count_cases(
        ctx.store, actor=actor, query=query, group_bys=group_bys, limit=limit
    )
    return jsonapi(count_response(count, answer_id(actor.org_id, "count", query, group_bys, limit)))


async def aggregate_cases(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, AggregateRequest)
    require_type(body.data.type, "aggregate")
    attrs = present(body.data.attributes, "data.attributes")
    groups, limit = attrs.group_by.groups, attrs.group_by.limit
    aggregate = reports.aggregate_cases(
        ctx.store, actor=actor, query=attrs.query_filter, groups=groups, limit=limit
    )
    answer = answer_id(actor.org_id, "aggregate", attrs.query_filter, groups, limit)
    return jsonapi(aggregate_response(aggregate, answer))


async def case_durations(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, DurationsRequest)
    require_type(body.data.type, "durations")
    attrs = present(body.data.attributes, "data.attributes")
    report = reports.case_durations(
        ctx.store,
        actor=actor,
        query=attrs.query_filter,
        group_by=attrs.group_by,
        limit=attrs.limit,
    )
    answer = answer_id(
        actor.org_id, "durations", attrs.query_filter, attrs.group_by, attrs.limit, report.at
    )
    return jsonapi(durations_response(report, answer))
