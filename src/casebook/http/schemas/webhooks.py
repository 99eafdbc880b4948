"""Webhooks integration shapes (Datadog's v1 API: plain JSON, not JSON:API)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from casebook.core.entities import Webhook
from casebook.domain import limits
from casebook.http.schemas.common import Short

Url = Annotated[str, msgspec.Meta(max_length=limits.MAX_WEBHOOK_URL_CHARS)]
Payload = Annotated[str, msgspec.Meta(max_length=limits.MAX_WEBHOOK_PAYLOAD_CHARS)]
Headers = Annotated[str, msgspec.Meta(max_length=limits.MAX_WEBHOOK_PAYLOAD_CHARS)]


class WebhookCreate(msgspec.Struct):
    name: Short
    url: Url
    payload: Payload | None = None
    custom_headers: Headers | None = None
    encode_as: Short | None = None


class WebhookUpdate(msgspec.Struct):
    name: Short | None = None
    url: Url | None = None
    payload: Payload | None = None
    custom_headers: Headers | None = None
    encode_as: Short | None = None


class WebhookPublic(msgspec.Struct):
    name: str
    url: str
    payload: str | None
    custom_headers: str | None
    encode_as: str


def webhook_public(webhook: Webhook) -> WebhookPublic:
    return WebhookPublic(
        name=webhook.name,
        url=webhook.url,
        payload=webhook.payload,
        custom_headers=webhook.custom_headers,
        encode_as=webhook.encode_as,
    )
