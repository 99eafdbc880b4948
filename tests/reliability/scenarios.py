"""The reliability scenarios, sized by their arguments: small in CI, long in ``bench.soak``.

Each returns a ``Result``: the figures of the run and the problems found
(checker violations, 500s, hangs, slow exits...). A run with no problems passed.
Every loop is bounded by a count and by ``max_seconds``.
"""

from __future__ import annotations

import logging
import random
import secrets
import signal
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx

from casebook.core.entities import STANDARD_CASE_TYPE_ID
from tests.reliability.checker import (
    Report,
    check,
    integrity_check,
    read_postgres,
    read_sqlite,
)
from tests.reliability.harness import (
    CLIENT_TIMEOUT,
    Client,
    Node,
    Owned,
    create_project,
    make_projects,
    merge_stats,
    one_tenant,
    run_clients,
    second_org,
)
from tests.reliability.ledger import Ledger, Write
from tests.support.postgres import PostgresCluster
from tests.support.server import new_keys


@dataclass
class Result:
    name: str
    figures: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    report: Report | None = None
    workdir: Path | None = None
    """Server logs and the SQLite file, kept for a look when something went wrong."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def explain(self) -> str:
        where = f" (server logs in {self.workdir})" if self.workdir else ""
        return f"{self.name}: {len(self.problems)} problems{where}\n" + "\n".join(
            self.problems[:30]
        )


def _client_problems(result: Result, clients: Sequence[Client]) -> None:
    stats = merge_stats(clients)
    result.figures["requests"] = result.figures.get("requests", 0) + stats.requests
    result.figures["slowest_request_s"] = round(
        max(result.figures.get("slowest_request_s", 0.0), stats.slowest), 3
    )
    result.problems += [f"server error: {e}" for e in stats.server_errors[:10]]
    result.problems += [f"503 without a JSON:API error body: {b}" for b in stats.bad_503_bodies[:5]]
    if stats.timeouts:
        result.problems.append(f"{stats.timeouts} requests hung past {CLIENT_TIMEOUT} s")


def _check(
    result: Result,
    snapshot_reader: Callable[[], Any],
    ledger: Ledger,
    *,
    no_effect: Callable[[Write], bool] | None = None,
    when: str = "",
) -> Report:
    report = check(snapshot_reader(), ledger.snapshot(), no_effect=no_effect)
    result.report = report
    result.figures["cases_stored"] = report.cases
    if not report.ok:
        result.problems.append(f"checker{when}: {report.summary()}")
    return report


def _server_500s(result: Result, nodes: Sequence[Node]) -> None:
    logged = sum(node.unexpected_errors() for node in nodes)
    if logged:
        result.problems.append(f"servers logged {logged} unexpected errors (500)")


# --- 1. kill -9 on SQLite ----------------------------------------------------------------
def sqlite_kill(
    workdir: Path,
    *,
    min_cycles: int = 10,
    min_acks: int = 2000,
    max_cycles: int = 60,
    max_seconds: float = 90.0,
    clients: int = 8,
    workers: int = 2,
    kill_after: tuple[float, float] = (0.3, 1.2),
    fill_time: bool = False,
    seed: int | None = None,
) -> Result:
    """Kill the whole server (SIGKILL) at a random moment under load, restart, repeat.

    Stops once ``min_cycles`` and ``min_acks`` are reached, or with ``fill_time`` at
    ``max_seconds``; never past ``max_cycles`` or ``max_seconds``.
    """
    seed = secrets.randbelow(2**31) if seed is None else seed
    rng = random.Random(seed)
    result = Result(
        "sqlite-kill", {"seed": seed, "clients": clients, "workers": workers}, workdir=workdir
    )
    db = workdir / "casebook.db"
    url = f"sqlite:///{db}"
    keys = new_keys()
    other = second_org(url)
    node = Node(url, keys, workdir, workers=workers).start()
    ledger = Ledger()
    owned: list[list[Owned]] = [[] for _ in range(clients)]
    began = time.monotonic()
    cycles = 0
    try:
        tenants = make_projects(node.url, keys, other)
        while cycles < max_cycles and time.monotonic() - began < max_seconds:
            enough = cycles >= min_cycles and ledger.count(outcome="ack") >= min_acks
            if enough and not fill_time:
                break
            if not node.running:
                node.start()
            stop = threading.Event()
            group = [
                Client(
                    i,
                    tenants[i % len(tenants)],
                    [node.url],
                    ledger,
                    stop,
                    deadline=time.monotonic() + 60,
                    seed=seed + cycles,
                    owned=owned[i],
                    prefix=f"k{cycles}",
                )
                for i in range(clients)
            ]
            for c in group:
                c.start()
            time.sleep(rng.uniform(*kill_after))
            node.kill(signal.SIGKILL)
            stop.set()
            run_clients(group, stop, timeout=CLIENT_TIMEOUT + 10)
            _client_problems(result, group)
            cycles += 1
            verdict = integrity_check(str(db))
            if verdict != "ok":
                result.problems.append(f"cycle {cycles}: PRAGMA integrity_check: {verdict}")
            report = _check(result, lambda: read_sqlite(str(db)), ledger, when=f" cycle {cycles}")
            if not report.ok or result.problems:
                break
        # Back up once more: the server sees what the checker saw.
        node.start()
        sample = [w for w in ledger.snapshot() if w.op == "create" and w.outcome == "ack"]
        for w in rng.sample(sample, min(40, len(sample))):
            headers = tenants[0 if w.project_id in tenants[0].projects else 1].keys.headers
            r = httpx.get(f"{node.url}/api/v2/cases/{w.key}", headers=headers, timeout=15)
            if r.status_code != 200 or r.json()["data"]["id"] != w.case_id:
                result.problems.append(f"after restart GET {w.key}: {r.status_code} {r.text[:200]}")
    finally:
        node.stop()
    _server_500s(result, [node])
    result.figures.update(ledger.figures())
    result.figures["kill_cycles"] = cycles
    result.figures["seconds"] = round(time.monotonic() - began, 1)
    if cycles < min_cycles and result.ok:
        result.problems.append(f"only {cycles} kill cycles in {max_seconds} s")
    return result


# --- 2. several nodes on PostgreSQL -----------------------------------------------------
def terminate_casebook_backends(cluster: PostgresCluster) -> int:
    import psycopg

    with psycopg.connect(cluster.url, autocommit=True, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'casebook' AND pid <> pg_backend_pid()"
        ).fetchall()
    return sum(1 for r in rows if r[0])


def postgres_processes(cluster: PostgresCluster) -> list[int]:
    """The postmaster of ``cluster`` and its children (Linux /proc)."""
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    found = [postmaster]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                found.append(int(entry.name))
    return found


def _wait_healthy(node: Node, timeout: float) -> float | None:
    """Seconds until ``/healthz`` answers 200, or None; never a 500."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        try:
            r = httpx.get(node.url + "/healthz", timeout=5)
            if r.status_code == 200:
                return time.monotonic() - began
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    return None


