"""Servers, tenants and client threads for the reliability scenarios.

``Node`` is one ``casebook serve`` (its own process group, output to a log
file so a chatty server never blocks on a full pipe). ``Tenant`` is an
organisation with its keys and projects. ``Client`` is one thread that creates
cases and changes the ones it created, recording every attempt in a ``Ledger``.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx

from casebook.core.entities import STANDARD_CASE_TYPE_ID
from tests.reliability.ledger import Ledger, Write, classify
from tests.support.postgres import free_port
from tests.support.server import Keys

REPO = Path(__file__).resolve().parents[2]
CLIENT_TIMEOUT = 15.0  # seconds: a request slower than this is a hang
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
STATUSES = ("OPEN", "IN_PROGRESS", "CLOSED")
LOAD_ENV = {"CASEBOOK_RATE_LIMIT": "off", "CASEBOOK_AUTH_FAILURE_LIMIT": "off"}


class Node:
    """``casebook serve`` on a fixed loopback port; restartable on the same port."""

    def __init__(
        self,
        database_url: str,
        keys: Keys,
        log_dir: Path,
        *,
        workers: int = 1,
        env: Mapping[str, str] | None = None,
        name: str = "node",
    ) -> None:
        self.port = free_port()
        self.workers = workers
        self.log_path = log_dir / f"{name}-{self.port}.log"
        self.env = {
            **os.environ,
            **LOAD_ENV,
            "CASEBOOK_DATABASE_URL": database_url,
            "CASEBOOK_API_KEY": keys.api_key,
            "CASEBOOK_APP_KEY": keys.app_key,
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 30.0) -> Node:
        assert not self.running
        cmd = [sys.executable, "-m", "casebook", "serve", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--workers", str(self.workers)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                env=self.env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"casebook serve exited early:\n{self.log()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise TimeoutError(f"casebook serve did not become healthy:\n{self.log()[-3000:]}")

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 30.0) -> float:
        """Signal the whole process group; seconds until the server process exited."""
        if not self.running:
            return 0.0
        assert self.proc is not None
        began = time.monotonic()
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
            raise
        finally:
            # Workers of a killed server may outlive their parent for a moment.
            self._reap_group(self.proc.pid)
        return time.monotonic() - began

    @staticmethod
    def _reap_group(pgid: int) -> None:
        """Wait until no process of the group runs (zombies left to init are dead enough)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if not _live_members(pgid):
                return
            time.sleep(0.01)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)

    def stop(self) -> None:
        if self.running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.kill(signal.SIGTERM, timeout=15)
        self.proc = None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def unexpected_errors(self) -> int:
        """500s the server logged: casebook's 'unexpected error', uvicorn's unhandled ones."""
        log = self.log()
        return log.count("unexpected error") + log.count("Exception in ASGI application")


