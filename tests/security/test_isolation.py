"""Organisation isolation: B's keys never reach A's objects, whatever the id or the filter.

Orgs A and B both have project ``SEC``; A has cases SEC-1..SEC-55, B SEC-1..SEC-50,
so 50 keys collide and five exist in A only. Both have a case type ``Investigation``
with a config ``region``; each has a custom attribute of its own on the built-in
types. Every id-taking operation aimed at A's objects from B answers exactly what it
answers for an object that does not exist (the id in the message aside); B's lists
show none of A's types and configs; B's random searches never return A's cases.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import uuid
from typing import Any
from urllib.parse import parse_qsl

import pytest

from casebook.core.entities import BUILTIN_CASE_TYPES
from casebook.domain.users import BOOTSTRAP_ADMIN_EMAIL
from tests.security.conftest import (
    OPERATIONS,
    Operation,
    OrgWorld,
    made,
    report_count,
)
from tests.support.api import case_body
from tests.support.dump import dump_database

A_CASES, B_CASES = 55, 50
PRIORITIES = ["P1", "P2", "P3", "P4", "P5", "NOT_DEFINED"]
STATUSES = ["OPEN", "IN_PROGRESS", "CLOSED"]
A_WORDS = ["orchid", "zeppelin", "quasar", "marmalade"]
B_WORDS = ["tulip", "rowboat"]


def _text(value: str) -> dict[str, Any]:
    return {"type": "TEXT", "is_multi": False, "value": value}


def _populate(org: OrgWorld, n: int, words: list[str], rng: random.Random) -> list[dict[str, Any]]:
    """Cases SEC-2..SEC-n (SEC-1 is the org's standing case) with varied state; every fifth
    of the org's own type with a ``region``, others with the org's own custom attribute."""
    cases = [org.case]
    for i in range(2, n + 1):
        title = f"{words[i % len(words)]} {org.name}{i} {words[(i + 1) % len(words)]}"
        typed: dict[str, Any] = {}
        if i % 5 == 0:
            typed = {"type_id": org.case_type["id"]}
            typed["custom_attributes"] = {"region": _text(words[i % len(words)])}
        elif i % 5 == 1:
            typed = {"custom_attributes": {org.field: _text(words[(i + 1) % len(words)])}}
        case = org.admin.create_case(
            org.project["id"],
            title,
            priority=PRIORITIES[i % 6],
            description=f"{words[0]} incident number {i}",
            assignee_id=org.member["id"] if i % 3 == 0 else None,
            **typed,
        )
        assert case["attributes"]["key"] == f"SEC-{i}"
        if i % 4 == 1:
            org.admin.case_action(case["id"], "status", {"status": rng.choice(STATUSES[1:])})
        if i % 7 == 0:
            org.admin.case_action(case["id"], "archive")
        cases.append(case)
    return cases


def _normalised(r: Any, ref: str) -> tuple[int, str, str]:
    """The answer, but for the reference aimed at and the request's own id (in ``meta``)."""
    text = r.text.replace(ref, "<ref>").replace(r.headers["x-request-id"], "<request id>")
    return r.status_code, r.headers["content-type"], text


def _same_404(theirs: Any, ref: str, absent: Any, missing: str, *context: Any) -> None:
    """``theirs`` (aimed at ``ref``) is a 404 that reads like ``absent`` (aimed at ``missing``)."""
    assert theirs.status_code == 404, (*context, theirs.text)
    assert _normalised(theirs, ref) == _normalised(absent, missing)


# What each path parameter, relation ``type`` and body member names.
PARAM_KINDS = {
    "case_id": "case",
    "project_id": "project",
    "user_id": "user",
    "user_uuid": "user",
    "cell_id": "cell",
    "link_id": "link",
    "case_type_id": "case_type",
    "custom_attribute_id": "config",
    "custom_attribute_key": "field",
    "view_id": "view",
    "webhook_name": "webhook",
    "notification_rule_id": "notification_rule",
    "rule_id": "rule",
    "maintenance_window_id": "window",
}
RELATION_KINDS = {"project": "project", "users": "user", "user": "user"}
MEMBER_KINDS = {
    "case_ids": "case",
    "project_id": "project",
    "entity_id": "case",
    "parent_entity_id": "case",
    "child_entity_id": "case",
    "assignee_id": "user",
    "type_id": "case_type",
}
# Operations that name no object: they list or create in the caller's own organisation.
NAME_NOTHING = {
    "SearchCases",
    "GetProjects",
    "CreateProject",
    "ListUsers",
    "CreateUser",
    "GetAllCaseTypes",
    "CreateCaseType",
    "GetAllCustomAttributes",
    "ListUserCaseProjectFavorites",
    "CreateWebhooksIntegration",
    "CountCases",
    "AggregateCases",
    "AggregateCaseDurations",
    "ListMaintenanceWindows",
    "CreateMaintenanceWindow",
}
UUIDS_PER_CALL = 8  # of A's 55 case UUIDs, besides its standing case (GetCase takes all 55)


def _named(op: Operation, path: str, body: Any) -> dict[str, str]:
    """The objects one call names, in its path, its query string or its body: id -> kind."""
    found: dict[str, str] = {}
    route, _, query = path.partition("?")
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(op.path))
    match = re.fullmatch(pattern, route)
    assert match, (op.name, path)
    found.update({value: PARAM_KINDS[name] for name, value in match.groupdict().items()})
    found.update({v: MEMBER_KINDS[k] for k, v in parse_qsl(query) if k in MEMBER_KINDS})

    def walk(node: Any, member: str = "") -> None:
        if isinstance(node, dict):
            if isinstance(node.get("id"), str) and node.get("type") in RELATION_KINDS:
                found[node["id"]] = RELATION_KINDS[node["type"]]
            for name, value in node.items():
                walk(value, name)
        elif isinstance(node, list):
            for value in node:
                walk(value, member)
        elif isinstance(node, str) and member in MEMBER_KINDS:
            found[node] = MEMBER_KINDS[member]

    walk(body)
    return found


