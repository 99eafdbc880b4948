"""Integration connections: ``integration_connections``, one per organisation and system."""

from __future__ import annotations

from typing import Protocol

from casebook.core.entities import Connection
from casebook.storage.columns import Column, Table
from casebook.storage.executor import Repository

CONNECTIONS = Table(
    "integration_connections",
    Connection,
    (
        Column("org_id"),
        Column("system"),
        Column("url"),
        Column("instance"),
        Column("username"),
        Column("secret"),
        Column("created_at"),
        Column("modified_at"),
    ),
)

_SELECT = f"SELECT {CONNECTIONS.select()} FROM integration_connections"
_GET = f"{_SELECT} WHERE org_id = ? AND system = ?"
_LIST = f"{_SELECT} WHERE org_id = ? ORDER BY system"
_UPSERT = (
    CONNECTIONS.insert + " ON CONFLICT (org_id, system) DO UPDATE SET url = excluded.url,"
    " instance = excluded.instance, username = excluded.username, secret = excluded.secret,"
    " modified_at = excluded.modified_at"
)
_DELETE = "DELETE FROM integration_connections WHERE org_id = ? AND system = ?"


class Connections(Protocol):
    def get(self, org_id: str, system: str) -> Connection | None:
        """The organisation's connection to ``system`` (``jira``, ``servicenow``), if any."""
        ...

    def list(self, org_id: str) -> list[Connection]:
        """The organisation's connections, by system."""
        ...

    def put(self, connection: Connection) -> None:
        """Store a connection, replacing the organisation's one to the same system (whose
        ``created_at`` stays)."""
        ...

    def delete(self, org_id: str, system: str) -> bool:
        """Remove the organisation's connection to ``system``; False if it had none."""
        ...


class SqlConnections(Repository):
    """Implements ``Connections``."""

    __slots__ = ()

    def get(self, org_id: str, system: str) -> Connection | None:
        row = self._sql.one(_GET, (org_id, system))
        return None if row is None else CONNECTIONS.load(row)

    def list(self, org_id: str) -> list[Connection]:
        return [CONNECTIONS.load(row) for row in self._sql.all(_LIST, (org_id,))]

    def put(self, connection: Connection) -> None:
        self._sql.execute(_UPSERT, CONNECTIONS.row(connection))

    def delete(self, org_id: str, system: str) -> bool:
        return self._sql.execute(_DELETE, (org_id, system)) > 0
