"""Graceful shutdown: SIGTERM to the server (master and workers) under load.

In-flight requests finish or are refused before doing any work: every write the
client did not see acknowledged is absent. The server exits within 10 s and no
acknowledged write is lost.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability import scenarios
from tests.reliability._report import assert_passed

pytestmark = pytest.mark.slow


def test_sigterm_under_load_loses_nothing_and_exits_quickly(
    database_url: str, tmp_path: Path
) -> None:
    result = scenarios.graceful_shutdown(database_url, tmp_path, exit_within_s=10.0)
    assert_passed(result)
    assert result.figures["acknowledged"] > 0
