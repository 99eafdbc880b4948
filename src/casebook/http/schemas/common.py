"""Pieces every resource's shapes share: JSON:API relations and the two timestamp formats."""

from __future__ import annotations

import time
from typing import Annotated

import msgspec

from casebook.core.clock import rfc3339 as rfc3339  # re-exported: the schemas import it here

Short = Annotated[str, msgspec.Meta(max_length=256)]
"""Any short string member (ids, enum values): bounded so no value can be huge."""


class Relation(msgspec.Struct):
    id: str
    type: str


class RelationWrapper(msgspec.Struct):
    data: Relation | None = None


class Link(msgspec.Struct):
    data: Relation


def link(id: str, type: str) -> Link:
    return Link(Relation(id=id, type=type))


def optional_rfc3339(us: int | None) -> str | None:
    return None if us is None else rfc3339(us)


def isoformat(us: int) -> str:
    """Users API timestamps, as Python's isoformat: ``...+00:00``."""
    seconds, micros = divmod(us, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}+00:00"
