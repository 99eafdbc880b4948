"""What metrics cost: GET a case by id with ``CASEBOOK_METRICS=1`` and ``=0``, same sitting.

    python -m bench.metrics [--backend sqlite|postgres] [--slices 6] [--seconds 3]
    python -m bench.metrics --in-process [--requests 20000]

One database is seeded (``bench.seed``), then two ``casebook serve`` processes are
started on it, identical but for ``CASEBOOK_METRICS``. The GET-by-UUID load runs
against each in turn, ``--slices`` times, alternating which goes first, so drift
on a shared machine falls on both alike. Both log a JSON line per request (the
log cannot be switched off), so the ratio is the cost of the metrics alone. Prints
requests/s, p50, p99 and the server's CPU per request of each, and the ratios
(issue 17: at most 5 % lost). Loopback only; bounded in time; both servers are
stopped at the end.

On a small shared machine the load generator and the neighbours make requests/s
jump by ±20 % from run to run, far more than what is measured; the server's CPU
per request is steadier, and ``--in-process`` steadier still: two apps built by
``create_app`` (metrics on and off) on one SQLite database, called directly as ASGI
applications, alternating in rounds of 1,000 requests (no network, no log
handler: the cost of the app and its metrics alone).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from pathlib import Path

from bench import procs
from bench.http import Runner, log, running
from bench.load import Load, LoadResult, merge
from bench.seed import seed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=2_000, help="cases to seed")
    parser.add_argument("--slices", type=int, default=6, help="runs of each variant")
    parser.add_argument("--seconds", type=float, default=3.0, help="per run")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--python-requests", type=int, default=20_000)
    parser.add_argument("--in-process", action="store_true", help="call the ASGI apps directly")
    parser.add_argument("--requests", type=int, default=20_000, help="per variant, --in-process")
    args = parser.parse_args(argv)
    if not (1 <= args.slices <= 20 and 0.5 <= args.seconds <= 30):
        parser.error("keep it short: 1-20 slices of 0.5-30 seconds")
    return args


def _database(args: argparse.Namespace, folder: Path) -> tuple[str, object]:
    """A fresh database URL (and what must stay alive for it)."""
    if args.backend == "sqlite":
        return f"sqlite:///{folder / 'metrics.db'}", None
    from tests.support.postgres import PostgresCluster

    cluster = PostgresCluster().start()
    return cluster.create_database("bench_metrics"), cluster


def _in_process(args: argparse.Namespace) -> None:
    import asyncio
    import time

    from casebook.config import load_settings
    from casebook.http.app import create_app
    from casebook.storage import open_store

    keys = (secrets.token_hex(16), secrets.token_hex(20))
    with tempfile.TemporaryDirectory(prefix="casebook-bench-metrics-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'metrics.db'}"
        seeded = seed(url, api_key=keys[0], app_key=keys[1], cases=args.cases)
        headers = [(b"dd-api-key", keys[0].encode()), (b"dd-application-key", keys[1].encode())]
        paths = [f"/api/v2/cases/{c[0]}" for c in seeded.cases]
        apps = {}
        stores = []
        for name, flag in (("metrics on", "1"), ("metrics off", "0")):
            env = {"CASEBOOK_DATABASE_URL": url, "CASEBOOK_RATE_LIMIT": "off"}
            settings = load_settings({**env, "CASEBOOK_METRICS": flag})
            store = open_store(settings.database_url)
            stores.append(store)
            apps[name] = create_app(settings, store)

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        statuses: list[int] = []

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])  # type: ignore[arg-type]

        async def run(app: object, count: int, offset: int) -> float:
            started = time.perf_counter()
            for i in range(count):
                path = paths[(offset + i) % len(paths)]
                scope = {
                    "type": "http",
                    "method": "GET",
                    "path": path,
                    "raw_path": path.encode(),
                    "query_string": b"",
                    "headers": headers,
                    "client": ("127.0.0.1", 50000),
                    "server": ("127.0.0.1", 8080),
                    "scheme": "http",
                    "root_path": "",
                    "http_version": "1.1",
                }
                await app(scope, receive, send)  # type: ignore[operator]
            return time.perf_counter() - started

        async def rounds() -> dict[str, float]:
            spent = {name: 0.0 for name in apps}
            for app in apps.values():
                await run(app, 500, 0)  # warm-up
            done = 0
            while done < args.requests:
                order = list(apps.items()) if done % 2000 == 0 else list(apps.items())[::-1]
                for name, app in order:
                    spent[name] += await run(app, 1000, done)
                done += 1000
            return spent

        try:
            spent = asyncio.run(rounds())
        finally:
            for store in stores:
                store.close()
    assert set(statuses) == {200}, set(statuses)
    print(f"GET case by UUID in-process (ASGI calls), sqlite, {args.requests} requests each")
    for name, seconds in spent.items():
        print(f"{name:12} {seconds / args.requests * 1e6:8.1f} µs per request")
    ratio = spent["metrics off"] / spent["metrics on"]
    print(f"throughput ratio on/off: {ratio:.3f} ({(1 - ratio) * 100:+.1f} % lost with metrics on)")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.in_process:
        _in_process(args)
        return
    keys = (secrets.token_hex(16), secrets.token_hex(20))
    runner = Runner(args, keys)
    with tempfile.TemporaryDirectory(prefix="casebook-bench-metrics-") as scratch:
        url, cluster = _database(args, Path(scratch))
        try:
            log(f"seeding {args.cases} cases ({args.backend})")
            seeded = seed(url, api_key=keys[0], app_key=keys[1], cases=args.cases)
            load = Load("get", paths=[f"/api/v2/cases/{c[0]}" for c in seeded.cases])
            env = {
                "CASEBOOK_DATABASE_URL": url,
                "CASEBOOK_API_KEY": keys[0],
                "CASEBOOK_APP_KEY": keys[1],
                "CASEBOOK_RATE_LIMIT": "off",
                "CASEBOOK_DELIVERY_WORKER": "0",
                "CASEBOOK_LOG_FORMAT": "json",
            }
            servers = {
                name: procs.casebook_serve(
                    args.workers, procs.free_port(), {**env, "CASEBOOK_METRICS": flag}
                )
                for name, flag in (("metrics on", "1"), ("metrics off", "0"))
            }
            results: dict[str, list[LoadResult]] = {name: [] for name in servers}
            with running(servers["metrics on"]) as on, running(servers["metrics off"]) as off:
                on.start()
                off.start()
                for name, server in (("metrics on", on), ("metrics off", off)):
                    runner.run(server, load, seconds=1.0)  # warm-up, not counted
                    log(f"{name}: warmed up")
                for i in range(args.slices):
                    order = [("metrics on", on), ("metrics off", off)]
                    if i % 2:
                        order.reverse()
                    for name, server in order:
                        result = runner.run(server, load)
                        results[name].append(result)
                        log(f"slice {i + 1} {name}: {result.rate:,.0f} req/s")
        finally:
            if cluster is not None:
                cluster.stop()  # type: ignore[attr-defined]
    merged = {name: merge(runs) for name, runs in results.items()}
    generator = "wrk" if runner.use_wrk else "python"
    print(
        f"GET case by UUID, {args.backend}, {args.workers} workers, {args.connections}"
        f" connections ({generator}), {args.slices} x {args.seconds:g} s each, alternating;"
        f" host: {os.cpu_count()} cores"
    )
    print(f"{'':12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'CPU µs/req':>11}")
    cpu = {}
    for name, result in merged.items():
        runs = results[name]
        cpu[name] = sum(r.cpu_s for r in runs) * 1e6 / max(sum(r.requests for r in runs), 1)
        print(
            f"{name:12} {result.rate:9,.0f} {result.p50_ms:8.2f} {result.p99_ms:8.2f}"
            f" {result.errors:7d} {cpu[name]:11.1f}"
        )
    ratio = merged["metrics on"].rate / merged["metrics off"].rate
    print(f"ratio on/off: {ratio:.3f} ({(1 - ratio) * 100:+.1f} % lost with metrics on)")
    cpu_ratio = cpu["metrics off"] / cpu["metrics on"]
    print(f"server CPU per request, off/on: {cpu_ratio:.3f} ({(1 - cpu_ratio) * 100:+.1f} %)")
    per_slice = [
        a.rate / b.rate for a, b in zip(results["metrics on"], results["metrics off"], strict=True)
    ]
    print("per slice:", " ".join(f"{r:.3f}" for r in per_slice))


if __name__ == "__main__":
    sys.exit(main())
