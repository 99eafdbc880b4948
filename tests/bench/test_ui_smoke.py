"""The UI benchmark still runs: a tiny seed, SQLite only, no target asserted."""

from __future__ import annotations

import os

import pytest

from bench import procs, ui

pytestmark = pytest.mark.slow


def test_ui_benchmark_runs() -> None:
    before = set(procs.descendants(os.getpid()))  # a worker's PostgreSQL, say
    text = ui.run(["--backend", "sqlite", "--cases", "60", "--rounds", "3", "--settle", "0"])
    assert "| case page /cases/BENCH-" in text and "| board /board?project=BENCH |" in text
    assert "JavaScript and CSS of a page" in text
    assert set(procs.descendants(os.getpid())) <= before  # what it started has been stopped
