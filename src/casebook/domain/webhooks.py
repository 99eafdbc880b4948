"""Named webhooks, as Datadog's Webhooks integration defines them
(``/api/v1/integration/webhooks/configuration/webhooks``).

A webhook is a name, a URL, an optional JSON ``payload`` template (``$CASE_KEY``-style
variables, ``delivery.render_payload``), optional ``custom_headers`` (a JSON object)
and an encoding (``json`` or ``form``). Notification rules' ``HTTP`` recipients and
automation rules' ``execute_workflow`` actions name one; a rule may name a webhook that
does not exist yet, and its deliveries then fail, visibly, in the delivery log.
Reading needs ``cases_read``, changing ``cases_write``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any
from urllib.parse import urlsplit

import msgspec

from casebook.core.clock import now_us
from casebook.core.entities import Actor, Scope, Webhook
from casebook.core.errors import InvalidRequestError, WebhookNotFoundError
from casebook.domain import limits
from casebook.domain.access import require_scope
from casebook.storage.base import Store, Transaction

NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")
ENCODINGS = ("json", "form")


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise InvalidRequestError(
            f"invalid webhook name {name!r}: 1 to 100 letters, digits, '_' or '-'"
        )
    return name


def check_url(url: str) -> str:
    """An absolute http(s) URL. Where it may point (not loopback or a private network,
    unless the server allows it) is checked when each delivery is sent, when the name
    resolves to the address actually used."""
    if len(url) > limits.MAX_WEBHOOK_URL_CHARS:
        raise InvalidRequestError(f"url is longer than {limits.MAX_WEBHOOK_URL_CHARS} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError(f"invalid url {url!r}: an absolute http or https URL")
    return url


def check_headers(custom_headers: str | None) -> str | None:
    """A JSON object of header names to string values (or None: no headers)."""
    if custom_headers is None or custom_headers.strip() == "":
        return None
    try:
        headers: Any = msgspec.json.decode(custom_headers)
    except msgspec.DecodeError:
        raise InvalidRequestError("custom_headers must be a JSON object") from None
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise InvalidRequestError("custom_headers must be a JSON object of strings")
    for name, value in headers.items():
        if not name or not all(c.isalnum() or c in "-_" for c in name):
            raise InvalidRequestError(f"invalid header name {name!r} in custom_headers")
        if "\r" in value or "\n" in value:
            raise InvalidRequestError(f"header {name!r} in custom_headers has a line break")
    return custom_headers


def check_payload(payload: str | None) -> str | None:
    """A JSON document once its ``$VARIABLES`` are replaced (or None: the default)."""
    if payload is None or payload.strip() == "":
        return None
    if len(payload) > limits.MAX_WEBHOOK_PAYLOAD_CHARS:
        raise InvalidRequestError(
            f"payload is longer than {limits.MAX_WEBHOOK_PAYLOAD_CHARS} characters"
        )
    try:
        msgspec.json.decode(re.sub(r"\$[A-Z_]+", "0", payload))
    except msgspec.DecodeError:
        raise InvalidRequestError("payload must be a JSON document") from None
    return payload


def _encoding(encode_as: str | None) -> str:
    if encode_as is None:
        return "json"
    if encode_as not in ENCODINGS:
        raise InvalidRequestError(f"invalid encode_as {encode_as!r}: use json or form")
    return encode_as


def _get(tx: Transaction, actor: Actor, name: str) -> Webhook:
    webhook = tx.webhooks.get(actor.org_id, name)
    if webhook is None:
        raise WebhookNotFoundError(name)
    return webhook


def create_webhook(
    store: Store,
    *,
    actor: Actor,
    name: str,
    url: str,
    payload: str | None = None,
    custom_headers: str | None = None,
    encode_as: str | None = None,
) -> Webhook:
    require_scope(actor, Scope.CASES_WRITE)
    webhook = Webhook(
        org_id=actor.org_id,
        name=check_name(name),
        url=check_url(url),
        payload=check_payload(payload),
        custom_headers=check_headers(custom_headers),
        encode_as=_encoding(encode_as),
        created_at=now_us(),
    )
    with store.write() as tx:
        tx.webhooks.insert(webhook)
    return webhook


def get_webhook(store: Store, name: str, *, actor: Actor) -> Webhook:
    require_scope(actor, Scope.CASES_READ)
    with store.read() as tx:
        return _get(tx, actor, name)


def update_webhook(
    store: Store,
    name: str,
    *,
    actor: Actor,
    new_name: str | None = None,
    url: str | None = None,
    payload: str | None = None,
    custom_headers: str | None = None,
    encode_as: str | None = None,
) -> Webhook:
    """Change what is sent (a renamed webhook is found by its new name only); a request
    that sends nothing to change is refused."""
    require_scope(actor, Scope.CASES_WRITE)
    if all(v is None for v in (new_name, url, payload, custom_headers, encode_as)):
        raise InvalidRequestError(
            "nothing to change: send one of name, url, payload, custom_headers, encode_as"
        )
    with store.write() as tx:
        webhook = _get(tx, actor, name)
        if new_name is not None:
            webhook.name = check_name(new_name)
        if url is not None:
            webhook.url = check_url(url)
        if payload is not None:
            webhook.payload = check_payload(payload)
        if custom_headers is not None:
            webhook.custom_headers = check_headers(custom_headers)
        if encode_as is not None:
            webhook.encode_as = _encoding(encode_as)
        webhook.modified_at = now_us()
        tx.webhooks.update(name, webhook)
    return webhook


def delete_webhook(store: Store, name: str, *, actor: Actor) -> None:
    require_scope(actor, Scope.CASES_WRITE)
    with store.write() as tx:
        _get(tx, actor, name)
        tx.webhooks.delete(actor.org_id, name)


def signing_secret(server_secret: bytes, org_id: str) -> str:
    """The organisation's webhook signing secret: derived from the server's secret, so it
    is never stored and changes only when that secret does. Deliveries to webhooks carry
    ``X-Casebook-Signature`` made with it (worker/send.py); ``casebook webhooks secret``
    prints it for the receivers' owners. No API answer shows it."""
    return hmac.new(
        server_secret, b"webhook-signing:" + org_id.encode(), hashlib.sha256
    ).hexdigest()


def org_signing_secret(store: Store, server_secret: bytes, org_name: str) -> str:
    """The signing secret of the organisation named ``org_name`` (CLI only)."""
    from casebook.domain.users import get_org

    with store.read() as tx:
        org = get_org(tx, org_name)
    return signing_secret(server_secret, org.id)
