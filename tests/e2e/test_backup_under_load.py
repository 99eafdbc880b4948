"""``casebook backup`` of a live SQLite database while a client keeps writing to the server:
the copy passes ``PRAGMA integrity_check`` and holds every case acknowledged before the
backup began; writes go on during the copy. On PostgreSQL the command points to pg_dump.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.e2e.test_move_to_postgres import casebook
from tests.support.api import case_body
from tests.support.server import Keys, running_server


def _writer(
    base_url: str, keys: Keys, project_id: str, acked: list[str], stop: threading.Event
) -> None:
    with httpx.Client(base_url=base_url, headers=keys.headers, timeout=10) as client:
        i = 0
        while not stop.is_set():
            r = client.post("/api/v2/cases", json=case_body(project_id, f"written under load {i}"))
            assert r.status_code == 201, r.text
            acked.append(r.json()["data"]["id"])
            i += 1


@pytest.mark.slow
def test_backup_while_a_client_writes(tmp_path: Path, keys: Keys) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    copy = tmp_path / "copy.db"
    with running_server(url, keys) as server:
        with httpx.Client(base_url=server.base_url, headers=keys.headers, timeout=10) as client:
            body = {"data": {"type": "project", "attributes": {"name": "Load", "key": "LOAD"}}}
            r = client.post("/api/v2/cases/projects", json=body)
            assert r.status_code == 201, r.text
            project_id = r.json()["data"]["id"]
        acked: list[str] = []
        stop = threading.Event()
        writer = threading.Thread(
            target=_writer, args=(server.base_url, keys, project_id, acked, stop)
        )
        writer.start()
        try:
            while len(acked) < 200 and writer.is_alive():
                time.sleep(0.05)
            before = list(acked)
            casebook(url, "backup", str(copy))
            during = len(acked) - len(before)
            time.sleep(0.3)
        finally:
            stop.set()
            writer.join(timeout=30)
        assert len(acked) > len(before)  # the writer kept writing past the backup
    assert len(before) >= 200, "the writer stopped early"
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        held = {row[0] for row in conn.execute("SELECT id FROM cases")}
    finally:
        conn.close()
    assert set(before) <= held
    print(f"backup: {len(before)} cases acknowledged before, {during} during the copy")


def test_backup_of_postgres_points_to_pg_dump(postgres_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "CASEBOOK_DATABASE_URL": postgres_url}
    done = subprocess.run(
        [sys.executable, "-m", "casebook", "backup", str(tmp_path / "x.db")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "pg_dump" in done.stderr and "casebook export" in done.stderr
    assert "Traceback" not in done.stderr
