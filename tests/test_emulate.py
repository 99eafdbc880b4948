"""``casebook emulate`` as a command: it starts, seeds every new organisation from
``--seed``, takes ids from ``--ids-seed`` and, with ``--persist``, keeps the organisations
across a restart."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
import pytest
from typer.testing import CliRunner

from casebook.cli import app

CASEBOOK = str(Path(sys.executable).with_name("casebook"))
KEYS = {"DD-API-KEY": "ci-job-1", "DD-APPLICATION-KEY": "ci-app"}
SEED = """
projects:
  - id: d4bbe1af-f36e-42f1-87c1-493ca35c320e
    key: DDFC
    name: Datadog fixtures
cases:
  - project: DDFC
    title: Pre-existing
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def emulating(*options: str) -> Iterator[httpx.Client]:
    port = _free_port()
    process = subprocess.Popen(
        [CASEBOOK, "emulate", "--port", str(port), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "casebook emulate did not start"
                time.sleep(0.02)
        with httpx.Client(base_url=base, headers=KEYS) as client:
            yield client
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.mark.slow
def test_emulate_seeds_new_organisations_and_persists_them(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED)
    saved = tmp_path / "state"
    options = ("--seed", str(seed), "--ids-seed", "7", "--persist", str(saved))
    with emulating(*options) as client:
        cases = client.get("/api/v2/cases").json()["data"]
        assert [c["attributes"]["key"] for c in cases] == ["DDFC-1"]
        first_id = cases[0]["id"]
        comment = {"data": {"type": "case", "attributes": {"comment": "kept"}}}
        assert client.post("/api/v2/cases/DDFC-1/comment", json=comment).status_code == 200
        other = client.get(
            "/api/v2/cases", headers={"DD-API-KEY": "ci-job-2", "DD-APPLICATION-KEY": "x"}
        ).json()["data"]
        assert other[0]["id"] == first_id  # the same seed and ids seed: the same ids
    assert list(saved.glob("*.db"))
    with emulating("--persist", str(saved)) as client:
        case = client.get("/api/v2/cases/DDFC-1").json()["data"]
        assert case["id"] == first_id
        assert b"kept" in client.get("/api/v2/cases/DDFC-1/timelines").content


def test_emulate_refuses_a_bad_seed_file(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    runner = CliRunner()
    for text, message in (
        ('{"projects": [{"key": "X"}], "nope": []}', "nope: unknown section"),
        ("{not json", "seed.json: malformed JSON"),
    ):
        seed.write_text(text)
        result = runner.invoke(app, ["emulate", "--seed", str(seed)])
        assert result.exit_code == 1
        assert message in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
