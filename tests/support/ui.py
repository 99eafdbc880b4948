"""The web UI's test helpers: users with passwords, and test clients signed in as them.

``tests/ui/`` and ``tests/security/test_ui.py`` share them; their ``admin_ui`` fixtures are
``admin_ui_of``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from starlette.testclient import TestClient

from casebook.config import Settings
from casebook.core.clock import now_us
from casebook.core.entities import Actor
from casebook.domain import users as users_domain
from casebook.domain.keys import user_ref
from casebook.http.app import create_app
from casebook.storage import Store

PASSWORD = "correct horse battery"
# Stored instead of what set_password makes (argon2's defaults, ~0.3 s per hash and per
# check on these machines): a check reads its cost from the hash, so signing in is fast.
FAST_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Ui:
    """A browser-like client signed in as one user: ``csrf`` is its session's token."""

    client: TestClient
    csrf: str
    email: str

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, str], *, htmx: bool = True, **kwargs: Any) -> Any:
        """A change as htmx sends it (CSRF token in a header), or as a plain form (in a field)."""
        if htmx:
            headers = {"HX-Request": "true", "X-CSRF-Token": self.csrf}
            return self.client.post(path, data=data, headers=headers, **kwargs)
        return self.client.post(
            path, data={**data, "csrf_token": self.csrf}, follow_redirects=False, **kwargs
        )


def csrf_of(html: str) -> str:
    found = _CSRF_META.search(html) or _CSRF_FIELD.search(html)
    assert found is not None, "no CSRF token on the page"
    return found[1]


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    """Post the sign-in form as a browser would (after loading it); the response."""
    form = client.get("/signin")
    return client.post(
        "/signin",
        data={"csrf_token": csrf_of(form.text), "email": email, "password": password},
        follow_redirects=False,
    )


def add_user(
    store: Store, email: str, *, org: str = users_domain.DEFAULT_ORG, name: str | None = None
) -> None:
    """An active user with a password (and the organisation, if new)."""
    if org not in {o.name for o in users_domain.list_orgs(store)}:
        users_domain.create_org(store, org)
    user = users_domain.add_user(store, org_name=org, email=email, name=name, admin=False)
    give_password(store, user.org_id, user.id)


def give_password(store: Store, org_id: str, user_id: str) -> None:
    """``PASSWORD``, hashed cheaply (``FAST_HASH``)."""
    with store.write() as tx:
        tx.passwords.set(org_id, user_id, FAST_HASH, now_us())


def signed_in(settings: Settings, store: Store, email: str, **client_args: Any) -> Ui:
    client = TestClient(create_app(settings, store), **client_args)
    response = sign_in(client, email)
    assert response.status_code == 303, response.text
    return Ui(client, csrf_of(client.get("/").text), email)


def admin_ui_of(settings: Settings, store: Store) -> Iterator[Ui]:
    """The bootstrap admin of ``default``, signed in, and nothing else in the database."""
    users_domain.bootstrap(store, settings.secret_key, api_key="", app_key="")
    with store.read() as tx:
        org = tx.orgs.by_name(users_domain.DEFAULT_ORG)
        assert org is not None
        admin = tx.users.by_email(org.id, users_domain.BOOTSTRAP_ADMIN_EMAIL)
        assert admin is not None
    give_password(store, org.id, admin.id)
    ui = signed_in(settings, store, users_domain.BOOTSTRAP_ADMIN_EMAIL)
    with ui.client:
        yield ui


def make_project(ui: Ui, key: str = "SEC", name: str = "Security") -> None:
    """A project, made through the Projects page's form."""
    assert ui.post("/projects", {"key": key, "name": name}, htmx=False).status_code == 303


def make_case(ui: Ui, title: str = "Suspicious login", **fields: str) -> str:
    """A case of ``SEC``, made through the New case form; its key."""
    response = ui.post("/cases/new", {"project": "SEC", "title": title, **fields}, htmx=False)
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).rsplit("/", 1)[1]


def admin_actor(store: Store) -> Actor:
    """The bootstrap admin of ``default`` as the domain's actor (to arrange data directly)."""
    with store.read() as tx:
        org = tx.orgs.by_name(users_domain.DEFAULT_ORG)
        assert org is not None
        admin = tx.users.by_email(org.id, users_domain.BOOTSTRAP_ADMIN_EMAIL)
        assert admin is not None
    return Actor(user=user_ref(admin), org_id=org.id, is_admin=True)
