"""Organisation isolation: B's keys never reach A's objects, whatever the id or the filter.

Orgs A and B both have project ``SEC``; A has cases SEC-1..SEC-55, B SEC-1..SEC-50,
so 50 keys collide and five exist in A only. Every id-taking operation aimed at
A's objects from B answers exactly what it answers for an object that does not
exist (the id in the message aside); B's random searches never return A's cases.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest

from casebook.domain.users import BOOTSTRAP_ADMIN_EMAIL
from tests.security.conftest import OPERATIONS, OrgWorld, dump_database, report_count
from tests.support.api import case_body

A_CASES, B_CASES = 55, 50
PRIORITIES = ["P1", "P2", "P3", "P4", "P5", "NOT_DEFINED"]
STATUSES = ["OPEN", "IN_PROGRESS", "CLOSED"]
A_WORDS = ["orchid", "zeppelin", "quasar", "marmalade"]
B_WORDS = ["tulip", "rowboat"]


def _populate(org: OrgWorld, n: int, words: list[str], rng: random.Random) -> list[dict[str, Any]]:
    """Cases SEC-2..SEC-n (SEC-1 is the org's standing case) with varied state."""
    cases = [org.case]
    for i in range(2, n + 1):
        title = f"{words[i % len(words)]} {org.name}{i} {words[(i + 1) % len(words)]}"
        case = org.admin.create_case(
            org.project["id"],
            title,
            priority=PRIORITIES[i % 6],
            description=f"{words[0]} incident number {i}",
            assignee_id=org.member["id"] if i % 3 == 0 else None,
        )
        assert case["attributes"]["key"] == f"SEC-{i}"
        if i % 4 == 1:
            org.admin.case_action(case["id"], "status", {"status": rng.choice(STATUSES[1:])})
        if i % 7 == 0:
            org.admin.case_action(case["id"], "archive")
        cases.append(case)
    return cases


def _normalised(r: Any, ref: str) -> tuple[int, str, str]:
    return r.status_code, r.headers["content-type"], r.text.replace(ref, "<ref>")


def _same_404(theirs: Any, ref: str, absent: Any, missing: str, *context: Any) -> None:
    """``theirs`` (aimed at ``ref``) is a 404 that reads like ``absent`` (aimed at ``missing``)."""
    assert theirs.status_code == 404, (*context, theirs.text)
    assert _normalised(theirs, ref) == _normalised(absent, missing)


def _case_calls(b: OrgWorld) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every registered operation on one case, as B would call it on its own case: (method,
    the path after the case's id, body)."""
    calls = []
    for op in OPERATIONS:
        if op.path.startswith("/api/v2/cases/{case_id}"):
            path, body = op.prepare(b)
            calls.append((op.method, path.removeprefix(f"/api/v2/cases/{b.case['id']}"), body))
    assert {"GetCase", "UpdateStatus", "AssignCase"} <= {
        op.name for op in OPERATIONS if op.path.startswith("/api/v2/cases/{case_id}")
    }
    return calls


def _a_rows(database_url: str, a: OrgWorld) -> dict[str, list[tuple[str, ...]]]:
    """A's rows of every table that has an org_id column (by position in the row)."""
    dump = dump_database(database_url)
    return {
        name: [row for row in rows if a.org_id in row]
        for name, rows in dump.items()
        if not name.startswith("cases_fts")
    }


def test_b_cannot_reach_a_by_id(
    orgs: tuple[OrgWorld, OrgWorld], database_url: str, request: pytest.FixtureRequest
) -> None:
    a, b = orgs
    rng = random.Random(20240611)
    a_cases = _populate(a, A_CASES, A_WORDS, rng)
    b_cases = _populate(b, B_CASES, B_WORDS, rng)
    a_before = _a_rows(database_url, a)
    client, requests = b.admin, 0

    def call(method: str, path: str, body: Any = None) -> Any:
        nonlocal requests
        requests += 1
        return client.client.request(method, path, headers=client.headers, json=body)

    # Cases, by UUID (all of A's) and by key (the ones A alone has, in both spellings).
    refs = [(c["id"], str(uuid.uuid4())) for c in a_cases]
    refs += [(f"SEC-{n}", f"SEC-{n + 1000}") for n in range(B_CASES + 1, A_CASES + 1)]
    refs += [(f"sec-{n}", f"sec-{n + 1000}") for n in range(B_CASES + 1, A_CASES + 1)]
    for method, suffix, body in _case_calls(b):
        for ref, missing in refs:
            theirs = call(method, f"/api/v2/cases/{ref}{suffix}", body)
            absent = call(method, f"/api/v2/cases/{missing}{suffix}", body)
            _same_404(theirs, ref, absent, missing, method, suffix, ref)

    # Colliding keys reach B's own case, never A's.
    for n in (1, 17, B_CASES):
        r = call("GET", f"/api/v2/cases/SEC-{n}")
        assert r.json()["data"]["id"] == b_cases[n - 1]["id"]

    # Projects: get, delete, and create a case in A's project.
    fake_project = str(uuid.uuid4())
    for method in ("GET", "DELETE"):
        theirs = call(method, f"/api/v2/cases/projects/{a.project['id']}")
        absent = call(method, f"/api/v2/cases/projects/{fake_project}")
        _same_404(theirs, a.project["id"], absent, fake_project, method)

    def new_case(project_id: str, assignee_id: str | None = None) -> Any:
        return call(
            "POST", "/api/v2/cases", case_body(project_id, "cross-org", assignee_id=assignee_id)
        )

    theirs, absent = new_case(a.project["id"]), new_case(fake_project)
    _same_404(theirs, a.project["id"], absent, fake_project)

    # Users: A's member and admin through every Users operation, and as assignees.
    fake_user = str(uuid.uuid4())
    a_admin_id = a.admin.user_id(BOOTSTRAP_ADMIN_EMAIL)
    for target in (a.member["id"], a_admin_id):
        for method, body_for in (
            ("GET", None),
            ("PATCH", lambda uid: {"data": {"id": uid, "type": "users", "attributes": {}}}),
            ("DELETE", None),
        ):
            theirs = call(method, f"/api/v2/users/{target}", body_for and body_for(target))
            absent = call(method, f"/api/v2/users/{fake_user}", body_for and body_for(fake_user))
            _same_404(theirs, target, absent, fake_user, method)
        theirs = new_case(b.project["id"], target)
        absent = new_case(b.project["id"], fake_user)
        _same_404(theirs, target, absent, fake_user)
        assign = {"data": {"type": "case", "attributes": {"assignee_id": target}}}
        missing = {"data": {"type": "case", "attributes": {"assignee_id": fake_user}}}
        theirs = call("POST", f"/api/v2/cases/{b.case['id']}/assign", assign)
        absent = call("POST", f"/api/v2/cases/{b.case['id']}/assign", missing)
        _same_404(theirs, target, absent, fake_user)

    listed = call("GET", "/api/v2/users").json()["data"]
    assert {u["relationships"]["org"]["data"]["id"] for u in listed} == {b.org_id}
    assert BOOTSTRAP_ADMIN_EMAIL not in {u["attributes"]["email"] for u in listed}
    assert call("GET", "/api/v2/users?filter=default.example").json()["data"] == []

    # Nothing of A's changed (B's writes on colliding keys went to B's cases).
    assert _a_rows(database_url, a) == a_before
    report_count(request, "isolation_id_requests", requests)


# --- random searches --------------------------------------------------------------------
def _random_filter(rng: random.Random, a: OrgWorld, a_admin_id: str) -> str:
    def leaf() -> str:
        kind = rng.randrange(14)
        neg = "-" if rng.random() < 0.15 else ""
        if kind == 0:
            return neg + rng.choice(A_WORDS + B_WORDS)
        if kind == 1:
            return f'{neg}"{rng.choice(A_WORDS)} default{rng.randrange(2, A_CASES + 1)}"'
        if kind == 2:
            return neg + rng.choice(A_WORDS)[:3] + "*"
        if kind == 3:
            return f"{neg}status:{rng.choice(STATUSES).lower()}"
        if kind == 4:
            return f"{neg}priority:{rng.choice(PRIORITIES)}"
        if kind == 5:
            return f"{neg}key:SEC-{rng.randrange(1, A_CASES + 1)}"
        if kind == 6:
            return f"project_id:{a.project['id']}"
        if kind == 7:
            return f"{neg}project:SEC"
        if kind == 8:
            return f"archived:{rng.choice(['true', 'false', '*'])}"
        if kind == 9:
            return f"{neg}assignee:{rng.choice([a.member['id'], 'me'])}"
        if kind == 10:
            return f"created_by:{rng.choice([a_admin_id, 'me'])}"
        if kind == 11:
            return f"{neg}status_group:SG_{rng.choice(STATUSES)}"
        if kind == 12:
            return f"created_at:>now-{rng.randrange(1, 30)}d"
        return f"priority:({rng.choice(PRIORITIES)} OR {rng.choice(PRIORITIES)})"

    def expr(depth: int) -> str:
        if depth > 2 or rng.random() < 0.4:
            return leaf()
        joiner = rng.choice([" ", " AND ", " OR "])
        parts = [expr(depth + 1) for _ in range(rng.randrange(2, 4))]
        text = joiner.join(parts)
        return f"({text})" if rng.random() < 0.5 else text

    return expr(0)


def test_random_searches_never_return_other_orgs_cases(
    orgs: tuple[OrgWorld, OrgWorld], request: pytest.FixtureRequest
) -> None:
    a, b = orgs
    rng = random.Random(7)
    a_cases = _populate(a, A_CASES, A_WORDS, rng)
    b_cases = _populate(b, B_CASES, B_WORDS, rng)
    a_ids = {c["id"] for c in a_cases}
    b_ids = {c["id"] for c in b_cases}
    a_admin_id = a.admin.user_id(BOOTSTRAP_ADMIN_EMAIL)
    searches = matched = a_matched = 0
    for _ in range(200):
        text = _random_filter(rng, a, a_admin_id)
        r = b.admin.search(text, **{"page[size]": 100})
        assert r.status_code == 200, (text, r.text)
        found = {c["id"] for c in r.json()["data"]}
        assert found <= b_ids, text
        assert r.json()["meta"]["total_cases"] == len(found), text
        searches += 1
        matched += len(found)
        # The same filter as A: proves the filter does match A's cases.
        mine = {c["id"] for c in a.admin.search(text, **{"page[size]": 100}).json()["data"]}
        assert mine <= a_ids, text
        a_matched += len(mine)
    assert a_matched > 0 and matched > 0
    report_count(request, "isolation_searches", searches)
    report_count(request, "isolation_searches_a_cases_matched_as_a", a_matched)