def postgres_nodes(
    cluster: PostgresCluster,
    workdir: Path,
    *,
    min_attempts: int = 3000,
    min_rounds: int = 1,
    max_rounds: int = 1000,
    max_seconds: float = 60.0,
    fill_time: bool = False,
    clients: int = 16,
    nodes: int = 3,
    outage_s: float = 1.5,
    seed: int | None = None,
) -> Result:
    """Three nodes, one PostgreSQL; a node killed, backends terminated, PostgreSQL stopped.

    Rounds of the three faults until ``min_rounds`` rounds and ``min_attempts`` creates, or
    with ``fill_time`` until ``max_seconds``; never past ``max_rounds`` or ``max_seconds``.
    """
    seed = secrets.randbelow(2**31) if seed is None else seed
    rng = random.Random(seed)
    result = Result(
        "postgres-nodes", {"seed": seed, "clients": clients, "nodes": nodes}, workdir=workdir
    )
    name = f"reliability_{secrets.token_hex(4)}"
    url = cluster.create_database(name)
    keys = new_keys()
    other = second_org(url)
    servers = [Node(url, keys, workdir, name=f"node{i}") for i in range(nodes)]
    ledger = Ledger()
    faults: Counter[str] = Counter()
    outages: list[tuple[float, float]] = []
    recovery: list[float] = []
    healthz: Counter[str] = Counter()
    stop = threading.Event()
    group: list[Client] = []
    began = time.monotonic()
    try:
        for server in servers:  # one after the other: each runs the migrations at start
            server.start()
        tenants = make_projects(servers[0].url, keys, other)
        urls = [s.url for s in servers]
        group = [
            Client(
                i, tenants[i % len(tenants)], urls, ledger, stop, deadline=began + max_seconds + 30
            )
            for i in range(clients)
        ]
        for c in group:
            c.start()
        rounds = 0

        def more() -> bool:
            if time.monotonic() - began > max_seconds or rounds >= max_rounds:
                return False
            return fill_time or rounds < min_rounds or ledger.count(op="create") < min_attempts

        while more():
            rounds += 1
            time.sleep(1.0)
            victim = rng.choice(servers)
            victim.kill(signal.SIGKILL)
            faults["node SIGKILL"] += 1
            time.sleep(0.5)
            victim.start()
            time.sleep(1.0)
            terminated = terminate_casebook_backends(cluster)
            faults["pg_terminate_backend (connections)"] += terminated
            faults["pg_terminate_backend (rounds)"] += 1
            if terminated == 0:
                result.problems.append("pg_terminate_backend found no casebook connection")
            time.sleep(1.0)
            cluster.stop_server("immediate")
            down = time.monotonic()
            faults["postgres stop -m immediate"] += 1
            for server in servers:  # /healthz says so too, at once
                try:
                    health = httpx.get(server.url + "/healthz", timeout=CLIENT_TIMEOUT)
                    healthz[str(health.status_code)] += 1
                except httpx.TransportError as exc:
                    healthz[type(exc).__name__] += 1
            time.sleep(max(0.0, outage_s - (time.monotonic() - down)))
            up = time.monotonic()
            outages.append((down, up))
            cluster.start_server()
            for server in servers:
                took = _wait_healthy(server, 15.0)
                if took is None:
                    result.problems.append(f"{server.url} did not recover within 15 s")
                else:
                    recovery.append(took)
        # Some load after the last fault, so recovery is seen by the clients too.
        last_fault = time.monotonic()
        time.sleep(1.0)
        stop.set()
        run_clients(group, stop, timeout=CLIENT_TIMEOUT + 10)
        _client_problems(result, group)
        result.figures["fault_rounds"] = rounds
    finally:
        stop.set()
        for server in servers:
            server.stop()
    writes = ledger.snapshot()
    during = [w for w in writes for a, b in outages if w.started >= a and w.ended <= b]
    wrong = Counter(w.detail for w in during if w.detail != "503")
    if wrong:
        result.problems.append(f"while PostgreSQL was down, answers other than 503: {dict(wrong)}")
    if set(healthz) - {"503"}:
        result.problems.append(f"/healthz while PostgreSQL was down: {dict(healthz)}")
    if outages and not during:
        result.problems.append("no request was answered while PostgreSQL was down")
    if not any(w.outcome == "ack" and w.started > last_fault for w in writes):
        result.problems.append("no write succeeded after the last fault: no recovery")
    _server_500s(result, servers)
    _check(result, lambda: read_postgres(url), ledger)
    result.figures.update(ledger.figures())
    result.figures["faults"] = dict(faults)
    result.figures["answers_while_postgres_down"] = dict(Counter(w.detail for w in during))
    result.figures["healthz_while_postgres_down"] = dict(healthz)
    result.figures["slowest_recovery_s"] = round(max(recovery, default=0.0), 2)
    result.figures["seconds"] = round(time.monotonic() - began, 1)
    if result.ok:
        cluster.drop_database(name)
    return result


