"""The bulk benchmark still runs: a tiny seed, SQLite only, no target asserted."""

from __future__ import annotations

import os

import pytest

from bench import bulk, procs

pytestmark = pytest.mark.slow


def test_bulk_benchmark_runs() -> None:
    text, timings = bulk.run(["--backend", "sqlite", "--cases", "500", "--rounds", "3"])
    assert [t.cases_each for t in timings] == [1, bulk.BULK, bulk.BULK]
    assert [len(t.samples) for t in timings] == [300, 3, 3]
    assert all(0 < t.median <= t.percentile(99) for t in timings)
    for t in timings:
        assert t.name in text
    # Everything the benchmark started has been stopped.
    assert procs.descendants(os.getpid()) == []
