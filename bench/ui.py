"""The web UI's pages with 10,000 cases: how long the server takes to answer each.

    python -m bench.ui --backend sqlite|postgres [--cases 10000] [--rounds 200]

One ``casebook serve`` (one worker, rate limit off) on a database seeded with ``--cases``
cases (``bench.seed``: project ``BENCH``, statuses and priorities at random). One client
signs in as the admin and, on one keep-alive connection, asks for each page in turn,
``--rounds`` times after a warm-up (10 s of every page; the seed's tallies are folded before
the server starts): the case list (newest first, and a search), a case page,
the board of the project, and the live checks that an open page repeats every 3 s (answered
204 while nothing changed). The table gives the median, p90 and p99 of the full round trip
over loopback (so the server's time plus a fraction of a millisecond), against the issue's
targets for the list, the case page and the board: p50 ≤ 20 ms, p99 ≤ 60 ms. It also gives
the JavaScript and CSS a page ships (target ≤ 100 KB). Results: ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx

from bench import procs
from bench.bulk import database
from bench.seed import seed
from bench.stats import percentile
from casebook.domain import events, sessions
from casebook.domain import users as users_domain
from casebook.storage import open_store, tallies
from casebook.storage.urls import DatabaseUrl

P50_MS, P99_MS = 20.0, 60.0
WEIGHT_KB = 100
SETTLE_SECONDS = 10.0
PASSWORD = "bench password"  # noqa: S105 -- a throwaway database's


def _sign_in(client: httpx.Client) -> None:
    form = client.get("/signin").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    data = {
        "csrf_token": token[1],
        "email": users_domain.BOOTSTRAP_ADMIN_EMAIL,
        "password": PASSWORD,
    }
    assert client.post("/signin", data=data).status_code == 303


def _time(client: httpx.Client, path: str, rounds: int, status: int) -> list[float]:
    for _ in range(min(rounds, 10)):
        client.get(path)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - start)
        assert response.status_code == status, (path, response.status_code)
    return samples


def measure(
    port: int, key: str, rounds: int, settle_seconds: float = SETTLE_SECONDS
) -> tuple[list[tuple[str, list[float], bool]], int]:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        _sign_in(client)
        page = client.get(f"/cases/{key}").text
        version = re.search(rf"/cases/{key}/live\?v=(\d+)", page)
        assert version is not None
        listed = client.get("/").text
        digest = re.search(r"live=([0-9a-f]+)", listed)
        assert digest is not None
        weight = sum(
            len(client.get(url).content)
            for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', listed)
        )
        pages = [
            ("case list /", "/", 200, True),
            ("search status:open priority:P2", "/?q=status%3Aopen+priority%3AP2", 200, True),
            (f"case page /cases/{key}", f"/cases/{key}", 200, True),
            ("board /board?project=BENCH", "/board?project=BENCH", 200, True),
            ("live check, case page (204)", f"/cases/{key}/live?v={version[1]}", 204, False),
            ("live check, list (204)", f"/live/cases?page=1&live={digest[1]}", 204, False),
            ("case list / (again, last)", "/", 200, True),
        ]
        results = [
            (name, _time(client, path, rounds, status), t) for name, path, status, t in pages
        ]
    return results, weight


def render(
    backend: str, cases: int, results: list[tuple[str, list[float], bool]], weight: int
) -> str:
    load = os.getloadavg()
    lines = [
        f"UI pages, {backend}, {cases} cases, one worker; load {load[0]:.2f}",
        "",
        "| page | p50 ms | p90 ms | p99 ms | target (p50/p99) |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, samples, targeted in results:
        p50 = statistics.median(samples) * 1000
        p90 = percentile(samples, 90) * 1000
        p99 = percentile(samples, 99) * 1000
        verdict = ""
        if targeted:
            met = p50 <= P50_MS and p99 <= P99_MS
            verdict = f"≤ {P50_MS:.0f}/{P99_MS:.0f}: {'met' if met else 'MISSED'}"
        lines.append(f"| {name} | {p50:.1f} | {p90:.1f} | {p99:.1f} | {verdict} |")
    lines.append("")
    lines.append(
        f"JavaScript and CSS of a page: {weight / 1024:.1f} KB (target ≤ {WEIGHT_KB} KB:"
        f" {'met' if weight <= WEIGHT_KB * 1024 else 'MISSED'})"
    )
    return "\n".join(lines)


def run(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ui", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=10_000, help="cases seeded")
    parser.add_argument("--rounds", type=int, default=200, help="timed requests of each page")
    parser.add_argument(
        "--settle", type=float, default=SETTLE_SECONDS, help="seconds of warm-up before timing"
    )
    args = parser.parse_args(argv)
    keys = (secrets.token_hex(16), secrets.token_hex(20))
    with (
        tempfile.TemporaryDirectory(prefix="casebook-bench-ui-") as tmp,
        database(args.backend, Path(tmp)) as url,
    ):
        print(f"seeding {args.cases} cases", file=sys.stderr)
        seeded = seed(url, api_key=keys[0], app_key=keys[1], cases=args.cases, projects=0)
        store = open_store(DatabaseUrl.parse(url))
        try:
            # Do now what the seed left to the delivery worker (its outbox of 10,000 "created"
            # events and the tallies to fold), which it would otherwise do while the first
            # pages are timed.
            while events.handle_events(store, limit=1000):
                pass
            while True:
                with store.write() as tx:
                    if not tallies.pending(tx.sql, 1):  # type: ignore[attr-defined]
                        break
                    tallies.fold(tx.sql, 50_000)  # type: ignore[attr-defined]
            sessions.set_password(
                store,
                org_name=users_domain.DEFAULT_ORG,
                email=users_domain.BOOTSTRAP_ADMIN_EMAIL,
                password=PASSWORD,
            )
        finally:
            store.close()
        server = procs.serve_one(url, keys)
        try:
            print("measuring", file=sys.stderr)
            middle = seeded.cases[len(seeded.cases) // 2][1]
            results, weight = measure(server.port, middle, args.rounds, args.settle)
        finally:
            server.stop()
    return render(args.backend, args.cases, results, weight)


def main(argv: list[str] | None = None) -> None:
    print(run(argv))


if __name__ == "__main__":
    main()
