"""How fast ``casebook emulate`` starts and resets.

    python -m bench.emulator [--cases 10000] [--rounds 5]

Start: ``casebook emulate`` on a free port, timed from the process start to its first
answer (``/healthz``), median of ``--rounds`` starts. Reset: an organisation seeded with
``--cases`` cases (one project, through ``POST /_casebook/seed``), then ``POST
/_casebook/reset`` and the next request, which makes the organisation anew (a copy of the
template), timed together; median of ``--rounds``. Results: docs/emulator.md.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx2 as httpx

KEYS = {"DD-API-KEY": "bench", "DD-APPLICATION-KEY": "bench"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(port: int) -> tuple[subprocess.Popen[bytes], float]:
    casebook = str(Path(sys.executable).with_name("casebook"))
    started = time.perf_counter()
    process = subprocess.Popen(
        [casebook, "emulate", "--port", str(port)], stdout=subprocess.DEVNULL
    )
    # Poll with a bare connect (an HTTP client per try would take the CPU the start needs),
    # then ask /healthz once the port is open.
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except OSError:
            if process.poll() is not None:
                raise SystemExit("casebook emulate exited") from None
            time.sleep(0.005)
            continue
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            assert answer.status == 200
        return process, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    starts = []
    for _ in range(args.rounds):
        process, seconds = _start(_free_port())
        starts.append(seconds)
        process.terminate()
        process.wait()
    print(f"start to first answer: median {statistics.median(starts) * 1000:.0f} ms")

    process, _ = _start(port := _free_port())
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=KEYS, timeout=600) as c:
            resets = []
            document = {
                "projects": [{"key": "LOAD", "name": "Load"}],
                "cases": [{"project": "LOAD", "title": f"case {i}"} for i in range(args.cases)],
            }
            for _ in range(args.rounds):
                seeded = time.perf_counter()
                assert c.post("/_casebook/seed", json=document).status_code == 201
                seeding = time.perf_counter() - seeded
                started = time.perf_counter()
                assert c.post("/_casebook/reset").status_code == 200
                assert c.get("/api/v2/cases/projects").json()["data"] == []
                resets.append(time.perf_counter() - started)
                reset_ms = resets[-1] * 1000
                print(f"  seeded {args.cases} cases in {seeding:.1f} s; reset {reset_ms:.1f} ms")
            print(
                f"reset at {args.cases} cases, with the next request: "
                f"median {statistics.median(resets) * 1000:.1f} ms"
            )
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
