"""The served OpenAPI document is well-formed; tests/http/test_registry.py checks it against the spec."""

from __future__ import annotations

from tests.support.api import Api


def test_served_without_keys(api: Api) -> None:
    r = api.client.get("/api/v2/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    assert "CaseDocument" in doc["components"]["schemas"]
