"""The deliveries listing's shapes (a casebook extension, JSON:API as the case API)."""

from __future__ import annotations

import math
from typing import Literal

import msgspec

from casebook.domain.deliveries import DeliveryLog
from casebook.http.schemas.common import optional_rfc3339, rfc3339
from casebook.storage.outbox import Attempt


class AttemptPublic(msgspec.Struct):
    n: int
    at: str
    status: int | None  # the destination's answer; None: no answer (a timeout, a refusal)
    error: str | None
    duration_ms: int


class DeliveryAttributes(msgspec.Struct):
    channel: str  # http, workflow, slack, teams, pagerduty, email
    state: Literal["pending", "delivered", "failed"]
    rule_id: str | None
    case_id: str
    target: dict[str, str]  # redacted: a webhook's name, a URL's host, a key's last characters
    attempts: int
    last_error: str | None
    created_at: str
    delivered_at: str | None
    next_attempt_at: str | None
    attempt_log: list[AttemptPublic]


class DeliveryPublic(msgspec.Struct):
    id: str
    type: Literal["delivery"]
    attributes: DeliveryAttributes


class DeliveriesPage(msgspec.Struct):
    current: int
    size: int  # deliveries on this page
    total: int  # pages


class DeliveriesMeta(msgspec.Struct):
    page: DeliveriesPage
    total_deliveries: int


class DeliveryList(msgspec.Struct):
    data: list[DeliveryPublic]
    meta: DeliveriesMeta


def _attempt(attempt: Attempt) -> AttemptPublic:
    return AttemptPublic(
        n=attempt.attempt,
        at=rfc3339(attempt.at),
        status=attempt.status,
        error=attempt.error,
        duration_ms=attempt.duration_ms,
    )


def delivery_public(log: DeliveryLog) -> DeliveryPublic:
    d = log.delivery
    return DeliveryPublic(
        id=d.id,
        type="delivery",
        attributes=DeliveryAttributes(
            channel=d.channel,
            state=d.state,  # type: ignore[arg-type]  # one of the worker's states
            rule_id=d.rule_id,
            case_id=d.case_id,
            target={str(k): str(v) for k, v in d.target.items()},
            attempts=d.attempts,
            last_error=d.last_error,
            created_at=rfc3339(d.created_at),
            delivered_at=optional_rfc3339(d.delivered_at),
            next_attempt_at=optional_rfc3339(d.next_attempt_at),
            attempt_log=[_attempt(a) for a in log.attempts],
        ),
    )


def delivery_list(logs: list[DeliveryLog], *, total: int, page: int, size: int) -> DeliveryList:
    return DeliveryList(
        data=[delivery_public(log) for log in logs],
        meta=DeliveriesMeta(
            DeliveriesPage(current=page, size=len(logs), total=math.ceil(total / size)),
            total_deliveries=total,
        ),
    )
