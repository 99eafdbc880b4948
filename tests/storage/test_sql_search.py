"""Compiled filters, run on real SQLite and PostgreSQL databases: which cases each one returns.

The rows are inserted with the bare drivers, so these tests exercise only
``parse`` and ``compile_filter`` and the schema's full-text index, inside the
same statement the store uses for search.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from alembic import command
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from psycopg import sql
from sqlalchemy import create_engine

from casebook.core.entities import STANDARD_CASE_TYPE_ID
from casebook.core.errors import InvalidQueryError
from casebook.search import (
    MAX_DEPTH,
    And,
    ArchivedIs,
    AttributeIs,
    CaseKeyIs,
    CaseTypeIs,
    CaseTypeNameIs,
    CreationSourceIs,
    MatchAll,
    Not,
    Or,
    PriorityIs,
    ProjectIdIs,
    ProjectKeyIs,
    Query,
    StatusIs,
    Text,
    TimeField,
    TimeRange,
    UserField,
    UserIs,
    UserMatch,
    parse,
    with_default_scope,
)
from casebook.storage.executor import Dialect, to_pyformat
from casebook.storage.migrate import _config, upgrade
from casebook.storage.sql_search import compile_filter
from casebook.storage.urls import DatabaseUrl

NOW = 1_769_904_000_000_000  # 2026-02-01T00:00:00Z

ORG_A = "org-a"
ORG_B = "org-b"
ALICE = "a11ce000-0000-4000-8000-000000000001"
BOB = "b0b00000-0000-4000-8000-000000000002"
CAROL = "ca201000-0000-4000-8000-000000000003"
MALLORY = "3a110000-0000-4000-8000-000000000004"  # org B, with Bob's email and handle
P_SEC = "5ec00000-0000-4000-8000-00000000000a"
P_OPS = "0b500000-0000-4000-8000-00000000000b"
P_GONE = "90e00000-0000-4000-8000-00000000000c"
P_B_SEC = "b5ec0000-0000-4000-8000-00000000000d"

USERS = [  # id, org, email, handle
    (ALICE, ORG_A, "alice@example.com", "alice@example.com"),
    (BOB, ORG_A, "bob@example.com", "Bobby"),
    (CAROL, ORG_A, "carol@example.com", "carol@example.com"),
    (MALLORY, ORG_B, "bob@example.com", "bobby"),
]
PROJECTS = [  # id, org, key, deleted_at
    (P_SEC, ORG_A, "SEC", None),
    (P_OPS, ORG_A, "OPS", None),
    (P_GONE, ORG_A, "GONE", NOW),
    (P_B_SEC, ORG_B, "SEC", None),
]

SEARCH = (
    "SELECT c.key FROM cases c JOIN projects p ON p.id = c.project_id AND p.deleted_at IS NULL"
    " WHERE c.org_id = ? AND ({where}) ORDER BY c.key"
)


def us(text: str) -> int:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


@dataclass
class CaseRow:
    org_id: str
    project_id: str
    key: str
    title: str
    description: str = ""
    status: str = "OPEN"
    priority: str = "NOT_DEFINED"
    attributes: dict[str, Any] = field(default_factory=dict)
    creation_source: str = "MANUAL"
    created_at: str = "2026-01-01"
    created_by: str | None = None
    assignee_id: str | None = None
    modified_at: str | None = None
    closed_at: str | None = None
    archived_at: str | None = None


CASES = [
    CaseRow(
        ORG_A,
        P_SEC,
        "SEC-1",
        "Kubernetes pods crashing",
        "The web-store pods restart every hour",
        status="OPEN",
        priority="P1",
        attributes={"service": ["web-store"], "team": ["case-management"]},
        created_at="2026-01-05T10:00:00",
        created_by=BOB,
        assignee_id=ALICE,
        modified_at="2026-01-30",
    ),
    CaseRow(
        ORG_A,
        P_SEC,
        "SEC-2",
        "Login page slow",
        "Users wait 30s at login",
        status="IN_PROGRESS",
        priority="P2",
        attributes={"service": ["auth", "Web-Gateway"], "team": ["event-management"]},
        created_at="2026-01-15",
        created_by=ALICE,
        assignee_id=BOB,
    ),
    CaseRow(
        ORG_A,
        P_SEC,
        "SEC-3",
        "Disk full on db host",
        "kubectl shows evictions",
        status="CLOSED",
        priority="P3",
        attributes={"team": ["case-management"]},
        created_at="2026-01-10",
        created_by=CAROL,
        modified_at="2026-01-20T12:00:00",
        closed_at="2026-01-20T12:00:00",
    ),
    CaseRow(
        ORG_A,
        P_OPS,
        "OPS-1",
        "Archived incident about kubernetes",
        status="OPEN",
        priority="P4",
        attributes={"service": ["web-store"]},
        created_at="2026-01-02",
        created_by=ALICE,
        assignee_id=CAROL,
        archived_at="2026-01-25",
    ),
    CaseRow(
        ORG_A,
        P_OPS,
        "OPS-2",
        "It's 100% broken; DROP TABLE cases; --",
        "under_score value with 'quotes' and \"double\" quotes",
        attributes={"service": "Web Store", "weird.key": ["x_y"], "pct": ["100%"]},
        creation_source="EVENT_MANAGEMENT",
        created_at="2026-01-31T23:59:59.999999",
    ),
    # A deleted project's cases never appear.
    CaseRow(ORG_A, P_GONE, "GONE-1", "Kubernetes pods crashing", status="OPEN", priority="P1"),
    # Another organisation's cases never appear, whatever the filter.
    CaseRow(
        ORG_B,
        P_B_SEC,
        "SEC-7",
        "Kubernetes pods crashing",
        "The web-store pods restart every hour",
        status="OPEN",
        priority="P1",
        attributes={"service": ["web-store"], "team": ["case-management"]},
        created_at="2026-01-31",
        created_by=MALLORY,
        assignee_id=MALLORY,
        modified_at="2026-01-31",
        closed_at="2026-01-31",
    ),
]
DEFAULT = {"SEC-1", "SEC-2", "SEC-3", "OPS-2"}  # org A, live projects, not archived


class SearchDb:
    """One migrated database with the rows above, and a way to run filters on it."""

    def __init__(self, dialect: Dialect, url: str) -> None:
        self.dialect = dialect
        self.url = url

    def _connect(self) -> Any:
        if self.dialect == "sqlite":
            return sqlite3.connect(DatabaseUrl.parse(self.url).sqlite_path)
        return psycopg.connect(DatabaseUrl.parse(self.url).postgres_dsn)

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        if self.dialect == "postgres":
            sql = to_pyformat(sql)
        conn = self._connect()
        try:
            rows = list(conn.execute(sql, list(params)).fetchall())
            conn.commit()
            return rows
        finally:
            conn.close()

    def seed(self) -> None:
        conn = self._connect()
        run = conn.execute
        fmt = to_pyformat if self.dialect == "postgres" else (lambda s: s)

        def insert(table: str, row: dict[str, object]) -> None:
            columns = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            run(fmt(f"INSERT INTO {table} ({columns}) VALUES ({marks})"), list(row.values()))

        for org in (ORG_A, ORG_B):
            insert("orgs", {"id": org, "name": org, "created_at": 0})
        for user_id, org, email, handle in USERS:
            insert(
                "users",
                {
                    "id": user_id,
                    "org_id": org,
                    "email": email,
                    "handle": handle,
                    "name": None,
                    "title": None,
                    "status": "Active",
                    "is_admin": 0,
                    "service_account": 0,
                    "created_at": 0,
                    "modified_at": 0,
                },
            )
        for project_id, org, key, deleted in PROJECTS:
            insert(
                "projects",
                {
                    "id": project_id,
                    "org_id": org,
                    "key": key,
                    "name": key,
                    "last_case_number": 10,
                    "enabled_custom_case_types": "[]",
                    "team_uuid": None,
                    "created_at": 0,
                    "created_by": None,
                    "deleted_at": deleted,
                    "deleted_by": None,
                },
            )
        for index, case in enumerate(CASES):
            number = int(case.key.split("-")[1])
            insert(
                "cases",
                {
                    "id": f"00000000-0000-4000-8000-{index:012d}",
                    "org_id": case.org_id,
                    "project_id": case.project_id,
                    "number": number,
                    "key": case.key,
                    "title": case.title,
                    "description": case.description,
                    "priority": case.priority,
                    "priority_rank": 0,
                    "status": case.status,
                    "type_id": STANDARD_CASE_TYPE_ID,
                    "attributes": json.dumps(case.attributes),
                    "custom_attributes": "{}",
                    "creation_source": case.creation_source,
                    "created_at": us(case.created_at),
                    "created_by": case.created_by,
                    "modified_at": case.modified_at and us(case.modified_at),
                    "modified_by": None,
                    "closed_at": case.closed_at and us(case.closed_at),
                    "archived_at": case.archived_at and us(case.archived_at),
                    "assignee_id": case.assignee_id,
                },
            )
        conn.commit()
        conn.close()

    def search(
        self, text: str, *, org_id: str = ORG_A, actor: str = ALICE, now_us: int = NOW
    ) -> set[str]:
        return self.run(parse(text, now_us=now_us), org_id=org_id, actor=actor)

    def run(self, query: Query, *, org_id: str = ORG_A, actor: str = ALICE) -> set[str]:
        where, params = compile_filter(
            query, dialect=self.dialect, org_id=org_id, actor_user_id=actor
        )
        rows = self.execute(SEARCH.format(where=where), [org_id, *params])
        return {row[0] for row in rows}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SearchDb]:
    if request.param == "sqlite":
        url = "sqlite:///" + str(tmp_path_factory.mktemp("search") / "t.db")
        upgrade(DatabaseUrl.parse(url))
        database = SearchDb("sqlite", url)
        database.seed()
        yield database
        return
    # The suite's throwaway cluster (tests/conftest.py); this module keeps a
    # database of its own there, so its rows meet no other test's.
    server = DatabaseUrl.parse(request.getfixturevalue("postgres_url")).postgres_dsn
    name = f"search_{secrets.token_hex(6)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade(DatabaseUrl.parse(url))
        database = SearchDb("postgres", url)
        database.seed()
        yield database
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


EXPECTED: list[tuple[str, set[str]]] = [
    # --- everything, and the archived default
    ("", DEFAULT),
    ("   ", DEFAULT),
    ("*", DEFAULT),
    ("archived:false", DEFAULT),
    ("-archived:true", DEFAULT),
    ("archived:*", DEFAULT | {"OPS-1"}),
    ("archived:true", {"OPS-1"}),
    ("-archived:false", {"OPS-1"}),
    ("archived:true OR archived:false", DEFAULT | {"OPS-1"}),
    ("archived_at:*", {"OPS-1"}),
    ("archived_at:>=2026-01-25", {"OPS-1"}),
    ("archived_at:<2026-01-25", set()),
    ("-*", set()),
    # --- status
    ("status:open", {"SEC-1", "OPS-2"}),
    ("status:OPEN archived:*", {"SEC-1", "OPS-1", "OPS-2"}),
    ("status:in_progress", {"SEC-2"}),
    ('status:"In Progress"', {"SEC-2"}),
    ("status:SG_IN_PROGRESS", {"SEC-2"}),
    ("status_group:SG_IN_PROGRESS", {"SEC-2"}),
    ("status:closed", {"SEC-3"}),
    ("-status:closed", {"SEC-1", "SEC-2", "OPS-2"}),
    ("status:(open OR closed)", {"SEC-1", "SEC-3", "OPS-2"}),
    ("status:(open closed)", set()),
    ("status:*", DEFAULT),
    # --- priority
    ("priority:p1", {"SEC-1"}),
    ("priority:(P2 OR P3)", {"SEC-2", "SEC-3"}),
    ("priority:NOT_DEFINED", {"OPS-2"}),
    ("priority:P5", set()),
    ("-priority:(P1 OR P2)", {"SEC-3", "OPS-2"}),
    # --- project and key
    ("project:sec", {"SEC-1", "SEC-2", "SEC-3"}),
    ("project.key:SEC", {"SEC-1", "SEC-2", "SEC-3"}),
    ("project:OPS", {"OPS-2"}),
    ("project:GONE", set()),
    ("project:GONE archived:*", set()),
    (f"project_id:{P_SEC.upper()}", {"SEC-1", "SEC-2", "SEC-3"}),
    (f"project_id:{P_B_SEC}", set()),
    ("key:sec-2", {"SEC-2"}),
    ("key:(SEC-1 OR OPS-2)", {"SEC-1", "OPS-2"}),
    ("key:SEC-7", set()),
    ("key:GONE-1", set()),
    # --- users
    ("assignee:me", {"SEC-1"}),
    ("assignee:*", {"SEC-1", "SEC-2"}),
    ("-assignee:*", {"SEC-3", "OPS-2"}),
    ("assignee:bob@example.com", {"SEC-2"}),
    ("assignee:BOB@Example.com", {"SEC-2"}),
    ("assignee:bobby", {"SEC-2"}),
    ("assignee:BOBBY", {"SEC-2"}),
    ("assignee:alice@example.com", {"SEC-1"}),
    ("assignee:nobody@example.com", set()),
    (f"assignee_id:{BOB}", {"SEC-2"}),
    (f"assignee:{BOB.upper()}", {"SEC-2"}),
    (f"-assignee_id:{BOB}", {"SEC-1", "SEC-3", "OPS-2"}),
    (f"assignee:{MALLORY}", set()),
    ("assignee:(me OR bobby)", {"SEC-1", "SEC-2"}),
    ("-assignee:me", {"SEC-2", "SEC-3", "OPS-2"}),
    ("created_by:me", {"SEC-2"}),
    ("created_by:me archived:*", {"SEC-2", "OPS-1"}),
    ("created_by:carol@example.com", {"SEC-3"}),
    ("created_by:bobby", {"SEC-1"}),
    ("-created_by:*", {"OPS-2"}),
    # --- type, creation source
    ("type:standard", DEFAULT),
    (f"type_id:{STANDARD_CASE_TYPE_ID}", DEFAULT),
    ("type_id:00000000-0000-0000-0000-000000000002", set()),
    ("creation_source:event_management", {"OPS-2"}),
    ('creation_source:"Event Management"', {"OPS-2"}),
    ("creation_source:manual", {"SEC-1", "SEC-2", "SEC-3"}),
    ("-creation_source:MANUAL", {"OPS-2"}),
    # --- attributes
    ("service:web-store", {"SEC-1"}),
    ("service:WEB-STORE archived:*", {"SEC-1", "OPS-1"}),
    ("service:auth", {"SEC-2"}),
    ("service:web-gateway", {"SEC-2"}),
    ('service:"web store"', {"OPS-2"}),
    ("service:web*", {"SEC-1", "SEC-2", "OPS-2"}),
    ("service:WEB-S*", {"SEC-1"}),
    ("service:web-store*", {"SEC-1"}),
    ("service:x*", set()),
    ("service:*", {"SEC-1", "SEC-2", "OPS-2"}),
    ("-service:*", {"SEC-3"}),
    ("-service:web-store", {"SEC-2", "SEC-3", "OPS-2"}),
    ("service:(auth OR web-store)", {"SEC-1", "SEC-2"}),
    ("service:(auth web-gateway)", {"SEC-2"}),
    ("team:case-management", {"SEC-1", "SEC-3"}),
    ("attributes.team:case-management", {"SEC-1", "SEC-3"}),
    (
        "status:open (team:case-management OR team:event-management)",
        {"SEC-1"},
    ),
    ("weird.key:x_y", {"OPS-2"}),
    ("weird.key:x%", set()),
    ("weird.key:x_*", {"OPS-2"}),
    ("weird.key:%*", set()),
    ("weird.key:_*", set()),
    ("pct:100%", {"OPS-2"}),
    ("pct:100*", {"OPS-2"}),
    ("pct:1_0%", set()),
    ("missing:*", set()),
    ("-missing:*", DEFAULT),
    # --- full text
    ("kubernetes", {"SEC-1"}),
    ("KUBERNETES", {"SEC-1"}),
    ("kubernetes archived:*", {"SEC-1", "OPS-1"}),
    ('"kubernetes pods"', {"SEC-1"}),
    ('"Kubernetes   PODS"', {"SEC-1"}),
    ('"pods kubernetes"', set()),
    ("kube*", {"SEC-1", "SEC-3"}),
    ("KUBE*", {"SEC-1", "SEC-3"}),
    ("k*", {"SEC-1", "SEC-3"}),
    ("kubec*", {"SEC-3"}),
    ("pods restart", {"SEC-1"}),
    ("hour", {"SEC-1"}),
    ("-kubernetes", {"SEC-2", "SEC-3", "OPS-2"}),
    ("web-store", {"SEC-1"}),
    ("login OR disk", {"SEC-2", "SEC-3"}),
    ("login disk", set()),
    ("NOT login AND NOT disk", {"SEC-1", "OPS-2"}),
    ("(kubernetes OR login) priority:P2", {"SEC-2"}),
    ("kubernetes OR priority:P3", {"SEC-1", "SEC-3"}),
    ("-(kubernetes OR status:closed)", {"SEC-2", "OPS-2"}),
    ("nothingmatchesthis", set()),
    ("30s", {"SEC-2"}),
    # --- injection-looking input matches as text, and does nothing else
    ('"\'; DROP TABLE cases; --"', {"OPS-2"}),
    ("DROP", {"OPS-2"}),
    ('"100%"', {"OPS-2"}),
    ("it's", {"OPS-2"}),
    ('"it\'s 100"', {"OPS-2"}),
    ("under_score", {"OPS-2"}),
    ('"\\"double\\""', {"OPS-2"}),
    ("O'Brien*", set()),
    ("back\\slash*", set()),
    ("a'b''c*", set()),
    ('"x\\" OR \\"y"', set()),
    ('"a" OR "b*"', set()),
    ("col:*", set()),
    ("x%*", set()),
    ("a%s", set()),
    ("a?b", set()),
    ("ab?*", set()),
    ("service:'", set()),
    ("service:';--", set()),
    ("service:%", set()),
    ("service:?", set()),
    ("service:'*", set()),
    ('service:"\\"*"', set()),
    ("assignee:'--", set()),
    ("assignee:\"bob' OR '1'='1\"", set()),
    ('creation_source:"x\' OR 1=1 --"', set()),
    # --- time
    ("created_at:>=2026-01-10", {"SEC-2", "SEC-3", "OPS-2"}),
    ("created_at:>2026-01-10", {"SEC-2", "OPS-2"}),
    ("created_at:<2026-01-10", {"SEC-1"}),
    ("created_at:<=2026-01-10", {"SEC-1", "SEC-3"}),
    ("created_at:[2026-01-05 TO 2026-01-10]", {"SEC-1", "SEC-3"}),
    ("created_at:{2026-01-05 TO 2026-01-15}", {"SEC-3"}),
    ("created_at:[2026-01-05 TO 2026-01-15}", {"SEC-1", "SEC-3"}),
    ("created_at:2026-01-31", {"OPS-2"}),
    ("created_at:2026-01-05", {"SEC-1"}),
    ("created_at:>now-1d", {"OPS-2"}),
    ("created_at:>=now-1h", {"OPS-2"}),
    ("created_at:>=now-1s", {"OPS-2"}),
    ("created_at:>now-1w", {"OPS-2"}),
    ("created_at:>now-3w", {"SEC-2", "OPS-2"}),
    ("created_at:[2026-01-31T23:59:59.999999Z TO now]", {"OPS-2"}),
    ("created_at:>=2026-02-01T00:00:00Z", set()),
    ("created_at:<2026-01-05T11:00:00+01:00", set()),
    ("created_at:<=2026-01-05T11:00:00+01:00", {"SEC-1"}),
    ("created_at:2026-01-05T10:00:00Z", {"SEC-1"}),
    ("created_at:*", DEFAULT),
    ("closed_at:*", {"SEC-3"}),
    ("-closed_at:*", {"SEC-1", "SEC-2", "OPS-2"}),
    ("closed_at:>2026-01-01", {"SEC-3"}),
    ("-closed_at:>2026-01-01", {"SEC-1", "SEC-2", "OPS-2"}),
    ("modified_at:>now-7d", {"SEC-1"}),
    ("modified_at:[* TO 2026-01-25]", {"SEC-3"}),
    ("-modified_at:*", {"SEC-2", "OPS-2"}),
    ("created_at:(<2026-01-06 OR >2026-01-30)", {"SEC-1", "OPS-2"}),
    # --- combinations
    (
        'priority:(P2 OR P3) "login page" -assignee:me',
        {"SEC-2"},
    ),
    (
        "(status:open OR status:in_progress) AND NOT (priority:P4 OR priority:P5)",
        {"SEC-1", "SEC-2", "OPS-2"},
    ),
    ("project:SEC team:case-management -status:closed kube*", {"SEC-1"}),
]


@pytest.mark.parametrize(("text", "keys"), EXPECTED, ids=[t or "<empty>" for t, _ in EXPECTED])
def test_filter(db: SearchDb, text: str, keys: set[str]) -> None:
    assert db.search(text) == keys


def test_other_org_sees_only_its_own(db: SearchDb) -> None:
    """The same filters as another organisation's actor: only org B's case, never org A's."""
    as_b = {"org_id": ORG_B, "actor": MALLORY}
    assert db.search("", **as_b) == {"SEC-7"}
    assert db.search("kubernetes", **as_b) == {"SEC-7"}
    assert db.search("project:SEC", **as_b) == {"SEC-7"}
    assert db.search("assignee:me created_by:me", **as_b) == {"SEC-7"}
    assert db.search("assignee:bob@example.com", **as_b) == {"SEC-7"}
    assert db.search("assignee:bobby", **as_b) == {"SEC-7"}
    assert db.search(f"assignee:{BOB}", **as_b) == set()
    assert db.search("assignee:alice@example.com", **as_b) == set()
    assert db.search("key:SEC-1 OR key:SEC-2", **as_b) == set()
    assert db.search("archived:* OR -archived:*", **as_b) == {"SEC-7"}
    assert db.search("closed_at:*", **as_b) == {"SEC-7"}
    assert db.search("-kubernetes", **as_b) == set()


