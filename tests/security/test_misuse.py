"""Misuse: wrong Content-Type, unknown methods, huge URLs and headers, stalled clients.

Every answer is a 4xx; those casebook itself writes carry its JSON error body,
and no body names the stack (no traceback, no "starlette"/"uvicorn"). Requests
that uvicorn refuses while parsing HTTP (an unknown method, a request line it
cannot read) get uvicorn's plain-text 400; that is checked for status and
banners only.
"""

from __future__ import annotations

import dataclasses
import re
import socket
import time
import uuid
from typing import Any

import httpx2 as httpx
import pytest

from casebook.http.registry import CASE_SIBLINGS, case_id_pattern
from casebook.http.registry import OPERATIONS as REGISTRY
from tests.security.conftest import (
    BANNERS,
    FORBIDDEN_BODY,
    OPERATIONS,
    Live,
    OrgWorld,
    made,
    raw_request,
    read_response,
    report_count,
)
from tests.support.errors import as_recorded


def _routes() -> dict[str, set[str]]:
    """Every path of the registry and the methods it allows (HEAD wherever GET)."""
    routes: dict[str, set[str]] = {}
    for op in OPERATIONS:
        allowed = routes.setdefault(op.path, set())
        allowed.update({op.method, "HEAD"} if op.method == "GET" else {op.method})
    return routes


ROUTES = _routes()
# The case actions' last path segments: words a project id could be.
CASE_SEGMENTS = sorted(
    {op.path.split("/")[5] for op in OPERATIONS if op.path.startswith("/api/v2/cases/{case_id}/")}
)
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "FOO"]


def _no_banner(text: str, label: Any) -> None:
    for banner in BANNERS:
        assert banner.lower() not in text.lower(), (label, banner, text[:300])


def test_unknown_methods_are_405_with_allow(
    orgs: tuple[OrgWorld, OrgWorld], request: pytest.FixtureRequest
) -> None:
    a, _ = orgs
    ids = {
        "case_id": a.case["id"],
        "project_id": a.project["id"],
        "user_id": a.member["id"],
        "cell_id": str(uuid.uuid4()),
        "user_uuid": a.member["id"],
        "link_id": str(uuid.uuid4()),
        "case_type_id": a.case_type["id"],
        "custom_attribute_id": a.config["id"],
        "custom_attribute_key": a.field,
        "view_id": str(uuid.uuid4()),
        "webhook_name": "no-such-hook",
        "notification_rule_id": str(uuid.uuid4()),
        "rule_id": str(uuid.uuid4()),
        "maintenance_window_id": str(uuid.uuid4()),
    }
    checked = 0
    for template, allowed in ROUTES.items():
        path = template.format(**ids)
        for method in METHODS:
            if method in allowed:
                continue
            # With and without keys: routing answers before authentication.
            for headers in (a.admin.headers, {}):
                r = a.admin.client.request(method, path, headers=headers)
                assert r.status_code == 405, (method, path, r.status_code)
                assert set(r.headers["allow"].split(", ")) == allowed, (method, path)
                if method != "HEAD":
                    body = r.json()["errors"][0]
                    detail = body if isinstance(body, str) else body["detail"]
                    assert f"method {method} is not allowed" in detail
                    _no_banner(r.text, (method, path))
                checked += 1
    report_count(request, "method_checks", checked)


BAD_TYPES = [
    None,
    "text/plain",
    "text/html",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "application/jsonx",
    "application/json-patch+json",
    "json",
    "*/*",
]


def test_wrong_content_type_is_400_on_every_body_endpoint(
    orgs: tuple[OrgWorld, OrgWorld], request: pytest.FixtureRequest
) -> None:
    a, _ = orgs
    checked = 0
    for op in OPERATIONS:
        if not op.takes_body:
            continue
        path, body = op.prepare(a)
        content = httpx.Request("POST", "http://x", json=body).content
        for media in BAD_TYPES:
            headers = dict(a.admin.headers)
            if media is not None:
                headers["content-type"] = media
            r = a.admin.client.request(op.method, path, headers=headers, content=content)
            assert r.status_code == 400, (op.name, media, r.text)
            assert "unsupported Content-Type" in r.text
            _no_banner(r.text, (op.name, media))
            checked += 1
        # The two JSON types, with parameters, are accepted.
        for media in ("application/json; charset=utf-8", "Application/VND.API+JSON"):
            path, body = op.prepare(a)
            content = httpx.Request("POST", "http://x", json=body).content
            headers = {**a.admin.headers, "content-type": media}
            r = a.admin.client.request(op.method, path, headers=headers, content=content)
            assert r.status_code == op.ok, (op.name, media, r.text)
    report_count(request, "content_type_checks", checked)


