"""The storage contract the domain layer relies on: a ``Store`` hands out transactions.

The domain imports what it needs of storage from here (``Store``,
``Transaction``, ``CaseUpdate``), never the back ends.

A ``Transaction`` (``storage.transaction``) holds one repository per entity
(``tx.cases``, ``tx.users``, ...); each repository module (``storage/cases.py``,
``storage/users.py``, ...) states its contract as a Protocol beside the SQL that
implements it, and declares its table's columns once (``storage.columns``). Both
back ends (``sqlite.py``, ``postgres.py``) share that one implementation and
differ in how they connect, lock and report faults.

Every method that reads or changes organisation-owned rows takes ``org_id``
and filters on it: no query can reach another organisation's rows.
Methods return ``None`` (or an empty list) for "no such row"; raising
``NotFoundError`` is the domain layer's decision. Storage raises only
``ConflictError`` (a uniqueness rule) and ``UnavailableError`` (the database
cannot be reached, or stayed locked past the busy timeout; nothing was written).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from casebook.storage.cases import UNSET, CaseUpdate
from casebook.storage.executor import Dialect
from casebook.storage.transaction import Transaction

__all__ = ["UNSET", "CaseUpdate", "Dialect", "Store", "Transaction"]


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