def test_me_is_the_actor(db: SearchDb) -> None:
    assert db.search("assignee:me", actor=BOB) == {"SEC-2"}
    assert db.search("assignee:me", actor=CAROL) == set()
    assert db.search("assignee:me archived:*", actor=CAROL) == {"OPS-1"}
    # An actor id from another organisation finds nothing in this one.
    assert db.search("assignee:me OR created_by:me", actor=MALLORY) == set()


def test_relative_times_follow_now(db: SearchDb) -> None:
    assert db.search("created_at:>now-1d", now_us=NOW) == {"OPS-2"}
    assert db.search("created_at:>=now-1d", now_us=us("2026-01-16")) == {"SEC-2", "OPS-2"}
    assert db.search("created_at:>now-1d", now_us=us("2026-01-16")) == {"OPS-2"}


def test_injection_strings_leave_the_database_intact(db: SearchDb) -> None:
    hostile = [
        "'; DROP TABLE cases; --",
        '"; DROP TABLE cases; --',
        "1' OR '1'='1",
        "%' OR 1=1 --",
        "?",
        "??",
        "%s %s",
        "$1",
        "\\",
        "') OR ('a'='a",
        "*/ OR 1=1 /*",
        "NEAR(a b)",
        "a AND b",
        "title:a",
        "^a",
        "a:*",
    ]
    for value in hostile:
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        for text in (
            f'"{escaped}"',
            f'service:"{escaped}"',
            f'assignee:"{escaped}"',
            f'created_by:"{escaped}"',
            f'creation_source:"{escaped}"',
        ):
            try:
                found = db.search(text)
            except InvalidQueryError:
                continue
            assert found <= {"OPS-2"}, text
    assert db.execute("SELECT count(*) FROM cases")[0][0] == len(CASES)
    assert db.execute("SELECT count(*) FROM users")[0][0] == 4


