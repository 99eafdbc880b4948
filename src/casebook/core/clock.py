"""Time and identifiers, in one place so every timestamp is taken the same way."""

from __future__ import annotations

import re
import time
import uuid

CASE_KEY = re.compile(r"([A-Za-z][A-Za-z0-9]{0,9})-([0-9]{1,18})")
"""A case key as typed: a project key, a dash and the case's number (``SEC-12``, ``sec-012``)."""

CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def now_us() -> int:
    """Microseconds since the Unix epoch, UTC."""
    return time.time_ns() // 1000


def rfc3339(us: int) -> str:
    """A timestamp as cases answer it: RFC 3339, UTC, ``Z``, microseconds."""
    seconds, micros = divmod(us, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"


def new_id() -> str:
    """A random (version 4) UUID, lower-case, as Datadog's case ids are."""
    return str(uuid.uuid4())


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
