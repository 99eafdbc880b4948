"""Keys: random enough, shown once, stored only as keyed hashes, never logged, revocable.

Revocation is checked across two ``create_app`` instances on one database (two
processes' worth of auth caches) with the default 1 s cache: every instance
refuses a revoked key within the cache TTL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from typing import Any

import pytest
from typer.testing import CliRunner

from casebook.cli import app as cli_app
from casebook.domain import keys as keys_domain
from casebook.domain import users as users_domain
from casebook.domain.keys import load_secret
from tests.security.conftest import FORBIDDEN_BODY, report_count
from tests.support.api import Api
from tests.support.dump import dump_database

HEX = re.compile(r"[0-9a-f]+")


@pytest.fixture
def cli(database_url: str):
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli_app, list(args), env={"CASEBOOK_DATABASE_URL": database_url})
        return result.exit_code, result.output

    return invoke


def test_keys_are_random_hex_of_128_and_160_bits(
    api: Api, cli, request: pytest.FixtureRequest
) -> None:
    users_domain.add_user(api.store, org_name="default", email="many@example.com")
    pairs = [api.keys_for("default", "many@example.com") for _ in range(150)]
    for _ in range(3):
        code, out = cli(
            "keys", "create", "--org", "default", "--user", "many@example.com", "--json"
        )
        assert code == 0, out
        parsed = json.loads(out)
        pairs.append(keys_domain.KeyPair(parsed["api_key"], parsed["app_key"]))
    api_keys = [p.api_key for p in pairs]
    app_keys = [p.app_key for p in pairs]
    assert all(len(k) == 32 and HEX.fullmatch(k) for k in api_keys)  # 128 bits
    assert all(len(k) == 40 and HEX.fullmatch(k) for k in app_keys)  # 160 bits
    assert len(set(api_keys + app_keys)) == 2 * len(pairs)
    # Every bit position is used and about half the bits are set: no fixed or biased part.
    bits = "".join(f"{int(k, 16):0{len(k) * 4}b}" for k in api_keys + app_keys)
    assert 0.47 < bits.count("1") / len(bits) < 0.53
    for width, keys in ((128, api_keys), (160, app_keys)):
        columns = [f"{int(k, 16):0{width}b}" for k in keys]
        assert all(len({col[i] for col in columns}) == 2 for i in range(width))
    report_count(request, "keys_generated", 2 * len(pairs))


def test_keys_are_shown_once_then_only_as_hints(api: Api, cli) -> None:
    code, out = cli("users", "create", "--org", "default", "--email", "ops@example.com")
    assert code == 0, out
    code, out = cli("keys", "create", "--org", "default", "--user", "ops@example.com")
    assert code == 0, out
    shown = dict(re.findall(r"(DD-API-KEY|DD-APPLICATION-KEY):\s+([0-9a-f]+)", out))
    api_key, app_key = shown["DD-API-KEY"], shown["DD-APPLICATION-KEY"]
    ops = api.as_keys(keys_domain.KeyPair(api_key, app_key))
    assert ops.get("/api/v2/cases").status_code == 200
    code, out = cli("keys", "list", "--org", "default")
    assert code == 0, out
    for key in (api_key, app_key, api.keys.api_key, api.keys.app_key):
        assert key[-4:] in out
        assert key[:8] not in out and key[-12:] not in out


def _key_fragments(key: str, width: int = 8) -> list[str]:
    return [key[i : i + width] for i in range(len(key) - width + 1)]


def test_database_holds_only_keyed_hashes(api: Api, database_url: str, cli) -> None:
    users_domain.add_user(api.store, org_name="default", email="h@example.com")
    pairs = [api.keys, api.keys_for("default", "h@example.com", scopes="cases_read")]
    code, out = cli("keys", "create", "--org", "default", "--user", "h@example.com", "--json")
    assert code == 0
    parsed = json.loads(out)
    pairs.append(keys_domain.KeyPair(parsed["api_key"], parsed["app_key"]))
    for pair in pairs:  # used, so any lazily stored form would be there too
        assert api.as_keys(pair).get("/api/v2/cases").status_code == 200
    cells = [cell for rows in dump_database(database_url).values() for row in rows for cell in row]
    text = "\n".join(cells)
    secret = load_secret(api.store, api.settings.secret_key)
    for pair in pairs:
        for key in (pair.api_key, pair.app_key):
            for fragment in _key_fragments(key):
                assert fragment not in text, "key text stored in the database"
            # Unkeyed digests would let a copy of the database be brute-forced offline.
            for name in ("md5", "sha1", "sha256", "sha512"):
                assert hashlib.new(name, key.encode()).hexdigest() not in text
            keyed = hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()
            assert keyed in cells, "stored as HMAC-SHA256 under the server secret"


def test_keys_never_reach_the_logs(
    api: Api, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    other = api.new_org_admin("logorg")
    project = api.create_project()
    bad = [
        {"DD-API-KEY": "feedfacefeedfacefeedfacefeedface", "DD-APPLICATION-KEY": api.keys.app_key},
        {"DD-API-KEY": api.keys.api_key, "DD-APPLICATION-KEY": "c0ffee" * 6 + "c0ff"},
        {"DD-API-KEY": api.keys.api_key, "DD-APPLICATION-KEY": other.keys.app_key},
        {"DD-API-KEY": api.keys.api_key + "x" * 300, "DD-APPLICATION-KEY": api.keys.app_key},
    ]
    with caplog.at_level(logging.DEBUG):
        for headers in bad:
            assert api.client.get("/api/v2/cases", headers=headers).status_code == 403
        for pair in (api, other):
            assert pair.get("/api/v2/cases").status_code == 200
            assert pair.get("/api/v2/cases/NOPE-1").status_code == 404
            assert pair.post("/api/v2/cases", {"data": {}}).status_code == 400
        api.create_case(project["id"])
    captured = capfd.readouterr()
    logged = caplog.text + captured.out + captured.err
    logged += "".join(str(r.args) + str(r.__dict__) for r in caplog.records)
    secrets_seen = [
        api.keys.api_key,
        api.keys.app_key,
        other.keys.api_key,
        other.keys.app_key,
        "feedfacefeedfacefeedfacefeedface",
        "c0ffee" * 6,
    ]
    for key in secrets_seen:
        for fragment in _key_fragments(key, 12):
            assert fragment not in logged


def _poll_until_refused(client: Any, headers: dict[str, str], limit: float) -> float:
    """Poll until the key is refused; a request *sent* ``limit`` seconds after the start
    must not succeed (when it was sent, not when its answer came: on a loaded machine an
    answer may take a while, and the cache is judged by what it allows, not by latency)."""
    start = time.monotonic()
    while True:
        sent = time.monotonic() - start
        r = client.get("/api/v2/cases", headers=headers)
        if r.status_code == 403:
            assert r.content == FORBIDDEN_BODY
            return time.monotonic() - start
        assert r.status_code == 200
        assert sent < limit, "a revoked key still worked past the cache TTL"
        time.sleep(0.05)


@pytest.mark.parametrize("which", ["app", "api"])
def test_revocation_reaches_every_process_within_the_ttl(
    api: Api, make_app, cli, which: str
) -> None:
    ttl = 1.0
    first, _, _ = make_app(CASEBOOK_AUTH_CACHE_SECONDS=str(ttl))
    second, _, _ = make_app(CASEBOOK_AUTH_CACHE_SECONDS=str(ttl))
    users_domain.add_user(api.store, org_name="default", email="leaving@example.com")
    before = {k.id for k in keys_domain.list_keys(api.store, _org_id(api))}
    pair = api.keys_for("default", "leaving@example.com")
    new = [k for k in keys_domain.list_keys(api.store, _org_id(api)) if k.id not in before]
    target = next(k for k in new if k.kind == which)
    headers = {"DD-API-KEY": pair.api_key, "DD-APPLICATION-KEY": pair.app_key}
    for client in (first, second):  # both caches now hold the verified pair
        assert client.get("/api/v2/cases", headers=headers).status_code == 200
    code, out = cli("keys", "revoke", target.id, "--org", "default")
    assert code == 0 and f"revoked key {target.id}" in out
    revoked_at = time.monotonic()
    for client in (first, second):
        _poll_until_refused(client, headers, limit=ttl + 0.5 - (time.monotonic() - revoked_at))
    # And it stays refused; the keys of others are untouched.
    time.sleep(0.1)
    for client in (first, second):
        assert client.get("/api/v2/cases", headers=headers).status_code == 403
        assert client.get("/api/v2/cases", headers=api.headers).status_code == 200
    code, out = cli("keys", "list", "--org", "default")
    assert code == 0 and target.id[:8] in out


def _org_id(api: Api) -> str:
    with api.store.read() as tx:
        return users_domain.get_org(tx, "default").id


def test_cli_revoke_is_scoped_to_the_named_org(api: Api, cli) -> None:
    other = api.new_org_admin("otherorg")
    with api.store.read() as tx:
        other_id = users_domain.get_org(tx, "otherorg").id
    their_key = keys_domain.list_keys(api.store, other_id)[0]
    code, out = cli("keys", "revoke", their_key.id, "--org", "default")
    assert code == 1 and "not found" in out
    assert other.get("/api/v2/cases").status_code == 200
    code, out = cli("keys", "revoke", "00000000-0000-4000-8000-000000000000")
    assert code == 1 and out.startswith("casebook: ")
    code, out = cli("keys", "revoke", their_key.id, "--org", "otherorg")
    assert code == 0
    assert other.get("/api/v2/cases").status_code == 403