def test_deepest_parsed_query_runs(db: SearchDb) -> None:
    """The parser's nesting limit keeps the SQL within what SQLite's parser accepts."""
    text = "kubernetes"
    for level in range(MAX_DEPTH):
        # Each level nests a NOT, an OR and an AND.
        text = f"-(w{level} OR status:open {text})"
    # Innermost "kubernetes" is SEC-1; each level is NOT(open AND inner), which
    # alternates between everything but SEC-1 and everything but OPS-2.
    assert db.search(text) == DEFAULT - {"OPS-2"}
    with pytest.raises(InvalidQueryError, match="too deeply nested"):
        db.search(f"({text})")


DEEP_LEAVES = [
    "kube*",
    '"kubernetes pods"',
    "service:web*",
    "assignee:bob@example.com",
    "-created_at:[2026-01-01 TO now]",
    "status:(open OR (closed OR (in_progress)))",
]
DEEP_SHAPES = {
    "right": lambda level, inner: f"-(w{level} OR status:open {inner})",
    "left": lambda level, inner: f"-({inner} status:open OR w{level})",
    "middle": lambda level, inner: f"a{level} OR b{level} -({inner} OR c{level}) d{level}",
    "and-or": lambda level, inner: f"x{level} OR -(y{level} AND {inner})",
    "plain": lambda level, inner: f"(a{level} OR {inner} b{level})",
}


