"""The queries, written once for both back ends over a DB-API cursor.

SQL here uses ``?`` placeholders; the PostgreSQL store rewrites them to
``%s`` once per statement text (``to_pyformat``). Every statement binds its
values: the only text spliced into SQL is fixed column names and the filter
compiled by ``storage.sql_search`` (itself fixed fragments and placeholders).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from casebook.core.entities import (
    PRIORITY_RANK,
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
    UserRef,
    UserStatus,
)
from casebook.core.errors import ConflictError
from casebook.search.query import Query
from casebook.storage.base import Dialect
from casebook.storage.sql_search import SearchPlanner, bounded_total

_json_encode = msgspec.json.encode
_json_decode = msgspec.json.decode


@functools.lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """``?`` placeholders to psycopg's ``%s``, with literal ``%`` escaped."""
    return sql.replace("%", "%%").replace("?", "%s")


_USER_COLS = (
    "id, org_id, email, handle, name, title, status, is_admin, service_account,"
    " created_at, modified_at"
)


def _user(row: Sequence[Any]) -> User:
    return User(
        id=row[0],
        org_id=row[1],
        email=row[2],
        handle=row[3],
        name=row[4],
        title=row[5],
        status=UserStatus(row[6]),
        is_admin=bool(row[7]),
        service_account=bool(row[8]),
        created_at=row[9],
        modified_at=row[10],
    )


_PROJECT_COLS = (
    "id, org_id, key, name, enabled_custom_case_types, team_uuid, created_at, created_by,"
    " deleted_at"
)


def _project(row: Sequence[Any]) -> Project:
    return Project(
        id=row[0],
        org_id=row[1],
        key=row[2],
        name=row[3],
        enabled_custom_case_types=_json_decode(row[4]),
        team_uuid=row[5],
        created_at=row[6],
        created_by=row[7],
        deleted_at=row[8],
    )


def _ref_cols(alias: str) -> str:
    return f"{alias}.id, {alias}.email, {alias}.handle, {alias}.name, {alias}.status"


_CASE_SELECT = f"""SELECT c.id, c.seq, c.org_id, c.project_id, c.number, c.key, c.title,
 c.description, c.priority, c.status, c.type_id, c.attributes, c.custom_attributes,
 c.creation_source, c.created_at, c.modified_at, c.closed_at, c.archived_at,
 {_ref_cols("cb")}, {_ref_cols("mb")}, {_ref_cols("au")}
FROM cases c
JOIN projects p ON p.id = c.project_id AND p.deleted_at IS NULL
LEFT JOIN users cb ON cb.id = c.created_by
LEFT JOIN users mb ON mb.id = c.modified_by
LEFT JOIN users au ON au.id = c.assignee_id"""

_STATUSES = {s.value: s for s in Status}
_PRIORITIES = {p.value: p for p in Priority}
_ACTIVE = UserStatus.ACTIVE.value


def _ref(row: Sequence[Any], at: int, seen: dict[str, UserRef]) -> UserRef | None:
    """The user whose columns start at ``at``; one object per user in ``seen``."""
    user_id = row[at]
    if user_id is None:
        return None
    ref = seen.get(user_id)
    if ref is None:
        ref = seen[user_id] = UserRef(
            id=user_id,
            email=row[at + 1],
            handle=row[at + 2],
            name=row[at + 3],
            active=row[at + 4] == _ACTIVE,
        )
    return ref


def _json_object(text: str) -> Any:
    return {} if text == "{}" else _json_decode(text)  # most cases have no attributes


