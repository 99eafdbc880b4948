"""``casebook serve --workers N``: each worker listens on a SO_REUSEPORT socket of its own.

Checked from the kernel's side (``/proc``): which processes hold a listening
socket on the port, and which worker holds each of many client connections.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.support.server import REPO, ServerProcess

pytestmark = pytest.mark.slow

KEYS = {"api_key": "a" * 32, "app_key": "b" * 40}
_SERVE = [sys.executable, "-m", "casebook", "serve"]


def _socket_inodes(port: int, state: str) -> set[str]:
    """Inodes of IPv4 TCP sockets whose local port is ``port``, in ``state`` (hex)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, st, inode = fields[1], fields[3], fields[9]
        if int(local.rsplit(":", 1)[1], 16) == port and st == state:
            found.add(inode)
    return found


def _owners(inodes: set[str], pids: list[int]) -> dict[int, int]:
    """How many of ``inodes`` each pid holds open."""
    held: dict[int, int] = {}
    for pid in pids:
        count = 0
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    count += 1
        except FileNotFoundError:
            continue
        held[pid] = count
    return held


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def _workers(server: ServerProcess, expected: int, timeout: float = 20) -> list[int]:
    """The worker pids once ``expected`` of them listen (uvicorn's spawn helper aside)."""
    assert server.proc is not None
    deadline = time.monotonic() + timeout
    while True:
        listening = _owners(_socket_inodes(server.port, "0A"), _children(server.proc.pid))
        workers = [pid for pid, count in listening.items() if count == 1]
        if len(workers) == expected or time.monotonic() > deadline:
            return workers
        time.sleep(0.1)


def test_each_worker_listens_on_its_own_socket_and_gets_connections(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite:///{tmp_path / 'db.sqlite'}", workers=2, **KEYS).start()
    try:
        workers = _workers(server, 2)
        assert len(workers) == 2
        assert len(_socket_inodes(server.port, "0A")) == 2  # two sockets, not one shared
        # The parent holds the port bound but does not listen: it accepts nothing.
        assert server.proc is not None
        assert _owners(_socket_inodes(server.port, "0A"), [server.proc.pid]) == {server.proc.pid: 0}
        # The kernel spreads 32 new connections over both listening sockets.
        clients = []
        try:
            for _ in range(32):
                conn = socket.create_connection(("127.0.0.1", server.port))
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                assert conn.recv(4096).startswith(b"HTTP/1.1 200")
                clients.append(conn)
            held = _owners(_socket_inodes(server.port, "01"), workers)
            assert sum(held.values()) == 32
            assert all(count > 0 for count in held.values()), held
        finally:
            for conn in clients:
                conn.close()
    finally:
        server.stop()


def test_a_killed_worker_is_replaced_and_listens_again(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite:///{tmp_path / 'db.sqlite'}", workers=2, **KEYS).start()
    try:
        first = _workers(server, 2)
        os.kill(first[0], signal.SIGKILL)
        deadline = time.monotonic() + 20
        while True:
            now = _workers(server, 2, timeout=1)
            if len(now) == 2 and first[0] not in now:
                break
            assert time.monotonic() < deadline, f"no replacement worker: {now}"
        for _ in range(20):
            assert httpx.get(server.base_url + "/healthz", timeout=5).status_code == 200
    finally:
        server.stop()


def test_a_second_server_on_a_taken_port_refuses_to_start(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite:///{tmp_path / 'one.sqlite'}", workers=2, **KEYS).start()
    try:
        env = {
            **os.environ,
            "CASEBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'two.sqlite'}",
        }
        for workers in ("1", "2"):
            second = subprocess.run(
                [*_SERVE, "--port", str(server.port), "--workers", workers],
                env=env,
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert second.returncode != 0
            assert "in use" in second.stdout + second.stderr
        # The first server still owns every connection.
        assert len(_workers(server, 2)) == 2
        assert httpx.get(server.base_url + "/healthz", timeout=5).status_code == 200
    finally:
        server.stop()


def test_port_zero_binds_one_port_for_all_workers() -> None:
    from casebook.http.serve import reuseport_socket

    held = reuseport_socket("127.0.0.1", 0, backlog=None)
    try:
        port = held.getsockname()[1]
        one = reuseport_socket("127.0.0.1", port, backlog=8)
        two = reuseport_socket("127.0.0.1", port, backlog=8)
        assert one.getsockname()[1] == two.getsockname()[1] == port
        one.close()
        two.close()
    finally:
        held.close()