@pytest.mark.parametrize("shape", DEEP_SHAPES)
@pytest.mark.parametrize("leaf", DEEP_LEAVES)
def test_deepest_shapes_run(db: SearchDb, shape: str, leaf: str) -> None:
    """Every shape of maximal nesting compiles to SQL both databases accept."""
    build = DEEP_SHAPES[shape]
    text = leaf
    for level in range(MAX_DEPTH - leaf.count("(")):
        text = build(level, text)
    assert text.count("(") == MAX_DEPTH
    db.search(text)
    db.search(f"{text} archived:*")
    with pytest.raises(InvalidQueryError, match="too deeply nested"):
        db.search(build(MAX_DEPTH, text))


def test_built_trees_compile_too(db: SearchDb) -> None:
    """Trees made in code (not only parsed ones) compile and run, deep nesting included."""
    deep: Query = Text("kubernetes")
    for _ in range(50):
        deep = Not(Not(deep))
    assert db.run(deep) == {"SEC-1"}
    assert db.run(Or((Text("login"), UserIs(UserField.ASSIGNEE, UserMatch.ME)))) == {
        "SEC-1",
        "SEC-2",
    }
    assert db.run(And((MatchAll(), AttributeIs("team", "case-management")))) == {
        "SEC-1",
        "SEC-3",
    }


