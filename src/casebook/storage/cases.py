"""Cases: ``cases``, read with the users they mention, and searched (``storage.sql_search``)."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import msgspec

from casebook.core.entities import (
    PRIORITY_RANK,
    Case,
    CaseSort,
    CustomValue,
    Insight,
    JiraIssueRef,
    Priority,
    ServiceNowTicketRef,
    Status,
)
from casebook.search.query import Query
from casebook.storage import tallies
from casebook.storage.columns import Column, Join, Table, as_is, enum_dump, enum_load, json_text
from casebook.storage.executor import Repository
from casebook.storage.sql_counts import GroupCounter
from casebook.storage.sql_search import SearchPlanner, bounded_total
from casebook.storage.users import USER_REFS

_json_decode = msgspec.json.decode


def _json_object(text: str) -> Any:
    return {} if text == "{}" else _json_decode(text)  # most cases have no attributes


_insights_decoder = msgspec.json.Decoder(list[Insight])


def _insights(text: str) -> list[Insight]:
    return [] if text == "[]" else _insights_decoder.decode(text)


_jira_decoder = msgspec.json.Decoder(JiraIssueRef)
_ticket_decoder = msgspec.json.Decoder(ServiceNowTicketRef)


def _jira_issue(text: str | None) -> JiraIssueRef | None:
    return None if text is None else _jira_decoder.decode(text)


def _ticket(text: str | None) -> ServiceNowTicketRef | None:
    return None if text is None else _ticket_decoder.decode(text)


def _json_or_null(value: Any) -> str | None:
    return None if value is None else json_text(value)


def _rank(priority: Priority) -> int:
    return priority.rank


def _stored_name(name: str) -> str | None:
    return name or None  # NULL: the status group's built-in name ("Open")


def _status_name(stored: str | None) -> str:
    return stored or ""


CASES = Table(
    "cases",
    Case,
    (
        # seq is the public_id and the full-text index's rowid; id is the UUID clients use.
        Column("seq", written=False),
        Column("id"),
        Column("org_id"),
        Column("project_id"),
        Column("number"),
        Column("key"),
        Column("title"),
        Column("description"),
        Column("priority", load=enum_load(Priority), dump=enum_dump),
        # What sorting by priority reads (migration 0002), written with the priority.
        Column("priority_rank", field="priority", read=False, dump=_rank),
        Column("status", load=enum_load(Status), dump=enum_dump),
        Column("type_id"),
        Column("attributes", load=_json_object, dump=json_text),
        Column("custom_attributes", load=_json_object, dump=json_text),
        Column("creation_source"),
        Column("created_at"),
        Join("created_by", "created_by", "cb", USER_REFS),
        Column("modified_at"),
        Join("modified_by", "modified_by", "mb", USER_REFS),
        Column("closed_at"),
        Column("archived_at"),
        Join("assignee_id", "assignee", "au", USER_REFS),
        Column("due_date"),
        Column("resolved_reason"),
        Column("comment_count"),
        Column("insights", load=_insights, dump=json_text),
        Column("version"),
        # Migration 0006: NULL unless the status has a name other than its group's own.
        Column("status_name", load=_status_name, dump=_stored_name),
        # Migration 0009: the Jira issue and ServiceNow ticket made from (or linked to) the
        # case, JSON; NULL: none.
        Column("jira_issue", load=_jira_issue, dump=_json_or_null),
        Column("service_now_ticket", load=_ticket, dump=_json_or_null),
    ),
)

_SEQ = CASES.position("seq")
_SELECT = (
    f"SELECT {CASES.select('c')} FROM cases c"
    " JOIN projects p ON p.id = c.project_id AND p.deleted_at IS NULL" + CASES.joins("c")
)
_INSERT = CASES.insert + " RETURNING seq"
_BY_ID = f"{_SELECT} WHERE c.org_id = ? AND c.id = ?"
_BY_KEY = f"{_SELECT} WHERE c.org_id = ? AND c.key = ?"
# PostgreSQL only: SQLite's write transaction already keeps every other writer out.
_LOCK = " FOR UPDATE OF c"
_LOCKED = {_BY_ID: _BY_ID + _LOCK, _BY_KEY: _BY_KEY + _LOCK}
_ALIAS = "SELECT case_id FROM case_key_aliases WHERE org_id = ? AND key = ?"
_IDS_BY_KEY = "SELECT key, id FROM cases WHERE org_id = ? AND key IN ({marks})"
_IDS_BY_ALIAS = "SELECT key, case_id FROM case_key_aliases WHERE org_id = ? AND key IN ({marks})"
# Cases by a list of ids. Without statistics SQLite guesses that the organisation's
# indexes find fewer rows than the ids' unique index would, and reads every case of the
# organisation: a unary + on org_id keeps it off them (PostgreSQL has no unary + for text).
_ORG_OF_IDS = {"sqlite": "+{}org_id = ?", "postgres": "{}org_id = ?"}
# Locks rows in this order (PostgreSQL locks a sorted result's rows as it returns them).
_MANY = _SELECT + " WHERE {org} AND c.id IN ({marks}) ORDER BY c.id"
_ADD_ALIAS = (
    "INSERT INTO case_key_aliases (org_id, key, case_id, created_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (org_id, key) DO UPDATE SET case_id = excluded.case_id"
)
_OF_TYPE = "org_id = ? AND type_id = ?"
_IN_STATUS = _OF_TYPE + " AND status = ? AND coalesce(status_name, '') = ?"
_CUSTOM_VALUES_OF = (
    "SELECT c.id, c.version, c.custom_attributes FROM cases c WHERE c.seq IN"
    " (SELECT v.case_seq FROM case_custom_values v WHERE v.org_id = ? AND v.key = ?)"
    " AND c.org_id = ? AND c.type_id = ?"
)
_ANY_DELETED = "SELECT 1 FROM projects WHERE org_id = ? AND deleted_at IS NOT NULL LIMIT 1"
# A project's open, unarchived cases (index ix_cases_open_project, migration 0012: its
# condition is written out as literals, as the planners need to use a partial index), from
# the oldest, after a (created_at, seq); those whose last history row (the last cell of
# their timeline: a change, a comment, a watcher...) is older than a time. Their creation
# and last change (modified_at) are before it too, which most cases fail without reading
# their history.
_IDLE = (
    "SELECT c.id, c.version, c.created_at, c.seq FROM cases c"
    " WHERE c.org_id = ? AND c.project_id = ?"
    f" AND c.archived_at IS NULL AND c.status <> '{Status.CLOSED.value}'"
    " AND (c.created_at, c.seq) > (?, ?) AND c.created_at < ?"
    " AND coalesce(c.modified_at, c.created_at) < ?"
    " AND coalesce((SELECT e.at FROM case_events e WHERE e.case_id = c.id"
    " ORDER BY e.seq DESC LIMIT 1), c.created_at) < ?"
    " ORDER BY c.created_at, c.seq LIMIT ?"
)

_SORT_SQL: dict[CaseSort, tuple[str, str]] = {
    # (descending, ascending); seq breaks ties, so pages never overlap. Each
    # order is an index's order (migration 0002), read forwards or backwards.
    "created_at": ("c.created_at DESC, c.seq DESC", "c.created_at ASC, c.seq ASC"),
    "priority": (
        "c.priority_rank DESC, c.created_at DESC, c.seq DESC",
        "c.priority_rank ASC, c.created_at ASC, c.seq ASC",
    ),
    # Workflow order OPEN, IN_PROGRESS, CLOSED is exactly the reverse of the
    # names' order (CLOSED < IN_PROGRESS < OPEN, in any collation), so
    # "status descending" (CLOSED first) is the column ascending.
    "status": (
        "c.status ASC, c.created_at DESC, c.seq DESC",
        "c.status DESC, c.created_at ASC, c.seq ASC",
    ),
}
assert sorted(s.value for s in Status) == ["CLOSED", "IN_PROGRESS", "OPEN"]


@dataclass(frozen=True, slots=True)
class IdleCase:
    """An open case with nothing in its timeline since some time: its id, the version it
    had when found (a later change moves it), and where the next search starts after it."""

    id: str
    version: int
    created_at: int
    seq: int


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
    status_name: str | Unset = UNSET
    type_id: str | Unset = UNSET
    attributes: dict[str, list[str]] | Unset = UNSET
    custom_attributes: dict[str, CustomValue] | Unset = UNSET
    closed_at: int | Unset | None = UNSET
    archived_at: int | Unset | None = UNSET
    assignee_id: str | Unset | None = UNSET
    due_date: int | Unset | None = UNSET
    resolved_reason: str | Unset | None = UNSET
    comment_count: int | Unset = UNSET
    insights: list[Insight] | Unset = UNSET
    project_id: str | Unset = UNSET
    number: int | Unset = UNSET
    key: str | Unset = UNSET
    modified_at: int | Unset | None = UNSET
    modified_by: str | Unset | None = UNSET
    version: int | Unset = UNSET
    jira_issue: JiraIssueRef | Unset | None = UNSET
    service_now_ticket: ServiceNowTicketRef | Unset | None = UNSET


class Cases(Protocol):
    def insert(self, case: Case) -> int:
        """Insert a case (``seq`` ignored) and return the ``seq`` it was given."""
        ...

    def get(self, org_id: str, case_id: str, *, for_update: bool = False) -> Case | None:
        """A case of a live project by UUID; ``for_update`` locks it until commit."""
        ...

    def by_key(self, org_id: str, key: str, *, for_update: bool = False) -> Case | None:
        """A case of a live project by key (``SEC-12``), or by a key it had before it moved."""
        ...

    def ids_by_key(self, org_id: str, keys: Collection[str]) -> dict[str, str]:
        """The ids of the cases ``keys`` name (keys they have, or had before they moved), by
        key; keys naming no case are left out. Cases of deleted projects are included."""
        ...

    def get_many(
        self, org_id: str, case_ids: Collection[str], *, for_update: bool = False
    ) -> list[Case]:
        """The cases of live projects among ``case_ids``, in the order of their ids;
        ``for_update`` locks them until commit, in that order, so that two writers locking
        sets that overlap cannot deadlock."""
        ...

    def add_alias(self, org_id: str, key: str, case_id: str, at: int) -> None:
        """Let ``key`` (a key the case leaves behind) keep naming the case."""
        ...

    def update(self, org_id: str, case_id: str, change: CaseUpdate) -> None:
        """Write the fields that ``change`` gives to one case."""
        ...

    def update_many(self, org_id: str, changes: Sequence[tuple[str, CaseUpdate]]) -> None:
        """``update`` for several cases, (case id, change) each, in a few round trips."""
        ...

    def count_of_type(self, org_id: str, type_id: str) -> int:
        """The cases of a type, archived ones and those of deleted projects included."""
        ...

    def count_in_status(self, org_id: str, type_id: str, group: Status, name: str) -> int:
        """The cases of a type in one status (``name`` as ``Case.status_name`` holds it),
        archived ones and those of deleted projects included."""
        ...

    def rename_status(self, org_id: str, type_id: str, group: Status, old: str, new: str) -> None:
        """Give the cases of a type in one status its new name (names as ``Case.status_name``
        holds them), each with a new version."""
        ...

    def custom_values_of(
        self, org_id: str, type_id: str, key: str
    ) -> list[tuple[str, int, dict[str, CustomValue]]]:
        """(id, version, custom attributes) of the cases of a type that hold a value under
        ``key``, archived ones and those of deleted projects included."""
        ...

    def idle(
        self,
        org_id: str,
        project_id: str,
        *,
        before: int,
        after: IdleCase | None,
        limit: int,
    ) -> list[IdleCase]:
        """Up to ``limit`` open (not closed), unarchived cases of the project whose timeline
        has nothing since ``before`` (no change, no comment: their last history row is older),
        oldest first (by creation, then ``seq``), after ``after`` (None: from the first)."""
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

    def counter(self, org_id: str, query: Query, *, actor_user_id: str) -> GroupCounter:
        """Exact counts of the cases a search finds (``search`` with this query, every
        page), as a whole and grouped, and the rows of the reports on them."""
        ...

    def tally_deltas(self, at_most: int) -> int:
        """How many changes of the case tallies wait to be folded (up to ``at_most``)."""
        ...

    def fold_tallies(self, limit: int) -> None:
        """Fold the oldest ``limit`` waiting changes into the case tallies
        (storage/tallies.py)."""
        ...


def _update_of(field: str) -> tuple[str, str, tuple[Callable[[Any], Any], ...]]:
    """(CaseUpdate field, its ``column = ?`` assignments, the dump of each).

    A user field holds an id, which the column of that name takes as it is; any
    other field writes the columns declared for the case field of that name.
    """
    if field in CASES.join_columns:
        return field, f"{field} = ?", (as_is,)
    columns = CASES.writes_of(field)
    if not columns:
        raise ValueError(f"CaseUpdate.{field} is not a column of cases")
    return field, ", ".join(f"{c} = ?" for c, _ in columns), tuple(d for _, d in columns)


_UPDATES = tuple(_update_of(f.name) for f in dataclasses.fields(CaseUpdate))
_UPDATES_BUT_VERSION = tuple(u for u in _UPDATES if u[0] != "version")


def _assignments(change: CaseUpdate, *, version: bool = True) -> tuple[list[str], list[Any]]:
    """The ``column = ?`` assignments that write what ``change`` gives (but its version,
    unless ``version``), and their values."""
    # Column names come from the declaration above, never from the caller.
    assignments: list[str] = []
    params: list[Any] = []
    for field, assignment, dumps in _UPDATES if version else _UPDATES_BUT_VERSION:
        given = getattr(change, field)
        if given is not UNSET:
            assignments.append(assignment)
            params += [dump(given) for dump in dumps]
    return assignments, params


_UPDATE = "UPDATE cases SET {} WHERE org_id = ? AND id = ?"
# Cases that take the same values but for their versions, in one statement.
_UPDATE_ALIKE = "UPDATE cases SET {}, version = CASE id {} END WHERE {} AND id IN ({})"


class SqlCases(Repository):
    """Implements ``Cases``."""

    __slots__ = ()

    def insert(self, case: Case) -> int:
        row = self._sql.one(_INSERT, CASES.row(case))
        assert row is not None
        return int(row[0])

    def _get(self, sql: str, org_id: str, value: str, for_update: bool) -> Case | None:
        if for_update and self._sql.dialect == "postgres":
            sql = _LOCKED[sql]
        row = self._sql.one(sql, (org_id, value))
        return None if row is None else CASES.load(row)

    def get(self, org_id: str, case_id: str, *, for_update: bool = False) -> Case | None:
        return self._get(_BY_ID, org_id, case_id, for_update)

    def by_key(self, org_id: str, key: str, *, for_update: bool = False) -> Case | None:
        case = self._get(_BY_KEY, org_id, key, for_update)
        if case is None:
            alias = self._sql.one(_ALIAS, (org_id, key))
            if alias is not None:
                return self._get(_BY_ID, org_id, alias[0], for_update)
        return case

    def ids_by_key(self, org_id: str, keys: Collection[str]) -> dict[str, str]:
        keys = list(keys)
        if not keys:
            return {}
        marks = ", ".join("?" * len(keys))
        rows = self._sql.all(_IDS_BY_KEY.format(marks=marks), [org_id, *keys])
        found = {str(key): str(case_id) for key, case_id in rows}
        rest = [key for key in keys if key not in found]
        if rest:
            marks = ", ".join("?" * len(rest))
            rows = self._sql.all(_IDS_BY_ALIAS.format(marks=marks), [org_id, *rest])
            found.update((str(key), str(case_id)) for key, case_id in rows)
        return found

    def get_many(
        self, org_id: str, case_ids: Collection[str], *, for_update: bool = False
    ) -> list[Case]:
        case_ids = list(case_ids)
        if not case_ids:
            return []
        org = _ORG_OF_IDS[self._sql.dialect].format("c.")
        sql = _MANY.format(org=org, marks=", ".join("?" * len(case_ids)))
        if for_update and self._sql.dialect == "postgres":
            sql += _LOCK
        seen: dict[Any, Any] = {}  # one UserRef per user
        return [CASES.load(row, seen) for row in self._sql.all(sql, [org_id, *case_ids])]

    def add_alias(self, org_id: str, key: str, case_id: str, at: int) -> None:
        self._sql.execute(_ADD_ALIAS, (org_id, key, case_id, at))

    def update(self, org_id: str, case_id: str, change: CaseUpdate) -> None:
        assignments, params = _assignments(change)
        if assignments:
            self._sql.execute(_UPDATE.format(", ".join(assignments)), [*params, org_id, case_id])

    def update_many(self, org_id: str, changes: Sequence[tuple[str, CaseUpdate]]) -> None:
        # A bulk's changes are mostly alike but for the versions: one statement for those
        # (each statement runs apart, and a bulk's rows would each pay for that); the
        # others are pipelined.
        alike: dict[tuple[str, tuple[Any, ...]], list[tuple[str, CaseUpdate]]] = {}
        for case_id, change in changes:
            but_version = _assignments(change, version=False)
            key = (", ".join(but_version[0]), tuple(but_version[1]))
            alike.setdefault(key, []).append((case_id, change))
        each: dict[str, list[list[Any]]] = {}
        for (sets, values), group in alike.items():
            if len(group) > 1 and sets and all(c.version is not UNSET for _, c in group):
                when = " ".join(["WHEN ? THEN ?"] * len(group))
                org = _ORG_OF_IDS[self._sql.dialect].format("")
                sql = _UPDATE_ALIKE.format(sets, when, org, ", ".join("?" * len(group)))
                versions = [v for case_id, change in group for v in (case_id, change.version)]
                ids = [case_id for case_id, _ in group]
                self._sql.execute(sql, [*values, *versions, org_id, *ids])
                continue
            for case_id, change in group:
                assignments, params = _assignments(change)
                if assignments:
                    sql = _UPDATE.format(", ".join(assignments))
                    each.setdefault(sql, []).append([*params, org_id, case_id])
        for sql, rows in each.items():
            if len(rows) == 1:
                self._sql.execute(sql, rows[0])
            else:
                self._sql.execute_many(sql, rows)

    def count_of_type(self, org_id: str, type_id: str) -> int:
        return self._count(_OF_TYPE, (org_id, type_id))

    def count_in_status(self, org_id: str, type_id: str, group: Status, name: str) -> int:
        return self._count(_IN_STATUS, (org_id, type_id, group.value, name))

    def _count(self, sql: str, params: tuple[object, ...]) -> int:
        row = self._sql.one(f"SELECT count(*) FROM cases WHERE {sql}", params)
        assert row is not None
        return int(row[0])

    def rename_status(self, org_id: str, type_id: str, group: Status, old: str, new: str) -> None:
        self._sql.execute(
            f"UPDATE cases SET status_name = ?, version = version + 1 WHERE {_IN_STATUS}",
            (_stored_name(new), org_id, type_id, group.value, old),
        )

    def custom_values_of(
        self, org_id: str, type_id: str, key: str
    ) -> list[tuple[str, int, dict[str, CustomValue]]]:
        rows = self._sql.all(_CUSTOM_VALUES_OF, (org_id, key, org_id, type_id))
        return [(row[0], int(row[1]), _json_decode(row[2])) for row in rows]

    def idle(
        self,
        org_id: str,
        project_id: str,
        *,
        before: int,
        after: IdleCase | None,
        limit: int,
    ) -> list[IdleCase]:
        start = (-1, -1) if after is None else (after.created_at, after.seq)
        rows = self._sql.all(_IDLE, (org_id, project_id, *start, before, before, before, limit))
        return [IdleCase(str(i), int(v), int(c), int(s)) for i, v, c, s in rows]

    def search_planner(
        self, org_id: str, query: Query, *, actor_user_id: str, sort: CaseSort, ascending: bool
    ) -> SearchPlanner:
        deleted = self._sql.one(_ANY_DELETED, (org_id,))
        return SearchPlanner(
            query,
            dialect=self._sql.dialect,
            org_id=org_id,
            actor_user_id=actor_user_id,
            fetch=self._sql.all_planned_each_time,
            priority_rank=PRIORITY_RANK,
            exclude_deleted_projects=deleted is not None,
            order_by=_SORT_SQL[sort][1 if ascending else 0],
            created_order=("asc" if ascending else "desc") if sort == "created_at" else None,
        )

    def counter(self, org_id: str, query: Query, *, actor_user_id: str) -> GroupCounter:
        planner = self.search_planner(
            org_id, query, actor_user_id=actor_user_id, sort="created_at", ascending=False
        )
        return GroupCounter(planner, self._sql.all_planned_each_time)

    def tally_deltas(self, at_most: int) -> int:
        return tallies.pending(self._sql, at_most)

    def fold_tallies(self, limit: int) -> None:
        tallies.fold(self._sql, limit)

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
        planner = self.search_planner(
            org_id, query, actor_user_id=actor_user_id, sort=sort, ascending=ascending
        )
        seqs = planner.page(limit, offset)
        if len(seqs) < limit and (seqs or offset == 0):
            total = offset + len(seqs)  # the page reached the last match
        else:
            total = planner.count(bounded_total(offset, limit))
        if not seqs:
            return [], total
        marks = ", ".join("?" * len(seqs))
        rows = {
            row[_SEQ]: row for row in self._sql.all(f"{_SELECT} WHERE c.seq IN ({marks})", seqs)
        }
        seen: dict[Any, Any] = {}  # one UserRef per user on the page
        return [CASES.load(rows[seq], seen) for seq in seqs], total
