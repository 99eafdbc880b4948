"""Load generators: ``wrk`` with ``lua/load.lua``, or a small Python fallback.

Both take a ``Load`` (what to send) and return a ``LoadResult`` (requests/s,
latency percentiles, errors). wrk runs as its own process against 127.0.0.1,
bounded by ``seconds``; the fallback (httpx2, asyncio) is for CI machines
without wrk and is bounded by both time and a request count.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua" / "load.lua"
_NEXT_STATUS = {"OPEN": "IN_PROGRESS", "IN_PROGRESS": "CLOSED", "CLOSED": "OPEN"}


@dataclass
class Load:
    """What to send: ``mode`` is get, post, status or mix (see lua/load.lua)."""

    mode: str
    paths: list[str] = field(default_factory=list)
    bodies: list[tuple[str, bytes]] = field(default_factory=list)
    cases: list[tuple[str, str]] = field(default_factory=list)  # (uuid, current status)


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    generator: str
    # Per run: open connections per server process, sampled once the load is running.
    spreads: list[dict[str, int]] = field(default_factory=list)
    # CPU seconds the server (its database included, if any) spent during the run,
    # and the database's part of it.
    cpu_s: float = 0.0
    cpu_db_s: float = 0.0
    # Latency (ms) at percentiles 0.1, 0.2 ... 99.9, to merge runs (``merge``).
    grid: list[float] = field(default_factory=list, repr=False)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_us(self) -> float:
        """Server CPU per request, in microseconds: what throughput is on a quiet machine."""
        return self.cpu_s * 1e6 / self.requests if self.requests else 0.0

    @property
    def cpu_db_us(self) -> float:
        return self.cpu_db_s * 1e6 / self.requests if self.requests else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rate, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "errors": self.errors,
            "generator": self.generator,
            "connections_per_worker": self.spreads,
            "server_cpu_us_per_request": round(self.cpu_us, 1),
            "database_cpu_us_per_request": round(self.cpu_db_us, 1),
        }


def merge(results: list[LoadResult]) -> LoadResult:
    """Several runs of one load as one: rates add up over time, latencies are pooled.

    Each run's latency grid stands for its requests (each point a thousandth of
    them); p50 and p99 are read off the pooled, weighted points.
    """
    if len(results) == 1:
        return results[0]
    points = sorted(
        (value, r.requests / len(r.grid)) for r in results if r.grid for value in r.grid
    )
    total = sum(weight for _, weight in points)

    def percentile(q: float) -> float:
        seen = 0.0
        for value, weight in points:
            seen += weight
            if seen >= q * total:
                return value
        return points[-1][0] if points else 0.0

    return LoadResult(
        requests=sum(r.requests for r in results),
        seconds=sum(r.seconds for r in results),
        p50_ms=percentile(0.50),
        p99_ms=percentile(0.99),
        errors=sum(r.errors for r in results),
        generator=results[0].generator + f" x{len(results)}",
        spreads=[s for r in results for s in r.spreads],
        cpu_s=sum(r.cpu_s for r in results),
        cpu_db_s=sum(r.cpu_db_s for r in results),
        grid=[],
    )


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    base_url: str,
    load: Load,
    *,
    seconds: float,
    connections: int,
    threads: int,
    keys: tuple[str, str],
    probe: Callable[[], dict[str, int]] | None = None,
) -> LoadResult:
    """Run wrk; ``probe`` is called once, a moment after the load starts."""
    assert base_url.startswith("http://127.0.0.1:"), "benchmarks stay on loopback"
    with tempfile.TemporaryDirectory(prefix="casebook-wrk-") as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "BENCH_MODE": load.mode,
            "BENCH_THREADS": str(threads),
            "BENCH_API_KEY": keys[0],
            "BENCH_APP_KEY": keys[1],
            "BENCH_RESULT": str(folder / "result.json"),
        }
        if load.paths:
            (folder / "paths.txt").write_text("\n".join(load.paths) + "\n")
            env["BENCH_PATHS"] = str(folder / "paths.txt")
        if load.bodies:
            text = "".join(f"{path}\t{body.decode()}\n" for path, body in load.bodies)
            (folder / "bodies.txt").write_text(text)
            env["BENCH_BODIES"] = str(folder / "bodies.txt")
        if load.cases:
            text = "".join(f"{case_id} {status}\n" for case_id, status in load.cases)
            (folder / "cases.txt").write_text(text)
            env["BENCH_CASES"] = str(folder / "cases.txt")
        cmd = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            base_url,
        ]
        spread: dict[str, int] = {}
        with subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as proc:
            try:
                if probe is not None:
                    time.sleep(min(1.0, seconds / 3))
                    spread = probe()
                stdout, stderr = proc.communicate(timeout=seconds + 60)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        result_file = folder / "result.json"
        if proc.returncode != 0 or not result_file.exists():
            raise RuntimeError(f"wrk failed ({proc.returncode}): {stderr or stdout}")
        raw = json.loads(result_file.read_text())
    errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        errors=errors,
        generator=f"wrk -t{threads} -c{connections}",
        spreads=[spread] if spread else [],
        grid=[us / 1000 for us in raw["grid_us"]],
    )


async def _python_load(
    base_url: str, load: Load, *, seconds: float, connections: int, max_requests: int, keys
) -> LoadResult:
    import httpx2 as httpx

    headers = {"DD-API-KEY": keys[0], "DD-APPLICATION-KEY": keys[1]}
    post_headers = {**headers, "Content-Type": "application/json"}
    current = dict(load.cases)
    case_cycle = itertools.cycle([case_id for case_id, _ in load.cases])
    turn = itertools.count()
    latencies: list[float] = []
    errors = 0
    rng = random.Random(1)

    def next_request() -> tuple[str, str, bytes | None]:
        mode = load.mode
        if mode == "mix":
            mode = ("get", "post", "status")[next(turn) % 3]
        if mode == "get":
            return "GET", rng.choice(load.paths), None
        if mode == "post":
            path, body = rng.choice(load.bodies)
            return "POST", path, body
        case_id = next(case_cycle)
        target = _NEXT_STATUS[current[case_id]]
        current[case_id] = target
        status = json.dumps({"data": {"type": "case", "attributes": {"status": target}}})
        return "POST", f"/api/v2/cases/{case_id}/status", status.encode()

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=10) as client:
        deadline = time.perf_counter() + seconds
        sent = itertools.count()

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline and next(sent) < max_requests:
                method, path, body = next_request()
                started = time.perf_counter()
                try:
                    response = await client.request(
                        method, path, content=body, headers=post_headers if body else headers
                    )
                    if response.status_code >= 400:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    ms = [x * 1000 for x in latencies] or [0.0, 0.0]
    grid = statistics.quantiles(ms, n=1000, method="inclusive")
    return LoadResult(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=grid[499],
        p99_ms=grid[989],
        errors=errors,
        generator=f"python -c{connections}",
        grid=grid,
    )


def run_python(
    base_url: str,
    load: Load,
    *,
    seconds: float,
    connections: int,
    keys: tuple[str, str],
    max_requests: int = 200,
) -> LoadResult:
    """The fallback: a small async Python generator (for smoke runs)."""
    return asyncio.run(
        _python_load(
            base_url,
            load,
            seconds=seconds,
            connections=connections,
            max_requests=max_requests,
            keys=keys,
        )
    )
