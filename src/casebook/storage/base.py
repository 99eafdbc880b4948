"""The storage contract the domain layer relies on.

A ``Store`` hands out transactions; a ``Transaction`` holds one repository per
entity (``tx.cases``, ``tx.users``, ...), and each repository holds the queries
of its table. Both back ends (``sqlite.py``, ``postgres.py``) share one
implementation of the repositories (``transaction.SqlTransaction``) and differ
in how they connect, lock and report faults.

Every method that reads or changes organisation-owned rows takes ``org_id``
and filters on it: no query can reach another organisation's rows.
Methods return ``None`` (or an empty list) for "no such row"; raising
``NotFoundError`` is the domain layer's decision. Storage raises only
``ConflictError`` (a uniqueness rule) and ``UnavailableError`` (the database
cannot be reached, or stayed locked past the busy timeout; nothing was written).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, Protocol

from casebook.core.entities import (
    Case,
    CaseChange,
    CaseSort,
    KeyInfo,
    Org,
    Priority,
    Project,
    Scope,
    Status,
    User,
)
from casebook.search.query import Query

if TYPE_CHECKING:  # sql_search imports Dialect from here
    from casebook.storage.sql_search import SearchPlanner

Dialect = Literal["sqlite", "postgres"]


class Unset(enum.Enum):
    """The type of ``UNSET``."""

    UNSET = "UNSET"


UNSET: Final = Unset.UNSET
"""A ``CaseUpdate`` field left out: its column is not written."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CaseUpdate:
    """New values for some fields of one case; only the fields given are written.

    ``None`` clears a field that may be empty. Storage maps each field to its
    columns (``priority`` also writes the rank that sorting by priority reads);
    users are given by id.
    """

    title: str | Unset = UNSET
    description: str | Unset = UNSET
    priority: Priority | Unset = UNSET
    status: Status | Unset = UNSET
    attributes: dict[str, list[str]] | Unset = UNSET
    closed_at: int | Unset | None = UNSET
    archived_at: int | Unset | None = UNSET
    assignee_id: str | Unset | None = UNSET
    modified_at: int | Unset | None = UNSET
    modified_by: str | Unset | None = UNSET


class Meta(Protocol):
    """Server settings kept in the database (``casebook_meta``)."""

    def get(self, name: str) -> str | None: ...
    def set_if_absent(self, name: str, value: str) -> str:
        """Store ``value`` unless ``name`` is set; return the value now stored."""
        ...


class Orgs(Protocol):
    def insert(self, org: Org) -> None:
        """Raise ConflictError if the name is taken."""
        ...

    def by_name(self, name: str) -> Org | None: ...
    def list(self) -> list[Org]:
        """Every organisation, by name."""
        ...


class Users(Protocol):
    def insert(self, user: User) -> None:
        """Raise ConflictError if the email is taken in the organisation."""
        ...

    def get(self, org_id: str, user_id: str) -> User | None: ...
    def by_email(self, org_id: str, email: str) -> User | None: ...
    def count(self, org_id: str) -> int: ...
    def list(
        self,
        org_id: str,
        *,
        text: str | None,
        statuses: Sequence[str] | None,
        order_by: str,
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


class Projects(Protocol):
    def insert(self, project: Project) -> None:
        """Raise ConflictError if the key is taken in the organisation (deleted projects too)."""
        ...

    def get(
        self, org_id: str, project_id: str, *, include_deleted: bool = False
    ) -> Project | None: ...
    def by_key(self, org_id: str, key: str, *, include_deleted: bool = False) -> Project | None: ...
    def list(self, org_id: str) -> list[Project]:
        """The organisation's live projects, by key."""
        ...

    def set_deleted(self, org_id: str, project_id: str, at: int | None, by: str | None) -> None:
        """Delete a project at ``at`` by user ``by``, or restore it (both None)."""
        ...

    def allocate_case_number(self, org_id: str, project_id: str) -> tuple[int, str] | None:
        """Take the next case number of a live project, locking its counter until commit.

        Returns (number, project key), or None if there is no such live project.
        """
        ...


class Cases(Protocol):
    def insert(self, case: Case) -> int:
        """Insert a case (``seq`` ignored) and return the ``seq`` it was given."""
        ...

    def get(self, org_id: str, case_id: str, *, for_update: bool = False) -> Case | None:
        """A case of a live project by UUID; ``for_update`` locks it until commit."""
        ...

    def by_key(self, org_id: str, key: str, *, for_update: bool = False) -> Case | None:
        """A case of a live project by key (``SEC-12``)."""
        ...

    def update(self, org_id: str, case_id: str, change: CaseUpdate) -> None:
        """Write the fields that ``change`` gives to one case."""
        ...

    def search(
        self,
        org_id: str,
        query: Query,
        *,
        actor_user_id: str,
        sort: CaseSort,
        ascending: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[Case], int]:
        """A page of the org's cases of live projects matching the search query
        (``actor_user_id`` is ``me``), and the number of all matches, counted up
        to ``sql_search.bounded_total(offset, limit)`` (past it, that bound)."""
        ...

    def search_planner(
        self, org_id: str, query: Query, *, actor_user_id: str, sort: CaseSort, ascending: bool
    ) -> SearchPlanner:
        """The statements of one search, as ``search`` runs them (also for EXPLAIN)."""
        ...


class History(Protocol):
    """What happened to each case (``case_events``): the rows of its timeline."""

    def record(
        self,
        org_id: str,
        case_id: str,
        actor_id: str | None,
        at: int,
        changes: Sequence[CaseChange],
    ) -> None: ...
    def list(self, org_id: str, case_id: str) -> list[tuple[int, str | None, CaseChange]]:
        """The case's history, oldest first: (time, actor id, change)."""
        ...


class Transaction(Protocol):
    """One database transaction. Writes are visible to others only after commit."""

    @property
    def meta(self) -> Meta: ...
    @property
    def orgs(self) -> Orgs: ...
    @property
    def users(self) -> Users: ...
    @property
    def keys(self) -> Keys: ...
    @property
    def projects(self) -> Projects: ...
    @property
    def cases(self) -> Cases: ...
    @property
    def history(self) -> History: ...


class Store(Protocol):
    """A database: migrations, transactions, and an idempotent close()."""

    dialect: Dialect

    def migrate(self) -> None:
        """Bring the schema to the newest version (safe from several processes)."""
        ...

    def read(self, *, snapshot: bool = False) -> AbstractContextManager[Transaction]:
        """Queries that change nothing; ``snapshot`` makes several statements agree."""
        ...

    def write(self) -> AbstractContextManager[Transaction]:
        """A write transaction, committed on normal exit and rolled back on error."""
        ...

    def ping(self) -> None:
        """Raise UnavailableError unless the database answers."""
        ...

    def close(self) -> None: ...