# --- random filters against a reference evaluation in Python ------------------

ORACLE_LEAVES = [
    "*",
    "status:open",
    "status:closed",
    "status:in_progress",
    "priority:P1",
    "priority:(P2 OR P3)",
    "project:SEC",
    "project:OPS",
    "key:SEC-2",
    "assignee:me",
    "assignee:*",
    "assignee:bobby",
    "created_by:me",
    "created_by:carol@example.com",
    "type:standard",
    "creation_source:manual",
    "archived:true",
    "archived:*",
    "service:web-store",
    "service:web*",
    "service:*",
    "team:case-management",
    "pct:100%",
    "kubernetes",
    "kube*",
    '"kubernetes pods"',
    "login",
    "disk",
    "hour",
    "drop",
    "created_at:>=2026-01-10",
    "created_at:[2026-01-05 TO 2026-01-15}",
    "closed_at:*",
    "modified_at:>now-7d",
    "archived_at:*",
]


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def _oracle(case: CaseRow, query: Query, actor: str) -> bool:
    """What ``query`` means for one case, evaluated directly (the specification)."""
    if isinstance(query, MatchAll):
        return True
    if isinstance(query, And):
        return all(_oracle(case, term, actor) for term in query.terms)
    if isinstance(query, Or):
        return any(_oracle(case, term, actor) for term in query.terms)
    if isinstance(query, Not):
        return not _oracle(case, query.term, actor)
    if isinstance(query, Text):
        phrase = _words(query.text)
        for column in (_words(case.title), _words(case.description)):
            for start in range(len(column) - len(phrase) + 1):
                window = column[start : start + len(phrase)]
                if window[:-1] == phrase[:-1] and (
                    window[-1].startswith(phrase[-1]) if query.prefix else window[-1] == phrase[-1]
                ):
                    return True
        return False
    if isinstance(query, StatusIs):
        return case.status == query.status.value
    if isinstance(query, PriorityIs):
        return case.priority == query.priority.value
    if isinstance(query, ProjectKeyIs):
        return any(p[0] == case.project_id and p[2] == query.key for p in PROJECTS)
    if isinstance(query, ProjectIdIs):
        return case.project_id == query.project_id
    if isinstance(query, CaseKeyIs):
        return case.key == query.key
    if isinstance(query, CaseTypeIs):
        return query.type_id == STANDARD_CASE_TYPE_ID
    if isinstance(query, CaseTypeNameIs):  # every case here is Standard
        return query.name.casefold() == "standard"
    if isinstance(query, CreationSourceIs):
        return case.creation_source.upper() == query.source
    if isinstance(query, ArchivedIs):
        return query.archived is None or query.archived == (case.archived_at is not None)
    if isinstance(query, UserIs):
        user = case.assignee_id if query.field is UserField.ASSIGNEE else case.created_by
        if query.match is UserMatch.ANY:
            return user is not None
        if query.match is UserMatch.ME:
            return user == actor
        if query.match is UserMatch.ID:
            return user == query.value
        return any(
            u[0] == user and u[1] == case.org_id and query.value in (u[2], u[3].lower())
            for u in USERS
        )
    if isinstance(query, TimeRange):
        raw = {
            TimeField.CREATED_AT: case.created_at,
            TimeField.MODIFIED_AT: case.modified_at,
            TimeField.CLOSED_AT: case.closed_at,
            TimeField.ARCHIVED_AT: case.archived_at,
        }[query.field]
        if raw is None:
            return False
        value = us(raw)
        return (query.start is None or query.start <= value) and (
            query.end is None or value < query.end
        )
    if isinstance(query, AttributeIs):
        if query.key not in case.attributes:
            return False
        stored = case.attributes[query.key]
        values = [str(v).lower() for v in (stored if isinstance(stored, list) else [stored])]
        if query.value is None:
            return bool(values)
        if query.prefix:
            return any(v.startswith(query.value) for v in values)
        return query.value in values
    raise AssertionError(query)