def _swap(path: str, body: Any, mine: str, theirs: str) -> tuple[str, Any]:
    """The call with every mention of ``mine`` replaced by ``theirs``."""
    if body is not None:
        body = json.loads(json.dumps(body).replace(mine, theirs))
    return path.replace(mine, theirs), body


def _shape(ref: str) -> str:
    return "uuid" if "-" in ref and len(ref) == 36 else "KEY" if ref.isupper() else "key"


def test_b_cannot_reach_a_by_id(
    orgs: tuple[OrgWorld, OrgWorld], database_url: str, request: pytest.FixtureRequest
) -> None:
    a, b = orgs
    rng = random.Random(20240611)
    a_cases = _populate(a, A_CASES, A_WORDS, rng)
    b_cases = _populate(b, B_CASES, B_WORDS, rng)
    a_admin_id = a.admin.user_id(BOOTSTRAP_ADMIN_EMAIL)
    # A's objects of every kind, each to be aimed at from B in place of B's own.
    case_uuids = [c["id"] for c in a_cases]
    # A moves one of them: its old key stays A's alias for it, its new key is of A's alone.
    moved = a_cases[A_CASES - 3]
    body = {"data": {"id": a.admin.create_project("MOVED", "moved")["id"], "type": "project"}}
    r = a.admin.patch(f"/api/v2/cases/{moved['id']}/relationships/project", body)
    assert r.json()["data"]["attributes"]["key"] == "MOVED-1", r.text
    case_keys = [f"SEC-{n}" for n in range(B_CASES + 1, A_CASES + 1)]  # A's alone
    case_keys += [key.lower() for key in case_keys] + ["MOVED-1"]
    theirs_by_kind = {
        "project": [a.project["id"]],
        "user": [a.member["id"], a_admin_id],
        "cell": [made("cell_id", a)],
        "link": [made("link_id", a)],
        "case_type": [a.case_type["id"]],
        "config": [a.config["id"]],
        "field": [a.field],
        "view": [a.view["id"]],
        "webhook": [a.webhook],
        "notification_rule": [a.notification_rule["id"]],
        "rule": [a.rule["id"], made("rule_id", a)],
        "window": [a.window["id"]],
    }
    missing_by_shape = {"uuid": str(uuid.uuid4()), "KEY": "SEC-1051", "key": "sec-1051"}

    # B's own calls, prepared (fresh objects made) before the database is taken; the fresh
    # cases go to another project, so that B's keys SEC-51.. stay A's alone.
    iso = b.admin.create_project("ISO", "elsewhere")
    elsewhere = dataclasses.replace(b, project=iso)
    elsewhere = dataclasses.replace(  # its rules, of that project
        elsewhere,
        notification_rule={"id": made("notification_rule_id", elsewhere)},
        rule={"id": made("rule_id", elsewhere)},
    )
    calls = [(op, *op.prepare(elsewhere)) for op in OPERATIONS]
    create = next(op for op in OPERATIONS if op.name == "CreateCase")
    with_assignee = case_body(b.project["id"], "cross-org", assignee_id=b.member["id"])
    calls.append((create, "/api/v2/cases", with_assignee))
    aimed = {op.name for op, path, body in calls if _named(op, path, body)}
    assert aimed == {op.name for op in OPERATIONS} - NAME_NOTHING, "an operation names nothing"
    before = dump_database(database_url)
    client, requests = b.admin, 0

    def call(method: str, path: str, body: Any = None) -> Any:
        nonlocal requests
        requests += 1
        return client.client.request(method, path, headers=client.headers, json=body)

    for op, path, body in calls:
        for mine, kind in _named(op, path, body).items():
            if kind == "case":
                sample = (
                    case_uuids[1:]
                    if op.name == "GetCase"
                    else rng.sample(case_uuids[1:], UUIDS_PER_CALL)
                )
                targets = [a.case["id"], *sample, *case_keys]
            else:
                targets = theirs_by_kind[kind]
            absent: dict[str, Any] = {}  # one call per shape of id, aimed at nothing
            for ref in targets:
                shape = _shape(ref)
                if shape not in absent:
                    absent[shape] = call(
                        op.method, *_swap(path, body, mine, missing_by_shape[shape])
                    )
                theirs = call(op.method, *_swap(path, body, mine, ref))
                _same_404(theirs, ref, absent[shape], missing_by_shape[shape], op.name, kind, ref)

    # Nothing changed, of A's or of B's: every call above was a 404.
    assert dump_database(database_url) == before

    # Mentions name B's users only: A's users mentioned in B's comment do not watch B's case.
    text = f"@{a.member['attributes']['email']} @{BOOTSTRAP_ADMIN_EMAIL} @{b.member['attributes']['email']}"
    body = {"data": {"type": "case", "attributes": {"comment": text}}}
    assert call("POST", f"/api/v2/cases/{b.case['id']}/comment", body).status_code == 200
    watching = call("GET", f"/api/v2/cases/{b.case['id']}/watchers").json()
    assert b.member["id"] in {w["id"] for w in watching["data"]}
    assert {u["id"] for u in watching["included"]}.isdisjoint({a.member["id"], a_admin_id})
    assert {w["id"] for w in watching["data"]}.isdisjoint({a.member["id"], a_admin_id})

    # Colliding keys reach B's own case, never A's.
    for n in (1, 17, B_CASES):
        r = call("GET", f"/api/v2/cases/SEC-{n}")
        assert r.json()["data"]["id"] == b_cases[n - 1]["id"]

    # A's users are not B's to list, whatever the filter.
    listed = call("GET", "/api/v2/users").json()["data"]
    assert {u["relationships"]["org"]["data"]["id"] for u in listed} == {b.org_id}
    assert BOOTSTRAP_ADMIN_EMAIL not in {u["attributes"]["email"] for u in listed}
    assert call("GET", "/api/v2/users?filter=default.example").json()["data"] == []

    # A's case types and configs are not B's to list, those on the built-in types included.
    def ids(answer: Any) -> set[str]:
        return {item["id"] for item in answer.json()["data"]}

    types, configs = "/api/v2/cases/types", "/api/v2/cases/types/custom_attributes"
    a_types, b_types = ids(a.admin.get(types)), ids(call("GET", types))
    assert a.case_type["id"] in a_types and b.case_type["id"] in b_types
    assert a_types & b_types == set(BUILTIN_CASE_TYPES)
    a_configs, b_configs = ids(a.admin.get(configs)), ids(call("GET", configs))
    assert a.config["id"] in a_configs and b.config["id"] in b_configs
    assert a_configs.isdisjoint(b_configs)
    for type_id in BUILTIN_CASE_TYPES:
        listed = call("GET", f"{types}/{type_id}/custom_attributes").json()["data"]
        assert {c["attributes"]["key"] for c in listed} <= {b.field}, listed
    # A's favourites and views are not B's to list.
    favorites = "/api/v2/cases/projects/favorites"
    assert (
        a.admin.post(f"/api/v2/cases/projects/{a.project['id']}/favorites", None).status_code == 204
    )
    assert ids(a.admin.get(favorites)) == {a.project["id"]}
    assert a.project["id"] not in ids(call("GET", favorites))
    assert ids(call("GET", f"/api/v2/cases/views?project_id={b.project['id']}")) == {b.view["id"]}
    # A's rules and maintenance windows are not B's to list.
    rules = f"/api/v2/cases/projects/{b.project['id']}"
    assert ids(call("GET", f"{rules}/notification_rules")) == {b.notification_rule["id"]}
    assert ids(call("GET", f"{rules}/rules")) == {b.rule["id"]}
    # A's deliveries are not B's to list (a project's own only).
    assert ids(call("GET", f"{rules}/deliveries")) == set(b.deliveries)
    assert ids(a.admin.get(f"/api/v2/cases/projects/{a.project['id']}/deliveries")) == set(
        a.deliveries
    )
    a_windows, b_windows = (
        ids(a.admin.get("/api/v2/maintenance_windows")),
        ids(call("GET", "/api/v2/maintenance_windows")),
    )
    assert a.window["id"] in a_windows and b.window["id"] in b_windows
    assert a_windows.isdisjoint(b_windows)
    report_count(request, "isolation_id_requests", requests)


