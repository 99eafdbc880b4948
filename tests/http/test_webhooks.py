"""Named webhooks: Datadog's Webhooks integration API (``/api/v1/integration/webhooks/...``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api

HOOKS = "/api/v1/integration/webhooks/configuration/webhooks"


def make(api: Api, name: str = "on-call", **more: Any) -> Any:
    return api.post(HOOKS, {"name": name, "url": "https://hooks.example.com/cases", **more})


def test_create_get_update_delete(api: Api) -> None:
    r = make(
        api, payload='{"case": "$CASE_KEY", "n": $CASE_NUMBER}', custom_headers='{"X-Team": "sec"}'
    )
    assert r.status_code == 201, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {
        "name": "on-call",
        "url": "https://hooks.example.com/cases",
        "payload": '{"case": "$CASE_KEY", "n": $CASE_NUMBER}',
        "custom_headers": '{"X-Team": "sec"}',
        "encode_as": "json",
    }
    assert api.get(f"{HOOKS}/on-call").json() == r.json()
    changed = api.put(
        f"{HOOKS}/on-call", {"url": "https://hooks.example.com/v2", "encode_as": "form"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["url"] == "https://hooks.example.com/v2"
    assert changed.json()["encode_as"] == "form"
    assert changed.json()["payload"] == r.json()["payload"]
    renamed = api.put(f"{HOOKS}/on-call", {"name": "pager"})
    assert renamed.json()["name"] == "pager"
    assert api.get(f"{HOOKS}/on-call").status_code == 404
    deleted = api.delete(f"{HOOKS}/pager")
    assert deleted.status_code == 204 and deleted.content == b""
    missing = api.get(f"{HOOKS}/pager")
    assert missing.status_code == 404
    assert missing.json() == {"errors": ["pager not found"]}


def test_names_are_unique_per_organisation(api: Api) -> None:
    assert make(api).status_code == 201
    again = make(api)
    assert again.status_code == 409
    assert again.json() == {"errors": ["a webhook named on-call exists"]}
    assert make(api, "second").status_code == 201
    assert api.put(f"{HOOKS}/second", {"name": "on-call"}).status_code == 409
    other = api.new_org_admin("acme")
    assert make(other).status_code == 201
    assert other.get(f"{HOOKS}/second").status_code == 404
    assert other.delete(f"{HOOKS}/second").status_code == 404
    assert api.get(f"{HOOKS}/second").status_code == 200


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "bad name", "url": "https://x.example"}, "invalid webhook name"),
        ({"name": "ok", "url": "ftp://x.example"}, "http or https"),
        ({"name": "ok", "url": "not a url"}, "http or https"),
        ({"name": "ok", "url": "https://x.example", "payload": "{nope"}, "payload must be"),
        ({"name": "ok", "url": "https://x.example", "custom_headers": "[1]"}, "JSON object"),
        (
            {"name": "ok", "url": "https://x.example", "custom_headers": '{"A": "b\\r\\nC: d"}'},
            "line break",
        ),
        ({"name": "ok", "url": "https://x.example", "encode_as": "xml"}, "json or form"),
        ({"url": "https://x.example"}, "name"),
    ],
)
def test_bad_webhooks_are_400(api: Api, body: dict[str, Any], fragment: str) -> None:
    r = api.post(HOOKS, body)
    assert r.status_code == 400, r.text
    assert fragment in r.json()["errors"][0]
