"""Show a scenario's figures in the test output (``pytest -rP``) and fail with its problems."""

from __future__ import annotations

import json

from tests.reliability.scenarios import Result


def assert_passed(result: Result) -> None:
    print(f"{result.name}: {json.dumps(result.figures, sort_keys=True)}")
    assert result.ok, result.explain()
