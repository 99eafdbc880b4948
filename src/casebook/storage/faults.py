"""A store that injects the ``create_after_allocate`` and ``history_record`` faults (see
``casebook.core.faults``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, cast

from casebook.core.entities import Case, CaseChange
from casebook.core.errors import UnavailableError
from casebook.core.faults import Faults
from casebook.storage.base import Store
from casebook.storage.cases import Cases
from casebook.storage.executor import Dialect
from casebook.storage.history import History
from casebook.storage.transaction import Transaction


class _FaultyCases:
    def __init__(self, inner: Cases, faults: Faults) -> None:
        self._inner = inner
        self._faults = faults

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def insert(self, case: Case) -> int:
        # The domain calls this after allocate_case_number, in the same transaction.
        if self._faults.fire("create_after_allocate"):
            raise UnavailableError("injected fault: create failed after allocating its number")
        return self._inner.insert(case)


class _FaultyHistory:
    def __init__(self, inner: History, faults: Faults) -> None:
        self._inner = inner
        self._faults = faults

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def record(
        self,
        org_id: str,
        case_id: str,
        actor_id: str | None,
        at: int,
        changes: Sequence[CaseChange],
        *,
        depth: int = 0,
    ) -> None:
        # Every command writes its history last, after the change itself.
        if self._faults.fire("history_record"):
            raise UnavailableError("injected fault: the change failed writing its history")
        self._inner.record(org_id, case_id, actor_id, at, changes, depth=depth)

    def record_many(
        self,
        org_id: str,
        actor_id: str | None,
        at: int,
        changes: Sequence[tuple[str, Sequence[CaseChange]]],
        *,
        depth: int = 0,
    ) -> None:
        # A bulk writes its history last too.
        if self._faults.fire("history_record"):
            raise UnavailableError("injected fault: the change failed writing its history")
        self._inner.record_many(org_id, actor_id, at, changes, depth=depth)


class _FaultyTransaction:
    def __init__(self, inner: Transaction, faults: Faults) -> None:
        self._inner = inner
        self.cases = cast(Cases, _FaultyCases(inner.cases, faults))
        self.history = cast(History, _FaultyHistory(inner.history, faults))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class FaultInjectingStore:
    def __init__(self, inner: Store, faults: Faults) -> None:
        self.inner = inner
        self.faults = faults
        self.dialect: Dialect = inner.dialect

    def migrate(self) -> None:
        self.inner.migrate()

    def read(self, *, snapshot: bool = False) -> AbstractContextManager[Transaction]:
        return self.inner.read(snapshot=snapshot)

    @contextmanager
    def _write(self) -> Iterator[Transaction]:
        with self.inner.write() as tx:
            yield cast(Transaction, _FaultyTransaction(tx, self.faults))

    def write(self) -> AbstractContextManager[Transaction]:
        return self._write()

    def ping(self) -> None:
        self.inner.ping()

    def close(self) -> None:
        self.inner.close()
