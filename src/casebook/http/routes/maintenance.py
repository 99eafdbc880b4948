"""Maintenance window handlers: ``/api/v2/maintenance_windows``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import Actor
from casebook.domain import maintenance_windows
from casebook.http.endpoint import Context, decode, jsonapi, present, require_type
from casebook.http.schemas.maintenance import (
    MaintenanceWindowCreateRequest,
    MaintenanceWindowDocument,
    MaintenanceWindowList,
    MaintenanceWindowUpdateRequest,
    window_public,
)

_TYPE = "maintenance_window"


async def list_windows(request: Request, ctx: Context, actor: Actor) -> Response:
    found = maintenance_windows.list_maintenance_windows(ctx.store, actor=actor)
    return jsonapi(MaintenanceWindowList([window_public(w) for w in found]))


async def create_window(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, MaintenanceWindowCreateRequest)
    require_type(body.data.type, _TYPE)
    attrs = present(body.data.attributes, "data.attributes")
    window = maintenance_windows.create_maintenance_window(
        ctx.store,
        actor=actor,
        name=attrs.name,
        query=attrs.query,
        start_at=attrs.start_at,
        end_at=attrs.end_at,
    )
    return jsonapi(MaintenanceWindowDocument(window_public(window)), 201)


async def update_window(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, MaintenanceWindowUpdateRequest)
    require_type(body.data.type, _TYPE)
    attrs = body.data.attributes
    window = maintenance_windows.update_maintenance_window(
        ctx.store,
        request.path_params["maintenance_window_id"],
        actor=actor,
        name=None if attrs is None else attrs.name,
        query=None if attrs is None else attrs.query,
        start_at=None if attrs is None else attrs.start_at,
        end_at=None if attrs is None else attrs.end_at,
    )
    return jsonapi(MaintenanceWindowDocument(window_public(window)))


async def delete_window(request: Request, ctx: Context, actor: Actor) -> Response:
    maintenance_windows.delete_maintenance_window(
        ctx.store, request.path_params["maintenance_window_id"], actor=actor
    )
    return Response(status_code=204)