def _live_members(pgid: int) -> bool:
    """Whether a process of group ``pgid`` is still running (not a zombie)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after ')'.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def run_cli(database_url: str, *args: str) -> str:
    env = {**os.environ, "CASEBOOK_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "casebook", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"casebook {' '.join(args)}: {done.stderr}"
    return done.stdout


def second_org(database_url: str, name: str = "second") -> Keys:
    """An organisation with an admin and a key pair, made with the ``casebook`` command."""
    email = f"admin@{name}.example"
    run_cli(database_url, "orgs", "create", name)
    run_cli(database_url, "users", "create", "--org", name, "--email", email, "--admin")
    pair = json.loads(
        run_cli(database_url, "keys", "create", "--org", name, "--user", email, "--json")
    )
    return Keys(pair["api_key"], pair["app_key"])


@dataclass
class Tenant:
    name: str
    keys: Keys
    projects: list[str] = field(default_factory=list)
    """Project ids."""


def create_project(base_url: str, keys: Keys, key: str, name: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        r = httpx.post(
            base_url + "/api/v2/cases/projects",
            json={"data": {"type": "project", "attributes": {"key": key, "name": name}}},
            headers=keys.headers,
            timeout=CLIENT_TIMEOUT,
        )
        if r.status_code == 201:
            return str(r.json()["data"]["id"])
        # Injected 503s and rate limits refuse before any work: try again.
        assert r.status_code in (429, 503) and time.monotonic() < deadline, r.text
        time.sleep(0.2)


def make_projects(base_url: str, default: Keys, other: Keys) -> list[Tenant]:
    """Two organisations, three projects: SEC and OPS in the first, SEC in the second."""
    first = Tenant("default", default)
    first.projects = [
        create_project(base_url, default, "SEC", "Security"),
        create_project(base_url, default, "OPS", "Operations"),
    ]
    second = Tenant("second", other, [create_project(base_url, other, "SEC", "Security")])
    return [first, second]


def one_tenant(base_url: str, keys: Keys) -> Tenant:
    """The default organisation with two projects, SEC and OPS."""
    return Tenant(
        "default",
        keys,
        [create_project(base_url, keys, "SEC", "S"), create_project(base_url, keys, "OPS", "O")],
    )


def case_body(project_id: str, title: str, priority: str) -> dict[str, Any]:
    return {
        "data": {
            "type": "case",
            "attributes": {"title": title, "type_id": STANDARD_CASE_TYPE_ID, "priority": priority},
            "relationships": {"project": {"data": {"id": project_id, "type": "project"}}},
        }
    }


@dataclass
class Owned:
    """A case this client created (acknowledged), and what it last asked it to be."""

    write: Write
    priority: str
    status: str


@dataclass
class Stats:
    """Per-client counts the scenarios assert on (500s and hangs are never allowed)."""

    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    timeouts: int = 0
    bad_503_bodies: list[str] = field(default_factory=list)
    slowest: float = 0.0


class Client(threading.Thread):
    """Creates cases in its tenant's projects and changes its own acknowledged cases.

    Stops when ``stop`` is set, after ``max_writes`` writes, or at ``deadline``
    (monotonic), whichever comes first. ``urls`` are the nodes: it starts on
    ``urls[index % len(urls)]`` and moves to the next when a connection is refused.
    """

    def __init__(
        self,
        index: int,
        tenant: Tenant,
        urls: Sequence[str],
        ledger: Ledger,
        stop: threading.Event,
        *,
        deadline: float,
        max_writes: int = 100_000,
        update_ratio: float = 0.3,
        seed: int = 0,
        owned: list[Owned] | None = None,
        prefix: str = "",
        pause_after_error: float = 0.02,
    ) -> None:
        super().__init__(name=f"client-{index}", daemon=True)
        self.index = index
        self.tenant = tenant
        self.urls = list(urls)
        self.ledger = ledger
        self.stop_event = stop
        self.deadline = deadline
        self.max_writes = max_writes
        self.update_ratio = update_ratio
        self.rng = random.Random(seed * 1000 + index)
        self.owned: list[Owned] = owned if owned is not None else []
        self.prefix = prefix or secrets.token_hex(3)
        self.pause_after_error = pause_after_error
        self.stats = Stats()
        self.error: BaseException | None = None
        self._node = index % len(self.urls)
        self._n = 0

    def _done(self) -> bool:
        return (
            self.stop_event.is_set()
            or self._n >= self.max_writes
            or time.monotonic() >= self.deadline
        )

    def run(self) -> None:
        try:
            with httpx.Client(headers=self.tenant.keys.headers, timeout=CLIENT_TIMEOUT) as http:
                while not self._done():
                    self._n += 1
                    if self.owned and self.rng.random() < self.update_ratio:
                        self._update(http, self.rng.choice(self.owned))
                    else:
                        self._create(http)
        except BaseException as exc:  # reported by the scenario
            self.error = exc

    def _send(self, http: httpx.Client, write: Write, path: str, body: Any) -> Any:
        url = self.urls[self._node] + path
        write.started = time.monotonic()
        response: httpx.Response | None = None
        error: BaseException | None = None
        try:
            response = http.post(url, json=body)
        except httpx.TransportError as exc:
            error = exc
        write.ended = time.monotonic()
        write.outcome, write.detail = classify(response, error)
        self.stats.requests += 1
        self.stats.slowest = max(self.stats.slowest, write.ended - write.started)
        self.ledger.add(write)
        if isinstance(error, httpx.TimeoutException):
            self.stats.timeouts += 1
        if isinstance(error, httpx.ConnectError):
            self._node = (self._node + 1) % len(self.urls)
        if response is not None and response.status_code >= 500:
            if response.status_code != 503:
                self.stats.server_errors.append(f"{response.status_code} {response.text[:200]}")
            elif not _is_503_body(response):
                self.stats.bad_503_bodies.append(response.text[:200])
        if write.outcome != "ack":
            time.sleep(self.pause_after_error)
            return None
        return response.json() if response is not None else None

    def _create(self, http: httpx.Client) -> None:
        project_id = self.rng.choice(self.tenant.projects)
        title = f"{self.prefix}-{self.index}-{self._n}"
        priority = self.rng.choice(PRIORITIES)
        write = Write("create", title, project_id, priority)
        document = self._send(http, write, "/api/v2/cases", case_body(project_id, title, priority))
        if document is not None:
            write.case_id = document["data"]["id"]
            write.key = document["data"]["attributes"]["key"]
            self.owned.append(Owned(write, priority, "OPEN"))

    def _update(self, http: httpx.Client, case: Owned) -> None:
        created = case.write
        assert created.key is not None and created.case_id is not None
        ref = created.key if self.rng.random() < 0.5 else created.case_id
        if self.rng.random() < 0.6:
            op, value = "priority", self.rng.choice([p for p in PRIORITIES if p != case.priority])
            case.priority = value
        else:
            op, value = "status", self.rng.choice([s for s in STATUSES if s != case.status])
            case.status = value
        write = Write(op, created.title, created.project_id, value, case_id=created.case_id)
        write.key = created.key
        self._send(
            http,
            write,
            f"/api/v2/cases/{ref}/{op}",
            {"data": {"type": "case", "attributes": {op: value}}},
        )


def _is_503_body(response: httpx.Response) -> bool:
    try:
        errors = response.json()["errors"]
        item = errors[0]
        return (
            item.get("status") == "503"
            and item.get("title") == "Service Unavailable"
            and bool(item.get("detail"))
        )
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return False


def run_clients(clients: Sequence[Client], stop: threading.Event, timeout: float) -> None:
    """Join the clients, at most ``timeout`` seconds in all; a client still running fails."""
    deadline = time.monotonic() + timeout
    for client in clients:
        client.join(max(0.0, deadline - time.monotonic()))
    stop.set()
    for client in clients:
        client.join(max(0.0, deadline + CLIENT_TIMEOUT + 5 - time.monotonic()))
    stuck = [c.name for c in clients if c.is_alive()]
    assert not stuck, f"clients still running past their deadline: {stuck}"
    errors = [f"{c.name}: {c.error!r}" for c in clients if c.error is not None]
    assert not errors, errors


def merge_stats(clients: Sequence[Client]) -> Stats:
    total = Stats()
    for c in clients:
        total.requests += c.stats.requests
        total.server_errors += c.stats.server_errors
        total.timeouts += c.stats.timeouts
        total.bad_503_bodies += c.stats.bad_503_bodies
        total.slowest = max(total.slowest, c.stats.slowest)
    return total
