"""Counts and aggregates at scale: time CountCases and AggregateCases over the data
``bench.search`` seeds, through the HTTP API of one ``casebook serve`` process.

    python -m bench.reports --backend sqlite --cases 100000
    python -m bench.reports --database-url sqlite:///PATH --no-seed   (a kept bench.search DB)

Every query of the mix (``MIX``) has a facet filter, as the target is stated
("count and aggregate over 1M cases with a facet filter: p99 <= 200 ms"); a few
rows without one show what counting a whole organisation costs. The mix runs
round-robin, ``--rounds`` times per query after two warm-up rounds, one request
at a time over one keep-alive connection; the table shows the matches and p50 and
p99 of the full HTTP round trip. ``--explain`` prints the plan of each statement.
Results: ``docs/benchmarks-search.md`` (Counts and aggregates).
"""

from __future__ import annotations

import http.client
import json
import secrets
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench.search import console, database, mix_arguments, running_server, seed
from bench.stats import percentile
from casebook.core.clock import now_us
from casebook.domain import users as users_domain
from casebook.search.grouping import parse_group_by
from casebook.search.parser import parse
from casebook.storage import Store, open_store
from casebook.storage.urls import DatabaseUrl

ENUMS = ("status", "status_group", "priority")  # counted by sums (storage/sql_counts.py)


@dataclass(frozen=True)
class Query:
    kind: str  # count, aggregate, count (no filter)
    filter: str
    groups: tuple[str, ...]
    limit: int = 100

    @property
    def label(self) -> str:
        return f"{self.filter or '(none)'} by {','.join(self.groups) or '-'}"

    def request(self) -> tuple[str, str, bytes | None]:
        """(method, path, body)."""
        if self.kind.startswith("count"):
            pairs = [("group_bys", ",".join(self.groups)), ("limit", str(self.limit))]
            if self.filter:
                pairs.insert(0, ("query_filter", self.filter))
            return "GET", f"/api/v2/cases/count?{urllib.parse.urlencode(pairs)}", None
        attributes = {
            "query_filter": self.filter,
            "group_by": {"groups": list(self.groups), "limit": self.limit},
        }
        body = {"data": {"type": "aggregate", "attributes": attributes}}
        return "POST", "/api/v2/cases/aggregate", json.dumps(body).encode()


MIX: list[Query] = [
    Query("count", "status:open", ("priority",)),
    Query("count", "priority:P1", ("status", "project")),
    Query("count", "project:NET status:in_progress", ("assignee",)),
    Query("count", "service:payments", ("status", "priority")),
    Query("count", "team:case-management", ("status",)),
    Query("count", "-assignee:* status:open", ("priority",)),
    Query("count", "created_at:>now-30d", ("status", "priority")),
    Query("count", "customer_tier:gold priority:P1", ("status",)),
    Query("count", 'type:"Security Incident" status:open', ("status_name", "tags")),
    Query("count", "status:open", ("service",)),
    Query("aggregate", "service:case-api", ("status",)),  # the spec's example: no match
    Query("aggregate", "service:payments", ("status", "priority")),
    Query("aggregate", "status:open", ("priority", "project")),
    Query("aggregate", "team:case-management", ("status", "priority")),
    Query("aggregate", "region:eu-west-1", ("status", "detection")),
    Query("aggregate", "archived:true", ("priority",)),
    Query("count (no filter)", "", ("status",)),
    Query("count (no filter)", "", ("status", "priority", "assignee")),
    Query("aggregate (no filter)", "", ("status", "priority")),
]


@dataclass
class Timing:
    query: Query
    samples: list[float] = field(default_factory=list)
    total: int = 0

    def percentile(self, p: float) -> float:
        return percentile(self.samples, p)


def measure(
    port: int, api_key: str, app_key: str, mix: Sequence[Query], rounds: int
) -> list[Timing]:
    headers = {
        "DD-API-KEY": api_key,
        "DD-APPLICATION-KEY": app_key,
        "Content-Type": "application/json",
    }
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    timings = [Timing(q) for q in mix]
    requests = [q.request() for q in mix]
    for round_ in range(rounds + 2):
        for timing, (method, path, body) in zip(timings, requests, strict=True):
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            elapsed = time.perf_counter() - start
            if response.status != 200:
                raise RuntimeError(f"{timing.query.label}: {response.status} {answer[:300]!r}")
            if round_ >= 2:
                timing.samples.append(elapsed)
            else:
                timing.total = int(json.loads(answer)["data"]["attributes"]["total"])
        console.print(f"round {round_ + 1} of {rounds + 2}", end="\r")
    conn.close()
    return timings


