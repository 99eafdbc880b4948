"""kill -9 on SQLite: two workers, eight clients in two organisations and three projects.

The whole server is SIGKILLed at a random moment under load, restarted, and
again, at least 10 times and 2,000 acknowledged writes. After every kill
``PRAGMA integrity_check`` is ok and the checker finds every acknowledged write,
as acknowledged, with no duplicate and no gap (see ``checker.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability import scenarios
from tests.reliability._report import assert_passed

pytestmark = pytest.mark.slow


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    result = scenarios.sqlite_kill(tmp_path, min_cycles=10, min_acks=2000, max_seconds=100)
    assert_passed(result)
    assert result.figures["kill_cycles"] >= 10
    assert result.figures["acknowledged"] >= 2000
    assert result.figures["unknown"] > 0, "no kill caught a request in flight"
