"""Fault injection for the reliability tests, off unless ``CASEBOOK_FAULTS`` is set.

``CASEBOOK_FAULTS="create_after_allocate=0.1,request_503=0.05"`` names faults and
the probability that each fires:

- ``create_after_allocate``: a case create fails after its case number was taken
  and before commit (the transaction rolls back; the client gets 503).
- ``request_503``: a request is answered 503 before anything is read or written.
- ``history_record``: a change fails when it writes its history rows, after its other
  writes in the same transaction (which rolls back: no change without its timeline cell).

All fail *before* a commit, so a client may always retry them safely.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from casebook.core.errors import InvalidRequestError

KNOWN = frozenset({"create_after_allocate", "request_503", "history_record"})


@dataclass(slots=True)
class Faults:
    rates: dict[str, float] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def parse(cls, text: str) -> Faults:
        rates: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, rate = part.partition("=")
            if name not in KNOWN:
                raise InvalidRequestError(
                    f"unknown fault {name!r} in CASEBOOK_FAULTS; known: {', '.join(sorted(KNOWN))}"
                )
            try:
                value = float(rate)
            except ValueError:
                raise InvalidRequestError(
                    f"CASEBOOK_FAULTS: {part!r} needs a probability"
                ) from None
            if not 0.0 <= value <= 1.0:
                raise InvalidRequestError(f"CASEBOOK_FAULTS: {part!r} must be between 0 and 1")
            rates[name] = value
        return cls(rates)

    def __bool__(self) -> bool:
        return bool(self.rates)

    def fire(self, name: str) -> bool:
        rate = self.rates.get(name)
        return rate is not None and self.rng.random() < rate
