"""GET /api/v2/cases?filter=...: every facet, operator and limit, through HTTP, on both databases.

``test_search.py`` covers paging, sorting and the core facets; this file covers
the rest of ``docs/search.md``: attribute facets (set in the database through
the store, as no endpoint writes ``attributes`` yet), users, times, archiving,
text, nesting and negation, error positions and limits, the bounded
``total_cases``, deleted projects, and hostile filters. Each filter also runs
with SQLite's planner forced into each of its ways of testing full-text and
attribute terms (``SearchPlanner``), which must not change any answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from casebook.core.entities import STANDARD_CASE_TYPE_ID
from casebook.domain import projects as projects_domain
from casebook.domain.users import BOOTSTRAP_ADMIN_EMAIL as ADMIN
from casebook.storage import sql_search
from casebook.storage.base import CaseUpdate
from tests.support.api import Api, keys


def us(day: str) -> int:
    """Noon UTC of ``day`` in microseconds."""
    moment = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000


@dataclass
class World:
    api: Api
    org_id: str
    ids: dict[str, str]  # case key -> case UUID
    users: dict[str, str]  # email -> user id
    projects: dict[str, str]  # project key -> project id


def _set(
    api: Api,
    org_id: str,
    case_id: str,
    *,
    created_at: int | None = None,
    created_by: str | None = None,
    creation_source: str | None = None,
    **fields: Any,
) -> None:
    """Write ``fields`` of a CaseUpdate, and backdate or re-attribute the creation, which
    no update may change (so through the executor, as an import of old cases would)."""
    with api.store.write() as tx:
        if fields:
            tx.cases.update(org_id, case_id, CaseUpdate(**fields))
        creation = (created_at, created_by, creation_source)
        if creation != (None, None, None):
            tx.sql.execute(  # type: ignore[attr-defined]
                "UPDATE cases SET created_at = coalesce(?, created_at),"
                " created_by = coalesce(?, created_by),"
                " creation_source = coalesce(?, creation_source) WHERE org_id = ? AND id = ?",
                (*creation, org_id, case_id),
            )


@pytest.fixture
def world(api: Api) -> World:
    """Seven cases in SEC and NOC (one archived), one in a deleted project, one elsewhere.

    In the default order (newest first) the live cases are
    NOC-2, SEC-5, SEC-3, NOC-1, SEC-2, SEC-1; SEC-4 is archived.
    """
    sec = api.create_project("SEC", "Security")
    noc = api.create_project("NOC", "Operations")
    old = api.create_project("OLD", "Old")
    ann = api.create_user("ann@example.com")
    bob = api.create_user("bob@example.com")
    with api.store.read() as tx:
        org = tx.orgs.by_name("default")
        assert org is not None
    admin_id = api.user_id(ADMIN)
    made: dict[str, str] = {}

    def case(project: dict, title: str, **kwargs: Any) -> str:
        data = api.create_case(project["id"], title, **kwargs)
        made[data["attributes"]["key"]] = data["id"]
        return data["id"]

    case(
        sec,
        "Kubernetes pods crash",
        priority="P1",
        assignee_id=ann["id"],
        description="node pool exhausted",
    )
    case(
        sec,
        "Phishing mail reported",
        priority="P2",
        assignee_id=bob["id"],
        description="kubernetes is fine; rate limit exceeded on web",
    )
    case(sec, "Disk full on host-7", priority="P3", assignee_id=admin_id)
    case(sec, "Old incident", priority="P4")
    case(sec, "Login storm from 100% of hosts", priority="P5")
    case(noc, "Pager noise", priority="P2")
    case(noc, "Router down")
    case(old, "Kubernetes ghost", priority="P1")
    assert api.case_action("SEC-2", "status", {"status": "IN_PROGRESS"}).status_code == 200
    assert api.case_action("SEC-3", "status", {"status": "CLOSED"}).status_code == 200
    assert api.case_action("SEC-4", "archive").status_code == 200
    o = org.id
    # Columns no endpoint writes, set through the store, in this order.
    columns: dict[str, dict[str, Any]] = {
        "SEC-1": {
            "created_at": us("2026-01-05"),
            "attributes": {"service": ["web-store"], "team": ["case-management"]},
        },
        "SEC-2": {
            "created_at": us("2026-01-10"),
            "attributes": {"service": ["auth", "Web-Gateway"], "team": ["event-management"]},
        },
        "SEC-3": {
            "created_at": us("2026-01-15"),
            "closed_at": us("2026-01-20"),
            "attributes": {"team": ["case-management"]},
        },
        "SEC-4": {
            "created_at": us("2025-12-01"),
            "archived_at": us("2026-01-02"),
            "attributes": {"service": ["web-store"]},
        },
        "SEC-5": {
            "created_at": us("2026-01-25"),
            "attributes": {"service": "Web Store", "weird.key": ["a_b"], "pct": ["100%"]},
        },
        "NOC-1": {
            "created_at": us("2026-01-12"),
            "created_by": ann["id"],
            "attributes": {"service": ["web-store"], "team": ["case-management"]},
        },
        "NOC-2": {
            "created_at": time.time_ns() // 1000 - 3_600_000_000,
            "creation_source": "EVENT_MANAGEMENT",
            "attributes": {"weird.key": ["axb"], "empty": []},
        },
        "OLD-1": {"attributes": {"service": ["web-store"]}},
    }
    for key, values in columns.items():
        _set(api, o, made[key], **values)
    assert api.delete(f"/api/v2/cases/projects/{old['id']}").status_code == 204
    # Another organisation with the same words and attributes sees only its own.
    other = api.new_org_admin("acme")
    elsewhere = other.create_project("SEC")
    stranger = other.create_case(elsewhere["id"], "Kubernetes pods crash elsewhere")
    with api.store.read() as tx:
        acme = tx.orgs.by_name("acme")
        assert acme is not None
    _set(
        api,
        acme.id,
        stranger["id"],
        attributes={"service": ["web-store"], "team": ["case-management"]},
    )
    return World(
        api,
        o,
        made,
        {"ann@example.com": ann["id"], "bob@example.com": bob["id"], ADMIN: admin_id},
        {"SEC": sec["id"], "NOC": noc["id"], "OLD": old["id"]},
    )


LIVE = ["NOC-2", "SEC-5", "SEC-3", "NOC-1", "SEC-2", "SEC-1"]
EVERY = [*LIVE, "SEC-4"]


def but(*keys: str) -> list[str]:
    return [k for k in LIVE if k not in keys]


# (filter, keys in the default order). {ann}, {bob}, {noc} are replaced by ids.
FILTERS: list[tuple[str, list[str]]] = [
    # --- status, priority
    ("status:open", ["NOC-2", "SEC-5", "NOC-1", "SEC-1"]),
    ('status:"In Progress"', ["SEC-2"]),
    ("status:SG_CLOSED", ["SEC-3"]),
    ("status_group:SG_IN_PROGRESS", ["SEC-2"]),
    ("status:*", LIVE),
    ("priority:P2", ["NOC-1", "SEC-2"]),
    ("priority:p1", ["SEC-1"]),
    ("priority:NOT_DEFINED", ["NOC-2"]),
    ("priority:P4", []),
    # --- projects and keys
    ("project:noc", ["NOC-2", "NOC-1"]),
    ("project.key:SEC", ["SEC-5", "SEC-3", "SEC-2", "SEC-1"]),
    ("project:OLD", []),
    ("project:NOPE", []),
    ("-project:NOPE", LIVE),
    ("-project:SEC", ["NOC-2", "NOC-1"]),
    ("project_id:{noc}", ["NOC-2", "NOC-1"]),
    ("-project_id:{noc}", ["SEC-5", "SEC-3", "SEC-2", "SEC-1"]),
    ("key:SEC-2", ["SEC-2"]),
    ("key:sec-2", ["SEC-2"]),
    ("key:OLD-1", []),
    ("key:SEC-4", []),
    # --- users
    ("assignee:me", ["SEC-3"]),
    ("assignee:ann@example.com", ["SEC-1"]),
    ("assignee:ANN@example.com", ["SEC-1"]),
    ("assignee_id:{bob}", ["SEC-2"]),
    ("assignee:{bob}", ["SEC-2"]),
    ("assignee:*", ["SEC-3", "SEC-2", "SEC-1"]),
    ("-assignee:*", ["NOC-2", "SEC-5", "NOC-1"]),
    ("-assignee:{ann}", but("SEC-1")),
    ("-assignee:ann@example.com", but("SEC-1")),
    ("assignee:nobody@example.com", []),
    ("-assignee:nobody@example.com", LIVE),
    ("assignee:(ann@example.com OR bob@example.com)", ["SEC-2", "SEC-1"]),
    ("created_by:ann@example.com", ["NOC-1"]),
    ("created_by:me", but("NOC-1")),
    ("created_by:*", LIVE),
    # --- type and creation source
    ("type:standard", LIVE),
    (f"type_id:{STANDARD_CASE_TYPE_ID}", LIVE),
    ("-type:standard", []),
    ('creation_source:"Event Management"', ["NOC-2"]),
    ("creation_source:manual", but("NOC-2")),
    # --- archiving
    ("archived:true", ["SEC-4"]),
    ("archived:false", LIVE),
    ("archived:*", EVERY),
    ("archived_at:*", ["SEC-4"]),
    ("archived_at:[2026-01-01 TO 2026-01-31]", ["SEC-4"]),
    ("-archived_at:*", LIVE),
    ("archived:true service:web-store", ["SEC-4"]),
    ("archived:* priority:P4", ["SEC-4"]),
    ("archived:* -status:open", ["SEC-3", "SEC-2"]),
    ("archived:* status:open", ["NOC-2", "SEC-5", "NOC-1", "SEC-1", "SEC-4"]),
    # --- times
    ("created_at:2026-01-10", ["SEC-2"]),
    ("created_at:>2026-01-10", ["NOC-2", "SEC-5", "SEC-3", "NOC-1"]),
    ("created_at:>=2026-01-10", ["NOC-2", "SEC-5", "SEC-3", "NOC-1", "SEC-2"]),
    ("created_at:<2026-01-10", ["SEC-1"]),
    ("created_at:<=2026-01-10", ["SEC-2", "SEC-1"]),
    ("created_at:[2026-01-10 TO 2026-01-15]", ["SEC-3", "NOC-1", "SEC-2"]),
    ("created_at:{2026-01-10 TO 2026-01-15}", ["NOC-1"]),
    ("created_at:[2026-01-10 TO 2026-01-15}", ["NOC-1", "SEC-2"]),
    ("created_at:{2026-01-10 TO 2026-01-15]", ["SEC-3", "NOC-1"]),
    ("created_at:>=2026-01-12T00:00:00+01:00", ["NOC-2", "SEC-5", "SEC-3", "NOC-1"]),
    ("created_at:<2026-01-12T12:00:00.000001Z", ["NOC-1", "SEC-2", "SEC-1"]),
    ("created_at:>now-7d", ["NOC-2"]),
    ("created_at:[now-2h TO *]", ["NOC-2"]),
    ("created_at:[* TO now-2h]", but("NOC-2")),
    ("created_at:>now+1d", []),
    ("closed_at:*", ["SEC-3"]),
    ("-closed_at:*", but("SEC-3")),
    ("closed_at:2026-01-20", ["SEC-3"]),
    ("-closed_at:>2026-01-19", but("SEC-3")),
    ("modified_at:*", ["SEC-3", "SEC-2"]),
    ("modified_at:>now-1d", ["SEC-3", "SEC-2"]),
    ("modified_at:<2000-01-01", []),
    # --- attributes
    ("service:web-store", ["NOC-1", "SEC-1"]),
    ("service:WEB-STORE", ["NOC-1", "SEC-1"]),
    ('service:"web store"', ["SEC-5"]),
    ("service:web*", ["SEC-5", "NOC-1", "SEC-2", "SEC-1"]),
    ("service:web-g*", ["SEC-2"]),
    ("service:*", ["SEC-5", "NOC-1", "SEC-2", "SEC-1"]),
    ("-service:*", ["NOC-2", "SEC-3"]),
    ("-service:web-store", ["NOC-2", "SEC-5", "SEC-3", "SEC-2"]),
    ("service:nope", []),
    ("service:nope*", []),
    ("team:case-management", ["SEC-3", "NOC-1", "SEC-1"]),
    ("team:(case-management OR event-management)", ["SEC-3", "NOC-1", "SEC-2", "SEC-1"]),
    ("attributes.team:event-management", ["SEC-2"]),
    ("service:auth team:event-management", ["SEC-2"]),
    ("service:auth service:web-gateway", ["SEC-2"]),
    ("weird.key:a_b", ["SEC-5"]),
    ("weird.key:a_*", ["SEC-5"]),
    ("weird.key:a*", ["NOC-2", "SEC-5"]),
    ("pct:100%", ["SEC-5"]),
    ("pct:10*", ["SEC-5"]),
    ("pct:%", []),
    ("pct:1%*", []),
    ("empty:*", []),
    ("-empty:*", LIVE),
    # --- text
    ("kubernetes", ["SEC-2", "SEC-1"]),
    ("KUBERNETES", ["SEC-2", "SEC-1"]),
    ('"kubernetes pods"', ["SEC-1"]),
    ('"pods kubernetes"', []),
    ("kube*", ["SEC-2", "SEC-1"]),
    ("KUBE*", ["SEC-2", "SEC-1"]),
    ('"rate limit exceeded"', ["SEC-2"]),
    ("disk full", ["SEC-3"]),
    ("host-7", ["SEC-3"]),
    ('"100%"', ["SEC-5"]),
    ("kubernetes -pods", ["SEC-2"]),
    ("pods -kubernetes", []),
    ("kubernetes OR router", ["NOC-2", "SEC-2", "SEC-1"]),
    ("(kubernetes OR router) (pods OR down)", ["NOC-2", "SEC-1"]),
    ("kubernetes service:web-store", ["SEC-1"]),
    ("kube* -service:web-store", ["SEC-2"]),
    ("-kubernetes -service:*", ["NOC-2", "SEC-3"]),
    ("ghost", []),
    ("elsewhere", []),
    ("*", LIVE),
    ("", LIVE),
    # --- operators, precedence, nesting
    ("status:open AND priority:P1", ["SEC-1"]),
    ("status:open priority:P1", ["SEC-1"]),
    ("priority:P1 OR priority:P4", ["SEC-1"]),
    ("NOT status:open", ["SEC-3", "SEC-2"]),
    ("-status:open", ["SEC-3", "SEC-2"]),
    ("NOT NOT status:open", ["NOC-2", "SEC-5", "NOC-1", "SEC-1"]),
    ("NOT (status:open OR status:closed)", ["SEC-2"]),
    ("-(status:open OR status:closed)", ["SEC-2"]),
    ("(status:open OR status:in_progress) -(priority:P1 OR priority:P2)", ["NOC-2", "SEC-5"]),
    ("priority:(P1 OR P2) status:(open OR in_progress)", ["NOC-1", "SEC-2", "SEC-1"]),
    ("status:(open closed)", []),
    ("status:(NOT open)", ["SEC-3", "SEC-2"]),
    ("status:(open OR (closed OR (in_progress)))", LIVE),
    ("((((status:closed))))", ["SEC-3"]),
    ("kubernetes pods OR router", ["NOC-2", "SEC-1"]),
    ("NOT status:open project:SEC", ["SEC-3", "SEC-2"]),
    ("(service:web-store OR kubernetes) status:open", ["NOC-1", "SEC-1"]),
    ("service:web-store OR priority:P5", ["SEC-5", "NOC-1", "SEC-1"]),
    ("-(-service:web-store)", ["NOC-1", "SEC-1"]),
    ("project:SEC (assignee:* OR -service:*) -(status:closed AND priority:P3)", ["SEC-2", "SEC-1"]),
    (
        "(((service:web* OR team:event-management) -(kubernetes OR disk)) OR key:NOC-2)",
        ["NOC-2", "SEC-5", "NOC-1"],
    ),
]


def filter_mismatches(
    api: Api, filters: list[tuple[str, list[str]]], names: dict[str, str]
) -> list[str]:
    """Each filter (``{name}`` replaced from ``names``) against the keys it must find,
    newest first: the whole list, the first of a one-case page with its total (so the
    count statement runs), and the oldest first. What differs, as readable lines."""
    wrong = []
    for text, expected in filters:
        for name, value in names.items():
            text = text.replace("{" + name + "}", value)
        r = api.search(text, **{"page[size]": 100})
        if r.status_code != 200 or keys(r) != expected:
            wrong.append(f"{text!r}: expected {expected}, got {r.status_code} {r.text[:300]}")
            continue
        # A full page of one: the count statement runs (the page above ended short).
        first = api.search(text, **{"page[size]": 1})
        got = (keys(first), first.json()["meta"]["total_cases"])
        if got != (expected[:1], len(expected)):
            wrong.append(f"{text!r}: first of one page and total {got}, expected {len(expected)}")
        oldest = keys(api.search(text, **{"page[size]": 1, "sort[asc]": "true"}))
        if oldest != expected[-1:]:
            wrong.append(f"{text!r}: oldest first {oldest}, expected {expected[-1:]}")
    return wrong


def _mismatches(world: World) -> list[str]:
    names = {
        "ann": world.users["ann@example.com"],
        "bob": world.users["bob@example.com"],
        "noc": world.projects["NOC"],
    }
    return filter_mismatches(world.api, FILTERS, names)


def test_every_filter(world: World) -> None:
    assert _mismatches(world) == []


# How SQLite may read full-text and attribute terms (SearchPlanner); PostgreSQL
# follows only "window" (its own planner makes the other choices).
PLANS = {
    # Every term counts as common, no windows: probe each case read (prefixes: sets).
    "probe": {"TEXT_ESTIMATE_CAP": 0, "ATTRIBUTE_ESTIMATE_CAP": 0, "USE_WINDOWS": False},
    # Every word counts as common, and windows start tiny: they grow, or fail
    # the check (cases here are not created in seq order) and fall back.
    "window": {
        "TEXT_ESTIMATE_CAP": 0,
        "ATTRIBUTE_ESTIMATE_CAP": 0,
        "_WINDOW_SLACK": 0.001,
        "_WINDOW_GROWTH": 2,
        "POSTGRES_WINDOW_FACTOR": 3,
    },
    # Every term counts as rare and reading in order as dear: start from a term's set.
    "drive": {"_SCAN_ROW": 1e12},
    # Every term counts as rare, starting from sets as dear: test membership in sets.
    "list": {"_DRIVE_ROW": 1e12},
    # Every set counts as common, and a count driven by one finds nothing in its first
    # rows: it starts again from the other terms (SQLite).
    "recount": {
        "TEXT_ESTIMATE_CAP": 0,
        "ATTRIBUTE_ESTIMATE_CAP": 0,
        "_COUNT_DRIVE_BUDGET": 0,
        "USE_WINDOWS": False,
    },
}


@pytest.mark.parametrize("plan", sorted(PLANS))
def test_every_filter_whatever_the_plan(
    world: World, plan: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in PLANS[plan].items():
        monkeypatch.setattr(sql_search, name, value)
    assert _mismatches(world) == []


def test_deleted_projects_hide_their_cases_until_restored(world: World) -> None:
    api = world.api
    assert "OLD-1" not in keys(api.search("archived:*", **{"page[size]": 100}))
    assert api.get(f"/api/v2/cases/{world.ids['OLD-1']}").status_code == 404
    projects_domain.restore_project(api.store, org_name="default", key="OLD")
    assert keys(api.search("kubernetes")) == ["OLD-1", "SEC-2", "SEC-1"]
    assert keys(api.search("service:web-store")) == ["OLD-1", "NOC-1", "SEC-1"]
    assert api.search().json()["meta"]["total_cases"] == 7


def test_other_organisations_see_their_own(world: World) -> None:
    other = world.api.new_org_admin("initech")
    assert keys(other.search("kubernetes")) == []
    assert keys(other.search("service:web-store")) == []
    assert keys(other.search("assignee:ann@example.com")) == []
    assert keys(other.search("project:SEC")) == []


# --- counting -------------------------------------------------------------------------


def test_total_cases_is_exact_up_to_the_count_limit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past COUNT_LIMIT, total_cases is a lower bound one past the page (docs/benchmarks-search.md)."""
    monkeypatch.setattr(sql_search, "COUNT_LIMIT", 3)
    api = world.api

    def meta(**params: Any) -> dict:
        r = api.search(**{"page[size]": 2, **params})
        assert r.status_code == 200
        return r.json()["meta"]

    # Six matches, counted to 3 + 1: "more than three".
    assert meta() == {"page": {"current": 1, "size": 2, "total": 2}, "total_cases": 4}
    assert meta(**{"page[number]": 2}) == {
        "page": {"current": 2, "size": 2, "total": 3},
        "total_cases": 5,
    }
    # From the third page on the count reaches the end: exact.
    assert meta(**{"page[number]": 3}) == {
        "page": {"current": 3, "size": 2, "total": 3},
        "total_cases": 6,
    }
    assert meta(**{"page[number]": 4}) == {
        "page": {"current": 4, "size": 0, "total": 3},
        "total_cases": 6,
    }
    assert meta(**{"page[number]": 99}) == {
        "page": {"current": 99, "size": 0, "total": 3},
        "total_cases": 6,
    }
    # Few enough matches: exact, from the page alone or from the count.
    assert meta(filter="status:open")["total_cases"] == 4
    assert meta(filter="status:open", **{"page[size]": 4})["total_cases"] == 4
    assert meta(filter="priority:P2")["total_cases"] == 2
    assert meta(filter="nothing-matches")["total_cases"] == 0


