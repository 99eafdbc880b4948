"""Named webhooks: ``webhooks``, one row per (organisation, name)."""

from __future__ import annotations

from typing import Protocol

from casebook.core.entities import Webhook
from casebook.storage.columns import Column, Table
from casebook.storage.executor import Repository

WEBHOOKS = Table(
    "webhooks",
    Webhook,
    (
        Column("org_id"),
        Column("name"),
        Column("url"),
        Column("payload"),
        Column("custom_headers"),
        Column("encode_as"),
        Column("created_at"),
        Column("modified_at"),
    ),
)

_GET = f"SELECT {WEBHOOKS.select()} FROM webhooks WHERE org_id = ? AND name = ?"
_UPDATE = (
    "UPDATE webhooks SET name = ?, url = ?, payload = ?, custom_headers = ?, encode_as = ?,"
    " modified_at = ? WHERE org_id = ? AND name = ?"
)


class Webhooks(Protocol):
    def insert(self, webhook: Webhook) -> None:
        """Raise ConflictError if the organisation has a webhook of that name."""
        ...

    def get(self, org_id: str, name: str) -> Webhook | None: ...
    def update(self, old_name: str, webhook: Webhook) -> None:
        """Store the webhook (renamed from ``old_name``); ConflictError if the name is taken."""
        ...

    def delete(self, org_id: str, name: str) -> None: ...


class SqlWebhooks(Repository):
    """Implements ``Webhooks``."""

    __slots__ = ()

    def insert(self, webhook: Webhook) -> None:
        self._sql.execute_unique(
            WEBHOOKS.insert, WEBHOOKS.row(webhook), f"a webhook named {webhook.name} exists"
        )

    def get(self, org_id: str, name: str) -> Webhook | None:
        row = self._sql.one(_GET, (org_id, name))
        return None if row is None else WEBHOOKS.load(row)

    def update(self, old_name: str, webhook: Webhook) -> None:
        self._sql.execute_unique(
            _UPDATE,
            (
                webhook.name,
                webhook.url,
                webhook.payload,
                webhook.custom_headers,
                webhook.encode_as,
                webhook.modified_at,
                webhook.org_id,
                old_name,
            ),
            f"a webhook named {webhook.name} exists",
        )

    def delete(self, org_id: str, name: str) -> None:
        self._sql.execute("DELETE FROM webhooks WHERE org_id = ? AND name = ?", (org_id, name))
