"""Datadog's official TypeScript client (npm ``@datadog/datadog-api-client``) against casebook.

``tests/e2e/ts`` installs two releases side by side through npm aliases:

* ``dd-old`` = 1.45.0, the last release whose ``CaseCreateAttributes`` has the seed's
  ``type: "STANDARD"`` (1.46.0 replaced it with ``type_id``). It runs the seed page's 13
  examples (``ts/seed/*.js``), changed only to point at casebook.
* ``dd-new`` = the newest release; it sends ``type_id`` (``ts/new_client_roundtrip.js``).

The scripts are run with ``node``; ``node_modules`` is installed with ``npm ci`` when missing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.support.server import Keys, ServerProcess, running_server

pytestmark = pytest.mark.slow

TS = Path(__file__).resolve().parent / "ts"
PACKAGES = ("dd-old", "dd-new")
PREFIX = "API called successfully. Returned data: "
STANDARD = "00000000-0000-0000-0000-000000000001"
TIMEOUT = 15


def _installed() -> bool:
    return all((TS / "node_modules" / name / "package.json").is_file() for name in PACKAGES)


@pytest.fixture(scope="module")
def node() -> str:
    """The ``node`` binary, with ``ts/node_modules`` installed (``npm ci``) if missing."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the TypeScript client tests need Node.js 18+")
    # One installer at a time (pytest-xdist workers share the folder).
    lock_name = "casebook-e2e-npm-" + hashlib.sha256(str(TS).encode()).hexdigest()[:12]
    with open(Path(tempfile.gettempdir()) / lock_name, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed():
            npm = shutil.which("npm")
            if npm is None:
                pytest.skip("tests/e2e/ts/node_modules is missing and npm is not installed")
            try:
                done = subprocess.run(
                    [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(TS)],
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
            except subprocess.TimeoutExpired:
                pytest.skip("tests/e2e/ts/node_modules is missing and `npm ci` timed out")
            if done.returncode != 0 or not _installed():
                pytest.skip(
                    "tests/e2e/ts/node_modules is missing and `npm ci` failed:\n"
                    + done.stderr[-2000:]
                )
    return node


@pytest.fixture
def server(tmp_path: Path, keys: Keys) -> Iterator[ServerProcess]:
    with running_server(f"sqlite:///{tmp_path / 'casebook.db'}", keys) as server:
        yield server


def run_node(node: str, script: str, server: ServerProcess, keys: Keys, **env: str) -> str:
    """Run ``ts/<script>``; assert it succeeded and return its stdout."""
    environment = {
        **os.environ,
        "DD_BASE_URL": server.base_url,
        "DD_API_KEY": keys.api_key,
        "DD_APP_KEY": keys.app_key,
        **env,
    }
    for name in ("DD_SITE", "NODE_OPTIONS"):
        environment.pop(name, None)
    done = subprocess.run(
        [node, script], cwd=TS, env=environment, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    assert done.stderr == "", f"{script} wrote to stderr:\n{done.stderr}"
    return done.stdout


def assert_fully_parsed(value: Any, path: str = "data") -> None:
    """The client marks what its models could not read with ``_unparsed`` / ``_data``."""
    if isinstance(value, dict):
        assert "_unparsed" not in value, f"{path}: client could not parse {value}"
        assert set(value) != {"_data"}, f"{path}: client could not parse {value}"
        for key, item in value.items():
            assert_fully_parsed(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_fully_parsed(item, f"{path}[{i}]")


def run_example(node: str, name: str, server: ServerProcess, keys: Keys, **env: str) -> Any:
    """Run a seed example and return the data it printed (``undefined`` -> None)."""
    out = run_node(node, f"seed/{name}.js", server, keys, **env)
    assert out.startswith(PREFIX) and out.count("\n") == 1, out
    text = out[len(PREFIX) :].strip()
    if text == "undefined":
        return None
    data = json.loads(text)
    assert_fully_parsed(data)
    return data


def create_user(server: ServerProcess, keys: Keys, email: str) -> str:
    r = httpx.post(
        server.base_url + "/api/v2/users",
        json={"data": {"type": "users", "attributes": {"email": email, "name": "Ts User"}}},
        headers=keys.headers,
        timeout=TIMEOUT,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["data"]["id"])


def test_seed_examples_with_client_1_45(node: str, server: ServerProcess, keys: Keys) -> None:
    """All 13 examples of the seed page, in an order where each finds what it needs."""
    user_id = create_user(server, keys, "seed-user@example.com")
    ids: dict[str, str] = {"USER_DATA_ID": user_id}

    project = run_example(node, "01_create_project", server, keys)["data"]
    assert project["type"] == "project"
    assert project["attributes"]["key"] == "SEC"
    assert project["attributes"]["name"] == "Security Investigation"
    ids["PROJECT_ID"] = project["id"]

    projects = run_example(node, "02_get_projects", server, keys)["data"]
    assert [p["id"] for p in projects] == [project["id"]]

    got = run_example(node, "03_get_project", server, keys, **ids)["data"]
    assert got["id"] == project["id"] and got["attributes"]["key"] == "SEC"

    case = run_example(node, "04_create_case", server, keys, **ids)["data"]
    attributes = case["attributes"]
    assert attributes["key"] == "SEC-1"
    assert attributes["title"] == "Security breach investigation in 0cfbc5cbc676ee71"
    assert attributes["type"] == "STANDARD"
    assert attributes["priority"] == "NOT_DEFINED"
    assert attributes["status"] == "OPEN"
    assert case["relationships"]["assignee"]["data"]["id"] == user_id
    assert case["relationships"]["project"]["data"]["id"] == project["id"]
    ids["CASE_ID"] = case["id"]

    got = run_example(node, "05_get_case", server, keys, **ids)["data"]
    assert got["id"] == case["id"] and got["attributes"]["key"] == "SEC-1"

    search = run_example(node, "06_search_cases", server, keys)
    assert [c["id"] for c in search["data"]] == [case["id"]]
    assert search["meta"]["page"]["current"] == 1
    assert search["meta"]["page"]["size"] == 1

    after = run_example(node, "07_update_status", server, keys, **ids)["data"]
    assert after["attributes"]["status"] == "IN_PROGRESS"

    after = run_example(node, "08_update_priority", server, keys, **ids)["data"]
    assert after["attributes"]["priority"] == "P3"

    after = run_example(node, "10_unassign_case", server, keys, **ids)["data"]
    assert "assignee" not in after["relationships"]

    after = run_example(node, "09_assign_case", server, keys, **ids)["data"]
    assert after["relationships"]["assignee"]["data"]["id"] == user_id

    after = run_example(node, "11_archive_case", server, keys, **ids)["data"]
    assert after["attributes"]["archivedAt"]

    after = run_example(node, "12_unarchive_case", server, keys, **ids)["data"]
    assert "archivedAt" not in after["attributes"]
    assert after["attributes"]["status"] == "IN_PROGRESS"
    assert after["attributes"]["priority"] == "P3"

    assert run_example(node, "13_delete_project", server, keys, **ids) is None
    r = httpx.get(
        f"{server.base_url}/api/v2/cases/{case['id']}", headers=keys.headers, timeout=TIMEOUT
    )
    assert r.status_code == 404, r.text


def test_newest_client_round_trip(node: str, server: ServerProcess, keys: Keys) -> None:
    user_id = create_user(server, keys, "new-user@example.com")
    out = run_node(node, "new_client_roundtrip.js", server, keys, USER_DATA_ID=user_id)
    result = json.loads(out)
    assert result["project_key"] == "NEW"
    assert result["case_key"] == "NEW-1"
    assert result["status"] == "OPEN"
    assert result["priority"] == "P2"
    assert result["title"] == "Created by the newest client"
    assert result["type_id"] == STANDARD
    assert result["assignee_id"] == user_id
    assert result["created_at_is_date"] is True
    assert len(result["search_ids"]) == 5 and result["case_id"] in result["search_ids"]
    assert result["search_meta_page"] == {"current": 1, "size": 5, "total": 1}
    assert sorted(result["paged_ids"]) == sorted(result["search_ids"])
