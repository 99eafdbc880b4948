"""casebook over HTTP against the stack's ceiling and the bare driver, in one run.

    python -m bench.http --backend sqlite|postgres --seconds 10 [--soak-seconds 300]

1. The ceiling (``bench.ceiling``: Starlette + orjson, no database, same worker
   count) is started and kept running.
2. ``casebook serve`` is started on a fresh database (time to a 200 from
   /healthz is measured), stopped, the database is seeded with ``--cases``
   cases through casebook's storage layer, and started again.
3. Each endpoint (GET by UUID, GET by key, search, POST status, POST create)
   is measured in ``--slices`` short runs, alternating with its baselines: the
   ceiling's GET or POST and, for writes, the raw-storage ceiling
   (``bench.raw_storage``: casebook's create transaction on the bare driver
   at the same durability). Pairing the runs in time keeps the ratios honest
   on a machine whose neighbours and disk-flush cost drift from minute to minute.
4. A table: requests/s, p50, p99, the ratio to the paired ceiling, errors,
   and each target met or missed; peak RSS per worker; optionally a soak
   (RSS growth) and a py-spy profile of the busiest worker.

Load comes from ``wrk`` (a separate process, loopback only, bounded in time);
without wrk, or with ``--loadgen python``, from a small Python generator.
Everything started is stopped at the end, by process id.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from bench import load as loadgen
from bench import procs, raw_storage
from bench.ceiling import create_body
from bench.load import Load, LoadResult
from bench.seed import Seeded, seed

SEARCH_FILTER = "status:open priority:P2"
SEARCH_PATH = "/api/v2/cases?" + urllib.parse.urlencode(
    {"filter": SEARCH_FILTER, "page[size]": "50"}
)

# Targets (docs/benchmarks.md). Ratios are of the matching ceiling.
GET_TARGET = {"sqlite": 0.60, "postgres": 0.25}
SEARCH_TARGET = 0.15
SQLITE_WRITE_TARGET = 0.50  # of the raw-storage create ceiling, synchronous=FULL
POSTGRES_CREATE_TARGET = 0.75  # of the raw driver, one project
TAIL_TARGET = 5.0  # p99 / p50
RSS_TARGET_MB = 150.0
RSS_GROWTH_TARGET = 0.05
HEALTHZ_TARGET_S = 1.5


@dataclass
class Row:
    """One endpoint, with the baselines measured in alternation with it."""

    name: str
    result: LoadResult
    ceiling_name: str  # "GET" or "POST"
    ceiling: LoadResult
    raw_name: str = ""
    raw: raw_storage.RawResult | None = None
    target: tuple[str, float] | None = None  # ("ceiling" | "raw", minimum ratio)

    @property
    def vs_ceiling(self) -> float:
        return self.result.rate / self.ceiling.rate if self.ceiling.rate else 0.0

    @property
    def vs_raw(self) -> float | None:
        return self.result.rate / self.raw.rate if self.raw and self.raw.rate else None

    @property
    def cpu_vs_ceiling(self) -> float:
        """The ratio the CPU costs predict: ceiling CPU per request over ours."""
        return self.ceiling.cpu_us / self.result.cpu_us if self.result.cpu_us else 0.0

    @property
    def tail(self) -> float:
        r = self.result
        return r.p99_ms / r.p50_ms if r.p50_ms else 0.0

    def checks(self) -> list[tuple[str, bool]]:
        out = []
        if self.target is not None:
            basis, minimum = self.target
            ratio = self.vs_ceiling if basis == "ceiling" else (self.vs_raw or 0.0)
            out.append((f"{basis} >= {minimum:.0%}", ratio >= minimum))
        out.append((f"p99 <= {TAIL_TARGET:g}x p50", self.tail <= TAIL_TARGET))
        out.append(("no errors", self.result.errors == 0))
        return out


@dataclass
class Report:
    backend: str
    args: dict[str, Any]
    machine: dict[str, Any]
    ceiling_runs: dict[str, list[LoadResult]] = field(default_factory=dict)
    raw_runs: dict[str, list[raw_storage.RawResult]] = field(default_factory=dict)
    load_average: tuple[float, ...] = ()
    rows: list[Row] = field(default_factory=list)
    healthz_fresh_s: float = 0.0
    healthz_seeded_s: float = 0.0
    response_bytes: dict[str, int] = field(default_factory=dict)
    rss_peak_mb: dict[str, float] = field(default_factory=dict)
    ceiling_rss_peak_mb: dict[str, float] = field(default_factory=dict)
    soak: dict[str, Any] | None = None
    profile: dict[str, Any] | None = None

    @property
    def ceiling(self) -> dict[str, LoadResult]:
        """The ceiling's GET and POST over all their runs."""
        return {name: loadgen.merge(runs) for name, runs in self.ceiling_runs.items()}

    @property
    def raw(self) -> dict[str, raw_storage.RawResult]:
        """Each raw-storage figure over all its runs."""
        return {name: raw_storage.combine(runs) for name, runs in self.raw_runs.items()}

    def summary_checks(self) -> list[tuple[str, str, bool]]:
        out = [
            (
                "/healthz on a fresh database",
                f"{self.healthz_fresh_s:.2f} s (target <= {HEALTHZ_TARGET_S} s)",
                self.healthz_fresh_s <= HEALTHZ_TARGET_S,
            )
        ]
        peak = max(self.rss_peak_mb.values(), default=0.0)
        out.append(
            (
                "peak RSS per worker",
                f"{peak:.1f} MB (target <= {RSS_TARGET_MB:g} MB)",
                0 < peak <= RSS_TARGET_MB,
            )
        )
        if self.soak is not None:
            growth = self.soak["growth"]
            out.append(
                (
                    f"RSS growth over a {self.soak['seconds']:g} s soak",
                    f"{growth:+.1%} (target <= {RSS_GROWTH_TARGET:.0%})",
                    growth <= RSS_GROWTH_TARGET,
                )
            )
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "args": self.args,
            "machine": self.machine,
            "ceiling": {k: v.as_dict() for k, v in self.ceiling.items()},
            "raw_storage": {
                k: {
                    "creates_per_s": round(v.rate, 1),
                    "p50_ms": round(v.p50_ms, 3),
                    "p99_ms": round(v.p99_ms, 3),
                    "runs_per_s": [round(r.rate, 1) for r in self.raw_runs[k]],
                }
                for k, v in self.raw.items()
            },
            "endpoints": [
                {
                    "name": row.name,
                    **row.result.as_dict(),
                    "vs_ceiling": round(row.vs_ceiling, 3),
                    "ceiling": row.ceiling_name,
                    "paired_ceiling_rps": round(row.ceiling.rate, 1),
                    "paired_ceiling_cpu_us_per_request": round(row.ceiling.cpu_us, 1),
                    "cpu_vs_ceiling": round(row.cpu_vs_ceiling, 3),
                    "vs_raw": None if row.vs_raw is None else round(row.vs_raw, 3),
                    "raw": row.raw_name or None,
                    "paired_raw_per_s": round(row.raw.rate, 1) if row.raw else None,
                    "checks": row.checks(),
                }
                for row in self.rows
            ],
            "load_average_at_end": [round(x, 2) for x in self.load_average],
            "healthz_fresh_s": round(self.healthz_fresh_s, 3),
            "healthz_seeded_s": round(self.healthz_seeded_s, 3),
            "response_bytes": self.response_bytes,
            "rss_peak_mb": self.rss_peak_mb,
            "ceiling_rss_peak_mb": self.ceiling_rss_peak_mb,
            "soak": self.soak,
            "summary_checks": self.summary_checks(),
            "profile": self.profile,
        }


