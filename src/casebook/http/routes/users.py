"""Users API handlers (``/api/v2/users``), in Datadog's Users API shape."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import USER_SORTS, Actor, UserSort, UserStatus
from casebook.core.errors import InvalidRequestError
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


_STATUSES = {s.value.lower(): s for s in UserStatus}


def _sort(sort: str, sort_dir: str | None) -> tuple[UserSort, bool]:
    """``sort`` (``-name`` is descending) and ``sort_dir`` (which wins) to field and order."""
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    if field not in USER_SORTS:
        raise InvalidRequestError(f"invalid sort {sort!r}: use name, modified_at or email")
    if sort_dir is not None:
        if sort_dir not in ("asc", "desc"):
            raise InvalidRequestError(f"invalid sort_dir {sort_dir!r}: use asc or desc")
        descending = sort_dir == "desc"
    return field, descending


def _statuses(text: str | None) -> list[UserStatus] | None:
    """``filter[status]``: a comma-separated list of Active, Pending and Disabled."""
    if not text:
        return None
    wanted = []
    for part in text.split(","):
        status = _STATUSES.get(part.strip().lower())
        if status is None:
            raise InvalidRequestError(
                f"invalid filter[status] {part.strip()!r}: use Active, Pending or Disabled"
            )
        wanted.append(status)
    return wanted


async def list_users(request: Request, ctx: Context, actor: Actor) -> Response:
    params = request.query_params
    order_by, descending = _sort(params.get("sort") or "name", params.get("sort_dir") or None)
    found, filtered, total = users.list_users(
        ctx.store,
        actor=actor,
        text=params.get("filter") or None,
        statuses=_statuses(params.get("filter[status]")),
        order_by=order_by,
        descending=descending,
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