def _case(row: Sequence[Any], users: dict[str, UserRef] | None = None) -> Case:
    """A case from a ``_CASE_SELECT`` row; ``users`` shares UserRefs across the rows of a query."""
    if users is None:
        users = {}
    return Case(
        id=row[0],
        seq=row[1],
        org_id=row[2],
        project_id=row[3],
        number=row[4],
        key=row[5],
        title=row[6],
        description=row[7],
        priority=_PRIORITIES[row[8]],
        status=_STATUSES[row[9]],
        type_id=row[10],
        attributes=_json_object(row[11]),
        custom_attributes=_json_object(row[12]),
        creation_source=row[13],
        created_at=row[14],
        modified_at=row[15],
        closed_at=row[16],
        archived_at=row[17],
        created_by=_ref(row, 18, users),
        modified_by=_ref(row, 23, users),
        assignee=_ref(row, 28, users),
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


def _scopes_text(scopes: frozenset[Scope] | None) -> str | None:
    return None if scopes is None else ",".join(sorted(s.value for s in scopes))


def _scopes(text: str | None) -> frozenset[Scope] | None:
    if text is None:
        return None
    return frozenset(Scope(s) for s in text.split(",") if s)


class SqlTransaction:
    """Implements ``storage.base.Transaction`` over one DB-API cursor."""

    def __init__(
        self,
        cursor: Any,
        dialect: Dialect,
        is_unique_violation: Callable[[BaseException], bool],
    ) -> None:
        self._cur = cursor
        self.dialect = dialect
        self._is_unique_violation = is_unique_violation
        self._fmt: Callable[[str], str] = to_pyformat if dialect == "postgres" else _same

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cur.execute(self._fmt(sql), params)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self._exec(sql, params)
        return self._cur.fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        self._exec(sql, params)
        return list(self._cur.fetchall())

    def _all_planned_each_time(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """``_all`` for search statements: never a prepared statement on PostgreSQL.

        psycopg prepares a statement run five times, and PostgreSQL may then plan
        it once for all values: a plan for "some organisation, some word" that can
        be far off for this one. An unprepared statement is planned for its values.
        """
        if self.dialect == "postgres":
            self._cur.execute(self._fmt(sql), params, prepare=False)
            return list(self._cur.fetchall())
        return self._all(sql, params)

    def _insert_unique(self, sql: str, params: Sequence[Any], conflict: str) -> None:
        try:
            self._exec(sql, params)
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise ConflictError(conflict) from exc
            raise

    # --- meta ---------------------------------------------------------------
    def get_meta(self, name: str) -> str | None:
        row = self._one("SELECT value FROM casebook_meta WHERE name = ?", (name,))
        return None if row is None else str(row[0])

    def set_meta_if_absent(self, name: str, value: str) -> str:
        self._exec(
            "INSERT INTO casebook_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (name, value),
        )
        stored = self.get_meta(name)
        assert stored is not None
        return stored

    # --- orgs and users -----------------------------------------------------
    def insert_org(self, org: Org) -> None:
        self._insert_unique(
            "INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)",
            (org.id, org.name, org.created_at),
            f"organization {org.name!r} already exists",
        )

    def get_org_by_name(self, name: str) -> Org | None:
        row = self._one("SELECT id, name, created_at FROM orgs WHERE name = ?", (name,))
        return None if row is None else Org(id=row[0], name=row[1], created_at=row[2])

    def list_orgs(self) -> list[Org]:
        rows = self._all("SELECT id, name, created_at FROM orgs ORDER BY name")
        return [Org(id=r[0], name=r[1], created_at=r[2]) for r in rows]

    def insert_user(self, user: User) -> None:
        self._insert_unique(
            f"INSERT INTO users ({_USER_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user.id,
                user.org_id,
                user.email,
                user.handle,
                user.name,
                user.title,
                user.status.value,
                int(user.is_admin),
                int(user.service_account),
                user.created_at,
                user.modified_at,
            ),
            f"a user with email {user.email} already exists",
        )

    def get_user(self, org_id: str, user_id: str) -> User | None:
        row = self._one(
            f"SELECT {_USER_COLS} FROM users WHERE org_id = ? AND id = ?", (org_id, user_id)
        )
        return None if row is None else _user(row)

    def get_user_by_email(self, org_id: str, email: str) -> User | None:
        row = self._one(
            f"SELECT {_USER_COLS} FROM users WHERE org_id = ? AND email = ?", (org_id, email)
        )
        return None if row is None else _user(row)

    def count_users(self, org_id: str) -> int:
        row = self._one("SELECT count(*) FROM users WHERE org_id = ?", (org_id,))
        return int(row[0])

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
        where = ["org_id = ?"]
        params: list[Any] = [org_id]
        if text:
            # instr() on lowered text: no LIKE metacharacters to escape.
            where.append(
                "(instr(lower(email), ?) > 0 OR instr(lower(handle), ?) > 0"
                " OR instr(lower(coalesce(name, '')), ?) > 0)"
                if self.dialect == "sqlite"
                else "(strpos(lower(email), ?) > 0 OR strpos(lower(handle), ?) > 0"
                " OR strpos(lower(coalesce(name, '')), ?) > 0)"
            )
            folded = text.lower()
            params += [folded, folded, folded]
        if statuses:
            where.append(f"status IN ({', '.join('?' for _ in statuses)})")
            params += list(statuses)
        clause = " AND ".join(where)
        column = {"name": "coalesce(name, email)", "modified_at": "modified_at"}.get(
            order_by, "email"
        )
        direction = "DESC" if descending else "ASC"
        total = int(self._one(f"SELECT count(*) FROM users WHERE {clause}", params)[0])
        rows = self._all(
            f"SELECT {_USER_COLS} FROM users WHERE {clause}"
            f" ORDER BY {column} {direction}, id {direction} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_user(r) for r in rows], total

    def update_user(self, user: User) -> None:
        self._insert_unique(
            "UPDATE users SET email = ?, handle = ?, name = ?, title = ?, status = ?,"
            " is_admin = ?, modified_at = ? WHERE org_id = ? AND id = ?",
            (
                user.email,
                user.handle,
                user.name,
                user.title,
                user.status.value,
                int(user.is_admin),
                user.modified_at,
                user.org_id,
                user.id,
            ),
            f"a user with email {user.email} already exists",
        )

    # --- keys ---------------------------------------------------------------
    def insert_api_key(
        self, key_id: str, org_id: str, key_hash: str, hint: str, created_by: str | None, at: int
    ) -> None:
        self._exec(
            "INSERT INTO api_keys (id, org_id, key_hash, hint, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (key_id, org_id, key_hash, hint, created_by, at),
        )

    def insert_app_key(
        self,
        key_id: str,
        org_id: str,
        user_id: str,
        key_hash: str,
        hint: str,
        scopes: frozenset[Scope] | None,
        at: int,
    ) -> None:
        self._exec(
            "INSERT INTO app_keys (id, org_id, user_id, key_hash, hint, scopes, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key_id, org_id, user_id, key_hash, hint, _scopes_text(scopes), at),
        )

    def find_api_key(self, key_hash: str) -> tuple[str, str] | None:
        row = self._one(
            "SELECT id, org_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
            (key_hash,),
        )
        return None if row is None else (row[0], row[1])

    def find_app_key(self, key_hash: str) -> tuple[str, frozenset[Scope] | None, User] | None:
        cols = ", ".join("u." + c.strip() for c in _USER_COLS.split(","))
        row = self._one(
            f"SELECT k.id, k.scopes, {cols} FROM app_keys k JOIN users u ON u.id = k.user_id"
            " WHERE k.key_hash = ? AND k.revoked_at IS NULL",
            (key_hash,),
        )
        if row is None:
            return None
        return row[0], _scopes(row[1]), _user(row[2:])

    def list_keys(self, org_id: str) -> list[KeyInfo]:
        api = self._all(
            "SELECT id, org_id, hint, created_at, revoked_at FROM api_keys WHERE org_id = ?"
            " ORDER BY created_at, id",
            (org_id,),
        )
        app = self._all(
            "SELECT id, org_id, user_id, hint, scopes, created_at, revoked_at FROM app_keys"
            " WHERE org_id = ? ORDER BY created_at, id",
            (org_id,),
        )
        keys = [KeyInfo(r[0], "api", r[1], None, r[2], None, r[3], r[4]) for r in api]
        keys += [KeyInfo(r[0], "app", r[1], r[2], r[3], _scopes(r[4]), r[5], r[6]) for r in app]
        return keys

    def revoke_key(self, org_id: str, key_id: str, at: int) -> bool:
        changed = 0
        for table in ("api_keys", "app_keys"):
            self._exec(
                f"UPDATE {table} SET revoked_at = ? WHERE org_id = ? AND id = ?"
                " AND revoked_at IS NULL",
                (at, org_id, key_id),
            )
            changed += self._cur.rowcount
        return changed > 0

    # --- projects -----------------------------------------------------------
    def insert_project(self, project: Project) -> None:
        self._insert_unique(
            "INSERT INTO projects (id, org_id, key, name, last_case_number,"
            " enabled_custom_case_types, team_uuid, created_at, created_by)"
            " VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)",
            (
                project.id,
                project.org_id,
                project.key,
                project.name,
                _json_encode(project.enabled_custom_case_types).decode(),
                project.team_uuid,
                project.created_at,
                project.created_by,
            ),
            f"project key {project.key} is already in use",
        )

    def get_project(
        self, org_id: str, project_id: str, *, include_deleted: bool = False
    ) -> Project | None:
        live = "" if include_deleted else " AND deleted_at IS NULL"
        row = self._one(
            f"SELECT {_PROJECT_COLS} FROM projects WHERE org_id = ? AND id = ?{live}",
            (org_id, project_id),
        )
        return None if row is None else _project(row)

    def get_project_by_key(
        self, org_id: str, key: str, *, include_deleted: bool = False
    ) -> Project | None:
        live = "" if include_deleted else " AND deleted_at IS NULL"
        row = self._one(
            f"SELECT {_PROJECT_COLS} FROM projects WHERE org_id = ? AND key = ?{live}",
            (org_id, key),
        )
        return None if row is None else _project(row)

    def list_projects(self, org_id: str) -> list[Project]:
        rows = self._all(
            f"SELECT {_PROJECT_COLS} FROM projects WHERE org_id = ? AND deleted_at IS NULL"
            " ORDER BY key",
            (org_id,),
        )
        return [_project(r) for r in rows]

    def set_project_deleted(
        self, org_id: str, project_id: str, at: int | None, by: str | None
    ) -> None:
        self._exec(
            "UPDATE projects SET deleted_at = ?, deleted_by = ? WHERE org_id = ? AND id = ?",
            (at, by, org_id, project_id),
        )

    def allocate_case_number(self, org_id: str, project_id: str) -> tuple[int, str] | None:
        # The row lock taken by this UPDATE is held until commit: concurrent
        # creates in one project queue here, and a rollback returns the number.
        row = self._one(
            "UPDATE projects SET last_case_number = last_case_number + 1"
            " WHERE org_id = ? AND id = ? AND deleted_at IS NULL"
            " RETURNING last_case_number, key",
            (org_id, project_id),
        )
        return None if row is None else (int(row[0]), str(row[1]))

    # --- cases --------------------------------------------------------------
    def insert_case(self, case: Case, *, created_by_id: str | None) -> int:
        row = self._one(
            "INSERT INTO cases (id, org_id, project_id, number, key, title, description,"
            " priority, priority_rank, status, type_id, attributes, custom_attributes,"
            " creation_source, created_at, created_by, assignee_id, modified_at, modified_by,"
            " closed_at, archived_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
            (
                case.id,
                case.org_id,
                case.project_id,
                case.number,
                case.key,
                case.title,
                case.description,
                case.priority.value,
                PRIORITY_RANK[case.priority],
                case.status.value,
                case.type_id,
                _json_encode(case.attributes).decode(),
                _json_encode(case.custom_attributes).decode(),
                case.creation_source,
                case.created_at,
                created_by_id,
                None if case.assignee is None else case.assignee.id,
                case.modified_at,
                None if case.modified_by is None else case.modified_by.id,
                case.closed_at,
                case.archived_at,
            ),
        )
        return int(row[0])

    def _get_case(self, column: str, org_id: str, value: str, for_update: bool) -> Case | None:
        lock = " FOR UPDATE OF c" if for_update and self.dialect == "postgres" else ""
        row = self._one(
            f"{_CASE_SELECT} WHERE c.org_id = ? AND c.{column} = ?{lock}", (org_id, value)
        )
        return None if row is None else _case(row)

    def get_case(self, org_id: str, case_id: str, *, for_update: bool = False) -> Case | None:
        return self._get_case("id", org_id, case_id, for_update)

    def get_case_by_key(self, org_id: str, key: str, *, for_update: bool = False) -> Case | None:
        return self._get_case("key", org_id, key, for_update)

    def update_case(self, org_id: str, case_id: str, values: dict[str, object]) -> None:
        if "priority" in values:
            values = {**values, "priority_rank": PRIORITY_RANK[Priority(values["priority"])]}
        assignments = ", ".join(f"{column} = ?" for column in values)
        self._exec(
            f"UPDATE cases SET {assignments} WHERE org_id = ? AND id = ?",
            [*values.values(), org_id, case_id],
        )

    def record_changes(
        self,
        org_id: str,
        case_id: str,
        actor_id: str | None,
        at: int,
        changes: Sequence[CaseChange],
    ) -> None:
        # One multi-row INSERT: one round trip (executemany would switch psycopg
        # into pipeline mode, which costs more for the usual single row).
        if not changes:
            return
        rows = ", ".join("(?, ?, ?, ?, ?, ?, ?)" for _ in changes)
        self._exec(
            "INSERT INTO case_events (case_id, org_id, actor_id, at, field, old_value,"
            f" new_value) VALUES {rows}",
            [v for c in changes for v in (case_id, org_id, actor_id, at, c.field, c.old, c.new)],
        )

    def list_changes(self, org_id: str, case_id: str) -> list[tuple[int, str | None, CaseChange]]:
        rows = self._all(
            "SELECT at, actor_id, field, old_value, new_value FROM case_events"
            " WHERE org_id = ? AND case_id = ? ORDER BY seq",
            (org_id, case_id),
        )
        return [(r[0], r[1], CaseChange(r[2], r[3], r[4])) for r in rows]

    def search_planner(
        self, org_id: str, query: Query, *, actor_user_id: str, sort: CaseSort, ascending: bool
    ) -> SearchPlanner:
        """The statements of one search, as ``search_cases`` runs them (also for EXPLAIN)."""
        deleted = self._one(
            "SELECT 1 FROM projects WHERE org_id = ? AND deleted_at IS NOT NULL LIMIT 1", (org_id,)
        )
        return SearchPlanner(
            query,
            dialect=self.dialect,
            org_id=org_id,
            actor_user_id=actor_user_id,
            fetch=self._all_planned_each_time,
            priority_rank=PRIORITY_RANK,
            exclude_deleted_projects=deleted is not None,
            order_by=_SORT_SQL[sort][1 if ascending else 0],
            created_order=("asc" if ascending else "desc") if sort == "created_at" else None,
        )

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
        rows = {row[1]: row for row in self._all(f"{_CASE_SELECT} WHERE c.seq IN ({marks})", seqs)}
        users: dict[str, UserRef] = {}
        return [_case(rows[seq], users) for seq in seqs], total


def _same(sql: str) -> str:
    return sql
