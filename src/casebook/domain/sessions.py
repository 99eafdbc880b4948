"""Passwords and sign-in sessions of the web UI.

A user who has a password (``casebook users set-password``) signs in with their email
and it; the password is kept as an argon2id hash (``argon2-cffi``'s defaults, RFC 9106's
low-memory profile). Signing in makes a new random session token for the browser's
cookie, and stores only its digest (HMAC-SHA256 under the server secret, as keys are),
with a random CSRF token the pages send back with every change. A session ends when the
browser signs out (its row is deleted), when the user gets a new password, or after
``idle_us`` without use. The session's actor is the user with their role's scopes,
exactly what the user's unscoped application key would give.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from casebook.core.clock import now_us
from casebook.core.entities import Actor, User
from casebook.core.errors import AuthenticationError, InvalidValueError, UserNotFoundError
from casebook.domain.keys import digest, role_scopes, user_ref
from casebook.domain.users import get_org, normalise_email
from casebook.storage.base import Store
from casebook.storage.sessions import SessionRow

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
TOUCH_EVERY_US = 60 * 1_000_000
"""A session's last use is written at most once a minute: pages do not write on every read."""

_hasher = PasswordHasher()


@functools.cache
def _dummy() -> str:
    """Verified when no user has the email, so a wrong email costs what a wrong password
    does; made on first use (a hash costs ~0.3 s, too much for every process's start)."""
    return _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: who acts, and the token its changes must carry."""

    actor: Actor
    csrf: str
    token_hash: str
    org_name: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str  # for the cookie, shown this once
    session: Session


def _check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidValueError(
            f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters, got {len(password)}"
        )
    if "\x00" in password:
        raise InvalidValueError("a password must not contain NUL characters")
    return password


def set_password(store: Store, *, org_name: str, email: str, password: str) -> User:
    """Give the organisation's user with ``email`` a new password; their sessions end."""
    hashed = _hasher.hash(_check_password(password))
    with store.write() as tx:
        org = get_org(tx, org_name)
        user = tx.users.by_email(org.id, normalise_email(email))
        if user is None:
            raise UserNotFoundError(email)
        tx.passwords.set(org.id, user.id, hashed, now_us())
        tx.sessions.delete_user(user.id)
    return user


def new_password() -> str:
    """A random password to print once (the first start's admin)."""
    return secrets.token_urlsafe(15)


def actor_of(user: User, session_hash: str) -> Actor:
    return Actor(
        user=user_ref(user),
        org_id=user.org_id,
        is_admin=user.is_admin,
        key_id=f"ui:{session_hash[:16]}",
        scopes=role_scopes(user),
    )


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def sign_in(
    store: Store,
    secret: bytes,
    *,
    email: str,
    password: str,
    idle_us: int,
    previous: str | None = None,
) -> SignedIn:
    """A new session for the user with this email and password (the oldest such user,
    should several organisations have one), ending the ``previous`` token's session and
    every session idle longer than ``idle_us``; AuthenticationError otherwise, the same
    for an unknown email and a wrong password."""
    try:
        folded = normalise_email(email)
    except InvalidValueError:
        folded = ""
    with store.read() as tx:
        candidates = tx.passwords.by_email(folded) if folded else []
    if len(password) > MAX_PASSWORD:
        raise AuthenticationError("wrong email or password")
    user = None
    for candidate, hashed in candidates:
        if not candidate.disabled and _verify(hashed, password):
            user = candidate
            break
    if not candidates:
        _verify(_dummy(), password)
    if user is None:
        raise AuthenticationError("wrong email or password")
    token = secrets.token_urlsafe(32)
    at = now_us()
    row = SessionRow(digest(secret, token), user.org_id, user.id, secrets.token_urlsafe(32), at, at)
    with store.write() as tx:
        if previous:
            tx.sessions.delete(digest(secret, previous))
        tx.sessions.delete_idle(at - idle_us)  # the sessions nobody came back to
        tx.sessions.insert(row)
        stored = tx.sessions.get(row.token_hash)
    assert stored is not None
    session = Session(actor_of(user, row.token_hash), row.csrf, row.token_hash, stored.org_name)
    return SignedIn(token, session)


def resume(store: Store, secret: bytes, token: str, *, idle_us: int, touch: bool = True) -> Session:
    """The session of a cookie's token; AuthenticationError when there is none, it has
    been idle too long, or its user is disabled. ``touch``: this use counts as activity
    (a page's background refresh does not)."""
    if not token or len(token) > 128:
        raise AuthenticationError("not signed in")
    token_hash = digest(secret, token)
    at = now_us()
    with store.read() as tx:
        row = tx.sessions.get(token_hash)
        user = None if row is None else tx.users.get(row.org_id, row.user_id)
    if row is None or user is None:
        raise AuthenticationError("not signed in")
    if row.seen_at + idle_us < at or user.disabled:
        with store.write() as tx:
            tx.sessions.delete(token_hash)
        raise AuthenticationError("the session has expired")
    if touch and at - row.seen_at > TOUCH_EVERY_US:
        with store.write() as tx:
            tx.sessions.touch(token_hash, at)
    return Session(actor_of(user, token_hash), row.csrf, token_hash, row.org_name)


def sign_out(store: Store, secret: bytes, token: str) -> None:
    """End the token's session (nothing if there is none)."""
    if token and len(token) <= 128:
        with store.write() as tx:
            tx.sessions.delete(digest(secret, token))
