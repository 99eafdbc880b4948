"""Readable test data: an ``Api`` wraps a test client and a key pair."""

from __future__ import annotations

import itertools
from typing import Any

from starlette.testclient import TestClient

from casebook.config import Settings
from casebook.core.entities import STANDARD_CASE_TYPE_ID
from casebook.domain import integrations as integrations_domain
from casebook.domain import users as users_domain
from casebook.domain.cases import case_history
from casebook.domain.keys import Authenticator, KeyPair, load_secret
from casebook.egress.guard import check_url
from casebook.storage import Store
from tests.support.tracker import JIRA_AUTH, SERVICENOW_AUTH

_emails = itertools.count(1)


def case_body(
    project_id: str,
    title: str,
    *,
    type_id: str | None = STANDARD_CASE_TYPE_ID,
    assignee_id: str | None = None,
    **attributes: Any,
) -> dict[str, Any]:
    """The JSON body of ``POST /api/v2/cases``; ``type_id=None`` leaves the type out."""
    attrs: dict[str, Any] = {"title": title}
    if type_id is not None:
        attrs["type_id"] = type_id
    relationships: dict[str, Any] = {"project": {"data": {"id": project_id, "type": "project"}}}
    if assignee_id is not None:
        relationships["assignee"] = {"data": {"id": assignee_id, "type": "user"}}
    return {
        "data": {
            "type": "case",
            "attributes": {**attrs, **attributes},
            "relationships": relationships,
        }
    }


def keys(response: Any) -> list[str]:
    """The case keys of a 200 search response, in order."""
    assert response.status_code == 200, response.text
    return [c["attributes"]["key"] for c in response.json()["data"]]


class Api:
    def __init__(
        self,
        client: TestClient,
        store: Store,
        settings: Settings,
        keys: KeyPair,
        org: str = users_domain.DEFAULT_ORG,
    ):
        self.client = client
        self.store = store
        self.settings = settings
        self.keys = keys
        self.org = org  # the keys' organisation

    @property
    def headers(self) -> dict[str, str]:
        return {"DD-API-KEY": self.keys.api_key, "DD-APPLICATION-KEY": self.keys.app_key}

    def history(self, ref: str) -> list[tuple[str, str | None, str | None]]:
        """The case's history rows, oldest first, as (field, old, new), read as this caller."""
        secret = load_secret(self.store, self.settings.secret_key)
        actor = Authenticator(self.store, secret).authenticate(self.keys.api_key, self.keys.app_key)
        return [(c.field, c.old, c.new) for _, _, c in case_history(self.store, ref, actor=actor)]

    # --- raw calls ------------------------------------------------------
    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params or None, headers=self.headers)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(path, json=body, headers=self.headers)

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(path, json=body, headers=self.headers)

    def delete(self, path: str, body: Any = None) -> Any:
        if body is None:
            return self.client.delete(path, headers=self.headers)
        return self.client.request("DELETE", path, json=body, headers=self.headers)

    def put(self, path: str, body: Any) -> Any:
        return self.client.put(path, json=body, headers=self.headers)

    def comment(self, ref: str, text: str) -> Any:
        """``POST /api/v2/cases/{ref}/comment``; the response."""
        return self.case_action(ref, "comment", {"comment": text})

    def timeline(self, ref: str, **params: Any) -> list[dict[str, Any]]:
        """Every cell of the case's timeline, oldest first."""
        r = self.get(
            f"/api/v2/cases/{ref}/timelines",
            **{"sort[ascending]": "true", "page[size]": 100, **params},
        )
        assert r.status_code == 200, r.text
        return r.json()["data"]

    # --- objects --------------------------------------------------------
    def create_project(self, key: str = "SEC", name: str = "Security") -> dict[str, Any]:
        r = self.post(
            "/api/v2/cases/projects",
            {"data": {"type": "project", "attributes": {"key": key, "name": name}}},
        )
        assert r.status_code == 201, r.text
        return r.json()["data"]

    def create_case(
        self,
        project_id: str,
        title: str = "Suspicious login",
        *,
        assignee_id: str | None = None,
        **attributes: Any,
    ) -> dict[str, Any]:
        r = self.post(
            "/api/v2/cases", case_body(project_id, title, assignee_id=assignee_id, **attributes)
        )
        assert r.status_code == 201, r.text
        return r.json()["data"]

    def case_action(self, ref: str, action: str, attributes: dict[str, Any] | None = None) -> Any:
        data: dict[str, Any] = {"type": "case"}
        if attributes is not None:
            data["attributes"] = attributes
        return self.post(f"/api/v2/cases/{ref}/{action}", {"data": data})

    def create_user(self, email: str | None = None, **attributes: Any) -> dict[str, Any]:
        email = email or f"user{next(_emails)}@example.com"
        r = self.post(
            "/api/v2/users",
            {"data": {"type": "users", "attributes": {"email": email, **attributes}}},
        )
        assert r.status_code == 201, r.text
        return r.json()["data"]

    def user_id(self, email: str) -> str:
        """The id of the first user the Users API lists for ``filter=email``."""
        return self.get("/api/v2/users", filter=email).json()["data"][0]["id"]

    def search(self, filter: str = "", **params: Any) -> Any:
        if filter:
            params["filter"] = filter
        return self.get("/api/v2/cases", **params)

    # --- integrations, as an operator sets them (the CLI's commands) ----
    def connect_jira(self, url: str, auth: tuple[str, str] = JIRA_AUTH) -> None:
        """Connect this organisation to the Jira at ``url`` (a ``FakeTracker``'s)."""
        integrations_domain.set_jira_connection(
            self.store,
            self.org,
            server_secret=load_secret(self.store, self.settings.secret_key),
            check_url=self._check_url,
            url=url,
            email=auth[0],
            token=auth[1],
        )

    def connect_service_now(
        self, url: str, instance: str = "acme", auth: tuple[str, str] = SERVICENOW_AUTH
    ) -> None:
        """Connect this organisation to the ServiceNow ``instance``, served at ``url``."""
        integrations_domain.set_service_now_connection(
            self.store,
            self.org,
            server_secret=load_secret(self.store, self.settings.secret_key),
            check_url=self._check_url,
            instance=instance,
            url=url,
            user=auth[0],
            password=auth[1],
        )

    def _check_url(self, url: str) -> None:
        check_url(url, allow_private=self.settings.allow_private_webhooks)

    # --- other callers --------------------------------------------------
    def as_keys(self, keys: KeyPair) -> Api:
        return Api(self.client, self.store, self.settings, keys, self.org)

    def new_org_admin(self, org: str) -> Api:
        """An admin of a new organisation, with its own keys."""
        users_domain.create_org(self.store, org)
        email = f"admin@{org}.example"
        users_domain.add_user(self.store, org_name=org, email=email, admin=True)
        return Api(self.client, self.store, self.settings, self.keys_for(org, email), org)

    def keys_for(self, org: str, email: str, scopes: str | None = None) -> KeyPair:
        secret = load_secret(self.store, self.settings.secret_key)
        return users_domain.create_keys(
            self.store, secret, org_name=org, email=email, scopes=scopes
        )