def _expected(text: str, org_id: str, actor: str) -> set[str]:
    query = with_default_scope(parse(text, now_us=NOW))
    live = {p[0] for p in PROJECTS if p[3] is None}
    return {
        case.key
        for case in CASES
        if case.org_id == org_id and case.project_id in live and _oracle(case, query, actor)
    }


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pairs = st.tuples(children, children)
    return st.one_of(
        pairs.map(lambda t: f"{t[0]} {t[1]}"),
        pairs.map(lambda t: f"{t[0]} OR {t[1]}"),
        pairs.map(lambda t: f"({t[0]} AND {t[1]})"),
        children.map(lambda c: f"-({c})"),
        children.map(lambda c: f"NOT ({c})"),
        children.map(lambda c: f"({c})"),
    )


RANDOM_FILTERS = st.recursive(st.sampled_from(ORACLE_LEAVES), _combine, max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=RANDOM_FILTERS, as_org_b=st.booleans(), actor=st.sampled_from([ALICE, BOB]))
def test_random_filters_match_the_reference(
    db: SearchDb, text: str, as_org_b: bool, actor: str
) -> None:
    try:
        parse(text, now_us=NOW)
    except InvalidQueryError:
        assume(False)
    org_id, actor = (ORG_B, MALLORY) if as_org_b else (ORG_A, actor)
    assert db.search(text, org_id=org_id, actor=actor) == _expected(text, org_id, actor)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=st.text(min_size=1, max_size=30),
    prefix=st.booleans(),
    facet=st.sampled_from(["", "service:", "assignee:", "creation_source:"]),
)
def test_any_text_runs(db: SearchDb, value: str, prefix: bool, facet: str) -> None:
    """Whatever characters a phrase or prefix holds, the database runs the query."""
    if prefix:
        word = "".join(ch for ch in value if not ch.isspace() and ch not in '()"*:-')
        assume(word)
        text = f"{facet}{word}*"
    else:
        text = facet + '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    try:
        parse(text, now_us=NOW)
    except InvalidQueryError:
        assume(False)
    db.search(text)


