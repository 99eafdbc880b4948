"""The transaction both back ends hand out: one repository per entity on one cursor.

``Transaction`` is the contract the domain relies on; ``SqlTransaction``, its one
implementation, makes each repository on first use (most requests use one or
two, and all ten up front would cost more than the transaction itself).
A new repository is one line in each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from casebook.storage.case_types import (
    CaseTypes,
    CustomAttributes,
    SqlCaseTypes,
    SqlCustomAttributes,
)
from casebook.storage.cases import Cases, SqlCases
from casebook.storage.comments import Comments, SqlComments
from casebook.storage.connections import Connections, SqlConnections
from casebook.storage.executor import Dialect, Executor
from casebook.storage.favorites import Favorites, SqlFavorites
from casebook.storage.history import History, SqlHistory
from casebook.storage.keys import Keys, SqlKeys
from casebook.storage.links import Links, SqlLinks
from casebook.storage.maintenance import MaintenanceWindows, SqlMaintenanceWindows
from casebook.storage.meta import Meta, SqlMeta
from casebook.storage.orgs import Orgs, SqlOrgs
from casebook.storage.outbox import (
    Deliveries,
    Leases,
    Outbox,
    SqlDeliveries,
    SqlLeases,
    SqlOutbox,
)
from casebook.storage.projects import Projects, SqlProjects
from casebook.storage.rules import (
    AutomationRules,
    NotificationRules,
    SqlAutomationRules,
    SqlNotificationRules,
)
from casebook.storage.sessions import Passwords, Sessions, SqlPasswords, SqlSessions
from casebook.storage.users import SqlUsers, Users
from casebook.storage.views import SqlViews, Views
from casebook.storage.watchers import SqlWatchers, Watchers
from casebook.storage.webhooks import SqlWebhooks, Webhooks

R = TypeVar("R")


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
    @property
    def comments(self) -> Comments: ...
    @property
    def watchers(self) -> Watchers: ...
    @property
    def links(self) -> Links: ...
    @property
    def case_types(self) -> CaseTypes: ...
    @property
    def custom_attributes(self) -> CustomAttributes: ...
    @property
    def favorites(self) -> Favorites: ...
    @property
    def views(self) -> Views: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def deliveries(self) -> Deliveries: ...
    @property
    def leases(self) -> Leases: ...
    @property
    def webhooks(self) -> Webhooks: ...
    @property
    def connections(self) -> Connections: ...
    @property
    def notification_rules(self) -> NotificationRules: ...
    @property
    def automation_rules(self) -> AutomationRules: ...
    @property
    def maintenance_windows(self) -> MaintenanceWindows: ...
    @property
    def passwords(self) -> Passwords: ...
    @property
    def sessions(self) -> Sessions: ...


class _Repository(Generic[R]):
    """A repository made on first use, then kept in the transaction's ``__dict__`` (where
    later reads find it without calling this again)."""

    def __init__(self, make: Callable[[Executor], R]) -> None:
        self._make = make
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, tx: SqlTransaction, owner: type | None = None) -> R:
        repository = tx.__dict__[self._name] = self._make(tx.sql)
        return repository


class SqlTransaction:
    """Implements ``Transaction`` over one DB-API cursor; ``sql`` runs statements of one's
    own (benchmarks, tests)."""

    def __init__(
        self,
        cursor: Any,
        dialect: Dialect,
        is_unique_violation: Callable[[BaseException], bool],
    ) -> None:
        self.sql = Executor(cursor, dialect, is_unique_violation)

    meta = _Repository(SqlMeta)
    orgs = _Repository(SqlOrgs)
    users = _Repository(SqlUsers)
    keys = _Repository(SqlKeys)
    projects = _Repository(SqlProjects)
    cases = _Repository(SqlCases)
    history = _Repository(SqlHistory)
    comments = _Repository(SqlComments)
    watchers = _Repository(SqlWatchers)
    links = _Repository(SqlLinks)
    case_types = _Repository(SqlCaseTypes)
    custom_attributes = _Repository(SqlCustomAttributes)
    favorites = _Repository(SqlFavorites)
    views = _Repository(SqlViews)
    outbox = _Repository(SqlOutbox)
    deliveries = _Repository(SqlDeliveries)
    leases = _Repository(SqlLeases)
    webhooks = _Repository(SqlWebhooks)
    connections = _Repository(SqlConnections)
    notification_rules = _Repository(SqlNotificationRules)
    automation_rules = _Repository(SqlAutomationRules)
    maintenance_windows = _Repository(SqlMaintenanceWindows)
    passwords = _Repository(SqlPasswords)
    sessions = _Repository(SqlSessions)