@pytest.mark.parametrize(
    "sort",
    [
        {},
        {"sort[asc]": "true"},
        {"sort[field]": "priority"},
        {"sort[field]": "status", "sort[asc]": "true"},
    ],
)
def test_paging_with_a_small_count_limit_returns_each_case_once(
    world: World, monkeypatch: pytest.MonkeyPatch, sort: dict
) -> None:
    monkeypatch.setattr(sql_search, "COUNT_LIMIT", 2)
    seen: list[str] = []
    for number in range(1, 10):
        page = keys(
            world.api.search("archived:*", **{"page[size]": 2, "page[number]": number, **sort})
        )
        seen += page
        if len(page) < 2:
            break
    assert sorted(seen) == sorted(EVERY)


# --- errors and limits ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        (
            "status:open priority:P9",
            'invalid priority "P9" at 21; must be one of P1, P2, P3, P4, P5, NOT_DEFINED',
        ),
        ("(status:open", 'unclosed "(" at 0'),
        ("status:open (a OR (b", 'unclosed "(" at 18'),
        ('"kubernetes pods', "unclosed quote at 0"),
        ("status:open OR", 'expected a term after "OR" at 12'),
        ("NOT", 'expected a term after "NOT" at 0'),
        ("a ()", 'empty group "()" at 2'),
        ("status: open", 'missing value after "status:" at 0'),
        ("archived:maybe", 'invalid archived "maybe" at 9; must be true, false or *'),
        ("key:x", 'invalid key "x" at 4; a case key is a project key and a number, as in SEC-12'),
        ("project_id:zzz", 'invalid project_id "zzz" at 11; must be a UUID'),
        (
            "created_at:[2026-01-02 TO 2026-01-01]",
            'empty time range "[2026-01-02 TO 2026-01-01]" at 11',
        ),
        ("*kube", 'wildcard in "*kube" at 0; only a trailing * is supported'),
        ("-", 'lone "-" at 0; write -term, without a space'),
        ("%", 'nothing to search for in "%" at 0; text search needs letters or digits'),
        ("a\x00b", "invalid character U+0000 at 1"),
        ("x" * 2001, "query too long at 2000; the limit is 2000 characters (this one has 2001)"),
        (" ".join(["w"] * 51), 'too many terms at 100 ("w"); the limit is 50'),
        ("(" * 11 + "a" + ")" * 11, 'too deeply nested "(" at 10; the limit is 10 levels'),
    ],
)
def test_bad_filters_are_400_with_the_position(api: Api, text: str, detail: str) -> None:
    r = api.search(text)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["detail"].startswith(detail)


