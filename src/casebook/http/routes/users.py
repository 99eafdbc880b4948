"""Users API handlers (``/api/v2/users``), in Datadog's Users API shape."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import Actor
from casebook.domain import users
from casebook.http.endpoint import Context, decode, json, present, query_int, require_type
from casebook.http.schemas import users as schemas


async def create_user(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, schemas.UserCreateRequest)
    require_type(body.data.type, "users")
    attrs = present(body.data.attributes, "data.attributes")
    user = users.invite_user(
        ctx.store, actor=actor, email=attrs.email, name=attrs.name, title=attrs.title
    )
    return json(schemas.UserDocument(schemas.user_public(user)), 201)


async def list_users(request: Request, ctx: Context, actor: Actor) -> Response:
    params = request.query_params
    found, filtered, total = users.list_users(
        ctx.store,
        actor=actor,
        text=params.get("filter") or None,
        statuses=params.get("filter[status]") or None,
        sort=params.get("sort") or "name",
        sort_dir=params.get("sort_dir") or None,
        page_size=query_int(request, "page[size]", 10),
        page_number=query_int(request, "page[number]", 0),
    )
    return json(
        schemas.UserList(
            data=[schemas.user_public(u) for u in found],
            meta=schemas.UsersMeta(
                schemas.UsersPage(total_count=total, total_filtered_count=filtered)
            ),
        )
    )


async def get_user(request: Request, ctx: Context, actor: Actor) -> Response:
    user = users.get_user(ctx.store, request.path_params["user_id"], actor=actor)
    return json(schemas.UserDocument(schemas.user_public(user)))


_UPDATABLE = ("name", "title", "email", "disabled")


async def update_user(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, schemas.UserUpdateRequest)
    require_type(body.data.type, "users")
    changes = {k: v for k, v in body.data.attributes.items() if k in _UPDATABLE}
    schemas.check_user_changes(changes)
    user = users.update_user(
        ctx.store,
        request.path_params["user_id"],
        actor=actor,
        body_id=body.data.id,
        changes=changes,
    )
    return json(schemas.UserDocument(schemas.user_public(user)))


async def disable_user(request: Request, ctx: Context, actor: Actor) -> Response:
    users.disable_user(ctx.store, request.path_params["user_id"], actor=actor)
    return Response(status_code=204)
