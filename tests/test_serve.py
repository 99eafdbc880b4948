"""``casebook serve`` as a new user runs it: fresh database, printed keys, README example."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.support.postgres import free_port

REPO = Path(__file__).resolve().parents[1]


def _serve(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEBOOK_")}
    return subprocess.Popen(
        [sys.executable, "-m", "casebook", "serve", "--port", str(port)],
        cwd=tmp_path,  # the default database is ./casebook.db
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _wait_healthy(port: int, proc: subprocess.Popen[str], timeout: float = 20) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            time.sleep(0.02)
    raise TimeoutError("not healthy")


def _read_until_listening(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "listening on" in line:
            break
    return "".join(lines)


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.mark.slow
def test_fresh_database_prints_working_keys_once(tmp_path: Path) -> None:
    port = free_port()
    proc = _serve(tmp_path, port)
    try:
        output = _read_until_listening(proc)
        _wait_healthy(port, proc)
        api_key = re.search(r"DD-API-KEY:\s+(\w+)", output)
        app_key = re.search(r"DD-APPLICATION-KEY:\s+(\w+)", output)
        assert api_key and app_key, output
        headers = {"DD-API-KEY": api_key[1], "DD-APPLICATION-KEY": app_key[1]}
        r = httpx.get(f"http://127.0.0.1:{port}/api/v2/cases/projects", headers=headers)
        assert r.status_code == 200
        assert r.json() == {"data": []}
        # The web UI answers at / and the printed password signs the admin in.
        password = re.search(r"Password:\s+(\S+)", output)
        assert password, output
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as web:
            assert web.get("/").headers["location"] == "/signin"
            form = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/signin").text)
            assert form is not None
            signed = web.post(
                "/signin",
                data={
                    "csrf_token": form[1],
                    "email": "admin@casebook.local",
                    "password": password[1],
                },
            )
            assert signed.status_code == 303
            assert "Sign out" in web.get("/").text
    finally:
        _stop(proc)
    assert (tmp_path / "casebook.db").exists()

    # A second start on the same database prints no new keys, and the old ones still work.
    proc = _serve(tmp_path, port)
    try:
        again = _read_until_listening(proc)
        _wait_healthy(port, proc)
        assert "DD-API-KEY" not in again
        r = httpx.get(f"http://127.0.0.1:{port}/api/v2/cases", headers=headers)
        assert r.status_code == 200
    finally:
        _stop(proc)


@pytest.mark.slow
def test_readme_python_example_runs(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    # The official client against `casebook serve` (the emulator's example has its own test).
    examples = [m for m in re.finditer(r"```python\n(.*?)```", readme, flags=re.S)]
    example = next((m for m in examples if "http://127.0.0.1:8080" in m[1]), None)
    assert example is not None
    port = free_port()
    proc = _serve(tmp_path, port)
    try:
        output = _read_until_listening(proc)
        _wait_healthy(port, proc)
        env = {
            **os.environ,
            "DD_API_KEY": re.search(r"DD-API-KEY:\s+(\w+)", output)[1],  # type: ignore[index]
            "DD_APP_KEY": re.search(r"DD-APPLICATION-KEY:\s+(\w+)", output)[1],  # type: ignore[index]
        }
        code = example[1].replace("http://127.0.0.1:8080", f"http://127.0.0.1:{port}")
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == ["NOC-1", "NOC-1 Disk full on db-1"]
    finally:
        _stop(proc)