# --- random searches --------------------------------------------------------------------
def _random_filter(rng: random.Random, a: OrgWorld, a_admin_id: str) -> str:
    def leaf() -> str:
        kind = rng.randrange(18)
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
        if kind == 14:
            return f"{neg}region:{rng.choice(A_WORDS + B_WORDS)}"
        if kind == 15:
            return f"{neg}{a.field}:{rng.choice(A_WORDS)}"
        if kind == 16:
            return f"type:{rng.choice(['Investigation', a.case_type['id']])}"
        if kind == 17:
            return neg + "status_name:" + rng.choice(["Open", '"In Progress"'])
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
        # Counts see what search sees: B's count of the filter is B's matches, in B's project.
        for org, expected in ((b, found), (a, mine)):
            r = org.admin.get("/api/v2/cases/count", query_filter=text, group_bys="project")
            assert r.status_code == 200, (text, r.text)
            counted = r.json()["data"]["attributes"]
            assert counted["total"] == len(expected), text
            projects = {v["value"]: v["count"] for v in counted["groups"][0]["group_values"]}
            assert projects == ({org.project["id"]: len(expected)} if expected else {}), text
    assert a_matched > 0 and matched > 0
    report_count(request, "isolation_searches", searches)
    report_count(request, "isolation_searches_a_cases_matched_as_a", a_matched)
