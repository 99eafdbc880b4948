"""The official Python client retrying: ``datadog-api-client`` with ``enable_retry=True``.

Its retry (urllib3) resends POSTs on 429 (waiting ``X-RateLimit-Reset``
seconds) and on 5xx (exponential backoff, factor at least 2); ``max_retries``
defaults to 3, raised here so a run of 503s at a 30% fault rate cannot exhaust
it. Against ``CASEBOOK_RATE_LIMIT=5/1s``, then ``CASEBOOK_FAULTS=request_503=0.3``
(a 503 before any side effect), every call returns a case and exactly one row
exists per call. The two run apart: a 429 counts in the call's retry history,
so 429s followed by 503s back off for 16, 32, 64 s.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability import scenarios
from tests.reliability._report import assert_passed

pytestmark = pytest.mark.slow


def test_every_retried_call_makes_exactly_one_case(tmp_path: Path) -> None:
    result = scenarios.client_retry(
        tmp_path, threads=4, calls_each=3, rate_limit="5/1s", fault_rate=0.3, max_retries=10
    )
    assert_passed(result)
    assert (
        result.figures["cases_returned"]
        == result.figures["calls"]
        == result.figures["cases_stored"]
    )
