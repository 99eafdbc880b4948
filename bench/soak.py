"""Soak: the reliability scenarios of ``tests/reliability`` for minutes instead of seconds.

    python -m bench.soak --backend sqlite --minutes 10
    python -m bench.soak --backend postgres --minutes 10

SQLite: kill -9 cycles (two workers, eight clients, two organisations, three
projects) for most of the time, then writer contention, rollback after
allocation, graceful shutdown and the official client retrying through 429s
and 503s. PostgreSQL (a throwaway durable cluster from the machine's
binaries): three nodes and sixteen clients through rounds of faults (a node
SIGKILLed, ``pg_terminate_backend``, ``pg_ctl stop -m immediate``) for most of
the time, then rollback after allocation and graceful shutdown on PostgreSQL.

Prints each scenario's figures and exits 1 if any found a problem: a lost or
changed acknowledged write, a duplicate, a gap, a 500, a hang. See
docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.reliability import scenarios
from tests.reliability.scenarios import Result
from tests.support.postgres import PostgresCluster

# Seconds kept for the shorter scenarios that follow the main one.
RESERVE = {"sqlite": 90.0, "postgres": 45.0}


def _run(results: list[Result], name: str, work: Path, step: Callable[[Path], Result]) -> None:
    folder = work / name
    folder.mkdir()
    print(f"soak: {name} ...", flush=True)
    try:
        result = step(folder)
    except Exception as exc:  # a scenario that cannot go on is a finding, not the end
        result = Result(name, problems=[f"scenario crashed: {type(exc).__name__}: {exc}"])
    results.append(result)
    print(_format(result), flush=True)


def _format(result: Result) -> str:
    lines = [f"== {result.name}: {'ok' if result.ok else 'FAILED'}"]
    for key, value in sorted(result.figures.items()):
        lines.append(f"   {key:30} {json.dumps(value, sort_keys=True)}")
    lines += [f"   problem: {p}" for p in result.problems[:20]]
    return "\n".join(lines)


def soak_sqlite(work: Path, seconds: float, seed: int) -> list[Result]:
    results: list[Result] = []
    _run(
        results,
        "sqlite-kill",
        work,
        lambda d: scenarios.sqlite_kill(
            d,
            max_cycles=10**6,
            max_seconds=seconds,
            fill_time=True,
            seed=seed,
        ),
    )
    _run(
        results,
        "sqlite-contention",
        work,
        lambda d: scenarios.sqlite_contention(d, long_holds=4, short_holds=40),
    )
    _run(
        results,
        "rollback-after-allocate",
        work,
        lambda d: scenarios.rollback_after_allocate(
            f"sqlite:///{d / 'casebook.db'}", d, creates=3000
        ),
    )
    for n in range(3):
        _run(
            results,
            f"graceful-shutdown-{n + 1}",
            work,
            lambda d: scenarios.graceful_shutdown(f"sqlite:///{d / 'casebook.db'}", d, load_s=2.0),
        )
    _run(
        results,
        "client-retry",
        work,
        lambda d: scenarios.client_retry(d, threads=4, calls_each=12),
    )
    return results


def soak_postgres(work: Path, seconds: float, seed: int) -> list[Result]:
    results: list[Result] = []
    cluster = PostgresCluster(durable=True).start()
    try:
        _run(
            results,
            "postgres-nodes",
            work,
            lambda d: scenarios.postgres_nodes(
                cluster,
                d,
                max_seconds=seconds,
                fill_time=True,
                seed=seed,
            ),
        )

        def database() -> str:
            return cluster.create_database(f"soak_{secrets.token_hex(4)}")

        _run(
            results,
            "rollback-after-allocate",
            work,
            lambda d: scenarios.rollback_after_allocate(database(), d, creates=3000),
        )
        for n in range(3):
            _run(
                results,
                f"graceful-shutdown-{n + 1}",
                work,
                lambda d: scenarios.graceful_shutdown(database(), d, load_s=2.0),
            )
    finally:
        cluster.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--minutes", type=float, default=10.0, help="total run time (about)")
    parser.add_argument("--seed", type=int, default=None, help="repeat a run's random choices")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, data)")
    args = parser.parse_args(argv)

    seed = secrets.randbelow(2**31) if args.seed is None else args.seed
    budget = max(60.0, args.minutes * 60)
    main_seconds = max(30.0, budget - RESERVE[args.backend])
    work = Path(tempfile.mkdtemp(prefix="casebook-soak-"))
    print(f"soak: backend {args.backend}, {budget / 60:.1f} min, seed {seed}, work in {work}")
    began = time.monotonic()
    if args.backend == "sqlite":
        results = soak_sqlite(work, main_seconds, seed)
    else:
        results = soak_postgres(work, main_seconds, seed)
    elapsed = time.monotonic() - began
    failed = [r.name for r in results if not r.ok]
    if failed or args.keep:
        print(f"soak: logs and data kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    main_figures = results[0].figures
    print(
        f"soak: {args.backend}: {len(results)} scenarios in {elapsed / 60:.1f} min;"
        f" acknowledged writes {sum(r.figures.get('acknowledged', 0) for r in results)};"
        f" kill cycles {main_figures.get('kill_cycles', 0)};"
        f" fault rounds {main_figures.get('fault_rounds', 0)};"
        f" {'FAILED: ' + ', '.join(failed) if failed else 'no problems'}"
    )
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "backend": args.backend,
                    "seed": seed,
                    "minutes": round(elapsed / 60, 2),
                    "results": [
                        {"name": r.name, "ok": r.ok, "figures": r.figures, "problems": r.problems}
                        for r in results
                    ],
                },
                indent=2,
                sort_keys=True,
            )
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
