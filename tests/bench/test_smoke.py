"""The benchmark still runs: a few seconds, a tiny seed, SQLite only, no targets asserted.

The load comes from the Python fallback (httpx2), so this runs without wrk;
with wrk installed, a second test runs the wrk path and its Lua script too.
"""

from __future__ import annotations

import os

import pytest

pytest.importorskip("orjson", reason="the benchmark's ceiling needs orjson (a dev dependency)")

from bench import http as bench_http
from bench import load, procs

pytestmark = pytest.mark.slow

ENDPOINTS = [
    "GET case by UUID",
    "GET case by key",
    "GET search",
    "POST status change",
    "POST create case",
]


def _run(loadgen: str) -> bench_http.Report:
    argv = ["--backend", "sqlite", "--seconds", "1", "--slices", "1", "--cases", "60"]
    argv += ["--projects", "2"]
    argv += ["--workers", "1", "--connections", "4", "--loadgen", loadgen]
    argv += ["--python-requests", "100"]
    return bench_http.run(argv)


def _check(report: bench_http.Report) -> None:
    assert set(report.ceiling) == {"GET", "POST"}
    assert all(r.requests > 0 and r.errors == 0 for r in report.ceiling.values())
    assert {"sqlite FULL", "sqlite NORMAL"} <= set(report.raw)
    assert all(r.creates > 0 for r in report.raw.values())
    assert [row.name for row in report.rows] == ENDPOINTS
    for row in report.rows:
        assert row.result.requests > 0, row.name
        assert row.result.errors == 0, row.name
        assert row.result.p50_ms > 0 and row.result.p99_ms >= row.result.p50_ms, row.name
    assert 0 < report.healthz_fresh_s < 30
    assert report.rss_peak_mb and all(mb > 0 for mb in report.rss_peak_mb.values())
    text = bench_http.render(report)
    for name in ENDPOINTS:
        assert name in text
    # Everything the benchmark started has been stopped.
    assert procs.descendants(os.getpid()) == []


def test_benchmark_runs_with_the_python_load_generator() -> None:
    _check(_run("python"))


@pytest.mark.skipif(not load.have_wrk(), reason="wrk is not installed")
def test_benchmark_runs_with_wrk() -> None:
    _check(_run("wrk"))
