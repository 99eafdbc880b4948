"""API keys (per organisation) and application keys (per user, optionally scoped).

Keys are random (128 and 160 bits, hex, the shapes of Datadog's keys), shown
once and stored only as HMAC-SHA256 digests under a server secret, so a copy
of the database does not yield usable keys. A request is authenticated by
digesting the presented keys (HMAC) and looking the digests up in a unique
index: what an attacker can time is a lookup of a keyed digest, which says
nothing about the key.

Verified pairs are cached per process for ``cache_seconds`` (default 1 s):
revoking a key takes effect on every process within that bound. The cache is
keyed by the presented pair itself, so a hit costs one dict lookup and no
digest; the keys it holds are in the process's memory during the request
anyway. A lookup compares a candidate entry's strings only after their hashes
(randomised per process) matched, so its timing says nothing useful about a key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from casebook.core.clock import new_id, now_us
from casebook.core.entities import (
    ADMIN_ONLY_SCOPES,
    ALL_SCOPES,
    Actor,
    KeyInfo,
    Scope,
    User,
    UserRef,
    UserStatus,
)
from casebook.core.errors import AuthenticationError, InvalidRequestError, NotFoundError
from casebook.storage.base import Store, Transaction

SECRET_META = "key_hash_secret"  # noqa: S105 -- the name of a meta row, not a secret
MAX_KEY_CHARS = 256
_CACHE_MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class KeyPair:
    api_key: str
    app_key: str


def load_secret(store: Store, configured: str) -> bytes:
    """The configured secret, or the one kept in the database (made on first use)."""
    if configured:
        return configured.encode()
    with store.write() as tx:
        return tx.meta.set_if_absent(SECRET_META, secrets.token_hex(32)).encode()


def digest(secret: bytes, key: str) -> str:
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


def parse_scopes(text: str | None) -> frozenset[Scope] | None:
    """``cases_read,cases_write`` to scopes; None or empty text means unscoped."""
    if not text:
        return None
    scopes = set()
    for part in text.split(","):
        name = part.strip()
        try:
            scopes.add(Scope(name))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise InvalidRequestError(f"unknown scope {name!r}; known scopes: {known}") from None
    return frozenset(scopes)


def role_scopes(user: User) -> frozenset[Scope]:
    return ALL_SCOPES if user.is_admin else ALL_SCOPES - ADMIN_ONLY_SCOPES


def user_ref(user: User) -> UserRef:
    return UserRef(
        id=user.id,
        email=user.email,
        handle=user.handle,
        name=user.name,
        active=user.status is UserStatus.ACTIVE,
    )


def issue_keys(
    tx: Transaction,
    secret: bytes,
    user: User,
    *,
    scopes: frozenset[Scope] | None,
    api_key: str | None = None,
    app_key: str | None = None,
) -> KeyPair:
    """Store a new API key for the user's organisation and an application key for the user.

    Keys are generated unless given (bootstrap from the environment). A pending
    user becomes active: holding keys is how a casebook user logs in.
    """
    api_key = api_key or secrets.token_hex(16)
    app_key = app_key or secrets.token_hex(20)
    at = now_us()
    tx.keys.insert_api_key(
        new_id(), user.org_id, digest(secret, api_key), api_key[-4:], user.id, at
    )
    tx.keys.insert_app_key(
        new_id(), user.org_id, user.id, digest(secret, app_key), app_key[-4:], scopes, at
    )
    if user.status is UserStatus.PENDING:
        user.status = UserStatus.ACTIVE
        user.modified_at = at
        tx.users.update(user)
    return KeyPair(api_key, app_key)


def list_keys(store: Store, org_id: str) -> list[KeyInfo]:
    with store.read() as tx:
        return tx.keys.list(org_id)


def revoke_key(store: Store, org_id: str, key_id: str) -> None:
    with store.write() as tx:
        revoke(tx, org_id, key_id)


def revoke(tx: Transaction, org_id: str, key_id: str) -> None:
    """Revoke an API or application key of the organisation; NotFoundError unless it has
    an unrevoked key with that id."""
    if not tx.keys.revoke(org_id, key_id, now_us()):
        raise NotFoundError(key_id)


def _well_formed(key: str | None) -> bool:
    if not key:
        return False
    return len(key) <= MAX_KEY_CHARS and key.isascii() and key.isprintable()


class Authenticator:
    """Turns the two presented keys into an ``Actor``, or raises AuthenticationError."""

    def __init__(self, store: Store, secret: bytes, *, cache_seconds: float = 1.0) -> None:
        self._store = store
        self._secret = secret
        self._ttl = cache_seconds
        self._cache: dict[tuple[str, str], tuple[float, Actor]] = {}  # by presented keys
        self._lock = threading.Lock()

    def authenticate(
        self,
        api_key: str | None,
        app_key: str | None,
        *,
        before_lookup: Callable[[], None] | None = None,
    ) -> Actor:
        """The actor owning the keys, from the cache or the database.

        ``before_lookup`` runs whenever the answer is not in the cache (the
        HTTP layer throttles repeated failures there), so a cache hit costs a
        dict lookup and nothing else.
        """
        now = time.monotonic()
        if api_key is not None and app_key is not None:
            hit = self._cache.get((api_key, app_key))
            if hit is not None and hit[0] > now:
                return hit[1]
        if before_lookup is not None:
            before_lookup()
        if not _well_formed(api_key) or not _well_formed(app_key):
            raise AuthenticationError("missing or malformed key")
        assert api_key is not None and app_key is not None
        cache_key = (api_key, app_key)
        actor = self._verify(digest(self._secret, api_key), digest(self._secret, app_key))
        with self._lock:
            if len(self._cache) >= _CACHE_MAX_ENTRIES:
                self._cache.clear()
            self._cache[cache_key] = (now + self._ttl, actor)
        return actor

    def _verify(self, api_digest: str, app_digest: str) -> Actor:
        with self._store.read() as tx:
            api = tx.keys.find_api_key(api_digest)
            app = tx.keys.find_app_key(app_digest)
        if api is None or app is None:
            raise AuthenticationError("unknown or revoked key")
        _, api_org = api
        app_key_id, key_scopes, user = app
        if user.org_id != api_org:
            raise AuthenticationError("the keys belong to different organisations")
        if user.disabled:
            raise AuthenticationError("the application key's user is disabled")
        allowed = role_scopes(user)
        scopes = allowed if key_scopes is None else allowed & key_scopes
        return Actor(
            user=user_ref(user),
            org_id=user.org_id,
            is_admin=user.is_admin,
            key_id=app_key_id,
            scopes=scopes,
        )
