"""casebook's Prometheus metrics (``CASEBOOK_METRICS=1``): counters and histograms of the
requests ``observe.Observer`` sees, label children cached per (operation, status) so the hot
path allocates nothing for them, each worker's process metrics and the delivery backlog.
docs/operations.md lists them. Imported only when metrics are on."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from casebook.domain.deliveries import backlog
from casebook.storage.base import Store

# Request durations: 1 ms to 10 s; a GET by id takes well under a millisecond of the
# server's time, so the first buckets are fine.
DURATION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
DB_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5)


class _WorkerProcesses(Collector):
    """Process metrics (CPU, memory, open files) of every worker, labelled ``pid``.

    prometheus-client's ``ProcessCollector`` reads one process's ``/proc`` entry; in
    multiprocess mode the workers are the processes that left files in the directory.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _pids(self) -> list[int]:
        pids = set()
        for entry in self.directory.glob("*.db"):
            tail = entry.stem.rsplit("_", 1)[-1]
            if tail.isdigit() and Path(f"/proc/{tail}").exists():
                pids.add(int(tail))
        return sorted(pids)

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for pid in self._pids():
            one = ProcessCollector(pid=lambda pid=pid: pid, registry=None)  # type: ignore[misc]
            for family in one.collect():
                target = merged.get(family.name)
                if target is None:
                    target = merged[family.name] = Metric(
                        family.name, family.documentation, family.type
                    )
                for sample in family.samples:
                    target.add_sample(sample.name, {**sample.labels, "pid": str(pid)}, sample.value)
        yield from merged.values()


class _Backlog(Collector):
    """The delivery worker's backlog, counted when scraped (two indexed counts)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterable[Metric]:
        found = backlog(self.store)
        yield GaugeMetricFamily(
            "casebook_outbox_pending_events",
            "Case changes the delivery worker has not yet turned into deliveries.",
            value=found.outbox_events,
        )
        yield GaugeMetricFamily(
            "casebook_deliveries_pending",
            "Deliveries not yet sent (waiting for their first attempt or a retry).",
            value=found.pending_deliveries,
        )


class Metrics:
    """casebook's Prometheus metrics. In multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``
    set before prometheus-client was imported, as ``casebook serve --workers N`` does) the
    values live in files there and a scrape sums every worker's."""

    def __init__(self, store: Store) -> None:
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        self.registry = CollectorRegistry()
        own = None if directory else self.registry
        self.requests = Counter(
            "casebook_requests",
            "Requests answered, by operation id and HTTP status.",
            ("operation", "status"),
            registry=own,
        )
        self.duration = Histogram(
            "casebook_request_duration_seconds",
            "Time from the request's arrival to its answer, by operation id.",
            ("operation",),
            buckets=DURATION_BUCKETS,
            registry=own,
        )
        self.db_time = Histogram(
            "casebook_request_db_seconds",
            "Time a request spent inside database transactions, by operation id.",
            ("operation",),
            buckets=DB_BUCKETS,
            registry=own,
        )
        self.server_errors = Counter(
            "casebook_server_errors",
            "Answers with a 5xx status, by operation id.",
            ("operation",),
            registry=own,
        )
        self.rejections = Counter(
            "casebook_rejections",
            "Requests refused before any work: rate_limit (the key's limit),"
            " auth_failure (bad keys or password), auth_throttled (too many from the address),"
            " csrf (a web UI change without its session's token).",
            ("reason",),
            registry=own,
        )
        if directory:
            MultiProcessCollector(self.registry, directory)  # type: ignore[no-untyped-call]
            self.registry.register(_WorkerProcesses(Path(directory)))
        else:
            ProcessCollector(registry=self.registry)
        self.registry.register(_Backlog(store))
        self._children: dict[tuple[str, int], tuple[Any, Any, Any, Any]] = {}

    def observe(self, operation: str, status: int, seconds: float, db_seconds: float) -> None:
        children = self._children.get((operation, status))
        if children is None:
            children = self._children[(operation, status)] = (
                self.requests.labels(operation, str(status)),
                self.duration.labels(operation),
                self.db_time.labels(operation),
                self.server_errors.labels(operation) if status >= 500 else None,
            )
        requests, duration, db_time, server_errors = children
        requests.inc()
        duration.observe(seconds)
        db_time.observe(db_seconds)
        if server_errors is not None:
            server_errors.inc()

    def rejected(self, reason: str) -> None:
        self.rejections.labels(reason).inc()

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric, all workers' together."""
        return generate_latest(self.registry)
