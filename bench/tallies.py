"""What keeping the case tallies costs a write: creates and changes with the tally triggers
(migration 0011) against the same without them, on one machine, in one run.

    python -m bench.tallies --backend sqlite|postgres [--rounds 10] [--per-round 200]

Two databases of the same back end, migrated alike; the tally triggers are dropped from
the second. Rounds alternate between them (so both see the same machine): each round
creates ``--per-round`` cases with two attribute values (``service``, ``team``) through
``domain.cases.create_case``, then changes each one's priority (``update_priority``) --
one transaction per command, as the API runs them. The table gives the median time per
command with and without the triggers, and their ratio. SQLite runs as casebook ships
(WAL, ``synchronous=FULL``); PostgreSQL is a throwaway cluster from the machine's
binaries (``tests/support/postgres.py``), stopped at the end. Results:
``docs/benchmarks-search.md`` (Counts and aggregates).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from casebook.core.entities import Actor
from casebook.domain import cases, projects
from casebook.domain import users as users_domain
from casebook.domain.keys import Authenticator, load_secret
from casebook.storage import Store, open_store
from casebook.storage.urls import DatabaseUrl

REPO = Path(__file__).resolve().parent.parent
_DROP = {
    "sqlite": [
        f"DROP TRIGGER {name}_{suffix}"
        for name in ("case_tallies", "case_value_tallies")
        for suffix in ("ai", "au", "ad")
    ],
    "postgres": [
        "DROP TRIGGER case_tallies_sync ON cases",
        "DROP TRIGGER case_value_tallies_sync ON cases",
    ],
}


@contextmanager
def databases(backend: str) -> Iterator[tuple[str, str]]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="casebook-bench-tallies-") as folder:
            yield f"sqlite:///{folder}/with.db", f"sqlite:///{folder}/without.db"
        return
    sys.path.insert(0, str(REPO))
    from tests.support.postgres import PostgresCluster

    cluster = PostgresCluster(durable=True).start()
    try:
        yield cluster.create_database("with"), cluster.create_database("without")
    finally:
        cluster.stop()


def prepare(url: str, *, triggers: bool) -> tuple[Store, Actor, str]:
    store = open_store(DatabaseUrl.parse(url))
    store.migrate()
    if not triggers:
        with store.write() as tx:
            for statement in _DROP[store.dialect]:
                tx.sql.execute(statement)  # type: ignore[attr-defined]
    result = users_domain.bootstrap(store, "", api_key="", app_key="")
    assert result.created_keys is not None
    keys = result.created_keys
    actor = Authenticator(store, load_secret(store, "")).authenticate(keys.api_key, keys.app_key)
    project = projects.create_project(store, actor=actor, key="BENCH", name="Bench")
    return store, actor, project.id


def timed(count: int, command: Callable[[int], object]) -> float:
    """Seconds per command, for ``count`` commands."""
    start = time.perf_counter()
    for i in range(count):
        command(i)
    return (time.perf_counter() - start) / count


def one_round(side: tuple[Store, Actor, str], label: str, count: int) -> tuple[float, float]:
    """Seconds per create (with its attributes) and per priority change, ``count`` each."""
    store, actor, project_id = side
    made: list[str] = []

    def create(i: int) -> None:
        case = cases.create_case(
            store, actor=actor, project_id=project_id, title=f"case {label}-{i}", priority="P3"
        )
        attributes = {"service": [f"svc-{i % 7}"], "team": [f"team-{i % 3}"]}
        cases.update_attributes(store, case.id, actor=actor, attributes=attributes)
        made.append(case.id)

    def change(i: int) -> None:
        cases.update_priority(store, made[i], actor=actor, priority="P1")

    return timed(count, create), timed(count, change)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--per-round", type=int, default=200)
    args = parser.parse_args()
    console = Console()
    samples: dict[tuple[str, bool], list[float]] = {}
    with databases(args.backend) as (with_url, without_url):
        sides = {
            True: prepare(with_url, triggers=True),
            False: prepare(without_url, triggers=False),
        }
        for round_number in range(args.rounds):
            for triggers in (True, False) if round_number % 2 == 0 else (False, True):
                per_create, per_change = one_round(
                    sides[triggers], str(round_number), args.per_round
                )
                samples.setdefault(("create + attributes", triggers), []).append(per_create)
                samples.setdefault(("priority change", triggers), []).append(per_change)
        for store, _, _ in sides.values():
            store.close()
    table = Table(title=f"{args.backend}: {args.rounds} rounds of {args.per_round}, ms per command")
    for column in ("command", "with tallies", "without", "ratio"):
        table.add_column(column, justify="right" if column != "command" else "left")
    for command in ("create + attributes", "priority change"):
        with_ms = statistics.median(samples[(command, True)]) * 1000
        without_ms = statistics.median(samples[(command, False)]) * 1000
        table.add_row(command, f"{with_ms:.2f}", f"{without_ms:.2f}", f"{with_ms / without_ms:.2f}")
    console.print(table)


if __name__ == "__main__":
    main()
