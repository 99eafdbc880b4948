"""Rollback after allocation: ``CASEBOOK_FAULTS=create_after_allocate=0.1`` fails a tenth of
the creates after the project's counter moved and before commit (503). The checker,
counting those 503s as writes that must have no effect, finds no row and no gap."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability import scenarios
from tests.reliability._report import assert_passed

pytestmark = pytest.mark.slow


def test_a_create_failing_after_allocation_leaves_no_row_and_no_gap(
    database_url: str, tmp_path: Path
) -> None:
    result = scenarios.rollback_after_allocate(database_url, tmp_path, rate=0.1, creates=600)
    assert_passed(result)
    assert 20 <= result.figures["injected_503"] <= 120  # about 10% of 600
