"""Limits: every cap answers 400 or 413 quickly (under 100 ms), never 500 nor a RecursionError.

Caps live in ``casebook.domain.limits`` (text lengths, page sizes),
``casebook.search.parser`` (filter length, terms, nesting) and the
``CASEBOOK_MAX_BODY_BYTES`` setting (request bodies, refused from the declared
Content-Length before the body is read, or as soon as a chunked body passes it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from casebook.core.entities import BUILTIN_CASE_TYPES, LINK_RELATIONSHIPS, STANDARD_CASE_TYPE_ID
from casebook.domain import limits
from casebook.domain import users as users_domain
from casebook.search import MAX_DEPTH, MAX_QUERY_LENGTH, MAX_TERMS
from tests.security.conftest import (
    BANNERS,
    FORBIDDEN_BODY,
    LIVE_MAX_BODY,
    OPERATIONS,
    Live,
    OrgWorld,
    automation_rule_body,
    config_body,
    made,
    notification_rule_body,
    raw_request,
    report_count,
    unique,
    window_body,
)
from tests.support.api import Api, case_body

FAST = 0.1  # seconds


def timed(send: Callable[[], Any]) -> tuple[Any, float]:
    """The response and how long it took; one retry absorbs a stray GC or scheduler pause."""
    for attempt in range(2):
        start = time.perf_counter()
        r = send()
        elapsed = time.perf_counter() - start
        if elapsed < FAST or attempt:
            return r, elapsed
    raise AssertionError("unreachable")


def _case(project_id: str, title: str = "t", **attributes: Any) -> dict[str, Any]:
    return case_body(project_id, title, **attributes)


def _user(**attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "users", "attributes": {"email": "cap@example.com", **attributes}}}


def _project(key: str, name: str) -> dict[str, Any]:
    return {"data": {"type": "project", "attributes": {"key": key, "name": name}}}


def _case_type(**attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "case_type", "attributes": {"name": unique("Capped "), **attributes}}}


def _value(value: str | list[str]) -> dict[str, Any]:
    """The body of ``POST /api/v2/cases/{case_id}/custom_attributes/{key}``, for a TEXT."""
    attributes = {"type": "TEXT", "is_multi": isinstance(value, list), "value": value}
    return {"data": {"type": "case", "attributes": attributes}}


def _checks(a: OrgWorld) -> Iterator[tuple[str, str, str, dict[str, Any], int]]:
    """(label, method, path, request kwargs, expected status)."""
    pid, uid = a.project["id"], a.member["id"]
    patch = lambda **attrs: {"data": {"id": uid, "type": "users", "attributes": attrs}}  # noqa: E731
    title = limits.MAX_TITLE_CHARS
    yield "title at cap", "POST", "/api/v2/cases", {"json": _case(pid, title="é" * title)}, 201
    yield (
        "title over cap",
        "POST",
        "/api/v2/cases",
        {"json": _case(pid, title="x" * (title + 1))},
        400,
    )
    desc = "d" * (limits.MAX_DESCRIPTION_CHARS + 1)
    yield (
        "description over cap",
        "POST",
        "/api/v2/cases",
        {"json": _case(pid, description=desc)},
        400,
    )
    name = "n" * (limits.MAX_PROJECT_NAME_CHARS + 1)
    yield (
        "project name over cap",
        "POST",
        "/api/v2/cases/projects",
        {"json": _project("CAP", name)},
        400,
    )
    yield (
        "project key over cap",
        "POST",
        "/api/v2/cases/projects",
        {"json": _project("K" * 11, "k")},
        400,
    )
    long_name = "n" * (limits.MAX_USER_NAME_CHARS + 1)
    long_title = "t" * (limits.MAX_USER_TITLE_CHARS + 1)
    long_email = "e" * limits.MAX_EMAIL_CHARS + "@x.io"
    yield "user name over cap", "POST", "/api/v2/users", {"json": _user(name=long_name)}, 400
    yield "user title over cap", "POST", "/api/v2/users", {"json": _user(title=long_title)}, 400
    yield "email over cap", "POST", "/api/v2/users", {"json": _user(email=long_email)}, 400
    yield (
        "patch name over cap",
        "PATCH",
        f"/api/v2/users/{uid}",
        {"json": patch(name=long_name)},
        400,
    )
    yield (
        "patch email over cap",
        "PATCH",
        f"/api/v2/users/{uid}",
        {"json": patch(email=long_email)},
        400,
    )
    # Working a case: comments, insights, the timeline and links.
    case = f"/api/v2/cases/{a.case['id']}"

    def comment(text: str) -> dict[str, Any]:
        return {"data": {"type": "case", "attributes": {"comment": text}}}

    at_cap = "é" * limits.MAX_COMMENT_CHARS
    over_cap = "c" * (limits.MAX_COMMENT_CHARS + 1)
    yield "comment at cap", "POST", f"{case}/comment", {"json": comment(at_cap)}, 200
    yield "comment over cap", "POST", f"{case}/comment", {"json": comment(over_cap)}, 400
    cell = f"{case}/comment/{made('cell_id', a)}"
    yield "comment edit over cap", "PUT", cell, {"json": comment(over_cap)}, 400

    def insights(n: int, ref: str = "/r", resource: str = "") -> dict[str, Any]:
        given = [
            {"type": "SECURITY_SIGNAL", "ref": ref, "resource_id": resource or f"cap{i}"}
            for i in range(n)
        ]
        return {"data": {"type": "case", "attributes": {"insights": given}}}

    many = insights(limits.MAX_INSIGHTS + 1)
    yield "insights over cap", "PUT", f"{case}/insights", {"json": many}, 400
    yield "insights removed over cap", "DELETE", f"{case}/insights", {"json": many}, 400
    long_ref = insights(1, ref="r" * (limits.MAX_INSIGHT_REF_CHARS + 1))
    yield "insight ref over cap", "PUT", f"{case}/insights", {"json": long_ref}, 400
    long_id = insights(1, resource="i" * (limits.MAX_INSIGHT_ID_CHARS + 1))
    yield "insight resource_id over cap", "PUT", f"{case}/insights", {"json": long_id}, 400
    for size in (limits.MAX_TIMELINE_PAGE_SIZE + 1, 0):
        params = {"params": {"page[size]": size}}
        yield f"timeline page[size]={size}", "GET", f"{case}/timelines", params, 400
    query = {"params": {"entity_type": "CASE", "entity_id": "k" * 257}}
    yield "links entity_id over cap", "GET", "/api/v2/cases/link", query, 400
    for size in (limits.MAX_PAGE_SIZE + 1, 0, -1, 10**20):
        yield f"page[size]={size}", "GET", "/api/v2/cases", {"params": {"page[size]": size}}, 400
    yield "page[number]=-1", "GET", "/api/v2/cases", {"params": {"page[number]": -1}}, 400
    yield "page[number]=x", "GET", "/api/v2/cases", {"params": {"page[number]": "1e3"}}, 400
    yield "huge page[number]", "GET", "/api/v2/cases", {"params": {"page[number]": 10**20}}, 200
    users_size = limits.MAX_USERS_PAGE_SIZE + 1
    yield "users page[size]", "GET", "/api/v2/users", {"params": {"page[size]": users_size}}, 400
    filters = {
        "filter over length cap": "a" * (MAX_QUERY_LENGTH + 1),
        "filter of 50k characters": "a " * 25_000,
        "filter over term cap": " ".join(f"w{i}" for i in range(MAX_TERMS + 1)),
        "filter over depth cap": "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1),
        "filter value group over depth": "priority:" + "(" * 40 + "P1" + ")" * 40,
        "filter of unbalanced parens": "(" * 1500,
    }
    for label, text in filters.items():
        yield label, "GET", "/api/v2/cases", {"params": {"filter": text}}, 400
    # Stacked negations are a valid filter (they cancel out); they must stay cheap.
    for label, text in {"1999 -": "-" * 1999 + "a", "499 NOT": "NOT " * 499 + "a"}.items():
        yield f"filter of {label}", "GET", "/api/v2/cases", {"params": {"filter": text}}, 200
    # Case types, their custom attribute configs, and the values of a case.
    types = "/api/v2/cases/types"
    configs = f"{types}/{a.case_type['id']}/custom_attributes"
    name = limits.MAX_CASE_TYPE_NAME_CHARS
    yield "case type name at cap", "POST", types, {"json": _case_type(name="é" * name)}, 201
    yield "case type name over cap", "POST", types, {"json": _case_type(name="n" * (name + 1))}, 400
    text = "d" * (limits.MAX_CASE_TYPE_DESCRIPTION_CHARS + 1)
    yield (
        "case type description over cap",
        "POST",
        types,
        {"json": _case_type(description=text)},
        400,
    )
    many_statuses = [{"name": f"s{i}", "group": "SG_OPEN"} for i in range(limits.MAX_STATUSES + 1)]
    body = _case_type(statuses=many_statuses)
    yield "statuses over cap", "POST", types, {"json": body}, 400
    long_status = [
        {"name": "s" * (limits.MAX_STATUS_NAME_CHARS + 1), "group": "SG_OPEN"},
        {"name": "Doing", "group": "SG_IN_PROGRESS"},
        {"name": "Done", "group": "SG_CLOSED"},
    ]
    body = _case_type(statuses=long_status)
    yield "status name over cap", "POST", types, {"json": body}, 400
    key = "k" * (limits.MAX_CUSTOM_KEY_CHARS + 1)
    yield "custom attribute key over cap", "POST", configs, {"json": config_body(key)}, 400
    body = config_body("capped")
    body["data"]["attributes"]["display_name"] = "n" * (limits.MAX_DISPLAY_NAME_CHARS + 1)
    yield "display_name over cap", "POST", configs, {"json": body}, 400
    for label, options in (
        ("SELECT options over cap", [f"o{i}" for i in range(limits.MAX_SELECT_OPTIONS + 1)]),
        ("SELECT option over cap", ["o" * (limits.MAX_CUSTOM_TEXT_CHARS + 1)]),
    ):
        body = config_body("capped", "SELECT")
        body["data"]["attributes"]["type_data"] = {"options": [{"value": o} for o in options]}
        yield label, "POST", configs, {"json": body}, 400
    field = f"{case}/custom_attributes/{a.field}"
    at_cap = _value("é" * limits.MAX_CUSTOM_TEXT_CHARS)
    yield "custom value at cap", "POST", field, {"json": at_cap}, 200
    over_cap = _value("v" * (limits.MAX_CUSTOM_TEXT_CHARS + 1))
    yield "custom value over cap", "POST", field, {"json": over_cap}, 400
    multi = f"{types}/{STANDARD_CASE_TYPE_ID}/custom_attributes"
    made_multi = a.admin.post(multi, config_body("cap_multi", is_multi=True))
    assert made_multi.status_code == 201, made_multi.text
    field = f"{case}/custom_attributes/cap_multi"
    values = [f"v{i}" for i in range(limits.MAX_CUSTOM_VALUES + 1)]
    yield "custom values at cap", "POST", field, {"json": _value(values[:-1])}, 200
    yield "custom values over cap", "POST", field, {"json": _value(values)}, 400

    # Rules and maintenance windows: their names, lists, members and queries.
    rules = f"/api/v2/cases/projects/{pid}"

    def notification_rule(**attributes: Any) -> dict[str, Any]:
        body = notification_rule_body("soc@example.com")
        body["data"]["attributes"].update(attributes)
        return {"json": body}

    case_created = {"type": "CASE_CREATED"}
    email = {"type": "EMAIL", "data": {"email": "soc@example.com"}}
    triggers, recipients = limits.MAX_RULE_TRIGGERS, limits.MAX_RULE_RECIPIENTS
    for label, attributes, expected in (
        ("rule triggers at cap", {"triggers": [case_created] * triggers}, 201),
        ("rule triggers over cap", {"triggers": [case_created] * (triggers + 1)}, 400),
        ("rule recipients at cap", {"recipients": [email] * recipients}, 201),
        ("rule recipients over cap", {"recipients": [email] * (recipients + 1)}, 400),
        ("rule query over cap", {"query": "a" * (MAX_QUERY_LENGTH + 1)}, 400),
        (
            "rule query over term cap",
            {"query": " ".join(f"w{i}" for i in range(MAX_TERMS + 1))},
            400,
        ),
    ):
        yield (
            label,
            "POST",
            f"{rules}/notification_rules",
            notification_rule(**attributes),
            expected,
        )
    long_value = "v" * (limits.MAX_RULE_VALUE_CHARS + 1)
    long_url = "https://hooks.example/" + "u" * limits.MAX_DESTINATION_URL_CHARS
    for label, recipient in (
        ("recipient email over cap", {"type": "EMAIL", "data": {"email": long_value}}),
        ("recipient webhook name over cap", {"type": "HTTP", "data": {"name": long_value}}),
        ("recipient url over cap", {"type": "SLACK_CHANNEL", "data": {"url": long_url}}),
    ):
        body = notification_rule(recipients=[recipient])
        yield label, "POST", f"{rules}/notification_rules", body, 400

    def automation_rule(name: str, action: dict[str, Any] | None = None) -> dict[str, Any]:
        body = automation_rule_body(a.member["id"], name)
        if action is not None:
            body["data"]["attributes"]["action"] = action
        return {"json": body}

    rule_name = limits.MAX_RULE_NAME_CHARS
    yield "rule name at cap", "POST", f"{rules}/rules", automation_rule("é" * rule_name), 201
    yield (
        "rule name over cap",
        "POST",
        f"{rules}/rules",
        automation_rule("n" * (rule_name + 1)),
        400,
    )
    comment_action = {
        "type": "ADD_COMMENT",
        "data": {"comment": "c" * (limits.MAX_COMMENT_CHARS + 1)},
    }
    yield (
        "rule comment over cap",
        "POST",
        f"{rules}/rules",
        automation_rule("c", comment_action),
        400,
    )
    handle = {"type": "EXECUTE_WORKFLOW", "data": {"handle": long_value}}
    yield "rule handle over cap", "POST", f"{rules}/rules", automation_rule("h", handle), 400
    windows = "/api/v2/maintenance_windows"
    window_name = limits.MAX_WINDOW_NAME_CHARS
    for label, attributes, expected in (
        ("window name at cap", {"name": "é" * window_name}, 201),
        ("window name over cap", {"name": "n" * (window_name + 1)}, 400),
        ("window query over cap", {"query": "a" * (MAX_QUERY_LENGTH + 1)}, 400),
        ("window time over cap", {"start_at": "2030-01-01T00:00:00." + "0" * 100 + "Z"}, 400),
    ):
        body = window_body()
        body["data"]["attributes"].update(attributes)
        yield label, "POST", windows, {"json": body}, expected

    # A bulk: its case ids (repeats count), their length and the payload's keys.
    def bulk(ids: list[str], payload: dict[str, str]) -> dict[str, Any]:
        attributes = {"case_ids": ids, "type": "priority", "payload": payload}
        return {"data": {"type": "bulk", "attributes": attributes}}

    ids = [a.case["id"]] * limits.MAX_BULK_CASES
    p3 = {"priority": "P3"}
    yield "bulk case ids at cap", "POST", "/api/v2/cases/bulk", {"json": bulk(ids, p3)}, 200
    over = bulk([*ids, a.case["id"]], p3)
    yield "bulk case ids over cap", "POST", "/api/v2/cases/bulk", {"json": over}, 400
    long_id = bulk(["c" * 257], p3)
    yield "bulk case id over cap", "POST", "/api/v2/cases/bulk", {"json": long_id}, 400
    keys = bulk([a.case["id"]], {**p3, **{f"k{i}": "v" for i in range(16)}})
    yield "bulk payload keys over cap", "POST", "/api/v2/cases/bulk", {"json": keys}, 400
    # Deep nesting on every body-taking endpoint, and inside the fields typed "any JSON".
    deep_array = "[" * 100_000
    deep_object = '{"a":' * 50_000 + "1" + "}" * 50_000
    for op in OPERATIONS:
        if op.takes_body:
            path, _ = op.prepare(a)
            for label, raw in (("100k [", deep_array), ("50k {", deep_object)):
                kwargs = {"content": raw, "headers": {"content-type": "application/json"}}
                yield f"{op.name}: {label}", op.method, path, kwargs, 400
    deep = "[" * 100_000 + "]" * 100_000
    nested = json.dumps(_case(pid, custom_attributes={"x": "DEEP"})).replace('"DEEP"', deep)
    yield "custom_attributes 100k deep", "POST", "/api/v2/cases", {"content": nested}, 400
    user = {"data": {"id": uid, "type": "users", "attributes": {"name": "DEEP"}}}
    nested_user = json.dumps(user).replace('"DEEP"', deep)
    yield (
        "user attributes 100k deep",
        "PATCH",
        f"/api/v2/users/{uid}",
        {"content": nested_user},
        400,
    )


def test_every_cap_is_a_fast_4xx(
    orgs: tuple[OrgWorld, OrgWorld], request: pytest.FixtureRequest
) -> None:
    a, _ = orgs
    client, headers = a.admin.client, a.admin.headers
    assert a.admin.get("/api/v2/cases").status_code == 200  # warm
    checked = 0
    for label, method, path, kwargs, expected in _checks(a):
        extra = kwargs.pop("headers", {"content-type": "application/json"})
        r, elapsed = timed(
            lambda: client.request(method, path, headers={**headers, **extra}, **kwargs)  # noqa: B023
        )
        assert r.status_code == expected, (label, r.status_code, r.text[:300])
        assert elapsed < FAST, f"{label}: {elapsed * 1000:.0f} ms"
        if expected >= 400:
            assert r.json()["errors"], label
            assert not any(b in r.text for b in BANNERS), label
            assert "Recursion" not in r.text
        checked += 1
    report_count(request, "limit_checks", checked)


def test_body_over_the_cap_is_413(
    orgs: tuple[OrgWorld, OrgWorld], request: pytest.FixtureRequest
) -> None:
    api = orgs[0].admin
    cap = api.settings.max_body_bytes
    headers = {**api.headers, "content-type": "application/json"}
    checked = 0
    for op in OPERATIONS:
        if not op.takes_body:
            continue
        path, body = op.prepare(orgs[0])
        padded = (json.dumps(body)[:-1] + " " * cap).encode()  # not JSON: it must not matter
        r, elapsed = timed(
            lambda: api.client.request(op.method, path, content=padded, headers=headers)  # noqa: B023
        )
        assert r.status_code == 413, (op.name, r.text)
        assert f"request body is larger than {cap} bytes" in r.text, (op.name, r.text)
        assert elapsed < FAST, (op.name, elapsed)
        checked += 1

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(cap // 65536 + 2):
            yield b" " * 65536

    r = api.client.post(
        "/api/v2/cases",
        content=chunks(),
        headers={**api.headers, "content-type": "application/json"},
    )
    assert r.status_code == 413, r.text
    r = api.client.post(
        "/api/v2/cases",
        content=b"{}",
        headers={**api.headers, "content-type": "application/json", "content-length": "12x"},
    )
    assert r.status_code == 400
    report_count(request, "body_cap_checks", checked)


def test_collection_caps_are_a_clear_400(orgs: tuple[OrgWorld, OrgWorld]) -> None:
    """A case's watchers, links and insights, an organisation's case types and a type's custom
    attributes stop at their caps, each with a 400 naming it."""
    a, _ = orgs
    admin = a.admin
    case = admin.create_case(a.project["id"], "full case")["id"]

    def refused(r: Any, cap: int, *words: str) -> None:
        assert r.status_code == 400, r.text
        detail = r.json()["errors"][0]["detail"]
        assert str(cap) in detail and all(w in detail for w in words), detail
        assert not any(b in r.text for b in BANNERS)

    # Watchers: the creator watches already; fill up with users of the organisation.
    for i in range(limits.MAX_WATCHERS - 1):
        users_domain.add_user(admin.store, org_name=a.name, email=f"w{i}-{unique()}@cap.example")
    users = admin.get("/api/v2/users", **{"page[size]": 1000}).json()["data"]
    ids = [u["id"] for u in users if u["attributes"]["email"].endswith("@cap.example")]
    for user_id in ids:
        assert (
            admin.client.post(
                f"/api/v2/cases/{case}/watchers/{user_id}", headers=admin.headers
            ).status_code
            == 201
        )
    watchers = admin.get(f"/api/v2/cases/{case}/watchers").json()["data"]
    assert len(watchers) == limits.MAX_WATCHERS
    r, elapsed = timed(
        lambda: admin.client.post(
            f"/api/v2/cases/{case}/watchers/{a.member['id']}", headers=admin.headers
        )
    )
    refused(r, limits.MAX_WATCHERS, "watchers")
    assert elapsed < FAST

    # Links: every relationship to each of a few other cases, up to the cap.
    others = [
        admin.create_case(a.project["id"], f"linked {i}")["id"]
        for i in range(-(-limits.MAX_LINKS // len(LINK_RELATIONSHIPS)))
    ]

    def link(child: str, relationship: str) -> Any:
        attributes = {
            "parent_entity_type": "CASE",
            "parent_entity_id": case,
            "child_entity_type": "CASE",
            "child_entity_id": child,
            "relationship": relationship,
        }
        return admin.post(
            "/api/v2/cases/link", {"data": {"type": "link", "attributes": attributes}}
        )

    pairs = [(child, kind) for child in others for kind in LINK_RELATIONSHIPS]
    for child, kind in pairs[: limits.MAX_LINKS]:
        assert link(child, kind).status_code == 201
    r, elapsed = timed(lambda: link(*pairs[limits.MAX_LINKS]))
    refused(r, limits.MAX_LINKS, "links")
    assert elapsed < FAST
    # The cap holds at the other end too: a full case cannot be a link's child either.
    fresh = admin.create_case(a.project["id"], "one more")["id"]
    attributes = {
        "parent_entity_type": "CASE",
        "parent_entity_id": fresh,
        "child_entity_type": "CASE",
        "child_entity_id": case,
        "relationship": "BLOCKS",
    }
    refused(
        admin.post("/api/v2/cases/link", {"data": {"type": "link", "attributes": attributes}}),
        limits.MAX_LINKS,
        "links",
    )

    # Insights: the cap is per case, not per request.
    def insights(start: int, n: int) -> dict[str, Any]:
        given = [
            {"type": "SECURITY_SIGNAL", "ref": f"/s/{i}", "resource_id": f"s{i}"}
            for i in range(start, start + n)
        ]
        return {"data": {"type": "case", "attributes": {"insights": given}}}

    def put(body: Any) -> Any:
        return admin.client.put(f"/api/v2/cases/{case}/insights", json=body, headers=admin.headers)

    assert put(insights(0, limits.MAX_INSIGHTS - 1)).status_code == 200
    assert put(insights(limits.MAX_INSIGHTS - 1, 1)).status_code == 200
    r, elapsed = timed(lambda: put(insights(limits.MAX_INSIGHTS, 1)))
    refused(r, limits.MAX_INSIGHTS, "insights")
    assert elapsed < FAST
    stored = admin.get(f"/api/v2/cases/{case}").json()["data"]["attributes"]["insights"]
    assert len(stored) == limits.MAX_INSIGHTS

    # Case types: the organisation's own (the built-in ones do not count).
    types = "/api/v2/cases/types"
    own = len(admin.get(types).json()["data"]) - len(BUILTIN_CASE_TYPES)
    for _ in range(limits.MAX_CASE_TYPES - own):
        assert admin.post(types, _case_type()).status_code == 201
    r, elapsed = timed(lambda: admin.post(types, _case_type()))
    refused(r, limits.MAX_CASE_TYPES, "case types")
    assert elapsed < FAST

    # Custom attributes of one type.
    configs = f"{types}/{a.case_type['id']}/custom_attributes"
    have = len(admin.get(configs).json()["data"])
    for i in range(limits.MAX_CUSTOM_ATTRIBUTES - have):
        assert admin.post(configs, config_body(f"cap_{i}")).status_code == 201
    r, elapsed = timed(lambda: admin.post(configs, config_body("one_more")))
    refused(r, limits.MAX_CUSTOM_ATTRIBUTES, "custom attributes")
    assert elapsed < FAST


def test_huge_users_page_number_is_not_a_500(api: Api) -> None:
    for number in (2**62, 10**20):
        r = api.get("/api/v2/users", **{"page[number]": number})
        assert r.status_code in (200, 400), r.text


# --- live: the body is refused before it is read ----------------------------------------
def _post_head(live: Live, extra: str) -> bytes:
    return (
        b"POST /api/v2/cases HTTP/1.1\r\nHost: casebook\r\n"
        + live.key_lines
        + f"Content-Type: application/json\r\n{extra}\r\n".encode()
    )


def test_declared_oversize_body_is_refused_before_it_arrives(live: Live) -> None:
    # A Content-Length of 1 GB and one byte sent: waiting for the rest would hang.
    r = raw_request(live.server.port, _post_head(live, "Content-Length: 1000000000\r\n") + b"{")
    assert r.status == 413, r.text
    assert r.elapsed < 1.0
    assert f"larger than {LIVE_MAX_BODY} bytes" in r.text
    # Without keys the body is not read either (403 first).
    head = b"POST /api/v2/cases HTTP/1.1\r\nHost: casebook\r\nContent-Length: 1000000000\r\n\r\n{"
    r = raw_request(live.server.port, head)
    assert r.status == 403 and r.body == FORBIDDEN_BODY
    assert r.elapsed < 1.0


def test_chunked_body_over_the_cap_is_413(live: Live, request: pytest.FixtureRequest) -> None:
    chunk = b"8000\r\n" + b" " * 0x8000 + b"\r\n"
    chunks = LIVE_MAX_BODY // 0x8000 + 1
    data = _post_head(live, "Transfer-Encoding: chunked\r\n") + chunk * chunks
    # The terminating chunk is never sent: the answer must not wait for it.
    r = raw_request(live.server.port, data)
    assert r.status == 413, r.text
    assert r.elapsed < 1.0
    # Just under the cap is read in full (and is then a 400: spaces are not JSON).
    data = _post_head(live, "Transfer-Encoding: chunked\r\n") + chunk + b"0\r\n\r\n"
    r = raw_request(live.server.port, data)
    assert r.status == 400, r.text
    report_count(request, "live_body_checks", 3)


# --- NUL characters -----------------------------------------------------------------------
NUL = "a\x00b"


def _nul_requests(a: OrgWorld) -> list[tuple[str, str, str, dict[str, Any]]]:
    pid, uid = a.project["id"], a.member["id"]
    patch = lambda **attrs: {"data": {"id": uid, "type": "users", "attributes": attrs}}  # noqa: E731
    configs = f"/api/v2/cases/types/{a.case_type['id']}/custom_attributes"
    nul_config = config_body("nul")
    nul_config["data"]["attributes"]["display_name"] = NUL
    field = f"/api/v2/cases/{a.case['id']}/custom_attributes/{a.field}"
    return [
        ("case title", "POST", "/api/v2/cases", {"json": _case(pid, title=NUL)}),
        ("case description", "POST", "/api/v2/cases", {"json": _case(pid, description=NUL)}),
        ("project name", "POST", "/api/v2/cases/projects", {"json": _project("NUL", NUL)}),
        ("user name", "POST", "/api/v2/users", {"json": _user(name=NUL)}),
        ("user title", "POST", "/api/v2/users", {"json": _user(title=NUL)}),
        ("user email", "POST", "/api/v2/users", {"json": _user(email="n\x00@x.io")}),
        ("patch name", "PATCH", f"/api/v2/users/{uid}", {"json": patch(name=NUL)}),
        ("patch title", "PATCH", f"/api/v2/users/{uid}", {"json": patch(title=NUL)}),
        ("users filter", "GET", "/api/v2/users", {"params": {"filter": NUL}}),
        ("case type name", "POST", "/api/v2/cases/types", {"json": _case_type(name=NUL)}),
        ("case type emoji", "POST", "/api/v2/cases/types", {"json": _case_type(emoji=NUL)}),
        ("display_name", "POST", configs, {"json": nul_config}),
        ("custom value", "POST", field, {"json": _value(NUL)}),
    ]


def test_nul_characters_never_cause_a_500(orgs: tuple[OrgWorld, OrgWorld]) -> None:
    a, _ = orgs
    for label, method, path, kwargs in _nul_requests(a):
        r = a.admin.client.request(method, path, headers=a.admin.headers, **kwargs)
        assert r.status_code < 500, (label, r.text)
