"""Server processes for the benchmark: start, wait for /healthz, sample memory, stop.

Every server runs in its own session (process group); ``stop()`` signals that
group by the id of the process we started, and only it.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: split after it.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry))
    return found


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = [pid]
    while todo:
        kids = _children(todo.pop())
        out += kids
        todo += kids
    return out


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Server:
    """A server process (uvicorn with workers) on a free loopback port."""

    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str], port: int) -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.log = b""
        self._output: IO[bytes] | None = None
        # Other processes whose CPU a request costs (the database server's), if any.
        self.related: Callable[[], list[int]] = list

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> float:
        """Start and wait until /healthz answers 200; return the seconds that took."""
        self.started_at = time.perf_counter()
        # To a file, not a pipe: casebook logs a line per request, and a pipe nobody reads
        # while the load runs would fill up and stall the server.
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 -- closed by stop()
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=REPO,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = self.started_at + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                self._output.seek(0)
                out = self._output.read()
                raise RuntimeError(f"{self.argv} exited early:\n{out.decode(errors='replace')}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=1) as r:  # noqa: S310
                    if r.status == 200:
                        return time.perf_counter() - self.started_at
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.01)
        self.stop()
        raise TimeoutError(f"{self.argv} did not answer /healthz within {timeout} s")

    def workers(self) -> list[int]:
        """The processes that serve requests: uvicorn's workers (the master with one)."""
        assert self.proc is not None
        kids = [pid for pid in descendants(self.proc.pid) if "resource_tracker" not in cmdline(pid)]
        return kids or [self.proc.pid]

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)
        if self._output is not None:
            self._output.seek(0)
            self.log = self._output.read()
            self._output.close()
            self._output = None
        self.proc = None


def uvicorn_ceiling(workers: int, port: int) -> Server:
    argv = [
        sys.executable, "-m", "uvicorn", "bench.ceiling:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    return Server(argv, env=env, port=port)


def casebook_serve(workers: int, port: int, env: Mapping[str, str]) -> Server:
    argv = [
        sys.executable, "-m", "casebook", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip
    return Server(argv, env={**os.environ, **env}, port=port)


def serve_one(url: str, keys: tuple[str, str]) -> Server:
    """One ``casebook serve`` worker on ``url`` with the admin's ``keys`` and no rate limit,
    started on a free port (the benches that time one client against one worker)."""
    env = {
        "CASEBOOK_DATABASE_URL": url,
        "CASEBOOK_API_KEY": keys[0],
        "CASEBOOK_APP_KEY": keys[1],
        "CASEBOOK_RATE_LIMIT": "off",
    }
    server = casebook_serve(1, free_port(), env)
    server.start()
    return server


def cpu_seconds(pids: Sequence[int]) -> float:
    """CPU time the processes have used so far (all their threads), in seconds."""
    total_ns = 0
    for pid in pids:
        with suppress(OSError):
            for task in os.listdir(f"/proc/{pid}/task"):
                with suppress(OSError, ValueError), open(f"/proc/{pid}/task/{task}/schedstat") as f:
                    total_ns += int(f.read().split()[0])
    return total_ns / 1e9


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of established TCP connections whose local port is ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, state, inode = fields[1], fields[3], fields[9]
                    if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                        inodes.add(inode)
        except OSError:
            continue
    return inodes


def connections_per_worker(server: Server) -> dict[str, int]:
    """How many client connections each worker holds (the kernel hands them out)."""
    inodes = _established_inodes(server.port)
    out = {}
    for pid in server.workers():
        count = 0
        with suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:[") and target[8:-1] in inodes:
                        count += 1
        out[str(pid)] = count
    return out


class RssSampler:
    """Samples the RSS of a server's workers every ``interval`` seconds in a thread."""

    def __init__(self, server: Server, interval: float = 0.5) -> None:
        self.server = server
        self.interval = interval
        self.samples: list[tuple[float, dict[int, float]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.perf_counter()
            sizes = {pid: rss_mb(pid) for pid in self.server.workers()}
            self.samples.append((now, {p: s for p, s in sizes.items() if s is not None}))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak_per_worker(self) -> dict[int, float]:
        return self.window(-math.inf, math.inf)

    def window(self, start: float, end: float) -> dict[int, float]:
        """Largest RSS of each worker among samples taken between ``start`` and ``end``."""
        peak: dict[int, float] = {}
        for at, sizes in self.samples:
            if start <= at <= end:
                for pid, size in sizes.items():
                    peak[pid] = max(peak.get(pid, 0.0), size)
        return peak
