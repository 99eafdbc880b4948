"""The web UI's protections, through the test client on both back ends: sessions (cookie
flags, rotation at sign-in, sign-out, idle expiry, a new password), the auth-failure limit,
CSRF on every change, the security headers, other organisations' cases, stored XSS.
(``tests/ui/test_browser.py`` checks XSS in Chromium too.)"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from casebook.config import Settings, load_settings
from casebook.core.clock import now_us
from casebook.domain import keys, sessions
from casebook.http.app import create_app
from casebook.storage import Store
from casebook.ui.app import ui_routes
from tests.conftest import TEST_ENV
from tests.support.ui import (
    PASSWORD,
    Ui,
    add_user,
    admin_ui_of,
    make_case,
    make_project,
    sign_in,
    signed_in,
)


@pytest.fixture
def admin_ui(settings: Settings, store: Store) -> Iterator[Ui]:
    """The bootstrap admin of ``default``, signed in, and nothing else in the database."""
    yield from admin_ui_of(settings, store)


XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "<svg/onload=alert(3)>",
    "javascript:alert(4)",
    "[link](javascript:alert(5))",
    "{{ 7*7 }}",
]


def test_pages_need_a_session(client: TestClient) -> None:
    for path in ("/", "/board", "/projects", "/cases/SEC-1", "/cases/new"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin")
    htmx = client.get("/", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"] == "/signin"
    assert client.get("/api/v2/cases").status_code == 403  # the API is unchanged


def test_sign_in_sets_a_fresh_http_only_lax_cookie(settings: Settings, store: Store) -> None:
    add_user(store, "ann@example.com")
    client = TestClient(create_app(settings, store))
    client.cookies.set("casebook_session", "chosen-by-an-attacker")
    response = sign_in(client, "ann@example.com")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    token = re.search(r"casebook_session=([^;]+)", cookie)
    assert token is not None and token[1] != "chosen-by-an-attacker"  # no session fixation
    again = sign_in(client, "ann@example.com")
    assert re.search(r"casebook_session=([^;]+)", again.headers["set-cookie"])[1] != token[1]
    # Rotated: the first session ended when the second began.
    with pytest.raises(Exception, match="not signed in"):
        sessions.resume(store, keys.load_secret(store, ""), token[1], idle_us=10**12)


def test_cookie_is_secure_over_https(settings: Settings, store: Store) -> None:
    add_user(store, "ann@example.com")
    client = TestClient(create_app(settings, store), base_url="https://testserver")
    response = sign_in(client, "ann@example.com")
    assert "Secure" in response.headers["set-cookie"]


def test_wrong_password_and_unknown_email_look_alike_and_count(
    database_url: str, store: Store
) -> None:
    settings = load_settings(
        {**TEST_ENV, "CASEBOOK_DATABASE_URL": database_url, "CASEBOOK_AUTH_FAILURE_LIMIT": "2/60s"}
    )
    add_user(store, "ann@example.com")
    client = TestClient(create_app(settings, store))
    wrong = sign_in(client, "ann@example.com", "not the password")
    unknown = sign_in(client, "nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password." in wrong.text and "Wrong email or password." in unknown.text
    assert (
        "set-cookie" not in wrong.headers or "casebook_session" not in wrong.headers["set-cookie"]
    )
    assert sign_in(client, "ann@example.com").status_code == 429  # even the right password


def test_sign_in_refuses_a_missing_csrf_token(client: TestClient, store: Store) -> None:
    add_user(store, "ann@example.com")
    response = client.post(
        "/signin", data={"email": "ann@example.com", "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403


CELL = "00000000-0000-4000-8000-0000000000c1"


def test_every_change_needs_the_sessions_csrf_token(admin_ui: Ui) -> None:
    make_project(admin_ui)
    key = make_case(admin_ui)
    changes = [
        ("/projects", {"key": "OPS", "name": "Ops"}),
        ("/cases/new", {"project": "SEC", "title": "x"}),
        (f"/cases/{key}/status", {"status": "CLOSED"}),
        (f"/cases/{key}/priority", {"priority": "P1"}),
        (f"/cases/{key}/assignee", {"assignee": ""}),
        (f"/cases/{key}/title", {"title": "renamed"}),
        (f"/cases/{key}/description", {"description": "renamed"}),
        (f"/cases/{key}/due_date", {"due_date": "2030-01-01"}),
        (f"/cases/{key}/watch", {"watch": "0"}),
        (f"/cases/{key}/comments", {"comment": "hello"}),
        (f"/cases/{key}/comments/{CELL}", {"comment": "hello"}),
        (f"/cases/{key}/comments/{CELL}/delete", {}),
        ("/cases/bulk", {"keys": key, "action": "status:CLOSED"}),
        ("/views", {"project": "SEC", "name": "mine", "q": "status:open"}),
        (f"/views/{CELL}/delete", {"project": "SEC"}),
        ("/board/move", {"key": key, "status": "CLOSED"}),
        ("/signout", {}),
    ]
    # Every change the UI serves is in the list (the sign-in form has its own test).
    posts = {
        getattr(r, "path", "").replace("{ref}", key).replace("{cell}", CELL).replace("{view}", CELL)
        for r in ui_routes(lambda path: "jsonapi")
        if "POST" in getattr(getattr(r, "app", None), "table", {})
    }
    assert posts - {"/signin"} == {path for path, _ in changes}
    for path, data in changes:
        for headers in ({}, {"X-CSRF-Token": "wrong"}, {"HX-Request": "true"}):
            response = admin_ui.client.post(path, data=data, headers=headers)
            assert response.status_code == 403, (path, headers)
    page = admin_ui.get(f"/cases/{key}").text
    assert "renamed" not in page and "hello" not in page  # nothing changed
    assert admin_ui.get("/").status_code == 200  # still signed in


def test_security_headers_and_hashed_static_files(admin_ui: Ui) -> None:
    page = admin_ui.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert len(urls) == 3
    weight = 0
    for url in urls:
        assert re.fullmatch(r"/static/[\w.-]+\.[0-9a-f]{12}\.(js|css)", url)
        asset = admin_ui.get(url)
        assert asset.status_code == 200
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        weight += len(asset.content)
    assert weight <= 100 * 1024  # the budget for a page's JavaScript and CSS
    assert admin_ui.get("/static/casebook.js").status_code == 404  # only hashed names


def test_sign_out_ends_the_session_on_the_server(admin_ui: Ui) -> None:
    token = admin_ui.client.cookies.get("casebook_session")
    response = admin_ui.post("/signout", {}, htmx=False)
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    # A copy of the cookie kept from before is worthless now.
    admin_ui.client.cookies.set("casebook_session", token)
    assert admin_ui.get("/", follow_redirects=False).status_code == 303


def test_idle_sessions_expire(database_url: str, store: Store) -> None:
    settings = load_settings(
        {**TEST_ENV, "CASEBOOK_DATABASE_URL": database_url, "CASEBOOK_SESSION_IDLE_MINUTES": "5"}
    )
    add_user(store, "ann@example.com")
    ui = signed_in(settings, store, "ann@example.com")
    token = ui.client.cookies.get("casebook_session")
    assert token is not None
    secret = keys.load_secret(store, "")
    with store.write() as tx:
        tx.sessions.touch(keys.digest(secret, token), now_us() - 6 * 60_000_000)
    assert ui.get("/", follow_redirects=False).status_code == 303
    with store.read() as tx:
        assert tx.sessions.get(keys.digest(secret, token)) is None


def test_a_new_password_signs_the_user_out(settings: Settings, store: Store) -> None:
    add_user(store, "ann@example.com")
    ui = signed_in(settings, store, "ann@example.com")
    sessions.set_password(store, org_name="default", email="ann@example.com", password="x" * 12)
    assert ui.get("/", follow_redirects=False).status_code == 303


def test_another_organisations_case_is_not_found(
    settings: Settings, store: Store, admin_ui: Ui
) -> None:
    """Every UI route that names a case, by every method it serves, answers another
    organisation's user 404 (the route table is walked: a new route is covered by itself)."""
    make_project(admin_ui)
    make_case(admin_ui, "Ours")
    main = admin_ui.post("/cases/SEC-1/comments", {"comment": "our comment"}).text
    cell = re.search(r'id="comment-([0-9a-f-]+)"', main)
    assert cell is not None
    add_user(store, "eve@other.example", org="other")
    eve = signed_in(settings, store, "eve@other.example")
    tried = 0
    for route in ui_routes(lambda path: "jsonapi"):
        path = getattr(route, "path", "")
        if "{ref}" not in path:
            continue
        url = path.replace("{ref}", "SEC-1").replace("{cell}", cell[1])
        for method in sorted(route.app.table):  # type: ignore[attr-defined]
            if method == "HEAD":
                continue
            if method == "GET":
                response = eve.get(url)
            else:
                response = eve.post(url, {"status": "CLOSED", "priority": "P1", "title": "x",
                                          "comment": "x", "assignee": ""})  # fmt: skip
            assert response.status_code == 404, (method, url, response.status_code)
            tried += 1
    assert tried >= 10
    assert eve.post("/board/move", {"key": "SEC-1", "status": "CLOSED"}).status_code == 404
    assert "Ours" not in eve.get("/").text
    assert "Ours" not in eve.get("/board").text
    page = admin_ui.get("/cases/SEC-1").text
    assert "Ours" in page and "our comment" in page and "Open" in page


def test_stored_markup_renders_inert(admin_ui: Ui) -> None:
    payload = " ".join(XSS)
    make_project(admin_ui, "XSS", payload)
    response = admin_ui.post(
        "/cases/new", {"project": "XSS", "title": payload, "description": payload}, htmx=False
    )
    assert response.status_code == 303
    admin_ui.post("/cases/XSS-1/comments", {"comment": payload})
    for path in ("/", "/cases/XSS-1", "/board", "/projects"):
        html = admin_ui.get(path).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
        for needle in ("<script>alert", "<img src=x", "<svg/onload", 'href="javascript:'):
            assert needle not in html, (path, needle)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/cases/SEC-1?x=1", "/cases/SEC-1?x=1"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\t/evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("", "/"),
    ],
)
def test_sign_in_goes_back_only_to_this_site(
    client: TestClient, store: Store, given: str, expected: str
) -> None:
    add_user(store, "ann@example.com")
    form = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    response = client.post(
        "/signin",
        data={
            "csrf_token": token[1],
            "email": "ann@example.com",
            "password": PASSWORD,
            "next": given,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == expected
