"""API keys (``api_keys``, per organisation) and application keys (``app_keys``, per user).

Only digests of the keys are stored (``key_hash``, see ``domain.keys``), and a
hint of their last characters; a revoked key keeps its row, with ``revoked_at``.
"""

from __future__ import annotations

from typing import Protocol

from casebook.core.entities import KeyInfo, Scope, User
from casebook.storage.columns import Column, Table
from casebook.storage.executor import Repository
from casebook.storage.users import USERS


def _scopes_text(scopes: frozenset[Scope] | None) -> str | None:
    # NULL: unscoped (whatever the user's role allows); else comma-separated scopes.
    return None if scopes is None else ",".join(sorted(s.value for s in scopes))


def _scopes(text: str | None) -> frozenset[Scope] | None:
    if text is None:
        return None
    return frozenset(Scope(s) for s in text.split(",") if s)


API_KEYS = Table(
    "api_keys",
    KeyInfo,
    (
        Column("id"),
        Column("org_id"),
        Column("key_hash", read=False),
        Column("hint"),
        Column("created_by", read=False),
        Column("created_at"),
        Column("revoked_at"),
    ),
    fixed={"kind": "api", "user_id": None, "scopes": None},
)

APP_KEYS = Table(
    "app_keys",
    KeyInfo,
    (
        Column("id"),
        Column("org_id"),
        Column("user_id"),
        Column("key_hash", read=False),
        Column("hint"),
        Column("scopes", load=_scopes, dump=_scopes_text),
        Column("created_at"),
        Column("revoked_at"),
    ),
    fixed={"kind": "app"},
)

_FIND_API = "SELECT id, org_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL"
_FIND_APP = (
    f"SELECT k.id, k.scopes, {USERS.select('u')} FROM app_keys k JOIN users u ON u.id = k.user_id"
    " WHERE k.key_hash = ? AND k.revoked_at IS NULL"
)
_LIST_API = f"SELECT {API_KEYS.select()} FROM api_keys WHERE org_id = ? ORDER BY created_at, id"
_LIST_APP = f"SELECT {APP_KEYS.select()} FROM app_keys WHERE org_id = ? ORDER BY created_at, id"


class Keys(Protocol):
    """API keys (per organisation) and application keys (per user), stored as digests."""

    def insert_api_key(
        self, key_id: str, org_id: str, key_hash: str, hint: str, created_by: str | None, at: int
    ) -> None: ...
    def insert_app_key(
        self,
        key_id: str,
        org_id: str,
        user_id: str,
        key_hash: str,
        hint: str,
        scopes: frozenset[Scope] | None,
        at: int,
    ) -> None: ...
    def find_api_key(self, key_hash: str) -> tuple[str, str] | None:
        """(key id, org id) of an unrevoked API key with this hash."""
        ...

    def find_app_key(self, key_hash: str) -> tuple[str, frozenset[Scope] | None, User] | None:
        """(key id, scopes or None when unscoped, owner) of an unrevoked application key."""
        ...

    def list(self, org_id: str) -> list[KeyInfo]:
        """The organisation's API keys, then its application keys, oldest first."""
        ...

    def revoke(self, org_id: str, key_id: str, at: int) -> bool:
        """Revoke an API or application key; False if there is no such unrevoked key."""
        ...


class SqlKeys(Repository):
    """Implements ``Keys``."""

    __slots__ = ()

    def insert_api_key(
        self, key_id: str, org_id: str, key_hash: str, hint: str, created_by: str | None, at: int
    ) -> None:
        key = KeyInfo(
            id=key_id,
            kind="api",
            org_id=org_id,
            user_id=None,
            hint=hint,
            scopes=None,
            created_at=at,
            revoked_at=None,
        )
        self._sql.execute(
            API_KEYS.insert, API_KEYS.row(key, key_hash=key_hash, created_by=created_by)
        )

    def insert_app_key(
        self,
        key_id: str,
        org_id: str,
        user_id: str,
        key_hash: str,
        hint: str,
        scopes: frozenset[Scope] | None,
        at: int,
    ) -> None:
        key = KeyInfo(
            id=key_id,
            kind="app",
            org_id=org_id,
            user_id=user_id,
            hint=hint,
            scopes=scopes,
            created_at=at,
            revoked_at=None,
        )
        self._sql.execute(APP_KEYS.insert, APP_KEYS.row(key, key_hash=key_hash))

    def find_api_key(self, key_hash: str) -> tuple[str, str] | None:
        row = self._sql.one(_FIND_API, (key_hash,))
        if row is None:
            return None
        key_id, org_id = row
        return key_id, org_id

    def find_app_key(self, key_hash: str) -> tuple[str, frozenset[Scope] | None, User] | None:
        row = self._sql.one(_FIND_APP, (key_hash,))
        if row is None:
            return None
        key_id, scopes, *user = row
        return key_id, _scopes(scopes), USERS.load(user)

    def list(self, org_id: str) -> list[KeyInfo]:
        keys = [API_KEYS.load(r) for r in self._sql.all(_LIST_API, (org_id,))]
        return keys + [APP_KEYS.load(r) for r in self._sql.all(_LIST_APP, (org_id,))]

    def revoke(self, org_id: str, key_id: str, at: int) -> bool:
        changed = 0
        for table in (API_KEYS, APP_KEYS):
            changed += self._sql.execute(
                f"UPDATE {table.name} SET revoked_at = ? WHERE org_id = ? AND id = ?"
                " AND revoked_at IS NULL",
                (at, org_id, key_id),
            )
        return changed > 0
