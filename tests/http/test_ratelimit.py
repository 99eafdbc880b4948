"""Rate limits per application key, and for failed authentications, with Datadog's headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from casebook.config import load_settings
from casebook.domain import users as users_domain
from casebook.http.app import create_app
from casebook.storage import open_store
from tests.support.api import Api
from tests.support.errors import as_recorded


@pytest.fixture
def limited(tmp_path: Path):
    def build(rate: str = "5/10s", failures: str = "off") -> Api:
        settings = load_settings(
            {
                "CASEBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'rl.db'}",
                "CASEBOOK_RATE_LIMIT": rate,
                "CASEBOOK_AUTH_FAILURE_LIMIT": failures,
            }
        )
        store = open_store(settings.database_url)
        store.migrate()
        keys = users_domain.bootstrap(store, "", api_key="", app_key="").created_keys
        assert keys is not None
        return Api(TestClient(create_app(settings, store)), store, settings, keys)

    return build


def test_limit_per_key_with_headers(limited) -> None:
    api = limited("5/10s")
    users_domain.add_user(api.store, org_name="default", email="other@example.com")
    other = api.as_keys(api.keys_for("default", "other@example.com"))
    seen = [api.get("/api/v2/cases") for _ in range(6)]
    assert [r.status_code for r in seen] == [200] * 5 + [429]
    ok = seen[0].headers
    assert ok["X-RateLimit-Limit"] == "5" and ok["X-RateLimit-Period"] == "10"
    assert ok["X-RateLimit-Remaining"] == "4"
    assert 1 <= int(ok["X-RateLimit-Reset"]) <= 10
    refused = seen[-1]
    assert as_recorded(refused.json()) == {
        "errors": [
            {
                "status": "429",
                "title": "Too Many Requests",
                "detail": "rate limit exceeded for this application key",
            }
        ]
    }
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Name"] == "cases"
    assert int(refused.headers["X-RateLimit-Reset"]) >= 1
    # Another key of the same organisation is not throttled by the first one's burst.
    assert other.get("/api/v2/cases").status_code == 200


def test_failed_authentications_are_throttled(limited) -> None:
    api = limited("off", failures="3/60s")
    bad = {"DD-API-KEY": "0" * 32, "DD-APPLICATION-KEY": "0" * 40}
    codes = [api.client.get("/api/v2/cases", headers=bad).status_code for _ in range(5)]
    assert codes == [403, 403, 403, 429, 429]
    # Throttled before the keys are even looked at, whatever they are.
    assert api.get("/api/v2/cases").status_code == 429


def test_off_means_no_headers(api: Api) -> None:
    r = api.get("/api/v2/cases")
    assert r.status_code == 200
    assert "X-RateLimit-Limit" not in r.headers
