"""Run ``casebook serve`` as a real process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx2 as httpx

from tests.support.postgres import free_port

REPO = Path(__file__).resolve().parents[2]


class ServerProcess:
    def __init__(
        self,
        database_url: str,
        *,
        api_key: str,
        app_key: str,
        workers: int = 1,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.workers = workers
        self.env = {
            **os.environ,
            "CASEBOOK_DATABASE_URL": database_url,
            "CASEBOOK_API_KEY": api_key,
            "CASEBOOK_APP_KEY": app_key,
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.output = b""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        cmd = [
            sys.executable,
            "-m",
            "casebook",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        self.proc = subprocess.Popen(
            cmd,
            env=self.env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                out = self.proc.stdout.read() if self.proc.stdout else b""
                raise RuntimeError(f"casebook serve exited early:\n{out.decode(errors='replace')}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError("casebook serve did not become healthy")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (uvicorn's workers included)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        if self.proc.stdout:
            self.output = self.proc.stdout.read()
            self.proc.stdout.close()
        self.proc = None
