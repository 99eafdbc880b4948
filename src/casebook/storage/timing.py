"""Database time per request: the stores add the time each transaction took to a clock.

The HTTP layer sets ``db_clock`` to a fresh ``DbClock`` for each request; every
``read()`` and ``write()`` of a store then adds its wall time (waiting for the
lock, the statements, and the code that runs between them) to it. Outside a
request (the worker, the CLI) no clock is set and nothing is counted. Two clock
reads and one context-variable lookup per transaction: cheap enough to stay on.
"""

from __future__ import annotations

from contextvars import ContextVar


class DbClock:
    """Seconds spent inside database transactions so far."""

    __slots__ = ("seconds",)

    def __init__(self) -> None:
        self.seconds = 0.0


db_clock: ContextVar[DbClock | None] = ContextVar("casebook_db_clock", default=None)
