"""Run ``casebook serve`` as a real process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx2 as httpx

from tests.support.postgres import free_port

REPO = Path(__file__).resolve().parents[2]

# Every server ``running_server`` starts turns rate limiting off (a no-op where unsupported)
# unless its ``env`` says otherwise.
SERVER_ENV = {"CASEBOOK_RATE_LIMIT": "off"}


@dataclass(frozen=True)
class Keys:
    api_key: str
    app_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"DD-API-KEY": self.api_key, "DD-APPLICATION-KEY": self.app_key}


def new_keys() -> Keys:
    """Fresh random keys shaped like Datadog's (32 and 40 hex digits)."""
    return Keys(secrets.token_hex(16), secrets.token_hex(20))


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
        # The server's output (its request log included) goes to a file, not a pipe: a
        # pipe nobody reads while the server runs fills up and then blocks the server.
        self._log: IO[bytes] | None = None
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
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 -- closed by stop()
        self.proc = subprocess.Popen(
            cmd,
            env=self.env,
            cwd=REPO,
            stdout=self._log,
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
                out = self._read_output()
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
        self.output = self._read_output()
        if self._log is not None:
            self._log.close()
            self._log = None
        self.proc = None

    def _read_output(self) -> bytes:
        if self._log is None:
            return b""
        self._log.seek(0)
        return self._log.read()


@contextmanager
def running_server(
    database_url: str,
    keys: Keys,
    *,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
) -> Iterator[ServerProcess]:
    """``casebook serve`` on a free loopback port; always stopped on exit.

    ``env`` is merged over ``SERVER_ENV``.
    """
    server = ServerProcess(
        database_url,
        api_key=keys.api_key,
        app_key=keys.app_key,
        workers=workers,
        env={**SERVER_ENV, **(env or {})},
    )
    try:
        server.start(timeout=30)
        yield server
    finally:
        server.stop()
