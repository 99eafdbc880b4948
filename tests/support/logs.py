"""Capture the request log lines (``casebook.access``) of in-process apps, as JSON text."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from casebook.http.observe import access_formatter, access_log


@contextmanager
def access_lines() -> Iterator[list[str]]:
    """The lines logged while inside, formatted as ``casebook serve --log-format json`` does;
    the list fills when the block ends."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(access_formatter("json"))
    level, propagate = access_log.level, access_log.propagate
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False
    lines: list[str] = []
    try:
        yield lines
    finally:
        access_log.removeHandler(handler)
        access_log.setLevel(level)
        access_log.propagate = propagate
        lines.extend(stream.getvalue().splitlines())