def machine() -> dict[str, Any]:
    import platform

    model = ""
    with suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = 0
    with suppress(OSError), open("/proc/meminfo") as f:
        memory = int(f.readline().split()[1]) // 1024
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_mb": memory,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "casebook": _revision(),
    }


def _revision() -> str:
    """The commit measured, and whether src/ had changes on top of it."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=procs.REPO, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    import casebook

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    where = Path(casebook.__file__).resolve().parent
    if where != procs.REPO / "src" / "casebook":
        return f"{commit} (bench); casebook imported from {where}"
    dirty = git("status", "--porcelain", "src")
    return commit + (" + uncommitted changes in src/" if dirty else "")


def fsync_probe(folder: Path, count: int = 200) -> dict[str, float]:
    """Milliseconds one 4 KiB write + fsync takes here (p50, p99): what a durable commit costs."""
    times = []
    path = folder / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        block = b"x" * 4096
        for i in range(count):
            started = time.perf_counter()
            os.pwrite(fd, block, (i % 16) * 4096)
            os.fsync(fd)
            times.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        path.unlink()
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49] * 1000, 3), "p99_ms": round(cuts[98] * 1000, 3)}


# --- running loads ---------------------------------------------------------------


class Runner:
    def __init__(self, args: argparse.Namespace, keys: tuple[str, str]) -> None:
        self.args = args
        self.keys = keys
        self.use_wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and loadgen.have_wrk())
        if args.loadgen == "wrk" and not loadgen.have_wrk():
            raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    def run(
        self,
        server: procs.Server,
        load: Load,
        seconds: float | None = None,
        probe: Callable[[], dict[str, int]] | None = None,
    ) -> LoadResult:
        """Load ``server``; by default ``probe`` records the connections each worker holds."""
        seconds = self.args.seconds if seconds is None else seconds
        workers, related = server.workers(), server.related()
        before = procs.cpu_seconds(workers), procs.cpu_seconds(related)
        result = self._run(server, load, seconds, probe)
        result.cpu_db_s = procs.cpu_seconds(related) - before[1]
        result.cpu_s = procs.cpu_seconds(workers) - before[0] + result.cpu_db_s
        return result

    def _run(
        self,
        server: procs.Server,
        load: Load,
        seconds: float,
        probe: Callable[[], dict[str, int]] | None,
    ) -> LoadResult:
        base_url = server.base_url
        if self.use_wrk:
            return loadgen.run_wrk(
                base_url,
                load,
                seconds=seconds,
                connections=self.args.connections,
                threads=self.args.threads,
                keys=self.keys,
                probe=probe or partial(procs.connections_per_worker, server),
            )
        return loadgen.run_python(
            base_url,
            load,
            seconds=seconds,
            connections=min(self.args.connections, 16),
            keys=self.keys,
            max_requests=self.args.python_requests,
        )


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@contextmanager
def running(server: procs.Server) -> Iterator[procs.Server]:
    try:
        yield server
    finally:
        server.stop()


def _get_json(url: str, keys: tuple[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310 -- loopback URL built here
        url, headers={"DD-API-KEY": keys[0], "DD-APPLICATION-KEY": keys[1]}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, response.read()


# --- the stages ----------------------------------------------------------------------


def start_ceiling(report: Report, runner: Runner, project_id: str) -> procs.Server:
    server = procs.uvicorn_ceiling(runner.args.workers, procs.free_port())
    server.start()
    body = orjson.dumps(create_body(project_id))
    status, payload = _get_json(server.base_url + "/api/v2/cases/1", runner.keys)
    assert status == 200
    report.response_bytes["ceiling GET"] = len(payload)
    report.response_bytes["POST create body"] = len(body)
    return server


def ceiling_loads(project_id: str) -> dict[str, Load]:
    body = orjson.dumps(create_body(project_id))
    return {
        "GET": Load("get", paths=[f"/api/v2/cases/{n}" for n in range(1, 101)]),
        "POST": Load("post", bodies=[("/api/v2/cases", body)]),
    }


RawRuns = dict[str, Callable[[float], raw_storage.RawResult]]


def prepare_raw(args: argparse.Namespace, new_database: Callable[[str], str]) -> RawRuns:
    """Seed the raw-storage databases; return a measurement (for N seconds) of each."""
    keys = ("c" * 32, "d" * 40)
    runs: RawRuns = {}
    if args.backend == "sqlite":
        for sync in ("FULL", "NORMAL"):
            url = new_database(f"raw_{sync.lower()}")
            seed(url, api_key=keys[0], app_key=keys[1], cases=args.cases, projects=1)
            path = Path(url.removeprefix("sqlite:///"))
            runs[f"sqlite {sync}"] = partial(_raw_sqlite, path, sync)
        return runs
    url = new_database("raw")
    seed(url, api_key=keys[0], app_key=keys[1], cases=args.cases, projects=args.projects)
    many = [f"M{i}" for i in range(args.projects)]
    for label, project_keys in (("one project", ["BENCH"]), ("many projects", many)):
        runs[f"postgres {label}"] = partial(_raw_postgres, url, args.workers, project_keys, label)
    return runs


def _raw_sqlite(path: Path, sync: str, seconds: float) -> raw_storage.RawResult:
    return raw_storage.run_sqlite(path, synchronous=sync, seconds=seconds)


def _raw_postgres(
    url: str, concurrency: int, keys: list[str], label: str, seconds: float
) -> raw_storage.RawResult:
    return raw_storage.run_postgres(
        url, seconds=seconds, concurrency=concurrency, project_keys=keys, label=label
    )


def _peaks(sampler: procs.RssSampler) -> dict[str, float]:
    return {str(pid): round(mb, 1) for pid, mb in sorted(sampler.peak_per_worker().items())}


def measure(
    report: Report,
    runner: Runner,
    database_url: str,
    env: dict[str, str],
    raw: RawRuns,
    related: Callable[[], list[int]] = list,
) -> None:
    args = runner.args
    server_env = {
        **env,
        "CASEBOOK_DATABASE_URL": database_url,
        "CASEBOOK_API_KEY": runner.keys[0],
        "CASEBOOK_APP_KEY": runner.keys[1],
        "CASEBOOK_RATE_LIMIT": "off",
    }
    log("casebook serve on a fresh database")
    fresh = procs.casebook_serve(args.workers, procs.free_port(), server_env)
    with running(fresh):
        report.healthz_fresh_s = fresh.start()
    log(f"seeding {args.cases} cases")
    seeded = seed(
        database_url,
        api_key=runner.keys[0],
        app_key=runner.keys[1],
        cases=args.cases,
        projects=args.projects,
        sqlite_synchronous=env.get("CASEBOOK_SQLITE_SYNCHRONOUS", "FULL"),
    )
    log("ceiling and casebook")
    ceiling = start_ceiling(report, runner, seeded.project_id)
    with running(ceiling), procs.RssSampler(ceiling) as ceiling_rss:
        server = procs.casebook_serve(args.workers, procs.free_port(), server_env)
        server.related = related
        with running(server):
            report.healthz_seeded_s = server.start()
            with procs.RssSampler(server) as sampler:
                _measure_endpoints(report, runner, server, ceiling, seeded, raw)
                if args.profile_seconds:
                    _profile(report, runner, server, seeded)
                if args.soak_seconds:
                    _soak(report, runner, server, seeded, sampler)
            report.rss_peak_mb = _peaks(sampler)
    report.ceiling_rss_peak_mb = _peaks(ceiling_rss)


def _loads(seeded: Seeded) -> dict[str, Load]:
    one = orjson.dumps(create_body(seeded.project_id))
    many = [("/api/v2/cases", orjson.dumps(create_body(p))) for p in seeded.many_project_ids]
    return {
        "GET case by UUID": Load("get", paths=[f"/api/v2/cases/{c[0]}" for c in seeded.cases]),
        "GET case by key": Load("get", paths=[f"/api/v2/cases/{c[1]}" for c in seeded.cases]),
        "GET search": Load("get", paths=[SEARCH_PATH]),
        "POST status change": Load("status", cases=[(c[0], c[2]) for c in seeded.cases]),
        "POST create case": Load("post", bodies=[("/api/v2/cases", one)]),
        "POST create (many projects)": Load("post", bodies=many),
    }


def _mix(seeded: Seeded) -> Load:
    loads = _loads(seeded)
    return Load(
        "mix",
        paths=loads["GET case by UUID"].paths[:2000]
        + loads["GET case by key"].paths[:2000]
        + [SEARCH_PATH] * 400,
        bodies=loads["POST create case"].bodies,
        cases=loads["POST status change"].cases,
    )


def _measure_endpoints(
    report: Report,
    runner: Runner,
    server: procs.Server,
    ceiling: procs.Server,
    seeded: Seeded,
    raw: RawRuns,
) -> None:
    """Each endpoint in slices, alternating with its baselines (ABBA order)."""
    args = runner.args
    backend = report.backend
    loads = _loads(seeded)
    baselines = ceiling_loads(seeded.project_id)
    status, body = _get_json(f"{server.base_url}/api/v2/cases/{seeded.cases[0][0]}", runner.keys)
    assert status == 200, body
    report.response_bytes["casebook GET"] = len(body)
    status, body = _get_json(server.base_url + SEARCH_PATH, runner.keys)
    found = orjson.loads(body)
    assert status == 200 and len(found["data"]) == min(50, found["meta"]["total_cases"])
    report.response_bytes["casebook search (50 cases)"] = len(body)
    report.response_bytes["search matches"] = found["meta"]["total_cases"]
    warm = min(2.0, args.seconds)
    runner.run(ceiling, baselines["GET"], seconds=warm)
    runner.run(server, loads["GET case by UUID"], seconds=warm)

    if backend == "sqlite":
        write_raw = f"sqlite {args.sqlite_synchronous}"
        create_target: tuple[str, float] | None = ("raw", SQLITE_WRITE_TARGET)
        status_target: tuple[str, float] | None = ("raw", SQLITE_WRITE_TARGET)
    else:
        write_raw = "postgres one project"
        create_target, status_target = ("raw", POSTGRES_CREATE_TARGET), None
    get_target = ("ceiling", GET_TARGET[backend])
    plan: list[tuple[str, str, str, tuple[str, float] | None]] = [
        ("GET case by UUID", "GET", "", get_target),
        ("GET case by key", "GET", "", get_target),
        ("GET search", "GET", "", ("ceiling", SEARCH_TARGET)),
        ("POST status change", "POST", write_raw, status_target),
        ("POST create case", "POST", write_raw, create_target),
    ]
    if backend == "postgres":
        plan.append(("POST create (many projects)", "POST", "postgres many projects", None))
    if args.only:
        wanted = [word.lower() for word in args.only]
        plan = [step for step in plan if any(word in step[0].lower() for word in wanted)]
    slices = max(1, args.slices)
    piece = max(1.0, round(args.seconds / slices))
    for name, kind, raw_name, target in plan:
        ours: list[LoadResult] = []
        theirs: list[LoadResult] = []
        raws: list[raw_storage.RawResult] = []

        def casebook(name: str = name, ours: list[LoadResult] = ours) -> None:
            ours.append(runner.run(server, loads[name], seconds=piece))

        def stack(kind: str = kind, theirs: list[LoadResult] = theirs) -> None:
            theirs.append(runner.run(ceiling, baselines[kind], seconds=piece))

        def driver(raw_name: str = raw_name, raws: list[raw_storage.RawResult] = raws) -> None:
            if raw_name:
                raws.append(raw[raw_name](piece))

        log(f"{name}: {slices} x {piece:g} s, alternating with its baselines")
        for i in range(slices):
            steps = (casebook, stack, driver) if i % 2 == 0 else (driver, stack, casebook)
            for step in steps:
                step()
        report.ceiling_runs.setdefault(kind, []).extend(theirs)
        if raw_name:
            report.raw_runs.setdefault(raw_name, []).extend(raws)
        report.rows.append(
            Row(
                name,
                loadgen.merge(ours),
                kind,
                loadgen.merge(theirs),
                raw_name,
                raw_storage.combine(raws) if raws else None,
                target,
            )
        )
    # The other durability setting (SQLite), for reference.
    for name, run in raw.items():
        if name not in report.raw_runs:
            log(f"raw storage: {name}")
            report.raw_runs[name] = [run(args.seconds)]


def _profile(report: Report, runner: Runner, server: procs.Server, seeded: Seeded) -> None:
    from bench import profile

    seconds = runner.args.profile_seconds
    loads = _loads(seeded)
    report.profile = {}
    for name in ("GET case by UUID", "GET search", "POST create case"):
        out = Path(tempfile.mkdtemp(prefix="casebook-prof-")) / "profile.txt"
        started: list[subprocess.Popen[bytes]] = []

        def start_spy(
            name: str = name, out: Path = out, started: list[subprocess.Popen[bytes]] = started
        ) -> dict[str, int]:
            # The kernel does not spread connections evenly: sample the busiest worker.
            spread = procs.connections_per_worker(server)
            worker = int(max(spread, key=lambda pid: spread[pid]))
            log(f"py-spy on worker {worker} under {name} for {seconds:g} s; connections {spread}")
            started.append(profile.record(worker, seconds, out))
            return spread

        runner.run(server, loads[name], seconds=seconds + 2, probe=start_spy)
        if not started:
            raise RuntimeError("profiling needs wrk (--loadgen wrk)")
        _, err = started[0].communicate(timeout=60)
        if not out.exists():
            raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')}")
        summary = profile.summarise(out, top=runner.args.profile_top)
        report.profile[name] = summary
        if runner.args.profile_dir:
            target = Path(runner.args.profile_dir)
            target.mkdir(parents=True, exist_ok=True)
            slug = name.lower().replace(" ", "-")
            (target / f"{report.backend}-{slug}.txt").write_text(out.read_text())
        out.unlink()
        out.parent.rmdir()


def _soak(
    report: Report,
    runner: Runner,
    server: procs.Server,
    seeded: Seeded,
    sampler: procs.RssSampler,
) -> None:
    seconds = runner.args.soak_seconds
    log(f"soak: mixed load for {seconds} s")
    began = time.perf_counter()
    result = runner.run(server, _mix(seeded), seconds=seconds)
    ended = time.perf_counter()
    # Early: the first tenth (at least 10 s) once warm; late: the last tenth.
    span = max(10.0, seconds / 10)
    early = sampler.window(began, began + span)
    late = sampler.window(ended - span, ended)
    growth = max(
        ((late[p] - early[p]) / early[p] for p in early if p in late and early[p]),
        default=0.0,
    )
    report.soak = {
        "seconds": seconds,
        "load": result.as_dict(),
        "rss_early_mb": {str(p): round(v, 1) for p, v in early.items()},
        "rss_late_mb": {str(p): round(v, 1) for p, v in late.items()},
        "growth": growth,
    }


# --- output --------------------------------------------------------------------------


def _mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _spread(result: LoadResult) -> str:
    """Connections each worker held, per run: ``9/7 16/0``."""
    return " ".join("/".join(str(n) for n in s.values()) for s in result.spreads)


def render(report: Report) -> str:
    lines = [
        f"casebook benchmark: {report.backend}, {report.args['workers']} workers,"
        f" {report.args['cases']} cases, {report.args['seconds']:g} s per endpoint",
        f"machine: {report.machine['nproc']} CPUs ({report.machine['cpu']}),"
        f" {report.machine['memory_mb']} MB; the load generator shares them;"
        f" load average {report.machine['load_average_at_start']} at start,"
        f" {[round(x, 2) for x in report.load_average]} at end",
        f"casebook {report.machine['casebook']};"
        f" fsync of 4 KiB (p50/p99 ms): {report.machine['fsync_at_start']} at start,"
        f" {report.machine.get('fsync_at_end')} at end",
        "",
        "| endpoint | req/s | p50 ms | p99 ms | p99/p50 | vs ceiling | vs raw create"
        " | server CPU µs/req (database part; ceiling's / ours) | errors | conns/worker"
        " | targets |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, result in report.ceiling.items():
        lines.append(
            f"| ceiling {name} | {result.rate:,.0f} | {result.p50_ms:.2f} | {result.p99_ms:.2f}"
            f" | {result.p99_ms / result.p50_ms if result.p50_ms else 0:.1f} | 100% | "
            f"| {result.cpu_us:.0f} | {result.errors} | | |"
        )
    for name, raw in report.raw.items():
        lines.append(
            f"| raw create, {name} | {raw.rate:,.0f} | {raw.p50_ms:.2f} | {raw.p99_ms:.2f}"
            f" | {raw.p99_ms / raw.p50_ms if raw.p50_ms else 0:.1f} | | | | | | |"
        )
    for row in report.rows:
        r = row.result
        vs_raw = (
            ""
            if row.vs_raw is None or row.raw is None
            else f"{row.vs_raw:.0%} of {row.raw_name} ({row.raw.rate:,.0f})"
        )
        checks = ", ".join(f"{label}: {_mark(ok)}" for label, ok in row.checks())
        lines.append(
            f"| {row.name} | {r.rate:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {row.tail:.1f}"
            f" | {row.vs_ceiling:.0%} of ceiling {row.ceiling_name} ({row.ceiling.rate:,.0f})"
            f" | {vs_raw} | {r.cpu_us:.0f}{f' ({r.cpu_db_us:.0f} db)' if r.cpu_db_s else ''};"
            f" {row.cpu_vs_ceiling:.0%} | {r.errors}"
            f" | {_spread(r)} | {checks} |"
        )
    lines.append("")
    for label, value, ok in report.summary_checks():
        lines.append(f"- {label}: {value}: {_mark(ok)}")
    lines.append(f"- /healthz after start on the seeded database: {report.healthz_seeded_s:.2f} s")
    lines.append(
        "- peak RSS per worker (MB): casebook "
        + ", ".join(f"{v:.1f}" for v in report.rss_peak_mb.values())
        + "; ceiling "
        + ", ".join(f"{v:.1f}" for v in report.ceiling_rss_peak_mb.values())
    )
    sizes = ", ".join(f"{k} {v}" for k, v in report.response_bytes.items())
    lines.append(f"- sizes (bytes) and search matches: {sizes}")
    if report.soak is not None:
        soak = report.soak
        lines.append(
            f"- soak load: {soak['load']['rps']:,.0f} req/s mixed, {soak['load']['errors']} errors;"
            f" RSS early {soak['rss_early_mb']} late {soak['rss_late_mb']}"
        )
    if report.profile:
        from bench.profile import format_summary

        for name, summary in report.profile.items():
            lines += ["", f"profile of one worker under {name}:", format_summary(summary)]
    return "\n".join(lines)


# --- entry point ----------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.http", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=10.0, help="per endpoint")
    parser.add_argument(
        "--slices", type=int, default=5, help="runs per endpoint, alternating with its baselines"
    )
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument(
        "--only",
        action="append",
        metavar="WORDS",
        help="measure only endpoints whose name contains WORDS (repeatable), e.g. 'status'",
    )
    parser.add_argument("--cases", type=int, default=10_000, help="cases to seed")
    parser.add_argument(
        "--projects", type=int, default=64, help="extra projects (many-project creates)"
    )
    parser.add_argument("--connections", type=int, default=16, help="open connections of the load")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--python-requests", type=int, default=200, help="fallback: max requests per endpoint"
    )
    parser.add_argument("--soak-seconds", type=float, default=0.0, help="mixed load, sampling RSS")
    parser.add_argument(
        "--profile-seconds", type=float, default=0.0, help="py-spy per profiled endpoint"
    )
    parser.add_argument("--profile-top", type=int, default=15)
    parser.add_argument("--profile-dir", help="keep py-spy's raw profiles here")
    parser.add_argument("--sqlite-synchronous", choices=["FULL", "NORMAL"], default="FULL")
    parser.add_argument("--json", help="write the full report here as JSON")
    return parser.parse_args(argv)  # fmt: skip


def run(argv: list[str] | None = None) -> Report:
    args = parse_args(argv)
    keys = (secrets.token_hex(16), secrets.token_hex(20))
    runner = Runner(args, keys)
    report = Report(backend=args.backend, args=vars(args), machine=machine())
    env = {"CASEBOOK_SQLITE_SYNCHRONOUS": args.sqlite_synchronous}
    with tempfile.TemporaryDirectory(prefix="casebook-bench-") as tmp:
        report.machine["fsync_at_start"] = fsync_probe(Path(tmp))
        cluster = None
        try:
            if args.backend == "sqlite":

                def new_database(name: str) -> str:
                    return f"sqlite:///{Path(tmp) / (name + '.db')}"

            else:
                from tests.support.postgres import PostgresCluster

                log("starting a throwaway PostgreSQL (durable: fsync on)")
                cluster = PostgresCluster(durable=True).start()
                new_database = cluster.create_database

            raw = prepare_raw(args, new_database)
            related: Callable[[], list[int]] = list
            if cluster is not None:
                related = partial(_postgres_pids, cluster.data)
            measure(report, runner, new_database("casebook"), env, raw, related)
            report.machine["fsync_at_end"] = fsync_probe(Path(tmp))
        finally:
            if cluster is not None:
                cluster.stop()
    report.load_average = os.getloadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    return report


def _postgres_pids(data: Path) -> list[int]:
    """The PostgreSQL server's processes: the postmaster and its children."""
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    return [pid, *procs.descendants(pid)]


def main(argv: list[str] | None = None) -> None:
    report = run(argv)
    print(render(report))


if __name__ == "__main__":
    main()
