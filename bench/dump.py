"""Export and import rates (cases per second) of ``casebook export`` / ``import``.

Seeds ``--cases`` cases (each with its ``created`` history row) on SQLite through the
store in bulk (``bench/seed.py``), then times, in process and without the progress bar:
the export from SQLite, the import of that dump into a fresh SQLite database and into a
fresh PostgreSQL database (a throwaway local cluster, fsync on), and the export from
PostgreSQL. Everything stays on this machine and stops by itself.

    python -m bench.dump --cases 10000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.seed import seed
from casebook.storage import Store, open_store
from casebook.storage.dump import export_dump, import_dump, read_lines
from casebook.storage.urls import DatabaseUrl

REPO = Path(__file__).resolve().parents[1]
MAX_CASES = 200_000


def _store(url: str) -> Store:
    store = open_store(DatabaseUrl.parse(url), statement_timeout_ms=0)
    store.migrate()
    return store


def _export(url: str, path: Path) -> float:
    store = _store(url)
    try:
        started = time.perf_counter()
        with path.open("wb") as out:
            export_dump(store, out)
        return time.perf_counter() - started
    finally:
        store.close()


def _import(url: str, path: Path) -> float:
    store = _store(url)
    try:
        started = time.perf_counter()
        import_dump(store, read_lines(path), size=path.stat().st_size)
        return time.perf_counter() - started
    finally:
        store.close()


def run(argv: Sequence[str] | None = None) -> list[tuple[str, float]]:
    parser = argparse.ArgumentParser(prog="python -m bench.dump", description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    if not 0 < args.cases <= MAX_CASES:
        parser.error(f"--cases: 1 to {MAX_CASES}")
    sys.path.insert(0, str(REPO))
    from tests.support.postgres import PostgresCluster

    results: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="casebook-bench-dump-") as folder:
        source = f"sqlite:///{folder}/source.db"
        started = time.perf_counter()
        seed(source, api_key="0" * 32, app_key="1" * 40, cases=args.cases, projects=2)
        print(f"seeded {args.cases} cases in {time.perf_counter() - started:.1f} s", flush=True)
        dump, again = Path(folder) / "all.jsonl", Path(folder) / "again.jsonl"
        results.append(("export from SQLite", _export(source, dump)))
        size_mb = dump.stat().st_size / 1e6
        print(f"dump: {size_mb:.1f} MB", flush=True)
        results.append(("import into SQLite", _import(f"sqlite:///{folder}/target.db", dump)))
        if not args.no_postgres:
            cluster = PostgresCluster(durable=True).start()
            try:
                target = cluster.create_database("target")
                results.append(("import into PostgreSQL", _import(target, dump)))
                results.append(("export from PostgreSQL", _export(target, again)))
                if again.read_bytes() != dump.read_bytes():
                    print("warning: the PostgreSQL dump differs from the SQLite one")
            finally:
                cluster.stop()
    for label, seconds in results:
        print(f"{label:<24} {seconds:7.2f} s  {args.cases / seconds:9.0f} cases/s", flush=True)
    return results


if __name__ == "__main__":
    run()
