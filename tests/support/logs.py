"""Capture the request log lines (``casebook.access``) of in-process apps."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from casebook.http.observe import access_formatter, access_log


class Captured:
    """The lines logged so far, formatted as ``casebook serve --log-format json`` does."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()

    def entries(self) -> list[dict[str, Any]]:
        """Every line parsed as JSON (failing the test on any that is not)."""
        return [json.loads(line) for line in self.lines]

    def assert_none_carries(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            assert secret, "an empty secret is in every line"
            for line in self.lines:
                assert secret not in line, line


@contextmanager
def access_lines() -> Iterator[Captured]:
    captured = Captured()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(access_formatter("json"))
    level, propagate = access_log.level, access_log.propagate
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False
    try:
        yield captured
    finally:
        access_log.removeHandler(handler)
        access_log.setLevel(level)
        access_log.propagate = propagate
