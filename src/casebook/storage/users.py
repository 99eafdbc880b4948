"""Users: ``users``, and ``UserRef``, what a case says of each user it mentions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from casebook.core.entities import User, UserRef, UserSort, UserStatus
from casebook.storage.columns import Column, Table, enum_dump, enum_load
from casebook.storage.executor import Repository

_ACTIVE = UserStatus.ACTIVE.value


def _is_active(status: str) -> bool:
    return status == _ACTIVE


USERS = Table(
    "users",
    User,
    (
        Column("id"),
        Column("org_id"),
        Column("email"),
        Column("handle"),
        Column("name"),
        Column("title"),
        Column("status", load=enum_load(UserStatus), dump=enum_dump),
        Column("is_admin", load=bool, dump=int),
        Column("service_account", load=bool, dump=int),
        Column("created_at"),
        Column("modified_at"),
    ),
)

USER_REFS = Table(
    "users",
    UserRef,
    (
        Column("id"),
        Column("email"),
        Column("handle"),
        Column("name"),
        Column("status", field="active", load=_is_active),
    ),
)
"""Read only: the users a case mentions, joined to its row (``storage.cases``)."""

# What update() writes; the rest is set once, by insert().
_CHANGEABLE = ("email", "handle", "name", "title", "status", "is_admin", "modified_at")

_SELECT = f"SELECT {USERS.select()} FROM users"
_GET = f"{_SELECT} WHERE org_id = ? AND id = ?"
_BY_EMAIL = f"{_SELECT} WHERE org_id = ? AND email = ?"
_UPDATE = f"UPDATE users SET {USERS.assignments(_CHANGEABLE)} WHERE org_id = ? AND id = ?"
_ORDER = {"name": "coalesce(name, email)", "modified_at": "modified_at"}
# instr()/strpos() on lowered text: no LIKE metacharacters to escape.
_TEXT = {
    "sqlite": "(instr(lower(email), ?) > 0 OR instr(lower(handle), ?) > 0"
    " OR instr(lower(coalesce(name, '')), ?) > 0)",
    "postgres": "(strpos(lower(email), ?) > 0 OR strpos(lower(handle), ?) > 0"
    " OR strpos(lower(coalesce(name, '')), ?) > 0)",
}


def _taken(user: User) -> str:
    return f"a user with email {user.email} already exists"


class Users(Protocol):
    def insert(self, user: User) -> None:
        """Raise ConflictError if the email is taken in the organisation."""
        ...

    def get(self, org_id: str, user_id: str) -> User | None: ...
    def by_email(self, org_id: str, email: str) -> User | None: ...
    def by_names(self, org_id: str, names: Sequence[str]) -> list[User]:
        """The users whose handle or email is one of ``names`` (lower case)."""
        ...

    def count(self, org_id: str) -> int: ...
    def list(
        self,
        org_id: str,
        *,
        text: str | None,
        statuses: Sequence[UserStatus] | None,
        order_by: UserSort,
        descending: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[User], int]:
        """A page of users matching ``text`` (substring of email, handle or name)
        and ``statuses``, and the number of all matches."""
        ...

    def update(self, user: User) -> None:
        """Store the user's email, handle, name, title, status, role and ``modified_at``.

        Raise ConflictError if the email is taken in the organisation.
        """
        ...


class SqlUsers(Repository):
    """Implements ``Users``."""

    __slots__ = ()

    def insert(self, user: User) -> None:
        self._sql.execute_unique(USERS.insert, USERS.row(user), _taken(user))

    def get(self, org_id: str, user_id: str) -> User | None:
        row = self._sql.one(_GET, (org_id, user_id))
        return None if row is None else USERS.load(row)

    def by_email(self, org_id: str, email: str) -> User | None:
        row = self._sql.one(_BY_EMAIL, (org_id, email))
        return None if row is None else USERS.load(row)

    def by_names(self, org_id: str, names: Sequence[str]) -> list[User]:
        if not names:
            return []
        marks = ", ".join("?" * len(names))
        sql = (
            f"SELECT {USERS.select()} FROM users WHERE org_id = ?"
            f" AND (lower(handle) IN ({marks}) OR lower(email) IN ({marks}))"
        )
        return [USERS.load(row) for row in self._sql.all(sql, [org_id, *names, *names])]

    def count(self, org_id: str) -> int:
        row = self._sql.one("SELECT count(*) FROM users WHERE org_id = ?", (org_id,))
        assert row is not None
        return int(row[0])

    def list(
        self,
        org_id: str,
        *,
        text: str | None,
        statuses: Sequence[UserStatus] | None,
        order_by: UserSort,
        descending: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[User], int]:
        where = ["org_id = ?"]
        params: list[Any] = [org_id]
        if text:
            where.append(_TEXT[self._sql.dialect])
            folded = text.lower()
            params += [folded, folded, folded]
        if statuses:
            where.append(f"status IN ({', '.join('?' for _ in statuses)})")
            params += [status.value for status in statuses]
        clause = " AND ".join(where)
        column = _ORDER.get(order_by, "email")
        direction = "DESC" if descending else "ASC"
        counted = self._sql.one(f"SELECT count(*) FROM users WHERE {clause}", params)
        assert counted is not None
        rows = self._sql.all(
            f"{_SELECT} WHERE {clause}"
            f" ORDER BY {column} {direction}, id {direction} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [USERS.load(r) for r in rows], int(counted[0])

    def update(self, user: User) -> None:
        self._sql.execute_unique(
            _UPDATE, [*USERS.dump(user, _CHANGEABLE), user.org_id, user.id], _taken(user)
        )