def test_limits_are_inclusive(api: Api) -> None:
    assert api.search("x" * 2000).status_code == 200
    assert api.search(" ".join(["w"] * 50)).status_code == 200
    assert api.search("(" * 10 + "a" + ")" * 10).status_code == 200
    assert api.search("status:" + "(" * 10 + "open" + ")" * 10).status_code == 200
    assert api.search("status:" + "(" * 11 + "open" + ")" * 11).status_code == 400


# --- hostile filters ------------------------------------------------------------------

HOSTILE = [
    "'",
    "' OR '1'='1",
    "x' OR 1=1 --",
    '"; DROP TABLE cases; --"',
    "'; DROP TABLE cases; --",
    "service:'; DROP TABLE cases; --",
    'service:"\'); DELETE FROM cases; --"',
    "key:SEC-1' OR 1=1--",
    "1; SELECT * FROM users",
    "%",
    "%%",
    "_",
    "a%",
    "a_",
    "service:%",
    "service:_",
    "service:%*",
    "service:_*",
    "service:'*",
    "pct:100%",
    '"%"',
    '"_"',
    "--",
    "-- comment",
    "/* x */",
    "a;b",
    ";",
    "\\",
    '"\\\\"',
    "kube\\*",
    "o'brien*",
    "service:o'brien*",
    "a\\'b*",
    "?",
    "%s",
    "%(x)s",
    "$1",
    ":name",
    "a::jsonb",
    "$$",
    "service:$$",
    "{}",
    "a & b",
    "!a",
    "a:*",
    "a <-> b",
    "NEAR(a b)",
    '"a" AND "b"',
    "^a",
    "title:kubernetes",
    "a\x00",
    "\x00",
    "service:\x00",
    '"\x00"',
    "\u202eevil",
    "ßtraße",
    "💥",
    "x" * 10_000,
    "a " * 1000,
    "(" * 1000,
    '"' * 1000,
    "-" * 1000,
    "a" + "*" * 1000,
    "service:" + "x" * 1990,
    "kubernetes " + "OR kubernetes " * 24,
]