def explain(store: Store, mix: Sequence[Query]) -> str:
    """The plan of each statement of each query (Markdown)."""
    with store.read(snapshot=True) as tx:
        org = tx.orgs.by_name("default")
        assert org is not None
        actor = tx.users.by_email(org.id, users_domain.BOOTSTRAP_ADMIN_EMAIL)
        assert actor is not None
        run: Any = tx.sql.all  # type: ignore[attr-defined]
        out = []
        for query in mix:
            counter = tx.cases.counter(
                org.id, parse(query.filter, now_us=now_us()), actor_user_id=actor.id
            )
            groups = [parse_group_by(g) for g in query.groups]
            statements = [("total", counter.total_statement())]
            if query.kind.startswith("count"):
                statements = [("enumerations", counter.enum_statement(groups))]
                statements = statements if any(g.name in ENUMS for g in groups) else []
                for g in groups:
                    if counter.multi(g):
                        statements.append((g.name, counter.groups_statement([g], query.limit)))
                    elif g.name not in ENUMS:
                        statements.append((g.name, counter.all_groups_statement([g])))
            elif groups and not any(counter.multi(g) for g in groups):
                statements = [("groups", counter.all_groups_statement(groups))]
            else:
                statements.append(("groups", counter.groups_statement(groups, query.limit)))
            out.append(f"#### {query.kind}: `{query.label}`\n")
            for name, statement in statements:
                if store.dialect == "sqlite":
                    rows = run("EXPLAIN QUERY PLAN " + statement.sql, statement.params)
                    depth: dict[object, int] = {0: -1}
                    lines = []
                    for node_id, parent, _unused, detail in rows:
                        depth[node_id] = depth.get(parent, -1) + 1
                        lines.append("  " * depth[node_id] + str(detail))
                else:
                    prefix = "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) "
                    lines = [str(r[0]) for r in run(prefix + statement.sql, statement.params)]
                out.append(f"{name}:\n```\n{statement.sql}\n\n" + "\n".join(lines) + "\n```\n")
        return "\n".join(out)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def markdown(passes: Sequence[Sequence[Timing]]) -> str:
    heads = " | ".join("p50 ms | p99 ms" for _ in passes)
    lines = [
        f"| kind | filter, by | matches | {heads} |",
        "|---|---|---:|" + "---:|---:|" * len(passes),
    ]
    for row in zip(*passes, strict=True):
        t = row[0]
        cells = " | ".join(f"{_ms(p.percentile(50))} | {_ms(p.percentile(99))}" for p in row)
        label = t.query.label.replace("|", "\\|")
        lines.append(f"| {t.query.kind} | `{label}` | {t.total:,} | {cells} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = mix_arguments("python -m bench.reports", __doc__.split("\n\n")[0], rounds=100)
    args = parser.parse_args(argv)
    api_key, app_key = secrets.token_hex(16), secrets.token_hex(20)
    mix = [q for q in MIX if args.only is None or args.only in q.label]
    with database(args.backend, args.database_url, args.keep) as url:
        store = open_store(DatabaseUrl.parse(url), sqlite_synchronous="NORMAL")
        try:
            if not args.no_seed:
                result = seed(store, args.cases)
                console.print(f"seeded {result.cases:,} cases in {result.seconds:.1f} s")
            store.migrate()
            if args.explain:
                print(explain(store, mix))
        finally:
            store.close()
        with running_server(url, api_key, app_key) as port:
            passes = [measure(port, api_key, app_key, mix, args.rounds) for _ in range(args.passes)]
    backend = args.backend
    if args.database_url:
        backend = "sqlite" if args.database_url.startswith("sqlite") else "postgres"
    cases = "" if args.no_seed else f"{args.cases:,} cases, "
    title = f"{backend}, {cases}{args.rounds} requests per query"
    if args.markdown:
        print(f"\n{title}, {args.passes} passes\n\n{markdown(passes)}")
        return 0
    for number, timings in enumerate(passes, 1):
        table = Table(title=f"{title} (pass {number} of {args.passes})")
        for name in ("kind", "filter, by", "matches", "p50 ms", "p99 ms"):
            table.add_column(name, justify="right" if name[0] in "mp" else "left")
        for t in timings:
            table.add_row(
                t.query.kind,
                escape(t.query.label),
                f"{t.total:,}",
                _ms(t.percentile(50)),
                _ms(t.percentile(99)),
            )
        Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