def test_malformed_bodies_and_paths_are_4xx(orgs: tuple[OrgWorld, OrgWorld]) -> None:
    a, _ = orgs
    client, headers = a.admin.client, {**a.admin.headers, "content-type": "application/json"}
    bodies = [b"", b"{", b"null", b"[]", b'"x"', b"\xff\xfe", b'{"data":null}', b"{}" * 1000]
    for op in OPERATIONS:
        if op.takes_body:
            path, _ = op.prepare(a)
            for body in bodies:
                r = client.request(op.method, path, headers=headers, content=body)
                assert r.status_code == 400, (op.name, body[:20], r.text)
                _no_banner(r.text, op.name)
    for path in (
        "/api/v2/cases/%00",
        "/api/v2/cases/..%2F..%2Fetc%2Fpasswd",
        "/api/v2/cases/" + "%F0%9F%92%A9" * 100,
        "/api/v2/users/%27%20OR%201%3D1--",
        "/api/v2/cases/projects/" + "9" * 5000,
        "/api/v2/" + "a" * 60_000,
    ):
        r = client.get(path, headers=a.admin.headers)
        assert r.status_code == 404, (path[:40], r.text[:200])
        _no_banner(r.text, path[:40])


# --- live server ----------------------------------------------------------------------
def _get(live: Live, path: str = "/api/v2/cases", extra: bytes = b"") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: casebook\r\n".encode() + live.key_lines + extra + b"\r\n"


def test_protocol_level_misuse_is_4xx_without_banners(live: Live) -> None:
    port = live.server.port
    cases = {
        "100 KB path": _get(live, "/api/v2/cases/" + "a" * 100_000),
        "100 KB unknown path": _get(live, "/api/v2/" + "b" * 100_000),
        "unknown method": b"FOO /api/v2/cases HTTP/1.1\r\nHost: c\r\n" + live.key_lines + b"\r\n",
        "garbage request line": b"\x00\x01\x02 garbage\r\n\r\n",
        "HTTP/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "bad Content-Length": b"POST /api/v2/cases HTTP/1.1\r\nHost: c\r\nContent-Length: x\r\n\r\n",
        "two Content-Lengths": b"POST /api/v2/cases HTTP/1.1\r\nHost: c\r\n"
        b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n{}",
        "header without colon": _get(live, extra=b"NoColonHere\r\n"),
    }
    for label, data in cases.items():
        r = raw_request(port, data)
        assert 400 <= r.status < 500, (label, r.status, r.text[:200])
        assert r.elapsed < 1.0, label
        _no_banner(r.text, label)
    # Still serving.
    assert raw_request(port, _get(live)).status == 200


def test_oversize_headers_are_refused(live: Live) -> None:
    for label, extra in (
        ("1 MiB header", b"X-Big: " + b"b" * (1 << 20) + b"\r\n"),
        ("5000 headers", b"".join(b"X-H%d: v\r\n" % i for i in range(5000))),
    ):
        r = raw_request(live.server.port, _get(live, extra=extra))
        assert r.status in (400, 431), (label, r.status)


def test_oversize_key_headers_are_refused(live: Live) -> None:
    """Keys of any size are refused quickly: as bad keys, or past 32 KiB of headers as 431."""
    for size in (257, 10_000):
        data = (
            b"GET /api/v2/cases HTTP/1.1\r\nHost: c\r\n"
            + b"DD-API-KEY: "
            + b"a" * size
            + f"\r\nDD-APPLICATION-KEY: {live.app_key}\r\n\r\n".encode()
        )
        r = raw_request(live.server.port, data)
        assert r.status == 403 and r.body == FORBIDDEN_BODY, size
        assert r.elapsed < 1.0
    data = (
        b"GET /api/v2/cases HTTP/1.1\r\nHost: c\r\nDD-API-KEY: "
        + b"a" * 100_000
        + f"\r\nDD-APPLICATION-KEY: {live.app_key}\r\n\r\n".encode()
    )
    r = raw_request(live.server.port, data)
    assert r.status == 431 and b"Request Header Fields Too Large" in r.body
    assert r.elapsed < 1.0


