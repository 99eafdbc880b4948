"""The transaction both back ends hand out: one repository per entity on one cursor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from casebook.storage.base import Dialect
from casebook.storage.cases import SqlCases
from casebook.storage.executor import Executor
from casebook.storage.history import SqlHistory
from casebook.storage.keys import SqlKeys
from casebook.storage.meta import SqlMeta
from casebook.storage.orgs import SqlOrgs
from casebook.storage.projects import SqlProjects
from casebook.storage.users import SqlUsers


class SqlTransaction:
    """Implements ``storage.base.Transaction`` over one DB-API cursor.

    One is made for every request, and most requests use one or two
    repositories: each is made on first use (all seven up front would cost
    more than the transaction itself). ``sql`` runs statements of one's own
    (benchmarks, tests).
    """

    __slots__ = (
        "_cases",
        "_history",
        "_keys",
        "_meta",
        "_orgs",
        "_projects",
        "_users",
        "sql",
    )

    def __init__(
        self,
        cursor: Any,
        dialect: Dialect,
        is_unique_violation: Callable[[BaseException], bool],
    ) -> None:
        self.sql = Executor(cursor, dialect, is_unique_violation)
        self._meta: SqlMeta | None = None
        self._orgs: SqlOrgs | None = None
        self._users: SqlUsers | None = None
        self._keys: SqlKeys | None = None
        self._projects: SqlProjects | None = None
        self._cases: SqlCases | None = None
        self._history: SqlHistory | None = None

    @property
    def meta(self) -> SqlMeta:
        if self._meta is None:
            self._meta = SqlMeta(self.sql)
        return self._meta

    @property
    def orgs(self) -> SqlOrgs:
        if self._orgs is None:
            self._orgs = SqlOrgs(self.sql)
        return self._orgs

    @property
    def users(self) -> SqlUsers:
        if self._users is None:
            self._users = SqlUsers(self.sql)
        return self._users

    @property
    def keys(self) -> SqlKeys:
        if self._keys is None:
            self._keys = SqlKeys(self.sql)
        return self._keys

    @property
    def projects(self) -> SqlProjects:
        if self._projects is None:
            self._projects = SqlProjects(self.sql)
        return self._projects

    @property
    def cases(self) -> SqlCases:
        if self._cases is None:
            self._cases = SqlCases(self.sql)
        return self._cases

    @property
    def history(self) -> SqlHistory:
        if self._history is None:
            self._history = SqlHistory(self.sql)
        return self._history