def test_reference_agrees_with_the_table() -> None:
    """The reference evaluation gives the hand-written answers too (it is not vacuous)."""
    for text, keys in EXPECTED:
        if not any(leaf_only in text for leaf_only in ("weird.key", '"', "'")):
            assert _expected(text, ORG_A, ALICE) == keys, text


# --- the compiled SQL itself ----------------------------------------------------

MARKER = "zq7x"


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
@pytest.mark.parametrize(
    "text",
    [
        f"{MARKER}",
        f"{MARKER}*",
        f'"{MARKER} %s ? \' "',
        f"service:{MARKER}",
        f"service:{MARKER}*",
        f"{MARKER}:x",
        f"attributes.{MARKER}:x",
        f"assignee:{MARKER}@example.com",
        f"created_by:{MARKER}",
        f"creation_source:{MARKER}",
        f"project:{MARKER}",
        f"key:{MARKER}-1",
        "assignee:me created_at:>now-7d closed_at:[2026-01-01 TO *] archived:*",
        "status:open priority:(P1 OR P2) -type:standard project_id:" + P_SEC,
        f"watcher:{MARKER}@example.com",
        "watcher:me -watcher:* watcher:" + ALICE,
        "comment_count:[1 TO 5] -comment_count:>3 due_date:<now+2d -due_date:*",
        "resolved_reason:false_positive -resolved_reason:*",
    ],
)
def test_user_text_only_in_parameters(dialect: Dialect, text: str) -> None:
    where, params = compile_filter(
        parse(text, now_us=NOW), dialect=dialect, org_id=ORG_A, actor_user_id=ALICE
    )
    assert MARKER not in where.lower()
    assert "%" not in where
    assert where.count("?") == len(params)
    assert ALICE not in where and ORG_A not in where


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_user_subqueries_are_scoped_to_the_org(dialect: Dialect) -> None:
    where, params = compile_filter(
        parse("assignee:bob@example.com", now_us=NOW),
        dialect=dialect,
        org_id=ORG_A,
        actor_user_id=ALICE,
    )
    assert "u.org_id = ?" in where
    assert params[0] == ORG_A


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
@pytest.mark.parametrize(
    ("text", "scopes"),
    [
        ("kubernetes", ["m.org_id = ?"]),
        ('"kubernetes pods"', ["m.org_id = ?"]),
        ("watcher:me", ["w.org_id = ?"]),
        ("watcher:*", ["w.org_id = ?"]),
        ("watcher:bob@example.com", ["w.org_id = ?", "u.org_id = ?"]),
    ],
)
def test_comment_and_watcher_subqueries_are_scoped_to_the_org(
    dialect: Dialect, text: str, scopes: list[str]
) -> None:
    """The security invariant: no subquery reads another organisation's comments or watchers."""
    where, params = compile_filter(
        parse(text, now_us=NOW), dialect=dialect, org_id=ORG_A, actor_user_id=ALICE
    )
    for scope in scopes:
        assert scope in where
    assert where.count("FROM case_comments m") == where.count("m.org_id = ?")
    assert where.count("FROM case_watchers w") == where.count("w.org_id = ?")
    assert ORG_A in params and ORG_B not in params


