"""The storage contract the domain layer relies on.

A ``Store`` hands out transactions; a ``Transaction`` holds every query
casebook makes. Both back ends (``sqlite.py``, ``postgres.py``) share one
implementation of the queries (``sqlstore.SqlTransaction``) and differ in how
they connect, lock and report faults.

Every method that reads or changes organisation-owned rows takes ``org_id``
and filters on it: no query can reach another organisation's rows.
Methods return ``None`` (or an empty list) for "no such row"; raising
``NotFoundError`` is the domain layer's decision. Storage raises only
``ConflictError`` (a uniqueness rule) and ``UnavailableError`` (the database
cannot be reached, or stayed locked past the busy timeout; nothing was written).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Literal, Protocol

from casebook.core.entities import (
    Case,
    CaseChange,
    CaseSort,
    KeyInfo,
    Org,
    Project,
    Scope,
    User,
)
from casebook.search.query import Query

Dialect = Literal["sqlite", "postgres"]


class Transaction(Protocol):
    """One database transaction. Writes are visible to others only after commit."""

    # --- server metadata -------------------------------------------------
    def get_meta(self, name: str) -> str | None: ...
    def set_meta_if_absent(self, name: str, value: str) -> str:
        """Store ``value`` unless ``name`` is set; return the value now stored."""
        ...

    # --- organisations and users -----------------------------------------
    def insert_org(self, org: Org) -> None:
        """Raise ConflictError if the name is taken."""
        ...

    def get_org_by_name(self, name: str) -> Org | None: ...
    def list_orgs(self) -> list[Org]: ...
    def insert_user(self, user: User) -> None:
        """Raise ConflictError if the email is taken in the organisation."""
        ...

    def get_user(self, org_id: str, user_id: str) -> User | None: ...
    def get_user_by_email(self, org_id: str, email: str) -> User | None: ...
    def count_users(self, org_id: str) -> int: ...
    def list_users(
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

    def update_user(self, user: User) -> None: ...

    # --- keys -------------------------------------------------------------
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

    def list_keys(self, org_id: str) -> list[KeyInfo]: ...
    def revoke_key(self, org_id: str, key_id: str, at: int) -> bool:
        """Revoke an API or application key; False if there is no such unrevoked key."""
        ...

    # --- projects ---------------------------------------------------------
    def insert_project(self, project: Project) -> None:
        """Raise ConflictError if the key is taken in the organisation (deleted projects too)."""
        ...

    def get_project(
        self, org_id: str, project_id: str, *, include_deleted: bool = False
    ) -> Project | None: ...
    def get_project_by_key(
        self, org_id: str, key: str, *, include_deleted: bool = False
    ) -> Project | None: ...
    def list_projects(self, org_id: str) -> list[Project]: ...
    def set_project_deleted(
        self, org_id: str, project_id: str, at: int | None, by: str | None
    ) -> None: ...
    def allocate_case_number(self, org_id: str, project_id: str) -> tuple[int, str] | None:
        """Take the next case number of a live project, locking its counter until commit.

        Returns (number, project key), or None if there is no such live project.
        """
        ...

    # --- cases ------------------------------------------------------------
    def insert_case(self, case: Case, *, created_by_id: str | None) -> int:
        """Insert a case (``seq`` ignored) and return the ``seq`` it was given."""
        ...

    def get_case(self, org_id: str, case_id: str, *, for_update: bool = False) -> Case | None:
        """A case of a live project by UUID."""
        ...

    def get_case_by_key(self, org_id: str, key: str, *, for_update: bool = False) -> Case | None:
        """A case of a live project by key (``SEC-12``)."""
        ...

    def update_case(self, org_id: str, case_id: str, values: dict[str, object]) -> None:
        """Set columns of one case; ``values`` keys are column names chosen by the domain."""
        ...

    def record_changes(
        self,
        org_id: str,
        case_id: str,
        actor_id: str | None,
        at: int,
        changes: Sequence[CaseChange],
    ) -> None: ...
    def list_changes(self, org_id: str, case_id: str) -> list[tuple[int, str | None, CaseChange]]:
        """The case's history, oldest first: (time, actor id, change)."""
        ...

    def search_cases(
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
