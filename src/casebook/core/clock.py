"""Time and identifiers, in one place so every timestamp is taken the same way."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

CASE_KEY = re.compile(r"([A-Za-z][A-Za-z0-9]{0,9})-([0-9]{1,18})")
"""A case key as typed: a project key, a dash and the case's number (``SEC-12``, ``sec-012``)."""

CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


_clock: ContextVar[Callable[[], int] | None] = ContextVar("casebook_clock", default=None)
_ids: ContextVar[Callable[[], str] | None] = ContextVar("casebook_ids", default=None)


def now_us() -> int:
    """Microseconds since the Unix epoch, UTC (or the time ``using`` set for this context)."""
    clock = _clock.get()
    return time.time_ns() // 1000 if clock is None else clock()


@contextmanager
def using(
    clock: Callable[[], int] | None = None, ids: Callable[[], str] | None = None
) -> Iterator[None]:
    """Take ``now_us`` from ``clock`` and ``new_id`` from ``ids`` in this context (and the
    threads it starts with a copy of it): the emulator's frozen clocks and seeded ids, one
    organisation per request. None keeps the real one."""
    clock_token = _clock.set(clock)
    ids_token = _ids.set(ids)
    try:
        yield
    finally:
        _ids.reset(ids_token)
        _clock.reset(clock_token)


def rfc3339(us: int) -> str:
    """A timestamp as cases answer it: RFC 3339, UTC, ``Z``, microseconds."""
    seconds, micros = divmod(us, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"


def new_id() -> str:
    """A random (version 4) UUID, lower-case, as Datadog's case ids are (or the next of the
    generator ``using`` set for this context)."""
    ids = _ids.get()
    return str(uuid.uuid4()) if ids is None else ids()


def parse_uuid(value: str) -> str | None:
    """The canonical lower-case form of a UUID string, or None if it is not one."""
    if len(value) != 36:
        return None
    if CANONICAL_UUID.fullmatch(value):  # the usual shape, without building a UUID
        return value.lower()
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def parse_case_key(value: str) -> str | None:
    """The canonical form of a case key (``sec-012`` -> ``SEC-12``), or None if it is not one.

    Case numbers start at 1, so ``SEC-0`` is not a key.
    """
    match = CASE_KEY.fullmatch(value)
    if match is None:
        return None
    number = int(match[2])
    return None if number == 0 else f"{match[1].upper()}-{number}"
