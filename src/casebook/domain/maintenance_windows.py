"""Maintenance windows: while one lasts, the organisation's cases that its query matches
notify no one and run no automation (``rules.muting_window``).

A window is the organisation's, not a project's (``project_id:`` or ``project:`` in its
query narrows it to some): a name, a query in the search language (parsed when saved;
empty: every case) and a time range, ``start_at`` included, ``end_at`` excluded. Times
are RFC 3339 with a time zone (``2026-03-01T22:00:00Z``, ``...+01:00``), kept to the
microsecond in UTC; past windows may be saved and are kept until deleted.
"""

from __future__ import annotations

import datetime
import re

from casebook.core.clock import new_id, now_us, parse_uuid
from casebook.core.entities import Actor, MaintenanceWindow, Scope
from casebook.core.errors import (
    ConflictError,
    InvalidValueError,
    MaintenanceWindowNotFoundError,
)
from casebook.domain import limits
from casebook.domain.access import require_scope
from casebook.domain.rules import check_query
from casebook.storage.base import Store, Transaction

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_LAST = datetime.datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=datetime.UTC)
_US = datetime.timedelta(microseconds=1)


def parse_time(value: str, member: str) -> int:
    """An RFC 3339 time with a time zone, as microseconds since the epoch (1970 to 9999)."""
    text = value.strip()
    moment = None
    if _RFC3339.fullmatch(text):
        try:  # Python reads fractions past microseconds, and refuses 2026-02-30 or 25:00
            moment = datetime.datetime.fromisoformat(text.upper().replace(" ", "T"))
        except ValueError:
            moment = None
    if moment is None:
        raise InvalidValueError(
            f"invalid {member} {value!r}: expected an RFC 3339 time with a time zone,"
            " such as 2026-03-01T22:00:00Z"
        )
    if not _EPOCH <= moment <= _LAST:
        raise InvalidValueError(f"invalid {member} {value!r}: must be between 1970 and 9999")
    return (moment - _EPOCH) // _US


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > limits.MAX_WINDOW_NAME_CHARS or not name.isprintable():
        raise InvalidValueError(
            f"invalid maintenance window name: 1 to {limits.MAX_WINDOW_NAME_CHARS}"
            " printable characters"
        )
    return name


def _check_range(start_at: int, end_at: int) -> None:
    if start_at >= end_at:
        raise InvalidValueError("invalid time range: start_at must be before end_at")


def _window(tx: Transaction, actor: Actor, window_id: str) -> MaintenanceWindow:
    canonical = parse_uuid(window_id)
    window = None if canonical is None else tx.maintenance_windows.get(actor.org_id, canonical)
    if window is None:
        raise MaintenanceWindowNotFoundError(window_id)
    return window


def create_maintenance_window(
    store: Store, *, actor: Actor, name: str, query: str, start_at: str, end_at: str
) -> MaintenanceWindow:
    """Add a window to the organisation (at most ``MAX_MAINTENANCE_WINDOWS``)."""
    require_scope(actor, Scope.CASES_WRITE)
    name = _check_name(name)
    query = check_query(query)
    start, end = parse_time(start_at, "start_at"), parse_time(end_at, "end_at")
    _check_range(start, end)
    with store.write() as tx:
        if tx.maintenance_windows.count(actor.org_id) >= limits.MAX_MAINTENANCE_WINDOWS:
            raise ConflictError(
                f"the organisation has {limits.MAX_MAINTENANCE_WINDOWS} maintenance windows"
                " already, the most it may have: delete past ones"
            )
        window = MaintenanceWindow(
            id=new_id(),
            org_id=actor.org_id,
            name=name,
            query=query,
            start_at=start,
            end_at=end,
            created_at=now_us(),
            created_by=actor.user_id,
        )
        tx.maintenance_windows.insert(window)
    return window


def list_maintenance_windows(store: Store, *, actor: Actor) -> list[MaintenanceWindow]:
    """The organisation's windows, past ones included, by start time."""
    require_scope(actor, Scope.CASES_READ)
    with store.read() as tx:
        return tx.maintenance_windows.list(actor.org_id)


def update_maintenance_window(
    store: Store,
    window_id: str,
    *,
    actor: Actor,
    name: str | None = None,
    query: str | None = None,
    start_at: str | None = None,
    end_at: str | None = None,
) -> MaintenanceWindow:
    """Change what is sent (None: kept); the range must still start before it ends."""
    require_scope(actor, Scope.CASES_WRITE)
    new_name = None if name is None else _check_name(name)
    new_query = None if query is None else check_query(query)
    new_start = None if start_at is None else parse_time(start_at, "start_at")
    new_end = None if end_at is None else parse_time(end_at, "end_at")
    with store.write() as tx:
        window = _window(tx, actor, window_id)
        if new_name is not None:
            window.name = new_name
        if new_query is not None:
            window.query = new_query
        if new_start is not None:
            window.start_at = new_start
        if new_end is not None:
            window.end_at = new_end
        _check_range(window.start_at, window.end_at)
        window.modified_at = now_us()
        window.modified_by = actor.user_id
        tx.maintenance_windows.update(window)
    return window


def delete_maintenance_window(store: Store, window_id: str, *, actor: Actor) -> None:
    require_scope(actor, Scope.CASES_WRITE)
    with store.write() as tx:
        window = _window(tx, actor, window_id)
        tx.maintenance_windows.delete(actor.org_id, window.id)