def test_no_server_banner_header(live: Live) -> None:
    r = raw_request(live.server.port, _get(live))
    assert r.status == 200
    assert "uvicorn" not in r.headers.get("server", "").lower()


def test_stalled_clients_do_not_hold_up_others(live: Live, request: pytest.FixtureRequest) -> None:
    port = live.server.port
    stalled: list[socket.socket] = []
    try:
        # Headers sent, body promised and never sent.
        for _ in range(10):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(
                b"POST /api/v2/cases HTTP/1.1\r\nHost: c\r\n"
                + live.key_lines
                + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
            )
            stalled.append(s)
        # Half a request line, half the headers.
        for partial in (b"GET /api/v2/ca", b"GET /api/v2/cases HTTP/1.1\r\nHost: c\r\nDD-API"):
            for _ in range(10):
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(partial)
                stalled.append(s)
        time.sleep(0.2)
        served = 0
        for _ in range(20):
            r = raw_request(port, _get(live), timeout=2.0)
            assert r.status == 200
            assert r.elapsed < 1.0
            served += 1
        # A stalled client that finally sends its body is answered normally.
        first = stalled[0]
        first.settimeout(5)
        start = time.perf_counter()
        first.sendall(b"}" + b" " * 98)
        answer = read_response(first, start)
        assert answer.status == 400  # {} is not a case
        report_count(request, "stalled_connections", len(stalled))
        report_count(request, "requests_served_meanwhile", served)
    finally:
        for s in stalled:
            s.close()


def test_project_ids_that_look_like_case_actions(orgs: tuple[OrgWorld, OrgWorld]) -> None:
    a, _ = orgs
    assert {"status", "assign", "comment", "watchers", "relationships"} <= set(CASE_SEGMENTS)
    for action in CASE_SEGMENTS:
        for method in ("GET", "DELETE"):
            r = a.admin.client.request(
                method, f"/api/v2/cases/projects/{action}", headers=a.admin.headers
            )
            assert r.status_code == 404, (method, action, r.status_code)
            assert r.json()["errors"][0]["title"] == "project not found"


def test_case_ids_that_are_another_routes_name(orgs: tuple[OrgWorld, OrgWorld]) -> None:
    """No case id is a name the routes beside case ids use (``link``, ``types``,
    ``projects``): ids are UUIDs or keys. A path that starts with one belongs to that route
    (``POST /api/v2/cases/link/attributes`` is ``/api/v2/cases/link/{link_id}``, and 405),
    always a 4xx, and the OpenAPI document's ``case_id`` pattern says so."""
    a, _ = orgs
    pattern = re.compile(case_id_pattern())
    assert {"link", "types", "projects"} <= CASE_SIBLINGS
    actions = [op for op in OPERATIONS if op.path.startswith("/api/v2/cases/{case_id}/")]
    for segment in sorted(CASE_SIBLINGS):
        assert not pattern.fullmatch(segment)
        for op in actions:
            path, body = op.prepare(a)
            parts = path.split("/")  # the case id: the standing case's, or a fresh one
            path = "/".join([*parts[:4], segment, *parts[5:]])
            r = a.admin.client.request(op.method, path, headers=a.admin.headers, json=body)
            assert 400 <= r.status_code < 500, (op.method, path, r.status_code, r.text[:120])
    document = a.admin.client.get("/api/v2/openapi.json").json()
    param = next(
        p
        for p in document["paths"]["/api/v2/cases/{case_id}"]["get"]["parameters"]
        if p["name"] == "case_id"
    )
    assert re.fullmatch(param["schema"]["pattern"].strip("^$"), "SEC-12")
    assert not re.fullmatch(param["schema"]["pattern"].strip("^$"), "link")


# --- path parameters of working a case ------------------------------------------------
def _comment(text: str) -> dict[str, Any]:
    return {"data": {"type": "case", "attributes": {"comment": text}}}


