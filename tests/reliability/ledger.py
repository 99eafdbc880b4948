"""What the clients did: every write attempt with its outcome, as the client saw it.

A write is *acknowledged* (a 2xx answer), *failed* (a 4xx answer, or the
connection was refused so the request never reached a server) or *unknown*
(the connection broke mid-request, the client timed out, or a 5xx answer):
an unknown write may or may not have happened, and the checker allows both.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx2 as httpx

Outcome = Literal["ack", "failed", "unknown"]
Op = Literal["create", "priority", "status"]

_seq = itertools.count(1)


@dataclass
class Write:
    op: Op
    title: str
    """Create: the case's title, unique per run. Update: the title of the case changed."""
    project_id: str
    value: str
    """Create: the priority it asks for. Update: the new priority or status."""
    outcome: Outcome = "unknown"
    detail: str = ""
    """The HTTP status (``"201"``, ``"503"``) or the exception's class name."""
    case_id: str | None = None
    key: str | None = None
    started: float = 0.0
    ended: float = 0.0
    seq: int = field(default_factory=lambda: next(_seq))


def classify(response: httpx.Response | None, error: BaseException | None) -> tuple[Outcome, str]:
    """The outcome of one request, from its response or the exception it raised."""
    if error is not None:
        if isinstance(error, httpx.ConnectError):
            # Refused before a byte was sent: no server saw this request.
            return "failed", "ConnectError"
        return "unknown", type(error).__name__
    assert response is not None
    status = response.status_code
    if 200 <= status < 300:
        return "ack", str(status)
    if 400 <= status < 500:
        return "failed", str(status)
    return "unknown", str(status)


class Ledger:
    """Every write of a run, appended by many client threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.writes: list[Write] = []

    def add(self, write: Write) -> None:
        with self._lock:
            self.writes.append(write)

    def __len__(self) -> int:
        return len(self.writes)

    def snapshot(self) -> list[Write]:
        with self._lock:
            return list(self.writes)

    def details(self) -> Counter[str]:
        return Counter(w.detail for w in self.snapshot())

    def count(self, *, op: str | None = None, outcome: str | None = None) -> int:
        return sum(
            1
            for w in self.snapshot()
            if (op is None or w.op == op) and (outcome is None or w.outcome == outcome)
        )

    def figures(self) -> dict[str, Any]:
        writes = self.snapshot()
        return {
            "writes": len(writes),
            "creates": sum(w.op == "create" for w in writes),
            "updates": sum(w.op != "create" for w in writes),
            "creates_acknowledged": sum(w.op == "create" and w.outcome == "ack" for w in writes),
            "acknowledged": sum(w.outcome == "ack" for w in writes),
            "failed": sum(w.outcome == "failed" for w in writes),
            "unknown": sum(w.outcome == "unknown" for w in writes),
            "statuses": dict(sorted(Counter(w.detail for w in writes).items())),
        }
