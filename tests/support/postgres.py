"""A throwaway PostgreSQL cluster for tests and benchmarks, from the machine's binaries.

``PostgresCluster.start()`` runs ``initdb`` into a temporary folder and starts
the server on a free loopback port with trust authentication. PostgreSQL
refuses to run as root, so as root the binaries run as the ``postgres`` user
(created by Debian's package). ``stop()`` ends the server and removes the folder.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if candidates:
        return candidates[0]
    raise RuntimeError(
        f"PostgreSQL's {name} was not found: install PostgreSQL (Debian: apt-get install"
        " postgresql) or run scripts/test, which does"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresCluster:
    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        self.root = Path(tempfile.mkdtemp(prefix="casebook-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_root = os.geteuid() == 0

    # --- running the binaries ---------------------------------------------
    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresCluster:
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            find_bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        self.start_server()
        return self

    def _options(self) -> str:
        opts = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            f"-k {self.root}",
            "-c max_connections=200",
            "-c shared_buffers=128MB",
        ]
        if not self.durable:
            # Test data is thrown away: skip the disk flushes.
            opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        return " ".join(opts)

    def start_server(self) -> None:
        self._run(
            find_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            self._options(),
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop_server(self, mode: str = "fast") -> None:
        self._run(find_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def wait_ready(self, timeout: float = 30.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def execute(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url_for(database), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[call-overload]

    def create_database(self, name: str, template: str | None = None) -> str:
        suffix = f" TEMPLATE {template}" if template else ""
        self.execute(f'CREATE DATABASE "{name}"{suffix}')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        self.stop_server("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
