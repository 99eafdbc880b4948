"""BulkUpdateCases: one action on many cases, all or nothing (``domain/bulk.py``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import Actor
from casebook.domain import bulk
from casebook.http.endpoint import Context, decode, present, require_type
from casebook.http.schemas.bulk import CaseBulkUpdateRequest


async def bulk_update_cases(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, CaseBulkUpdateRequest)
    require_type(body.data.type, "bulk")
    attrs = present(body.data.attributes, "data.attributes")
    bulk.bulk_update_cases(
        ctx.store,
        actor=actor,
        case_ids=attrs.case_ids,
        action=attrs.type,
        payload=attrs.payload,
    )
    return Response(status_code=200)
