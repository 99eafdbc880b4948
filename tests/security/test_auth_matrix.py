"""The authentication truth table: every operation x every kind of API key x application key.

API key: missing, empty, malformed, unknown, revoked, org A's, org B's.
Application key: missing, unknown, revoked, A's admin unscoped / cases_read only /
cases_write only, A's non-admin member (unscoped), B's admin.

Expected: any bad or mismatched key answers 403 with the very same bytes
(``{"errors":["Forbidden"]}``, same headers) whatever made it bad; a valid pair
without the operation's scope answers 403 naming the scope, and a member's valid pair
with the scope, on an operation for admins only, 403 saying so; none changes a row of
the database. Keys in the query string or in cookies are never read.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pytest

from casebook.core.entities import ALL_SCOPES, Scope
from casebook.domain import keys as keys_domain
from casebook.domain.access import ADMINS_ONLY
from casebook.domain.keys import KeyPair
from tests.security.conftest import (
    FORBIDDEN_BODY,
    MEMBER_SCOPES,
    OPERATIONS,
    OrgWorld,
    report_count,
    unique,
)
from tests.support.dump import dump_database
from tests.support.logs import Captured

ABSENT = object()


@dataclass(frozen=True)
class KeyChoice:
    """One value of the DD-API-KEY or DD-APPLICATION-KEY header."""

    label: str
    value: Any  # str, bytes, or ABSENT
    org: str | None = None  # "A" / "B" for a valid key, None for a bad one
    scopes: frozenset[Scope] | None = None  # app keys: what the actor may do
    admin: bool = True  # app keys: whether the key's user is an admin


def _revoked_pair(org: OrgWorld, email: str) -> KeyPair:
    """A fresh key pair of ``email``; both keys are then revoked."""
    store = org.admin.store
    before = {k.id for k in keys_domain.list_keys(store, org.org_id)}
    pair = org.admin.keys_for(org.name, email)
    for key in keys_domain.list_keys(store, org.org_id):
        if key.id not in before:
            keys_domain.revoke_key(store, org.org_id, key.id)
    return pair


def key_choices(a: OrgWorld, b: OrgWorld) -> tuple[list[KeyChoice], list[KeyChoice]]:
    admin_a = "admin@casebook.local"
    read = a.admin.keys_for(a.name, admin_a, scopes="cases_read")
    write = a.admin.keys_for(a.name, admin_a, scopes="cases_write")
    member = a.admin.keys_for(a.name, a.member["attributes"]["email"])
    revoked = _revoked_pair(a, admin_a)
    api_keys = [
        KeyChoice("missing", ABSENT),
        KeyChoice("empty", ""),
        KeyChoice("malformed", "ключ-не-ключ".encode()),
        KeyChoice("unknown", secrets.token_hex(16)),
        KeyChoice("revoked", revoked.api_key),
        KeyChoice("A", a.admin.keys.api_key, "A"),
        KeyChoice("B", b.admin.keys.api_key, "B"),
    ]
    app_keys = [
        KeyChoice("missing", ABSENT),
        KeyChoice("unknown", secrets.token_hex(20)),
        KeyChoice("revoked", revoked.app_key),
        KeyChoice("A unscoped", a.admin.keys.app_key, "A", ALL_SCOPES),
        KeyChoice("A cases_read", read.app_key, "A", frozenset({Scope.CASES_READ})),
        KeyChoice("A cases_write", write.app_key, "A", frozenset({Scope.CASES_WRITE})),
        KeyChoice("A member", member.app_key, "A", MEMBER_SCOPES, admin=False),
        KeyChoice("B", b.admin.keys.app_key, "B", ALL_SCOPES),
    ]
    return api_keys, app_keys


def _headers(api: KeyChoice, app: KeyChoice) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if api.value is not ABSENT:
        headers["DD-API-KEY"] = api.value
    if app.value is not ABSENT:
        headers["DD-APPLICATION-KEY"] = app.value
    return headers


def _query_string_variants(keys: KeyPair) -> list[dict[str, Any]]:
    """Valid keys offered anywhere but the two headers."""
    pairs = [
        ("api_key", "application_key"),
        ("DD-API-KEY", "DD-APPLICATION-KEY"),
        ("dd_api_key", "dd_application_key"),
        ("apiKey", "appKey"),
    ]
    variants: list[dict[str, Any]] = [
        {"params": {api: keys.api_key, app: keys.app_key}} for api, app in pairs
    ]
    cookie = f"DD-API-KEY={keys.api_key}; DD-APPLICATION-KEY={keys.app_key}"
    variants.append({"headers": {"Cookie": cookie}})
    return variants


def _fingerprint(r: Any) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
    """The answer but for its X-Request-Id (each request's own, so no oracle)."""
    headers = sorted((k, v) for k, v in r.headers.items() if k.lower() != "x-request-id")
    return r.status_code, tuple(headers), r.content


def test_auth_matrix(
    orgs: tuple[OrgWorld, OrgWorld],
    database_url: str,
    request: pytest.FixtureRequest,
    access_log: Captured,
) -> None:
    a, b = orgs
    client = a.admin.client
    worlds = {"A": a, "B": b}
    api_keys, app_keys = key_choices(a, b)
    denied_bodies: set[tuple[int, tuple[tuple[str, str], ...], bytes]] = set()
    cells = 0
    for op in OPERATIONS:
        refused: list[tuple[KeyChoice, KeyChoice]] = []
        allowed: list[tuple[KeyChoice, KeyChoice]] = []
        scope_refused: list[tuple[KeyChoice, KeyChoice]] = []
        role_refused: list[tuple[KeyChoice, KeyChoice]] = []
        for api in api_keys:
            for app in app_keys:
                if api.org is None or app.org is None or api.org != app.org:
                    refused.append((api, app))
                elif app.scopes is None or op.scope not in app.scopes:
                    scope_refused.append((api, app))
                elif op.admin and not app.admin:
                    role_refused.append((api, app))
                else:
                    allowed.append((api, app))

        # Every refusal aims at org A's objects; none may leave a trace.
        path, body = op.prepare(a)
        before = dump_database(database_url)
        for api, app in refused:
            r = client.request(op.method, path, headers=_headers(api, app), json=body)
            assert r.status_code == 403, (op.name, api.label, app.label, r.text)
            assert r.content == FORBIDDEN_BODY, (op.name, api.label, app.label)
            denied_bodies.add(_fingerprint(r))
            cells += 1
        for api, app in scope_refused:
            r = client.request(op.method, path, headers=_headers(api, app), json=body)
            assert r.status_code == 403, (op.name, api.label, app.label, r.text)
            assert r.json() == {
                "errors": [f"Forbidden: the application key lacks the {op.scope.value} scope"]
            }, (op.name, app.label)
            assert r.headers["content-type"] == "application/json"
            cells += 1
        for api, app in role_refused:
            r = client.request(op.method, path, headers=_headers(api, app), json=body)
            assert r.status_code == 403, (op.name, api.label, app.label, r.text)
            assert r.json() == {"errors": [f"Forbidden: {ADMINS_ONLY}"]}, (op.name, app.label)
            assert r.headers["content-type"] == "application/json"
            cells += 1
        for where in _query_string_variants(a.admin.keys):
            r = client.request(op.method, path, json=body, **where)
            assert r.status_code == 403, (op.name, where, r.text)
            denied_bodies.add(_fingerprint(r))
            cells += 1
        assert dump_database(database_url) == before, f"{op.name}: a refused call changed rows"

        for api, app in allowed:
            world = worlds[api.org or ""]
            r = op.call(client, world, _headers(api, app))
            assert r.status_code == op.ok, (op.name, api.label, app.label, r.text)
            cells += 1

    # No oracle: every bad key, whatever was wrong with it, got the very same response.
    assert len(denied_bodies) == 1, denied_bodies
    (status, headers, content) = denied_bodies.pop()
    assert (status, content) == (403, FORBIDDEN_BODY)
    # The request log has a JSON line for every call, and none of the keys, wherever
    # they were offered (headers, query strings, cookies).
    assert len(access_log.entries()) >= cells
    access_log.assert_none_carries(
        choice.value
        for choice in (*api_keys, *app_keys)
        if isinstance(choice.value, str) and len(choice.value) >= 16
    )
    assert dict(headers)["content-type"] == "application/json"
    expected_cells = len(OPERATIONS) * (len(api_keys) * len(app_keys) + 5)
    assert cells == expected_cells
    report_count(request, "auth_matrix_cells", cells)
    report_count(request, "admin_only_operations", sum(op.admin for op in OPERATIONS))


def test_only_the_author_or_an_admin_changes_a_comment(
    orgs: tuple[OrgWorld, OrgWorld], database_url: str
) -> None:
    """A member with every scope of their role may write to the case, but may edit or delete
    only their own comments; an admin may edit or delete anyone's."""
    a, _ = orgs
    admin = a.admin
    member = admin.as_keys(admin.keys_for(a.name, a.member["attributes"]["email"]))
    peer_email = f"peer-{unique()}@{a.name}.example"
    admin.create_user(peer_email, name="Peer")
    peer = admin.as_keys(admin.keys_for(a.name, peer_email))
    case = f"/api/v2/cases/{a.case['id']}"

    def comment(api: Any, text: str) -> str:
        r = api.post(f"{case}/comment", {"data": {"type": "case", "attributes": {"comment": text}}})
        assert r.status_code == 200, r.text
        return str(r.json()["data"][0]["id"])

    def edit(api: Any, cell: str, text: str) -> Any:
        body = {"data": {"type": "case", "attributes": {"comment": text}}}
        return api.client.put(f"{case}/comment/{cell}", json=body, headers=api.headers)

    def delete(api: Any, cell: str) -> Any:
        return api.client.delete(f"{case}/comment/{cell}", headers=api.headers)

    def messages() -> dict[str, str | None]:
        r = admin.get(f"{case}/timelines", **{"page[size]": 100})
        return {
            c["id"]: c["attributes"]["cell_content"].get("message")
            for c in r.json()["data"]
            if c["attributes"]["type"] == "COMMENT"
        }

    by_admin = comment(admin, "the admin's words")
    by_member = comment(member, "the member's words")
    refused = {"errors": ["Forbidden: only the comment's author or an admin may change it"]}
    before = dump_database(database_url)
    for who, cell in ((member, by_admin), (peer, by_admin), (peer, by_member)):
        r = edit(who, cell, "not yours")
        assert (r.status_code, r.json()) == (403, refused), r.text
        r = delete(who, cell)
        assert (r.status_code, r.json()) == (403, refused), r.text
    assert dump_database(database_url) == before, "a refused edit or delete changed rows"
    assert messages()[by_admin] == "the admin's words"
    assert messages()[by_member] == "the member's words"

    # The author edits and deletes their own.
    r = edit(member, by_member, "the member's second thoughts")
    assert r.status_code == 200, r.text
    assert r.json()["data"][0]["attributes"]["cell_content"]["message"] == (
        "the member's second thoughts"
    )
    assert delete(member, by_member).status_code == 204
    assert messages()[by_member] is None  # the cell stays, its text is gone

    # An admin edits and deletes anyone's.
    by_member = comment(member, "the member again")
    assert edit(admin, by_member, "moderated").status_code == 200
    assert messages()[by_member] == "moderated"
    assert delete(admin, by_member).status_code == 204
    assert edit(admin, by_admin, "the admin's own").status_code == 200
    assert delete(admin, by_admin).status_code == 204
    assert messages()[by_admin] is None