def test_comment_ids_that_are_not_uuids_are_400(orgs: tuple[OrgWorld, OrgWorld]) -> None:
    a, _ = orgs
    expected = {
        "errors": [
            {
                "status": "400",
                "title": "Invalid Parameter",
                "detail": 'invalid parameter "CommentID" in "path"; expected type "uuid"',
            }
        ]
    }
    case = f"/api/v2/cases/{a.case['id']}"
    for cell_id in ("not-a-uuid", "1", "0" * 33, "%27%20OR%201%3D1--", "é"):
        for method, body in (("PUT", _comment("edited")), ("DELETE", None)):
            r = a.admin.client.request(
                method, f"{case}/comment/{cell_id}", headers=a.admin.headers, json=body
            )
            answer = (r.status_code, as_recorded(r.json()))
            assert answer == (400, expected), (method, cell_id, r.text)
    # The other ids of working a case, likewise.
    for method, path, name in (
        ("POST", f"{case}/watchers/not-a-uuid", "UserUUID"),
        ("DELETE", f"{case}/watchers/not-a-uuid", "UserUUID"),
        ("DELETE", "/api/v2/cases/link/not-a-uuid", "LinkID"),
    ):
        r = a.admin.client.request(method, path, headers=a.admin.headers)
        assert r.status_code == 400, (method, path, r.text)
        error = r.json()["errors"][0]
        assert error["title"] == "Invalid Parameter" and f'"{name}"' in error["detail"], error


def test_unknown_and_deleted_comments_are_404(orgs: tuple[OrgWorld, OrgWorld]) -> None:
    a, _ = orgs
    case = f"/api/v2/cases/{a.case['id']}"
    deleted = made("cell_id", a)
    r = a.admin.client.delete(f"{case}/comment/{deleted}", headers=a.admin.headers)
    assert r.status_code == 204
    other_case = a.admin.create_case(a.project["id"], "another case")["id"]
    elsewhere = made("cell_id", dataclasses.replace(a, case={"id": other_case}))
    # Unknown, deleted, or another case's comment: the same 404.
    for cell_id in (str(uuid.uuid4()), str(uuid.uuid4()).upper(), deleted, elsewhere):
        for method, body in (("PUT", _comment("edited")), ("DELETE", None)):
            r = a.admin.client.request(
                method, f"{case}/comment/{cell_id}", headers=a.admin.headers, json=body
            )
            assert r.status_code == 404, (method, cell_id, r.text)
            error = r.json()["errors"][0]
            title = "failed to get timeline cell: timeline cell not found"
            assert error["title"] == title, (method, cell_id, error)
            _no_banner(r.text, (method, cell_id))


# --- query parameters -----------------------------------------------------------------
def _bad_values(schema: dict[str, Any]) -> list[str]:
    """Values a declared query parameter refuses: not a number, under its minimum or over
    its maximum; a word its enum lacks."""
    if "enum" in schema:
        return ["not-one-of-them", "%00"]
    if schema.get("type") != "integer":
        return []
    bad = ["ten", "1.5", "0x10"]
    if "minimum" in schema:
        bad.append(str(schema["minimum"] - 1))
    if "maximum" in schema:
        bad += [str(schema["maximum"] + 1), "9" * 30]
    return bad


def test_bad_paging_and_filter_values_are_400(
    orgs: tuple[OrgWorld, OrgWorld], request: pytest.FixtureRequest
) -> None:
    """The paged listings' integer and enum query parameters, as the registry declares them:
    every value outside the declaration is a 400 naming the parameter, never a 500."""
    a, _ = orgs
    declared = {op.operation_id: op for op in REGISTRY}
    checked = 0
    for op in OPERATIONS:
        query = declared[op.name].query
        if op.method != "GET" or not any(q.name.startswith(("page[", "filter[")) for q in query):
            continue
        path, _ = op.prepare(a)
        for param in query:
            for value in _bad_values(param.schema):
                joiner = "&" if "?" in path else "?"
                r = a.admin.client.get(
                    f"{path}{joiner}{param.name}={value}", headers=a.admin.headers
                )
                assert r.status_code == 400, (op.name, param.name, value, r.text)
                assert param.name in r.text, (op.name, param.name, value, r.text)
                _no_banner(r.text, (op.name, param.name, value))
                checked += 1
    report_count(request, "query_value_checks", checked)