def test_migration_indexes_the_comments_already_written(tmp_path: Any) -> None:
    """0005 fills the comments' full-text index from the rows 0004 left (SQLite; the
    PostgreSQL column is generated for every row by ALTER TABLE)."""
    url = DatabaseUrl.parse("sqlite:///" + str(tmp_path / "old.db"))
    engine = create_engine(url.sqlalchemy_url)
    try:
        with engine.connect() as connection:
            command.upgrade(_config(connection), "0004")
            connection.commit()
    finally:
        engine.dispose()
    conn = sqlite3.connect(tmp_path / "old.db")
    rows = [
        (1, "live", "kept words here", None),
        (2, "gone", None, 5),  # deleted: no text
        (3, "stale", "stale words", 6),  # deleted by a writer that left the text
    ]
    with conn:
        conn.executemany(
            "INSERT INTO case_comments (seq, id, org_id, case_id, case_seq, body, created_at,"
            " deleted_at) VALUES (?, ?, 'org', 'case', 1, ?, 1, ?)",
            rows,
        )
    conn.close()
    upgrade(url)
    conn = sqlite3.connect(tmp_path / "old.db")
    try:

        def found(word: str) -> list[int]:
            return [
                row[0]
                for row in conn.execute(
                    "SELECT rowid FROM case_comments_fts WHERE case_comments_fts MATCH ?", (word,)
                )
            ]

        assert found("words") == [1]
        with conn:
            conn.execute("UPDATE case_comments SET deleted_at = 9 WHERE seq = 1")
        assert found("words") == []
        with conn:
            conn.execute("UPDATE case_comments SET deleted_at = NULL WHERE seq = 3")
        assert found("stale") == [3]
        with conn:
            conn.execute("DELETE FROM case_comments")
        assert found("stale") == []
        assert conn.execute(
            "INSERT INTO case_comments_fts(case_comments_fts) VALUES ('integrity-check')"
        )
    finally:
        conn.close()


def test_default_scope_is_compiled_in() -> None:
    where, params = compile_filter(MatchAll(), dialect="sqlite", org_id=ORG_A, actor_user_id=ALICE)
    assert (where, params) == ("c.archived_at IS NULL", [])


def test_full_text_parameters() -> None:
    def params(text: str, dialect: Dialect) -> list[object]:
        return compile_filter(
            parse(text, now_us=NOW), dialect=dialect, org_id=ORG_A, actor_user_id=ALICE
        )[1]

    # Each term reads the cases' index and the comments' (those of the org only).
    def sqlite(match: str) -> list[object]:
        return [match, match, ORG_A]

    def postgres(tsquery: str) -> list[object]:
        return [ORG_A, tsquery, ORG_A, tsquery]

    assert params('"say \\"hi\\""', "sqlite") == sqlite('"say ""hi"""')
    assert params("kube*", "sqlite") == sqlite('"kube"*')
    assert params("kube*", "postgres") == postgres("'kube':*")
    assert params("o'brien\\x*", "postgres") == postgres("'o''brien\\\\x':*")
    assert params('"kubernetes pods"', "postgres") == postgres("kubernetes pods")


def test_unknown_dialect_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown SQL dialect"):
        compile_filter(MatchAll(), dialect="mysql", org_id=ORG_A, actor_user_id=ALICE)  # type: ignore[arg-type]


def test_unknown_node_is_refused() -> None:
    with pytest.raises(TypeError, match="not a query node"):
        compile_filter(
            "status:open",  # type: ignore[arg-type]
            dialect="sqlite",
            org_id=ORG_A,
            actor_user_id=ALICE,
        )