def test_hostile_filters_are_inert(world: World) -> None:
    api = world.api
    for text in HOSTILE:
        r = api.search(text)
        assert r.status_code in (200, 400), (text[:50], r.status_code, r.text[:200])
        if r.status_code == 200:
            assert set(keys(r)) <= set(LIVE), text[:50]
        else:
            assert r.json()["errors"][0]["status"] == "400"
    # Nothing was changed or dropped.
    assert keys(api.search("archived:*", **{"page[size]": 100})) == EVERY
    assert keys(api.search("service:web-store")) == ["NOC-1", "SEC-1"]
    with api.store.read() as tx:
        count = tx.sql.one("SELECT count(*) FROM cases", ())  # type: ignore[attr-defined]
        attributes = tx.sql.one("SELECT count(*) FROM case_attributes", ())  # type: ignore[attr-defined]
        users = tx.users.count(world.org_id)
    assert count[0] == 9
    assert attributes[0] == 16
    assert users == 3


def test_a_case_created_closed_has_its_closing_time(api: Api) -> None:
    """The create path stores closed_at (it used to answer with one it did not store)."""
    project = api.create_project("SEC")
    made = api.create_case(project["id"], "Closed at once", status_name="CLOSED")
    stored = api.get(f"/api/v2/cases/{made['id']}").json()["data"]["attributes"]
    assert stored["closed_at"] == made["attributes"]["closed_at"] is not None
    assert keys(api.search("closed_at:*")) == ["SEC-1"]
    assert keys(api.search("closed_at:>now-1h status:closed")) == ["SEC-1"]
