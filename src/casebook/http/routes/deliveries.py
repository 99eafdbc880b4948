"""The deliveries listing: ``GET /api/v2/cases/projects/{project_id}/deliveries``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import Actor
from casebook.domain import deliveries
from casebook.http.endpoint import Context, jsonapi, query_int
from casebook.http.schemas.deliveries import delivery_list


async def list_deliveries(request: Request, ctx: Context, actor: Actor) -> Response:
    size = query_int(request, "page[size]", 10)
    number = query_int(request, "page[number]", 1)
    logs, total = deliveries.list_deliveries(
        ctx.store,
        request.path_params["project_id"],
        actor=actor,
        state=request.query_params.get("filter[state]") or None,
        page_size=size,
        page_number=number,
    )
    return jsonapi(delivery_list(logs, total=total, page=max(number, 1), size=size))
