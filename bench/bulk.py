"""A bulk change of 100 cases against one single-case change, on one server, in one run.

    python -m bench.bulk --backend sqlite|postgres [--rounds 100] [--cases 5000]

One ``casebook serve`` (one worker, rate limit off) on a database seeded with
``--cases`` cases (``bench.seed``: one project ``BENCH``, priorities P1 to P5 at
random). One client on one keep-alive connection sends, in alternation so that
both see the same machine: ``UpdatePriority`` of one case, and
``BulkUpdateCases`` of 100 cases (``priority``), by UUID and by key. Every
request is a real change of every case it names: the singles and each bulk
take cases of their own, and each pass over them sets NOT_DEFINED or P1 in turn
(the seed sets neither). Each bulk is checked afterwards to have written one
history row per case.

The table gives the median, p90 and p99 of the full HTTP round trip, and the bulk's
median over the single change's median, against the target: a bulk of 100
cases takes at most 10 times a single change. PostgreSQL is a throwaway
cluster started from the machine's binaries (``tests/support/postgres.py``,
``fsync`` on); SQLite runs as casebook ships (WAL, ``synchronous=FULL``).
Everything started is stopped at the end, by process id. Results:
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench import procs
from bench.seed import seed
from bench.stats import percentile

BULK = 100
TARGET = 10.0  # a bulk of BULK cases, over a single change (medians)
PRIORITIES = ("NOT_DEFINED", "P1")  # the seed sets neither: every pass changes every case


@dataclass
class Timing:
    name: str
    cases_each: int
    samples: list[float] = field(default_factory=list)  # seconds

    def percentile(self, p: float) -> float:
        return percentile(self.samples, p)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


class Client:
    """One keep-alive connection to the server, with the keys."""

    def __init__(self, port: int, keys: tuple[str, str]) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {
            "DD-API-KEY": keys[0],
            "DD-APPLICATION-KEY": keys[1],
            "Content-Type": "application/json",
        }

    def call(self, method: str, path: str, body: object = None) -> tuple[int, bytes, float]:
        payload = None if body is None else json.dumps(body).encode()
        start = time.perf_counter()
        self.conn.request(method, path, body=payload, headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - start

    def close(self) -> None:
        self.conn.close()


def _single(client: Client, case_id: str, priority: str) -> float:
    body = {"data": {"type": "case", "attributes": {"priority": priority}}}
    status, data, elapsed = client.call("POST", f"/api/v2/cases/{case_id}/priority", body)
    if status != 200:
        raise RuntimeError(f"UpdatePriority: {status} {data[:300]!r}")
    return elapsed


def _bulk(client: Client, refs: list[str], priority: str) -> float:
    attributes = {"case_ids": refs, "type": "priority", "payload": {"priority": priority}}
    body = {"data": {"type": "bulk", "attributes": attributes}}
    status, data, elapsed = client.call("POST", "/api/v2/cases/bulk", body)
    if status != 200:
        raise RuntimeError(f"BulkUpdateCases: {status} {data[:300]!r}")
    return elapsed


def _history_rows(client: Client, ref: str) -> int:
    status, data, _ = client.call("GET", f"/api/v2/cases/{ref}/timelines?page[size]=100")
    assert status == 200, data[:300]
    return sum(
        1
        for c in json.loads(data)["data"]
        if c["attributes"]["cell_content"].get("field") == "priority"
    )


def measure(
    port: int, keys: tuple[str, str], cases: list[tuple[str, str, str]], rounds: int, singles: int
) -> list[Timing]:
    """``rounds`` bulks by UUID and by key, and ``singles`` single changes, interleaved,
    after a warm-up of each."""
    client = Client(port, keys)
    single = Timing("UpdatePriority, 1 case", 1)
    by_id = Timing(f"BulkUpdateCases, {BULK} cases by UUID", BULK)
    by_key = Timing(f"BulkUpdateCases, {BULK} cases by key", BULK)
    # Cases of their own: the singles' first, then 100 per bulk batch.
    single_cases = [c[0] for c in cases[:singles]]
    batches = [cases[i : i + BULK] for i in range(singles, len(cases) - BULK + 1, BULK)]
    if len(batches) < 2:
        raise SystemExit(f"--cases {len(cases)} is too few: seed more")
    uses = {i: 0 for i in range(len(batches))}
    single_uses = 0
    try:
        for round_ in range(rounds + 1):  # round 0 warms up
            for timing, by in ((by_id, 0), (by_key, 1)):
                index = (2 * round_ + by) % len(batches)
                priority = PRIORITIES[uses[index] % 2]
                uses[index] += 1
                refs = [c[by] for c in batches[index]]
                elapsed = _bulk(client, refs, priority)
                if round_:
                    timing.samples.append(elapsed)
            per_round = max(1, singles // max(rounds, 1))
            for _ in range(per_round if round_ else 3):
                n = single_uses % len(single_cases)
                priority = PRIORITIES[(single_uses // len(single_cases)) % 2]
                elapsed = _single(client, single_cases[n], priority)
                single_uses += 1
                if round_:
                    single.samples.append(elapsed)
        # Every bulk changed every one of its cases: one priority row per use.
        for index, batch in enumerate(batches[:4]):
            for case in (batch[0], batch[-1]):
                assert _history_rows(client, case[0]) == uses[index], (index, case)
    finally:
        client.close()
    return [single, by_id, by_key]


def render(backend: str, timings: list[Timing], load: tuple[float, ...]) -> str:
    single = timings[0]
    lines = [
        f"### {backend}",
        "",
        "| request | n | p50 ms | p90 ms | p99 ms | per case ms | p50 vs single | target |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for t in timings:
        ratio = t.median / single.median
        target = "" if t is single else ("met" if ratio <= TARGET else "**missed**")
        if t is not single:
            target = f"≤ {TARGET:g}×: {target}"
        lines.append(
            f"| {t.name} | {len(t.samples)} | {t.median * 1e3:.2f} | {t.percentile(90) * 1e3:.2f}"
            f" | {t.percentile(99) * 1e3:.2f}"
            f" | {t.median * 1e3 / t.cases_each:.3f} | {ratio:.1f}× | {target} |"
        )
    lines += ["", f"load average after: {', '.join(f'{x:.1f}' for x in load)}"]
    return "\n".join(lines)


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    sys.path.insert(0, str(procs.REPO))
    from tests.support.postgres import PostgresCluster

    cluster = PostgresCluster(durable=True).start()
    try:
        yield cluster.create_database("bench")
    finally:
        cluster.stop()


def run(argv: list[str] | None = None) -> tuple[str, list[Timing]]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bulk", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=5_000, help="cases seeded")
    parser.add_argument("--rounds", type=int, default=100, help="timed bulks of each kind")
    parser.add_argument("--singles", type=int, default=300, help="timed single changes")
    args = parser.parse_args(argv)
    keys = (secrets.token_hex(16), secrets.token_hex(20))
    with (
        tempfile.TemporaryDirectory(prefix="casebook-bench-bulk-") as tmp,
        database(args.backend, Path(tmp)) as url,
    ):
        print(f"seeding {args.cases} cases", file=sys.stderr)
        seeded = seed(url, api_key=keys[0], app_key=keys[1], cases=args.cases, projects=0)
        server = procs.serve_one(url, keys)
        try:
            print("measuring", file=sys.stderr)
            timings = measure(server.port, keys, seeded.cases, args.rounds, args.singles)
        finally:
            server.stop()
    return render(args.backend, timings, os.getloadavg()), timings


def main(argv: list[str] | None = None) -> None:
    text, _ = run(argv)
    print(text)


if __name__ == "__main__":
    main()
