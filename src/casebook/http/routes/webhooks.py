"""Webhooks integration handlers: ``/api/v1/integration/webhooks/configuration/webhooks``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from casebook.core.entities import Actor
from casebook.domain import webhooks
from casebook.http.endpoint import Context, decode, json
from casebook.http.schemas.webhooks import WebhookCreate, WebhookUpdate, webhook_public


async def create_webhook(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, WebhookCreate)
    webhook = webhooks.create_webhook(
        ctx.store,
        actor=actor,
        name=body.name,
        url=body.url,
        payload=body.payload,
        custom_headers=body.custom_headers,
        encode_as=body.encode_as,
    )
    return json(webhook_public(webhook), 201)


async def get_webhook(request: Request, ctx: Context, actor: Actor) -> Response:
    webhook = webhooks.get_webhook(ctx.store, request.path_params["webhook_name"], actor=actor)
    return json(webhook_public(webhook))


async def update_webhook(request: Request, ctx: Context, actor: Actor) -> Response:
    body = await decode(request, ctx, WebhookUpdate)
    webhook = webhooks.update_webhook(
        ctx.store,
        request.path_params["webhook_name"],
        actor=actor,
        new_name=body.name,
        url=body.url,
        payload=body.payload,
        custom_headers=body.custom_headers,
        encode_as=body.encode_as,
    )
    return json(webhook_public(webhook))


async def delete_webhook(request: Request, ctx: Context, actor: Actor) -> Response:
    webhooks.delete_webhook(ctx.store, request.path_params["webhook_name"], actor=actor)
    return Response(status_code=204)