# --- 3. writer contention on SQLite ------------------------------------------------------
def hold_write_lock(db: Path, seconds: float, holding: threading.Event | None = None) -> None:
    """A side connection holding SQLite's write lock (BEGIN IMMEDIATE) for ``seconds``."""
    conn = sqlite3.connect(db, timeout=10, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        if holding is not None:
            holding.set()
        time.sleep(seconds)
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def sqlite_contention(
    workdir: Path,
    *,
    busy_ms: int = 500,
    long_hold_s: float = 2.0,
    long_holds: int = 2,
    short_hold_s: float = 0.1,
    short_holds: int = 10,
    clients: int = 8,
    workers: int = 4,
) -> Result:
    """Holds longer than the busy timeout: 503 and no partial write. Shorter: all succeed."""
    result = Result(
        "sqlite-contention",
        {"busy_timeout_ms": busy_ms, "long_hold_s": long_hold_s, "short_hold_s": short_hold_s},
        workdir=workdir,
    )
    db = workdir / "casebook.db"
    url = f"sqlite:///{db}"
    keys = new_keys()
    node = Node(url, keys, workdir, workers=workers, env={"CASEBOOK_BUSY_TIMEOUT_MS": str(busy_ms)})
    long_ledger, short_ledger = Ledger(), Ledger()
    owned: list[list[Owned]] = [[] for _ in range(clients)]
    began = time.monotonic()
    try:
        node.start()
        tenant = one_tenant(node.url, keys)
        for phase, ledger, hold, holds in (
            ("long", long_ledger, long_hold_s, long_holds),
            ("short", short_ledger, short_hold_s, short_holds),
        ):
            stop = threading.Event()
            group = [
                Client(
                    i,
                    tenant,
                    [node.url],
                    ledger,
                    stop,
                    deadline=time.monotonic() + 60,
                    owned=owned[i],
                    prefix=phase,
                    pause_after_error=0.0,
                )
                for i in range(clients)
            ]
            for c in group:
                c.start()
            time.sleep(0.3)
            for _ in range(holds):
                hold_write_lock(db, hold)
                time.sleep(0.3)
            stop.set()
            run_clients(group, stop, timeout=CLIENT_TIMEOUT + 10)
            _client_problems(result, group)
    finally:
        node.stop()
    _server_500s(result, [node])
    refused = [w for w in long_ledger.snapshot() if w.detail == "503"]
    result.figures["long_hold_writes"] = len(long_ledger)
    result.figures["long_hold_503"] = len(refused)
    result.figures["long_hold_other"] = dict(
        Counter(w.detail for w in long_ledger.snapshot() if w.detail not in ("503", "200", "201"))
    )
    result.figures["slowest_503_s"] = round(
        max((w.ended - w.started for w in refused), default=0), 3
    )
    result.figures["short_hold_writes"] = len(short_ledger)
    result.figures["short_hold_outcomes"] = dict(short_ledger.details())
    result.figures["short_hold_slowest_s"] = round(
        max((w.ended - w.started for w in short_ledger.snapshot()), default=0.0), 3
    )
    if not refused:
        result.problems.append("no request got 503 while the write lock was held too long")
    other = result.figures["long_hold_other"]
    if other:
        result.problems.append(f"long holds: answers other than 2xx/503: {other}")
    failed_short = [w for w in short_ledger.snapshot() if w.outcome != "ack"]
    if failed_short:
        result.problems.append(
            f"short holds: {len(failed_short)} writes did not succeed:"
            f" {dict(Counter(w.detail for w in failed_short))}"
        )
    both = Ledger()
    for w in long_ledger.snapshot() + short_ledger.snapshot():
        both.add(w)
    # A 503 from the busy timeout comes before anything was written: it must have no effect.
    _check(result, lambda: read_sqlite(str(db)), both, no_effect=lambda w: w.detail == "503")
    verdict = integrity_check(str(db))
    if verdict != "ok":
        result.problems.append(f"PRAGMA integrity_check: {verdict}")
    result.figures["seconds"] = round(time.monotonic() - began, 1)
    return result


# --- 4. rollback after allocation -------------------------------------------------------
def _snapshot_reader(database_url: str) -> Callable[[], Any]:
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        return lambda: read_sqlite(path)
    return lambda: read_postgres(database_url)


def rollback_after_allocate(
    database_url: str,
    workdir: Path,
    *,
    rate: float = 0.1,
    creates: int = 600,
    clients: int = 4,
    workers: int = 2,
    max_seconds: float = 60.0,
) -> Result:
    """``create_after_allocate`` fails creates after the counter moved: no row, no gap."""
    result = Result(
        "rollback-after-allocate", {"fault_rate": rate, "clients": clients}, workdir=workdir
    )
    keys = new_keys()
    node = Node(
        database_url,
        keys,
        workdir,
        workers=workers,
        env={"CASEBOOK_FAULTS": f"create_after_allocate={rate}"},
    )
    ledger = Ledger()
    began = time.monotonic()
    try:
        node.start()
        tenant = one_tenant(node.url, keys)
        stop = threading.Event()
        group = [
            Client(
                i,
                tenant,
                [node.url],
                ledger,
                stop,
                deadline=began + max_seconds,
                max_writes=creates // clients,
                update_ratio=0.0,
                pause_after_error=0.0,
            )
            for i in range(clients)
        ]
        for c in group:
            c.start()
        run_clients(group, stop, timeout=max_seconds + 5)
        _client_problems(result, group)
    finally:
        node.stop()
    _server_500s(result, [node])
    injected = [w for w in ledger.snapshot() if w.detail == "503"]
    result.figures["injected_503"] = len(injected)
    if not injected:
        result.problems.append("the fault never fired")
    unexpected = Counter(w.detail for w in ledger.snapshot() if w.detail not in ("201", "503"))
    if unexpected:
        result.problems.append(f"answers other than 201/503: {dict(unexpected)}")
    # The fault fires before commit: every 503 must have left no row and no hole.
    _check(result, _snapshot_reader(database_url), ledger, no_effect=lambda w: w.detail == "503")
    result.figures.update(ledger.figures())
    result.figures["seconds"] = round(time.monotonic() - began, 1)
    return result


# --- 5. graceful shutdown ---------------------------------------------------------------
def graceful_shutdown(
    database_url: str,
    workdir: Path,
    *,
    clients: int = 8,
    workers: int = 2,
    load_s: float = 1.0,
    exit_within_s: float = 10.0,
) -> Result:
    """SIGTERM under load: in-flight requests finish or never start; exit within 10 s."""
    result = Result("graceful-shutdown", {"clients": clients, "workers": workers}, workdir=workdir)
    keys = new_keys()
    node = Node(database_url, keys, workdir, workers=workers)
    ledger = Ledger()
    stop = threading.Event()
    began = time.monotonic()
    try:
        node.start()
        tenant = one_tenant(node.url, keys)
        group = [
            Client(i, tenant, [node.url], ledger, stop, deadline=time.monotonic() + 60)
            for i in range(clients)
        ]
        for c in group:
            c.start()
        time.sleep(load_s)
        signalled = time.monotonic()
        try:
            exit_s = node.kill(signal.SIGTERM, timeout=exit_within_s + 5)
        except Exception:
            exit_s = float("inf")
        time.sleep(0.3)  # clients meet the closed port, then stop
        stop.set()
        run_clients(group, stop, timeout=CLIENT_TIMEOUT + 10)
        _client_problems(result, group)
    finally:
        stop.set()
        node.stop()
    _server_500s(result, [node])
    writes = ledger.snapshot()
    result.figures["exit_s"] = round(exit_s, 2)
    result.figures["in_flight_completed"] = sum(
        w.outcome == "ack" and w.started < signalled < w.ended for w in writes
    )
    result.figures["after_sigterm"] = dict(Counter(w.detail for w in writes if w.ended > signalled))
    if exit_s > exit_within_s:
        result.problems.append(f"the server took {exit_s:.1f} s to exit after SIGTERM")
    # Finish or refuse before any work: no unacknowledged write may be stored.
    _check(result, _snapshot_reader(database_url), ledger, no_effect=lambda w: True)
    result.figures.update(ledger.figures())
    result.figures["seconds"] = round(time.monotonic() - began, 1)
    return result


# --- 6. the official client retrying ----------------------------------------------------
class _RetryLog(logging.Handler):
    """Counts the statuses urllib3 retried (its 'Incremented Retry' debug records)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statuses: Counter[int] = Counter()
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        retry = args[1] if len(args) > 1 else None
        history = getattr(retry, "history", None)
        if history:
            with self._guard:
                self.statuses[history[-1].status] += 1


def client_retry(
    workdir: Path,
    *,
    threads: int = 4,
    calls_each: int = 4,
    rate_limit: str = "5/1s",
    fault_rate: float = 0.3,
    max_retries: int = 10,
    max_seconds: float = 150.0,
) -> Result:
    """datadog-api-client with retries on, through 429s, then through injected 503s.

    Two servers on one SQLite file, one after the other: the first rate-limits
    (``CASEBOOK_RATE_LIMIT``), the second answers a share of requests 503 before any
    work (``CASEBOOK_FAULTS=request_503``). Apart, because the client's backoff grows
    with every retry of a call, 429s included (factor 2: 0, 4, 8, 16 ... s).
    Every call must return a case, and exactly one row exist per call.
    """
    from datadog_api_client import ApiClient, Configuration
    from datadog_api_client.v2.api.case_management_api import CaseManagementApi
    from datadog_api_client.v2.models import (
        CaseCreate,
        CaseCreateAttributes,
        CaseCreateRelationships,
        CaseCreateRequest,
        CaseResourceType,
        ProjectRelationship,
        ProjectRelationshipData,
        ProjectResourceType,
    )

    result = Result(
        "client-retry",
        {"rate_limit": rate_limit, "request_503": fault_rate, "max_retries": max_retries},
        workdir=workdir,
    )
    db = workdir / "casebook.db"
    keys = new_keys()
    phases = {
        "429": {"CASEBOOK_RATE_LIMIT": rate_limit},
        "503": {"CASEBOOK_RATE_LIMIT": "off", "CASEBOOK_FAULTS": f"request_503={fault_rate}"},
    }
    nodes: list[Node] = []
    ledger = Ledger()
    errors: list[str] = []
    retry_log = _RetryLog()
    logger = logging.getLogger("urllib3.util.retry")
    old_level = logger.level
    began = time.monotonic()
    project_id = ""

    def body(title: str) -> CaseCreateRequest:
        return CaseCreateRequest(
            data=CaseCreate(
                attributes=CaseCreateAttributes(
                    title=title, type_id=STANDARD_CASE_TYPE_ID, priority="P3"
                ),
                relationships=CaseCreateRelationships(
                    project=ProjectRelationship(
                        data=ProjectRelationshipData(
                            id=project_id, type=ProjectResourceType.PROJECT
                        )
                    )
                ),
                type=CaseResourceType.CASE,
            )
        )

    def caller(node: Node, phase: str, t: int, deadline: float) -> None:
        configuration = Configuration(
            host=node.url,
            api_key={"apiKeyAuth": keys.api_key, "appKeyAuth": keys.app_key},
            request_timeout=CLIENT_TIMEOUT,
            enable_retry=True,
            max_retries=max_retries,
        )
        with ApiClient(configuration) as api_client:
            api = CaseManagementApi(api_client)
            for i in range(calls_each):
                if time.monotonic() > deadline:
                    errors.append(f"{phase} thread {t}: out of time")
                    return
                title = f"retry-{phase}-{t}-{i}"
                write = Write("create", title, project_id, "P3")
                write.started = time.monotonic()
                try:
                    response = api.create_case(body=body(title))
                    write.outcome, write.detail = "ack", "201"
                    write.case_id = str(response.data.id)
                    write.key = str(response.data.attributes.key)
                except Exception as exc:
                    write.outcome, write.detail = "unknown", type(exc).__name__
                    errors.append(f"{title}: {type(exc).__name__}: {str(exc)[:300]}")
                write.ended = time.monotonic()
                ledger.add(write)

    try:
        logger.addHandler(retry_log)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False  # counted here, not echoed into test reports
        for phase, env in phases.items():
            node = Node(f"sqlite:///{db}", keys, workdir, env=env, name=f"retry-{phase}")
            nodes.append(node)
            node.start()
            if not project_id:
                project_id = create_project(node.url, keys, "SEC", "Security")
            deadline = time.monotonic() + max_seconds
            workers = [
                threading.Thread(target=caller, args=(node, phase, t, deadline), daemon=True)
                for t in range(threads)
            ]
            for w in workers:
                w.start()
            for w in workers:
                w.join(max(0.0, deadline - time.monotonic()) + 2 * CLIENT_TIMEOUT)
            if any(w.is_alive() for w in workers):
                errors.append(f"{phase}: client threads still running")
            node.stop()
    finally:
        logger.removeHandler(retry_log)
        logger.setLevel(old_level)
        logger.propagate = True
        for node in nodes:
            node.stop()
    _server_500s(result, nodes)
    result.problems += errors[:10]
    calls = len(phases) * threads * calls_each
    result.figures["calls"] = calls
    result.figures["cases_returned"] = ledger.count(outcome="ack")
    result.figures["retried"] = {str(k): v for k, v in sorted(retry_log.statuses.items())}
    result.figures["slowest_call_s"] = round(
        max((w.ended - w.started for w in ledger.snapshot()), default=0.0), 2
    )
    for status in (429, 503):
        if not retry_log.statuses[status]:
            result.problems.append(f"the client never retried a {status}")
    report = _check(result, lambda: read_sqlite(str(db)), ledger)
    if report.cases != calls:
        result.problems.append(f"{report.cases} cases stored for {calls} calls")
    result.figures["seconds"] = round(time.monotonic() - began, 1)
    return result
