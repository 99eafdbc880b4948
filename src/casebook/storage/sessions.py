"""The web UI's sign-in: ``user_passwords`` (one argon2id hash per user) and ``ui_sessions``.

A session row is known by a digest of its cookie's token (``domain.sessions``); this
module never sees a token or a password, only their digests and hashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from casebook.core.entities import User
from casebook.storage.executor import Repository
from casebook.storage.users import USERS


@dataclass(slots=True)
class SessionRow:
    token_hash: str
    org_id: str
    user_id: str
    csrf: str
    created_at: int
    seen_at: int
    org_name: str = ""  # read only: the organisation's name, for the pages to show


_BY_EMAIL = (
    f"SELECT {USERS.select('u')}, p.hash FROM users u JOIN user_passwords p ON p.user_id = u.id"
    " WHERE lower(u.email) = ? ORDER BY u.created_at, u.id"
)
_SET = (
    "INSERT INTO user_passwords (user_id, org_id, hash, changed_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, changed_at = excluded.changed_at"
)
_SESSION = (
    "SELECT s.token_hash, s.org_id, s.user_id, s.csrf, s.created_at, s.seen_at, o.name"
    " FROM ui_sessions s JOIN orgs o ON o.id = s.org_id WHERE s.token_hash = ?"
)
_INSERT = (
    "INSERT INTO ui_sessions (token_hash, org_id, user_id, csrf, created_at, seen_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_TOUCH = "UPDATE ui_sessions SET seen_at = ? WHERE token_hash = ?"


class Passwords(Protocol):
    def set(self, org_id: str, user_id: str, hashed: str, at: int) -> None:
        """Store (or replace) the user's password hash."""
        ...

    def by_email(self, email: str) -> list[tuple[User, str]]:
        """Every user of any organisation with this email (lower case) and a password,
        with its hash, oldest user first."""
        ...


class Sessions(Protocol):
    def insert(self, row: SessionRow) -> None: ...
    def get(self, token_hash: str) -> SessionRow | None: ...
    def touch(self, token_hash: str, at: int) -> None:
        """Record that the session was used at ``at`` (its idle time starts again)."""
        ...

    def delete(self, token_hash: str) -> bool:
        """End the session; False if there was none."""
        ...

    def delete_user(self, user_id: str) -> int:
        """End every session of the user (a new password); how many there were."""
        ...

    def delete_idle(self, before: int) -> int:
        """Delete the sessions last used before ``before``; how many."""
        ...


class SqlPasswords(Repository):
    """Implements ``Passwords``."""

    __slots__ = ()

    def set(self, org_id: str, user_id: str, hashed: str, at: int) -> None:
        self._sql.execute(_SET, (user_id, org_id, hashed, at))

    def by_email(self, email: str) -> list[tuple[User, str]]:
        return [(USERS.load(row[:-1]), str(row[-1])) for row in self._sql.all(_BY_EMAIL, (email,))]


class SqlSessions(Repository):
    """Implements ``Sessions``."""

    __slots__ = ()

    def insert(self, row: SessionRow) -> None:
        self._sql.execute(
            _INSERT,
            (row.token_hash, row.org_id, row.user_id, row.csrf, row.created_at, row.seen_at),
        )

    def get(self, token_hash: str) -> SessionRow | None:
        row = self._sql.one(_SESSION, (token_hash,))
        return None if row is None else SessionRow(*row)

    def touch(self, token_hash: str, at: int) -> None:
        self._sql.execute(
            "UPDATE ui_sessions SET seen_at = ? WHERE token_hash = ?", (at, token_hash)
        )

    def delete(self, token_hash: str) -> bool:
        return self._sql.execute("DELETE FROM ui_sessions WHERE token_hash = ?", (token_hash,)) == 1

    def delete_user(self, user_id: str) -> int:
        return self._sql.execute("DELETE FROM ui_sessions WHERE user_id = ?", (user_id,))

    def delete_idle(self, before: int) -> int:
        return self._sql.execute("DELETE FROM ui_sessions WHERE seen_at < ?", (before,))
