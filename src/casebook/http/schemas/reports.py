"""Count, aggregate and durations shapes: ``/api/v2/cases/count`` and ``/aggregate``.

The spec's ``CaseCountResponse`` and ``CaseAggregate*`` shapes, with casebook's
extensions (documented in docs/api.md): ``total`` on a count, ``by`` on an aggregate
group (the values of each field, by name), and the durations report.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec

from casebook.domain import limits
from casebook.domain.reports import CaseAggregate, CaseCount, DurationReport, Durations, Figure
from casebook.http.schemas.common import Short, rfc3339
from casebook.search import MAX_QUERY_LENGTH

Filter = Annotated[str, msgspec.Meta(max_length=MAX_QUERY_LENGTH * 4)]
Fields = Annotated[list[Short], msgspec.Meta(max_length=limits.MAX_AGGREGATE_FIELDS * 4)]

_NAMESPACE = uuid.UUID("5b0c7a52-4e0f-4c53-9a43-0b5f3d1d6c11")


def answer_id(org_id: str, *question: object) -> str:
    """The id of an answer: the same question in the same organisation has the same id."""
    return str(uuid.uuid5(_NAMESPACE, repr((org_id, *question))))


# --- requests -------------------------------------------------------------------


class GroupByBody(msgspec.Struct):
    groups: Fields
    limit: int


class AggregateAttributes(msgspec.Struct):
    group_by: GroupByBody
    query_filter: Filter = ""


class AggregateData(msgspec.Struct):
    type: Short
    attributes: AggregateAttributes | None = None


class AggregateRequest(msgspec.Struct):
    """``CaseAggregateRequest``; ``query_filter`` may be left out (every case)."""

    data: AggregateData


class DurationsAttributes(msgspec.Struct):
    query_filter: Filter = ""
    group_by: Short | None = None
    limit: int | None = None


class DurationsData(msgspec.Struct):
    type: Short
    attributes: DurationsAttributes | None = None


class DurationsRequest(msgspec.Struct):
    data: DurationsData


# --- responses ------------------------------------------------------------------


class CountValue(msgspec.Struct):
    value: str
    count: int


class CountGroup(msgspec.Struct):
    group: str
    group_values: list[CountValue]


class CountAttributes(msgspec.Struct):
    groups: list[CountGroup]
    total: int  # extension


class CountData(msgspec.Struct):
    id: str
    type: Literal["count"]
    attributes: CountAttributes


class CountResponse(msgspec.Struct):
    """``CaseCountResponse``."""

    data: CountData


class AggregateGroup(msgspec.Struct):
    group: str
    value: list[int]
    by: dict[str, str]  # extension: each field's value


class AggregateResponseAttributes(msgspec.Struct):
    groups: list[AggregateGroup]
    total: int


class AggregateResponseData(msgspec.Struct):
    id: str
    type: Literal["aggregate"]
    attributes: AggregateResponseAttributes


class AggregateResponse(msgspec.Struct):
    """``CaseAggregateResponse``."""

    data: AggregateResponseData


class FigurePublic(msgspec.Struct, omit_defaults=True):
    """Seconds; ``median`` and ``p90`` left out when no case is covered."""

    cases: int
    median: float | None = None
    p90: float | None = None


class StatusTimePublic(msgspec.Struct, omit_defaults=True):
    cases: int
    total: float
    median: float | None = None
    p90: float | None = None


class DurationsPublic(msgspec.Struct):
    cases: int
    time_to_first_assignment: FigurePublic
    time_to_close: FigurePublic
    time_in_status: dict[str, StatusTimePublic]  # OPEN, IN_PROGRESS, CLOSED


class DurationGroupPublic(msgspec.Struct):
    group: str
    cases: int
    time_to_first_assignment: FigurePublic
    time_to_close: FigurePublic
    time_in_status: dict[str, StatusTimePublic]


class DurationsResponseAttributes(msgspec.Struct, omit_defaults=True):
    at: str
    total: int
    overall: DurationsPublic
    groups: list[DurationGroupPublic]
    group_by: str | None = None


class DurationsResponseData(msgspec.Struct):
    id: str
    type: Literal["durations"]
    attributes: DurationsResponseAttributes


class DurationsResponse(msgspec.Struct):
    data: DurationsResponseData


def count_response(count: CaseCount, answer: str) -> CountResponse:
    groups = [
        CountGroup(facet.field, [CountValue(value, n) for value, n in facet.values])
        for facet in count.facets
    ]
    return CountResponse(CountData(answer, "count", CountAttributes(groups, count.total)))


def aggregate_response(aggregate: CaseAggregate, answer: str) -> AggregateResponse:
    groups = [
        AggregateGroup(",".join(values), [n], dict(zip(aggregate.fields, values, strict=True)))
        for values, n in aggregate.groups
    ]
    attributes = AggregateResponseAttributes(groups, aggregate.total)
    return AggregateResponse(AggregateResponseData(answer, "aggregate", attributes))


def _figure(figure: Figure) -> FigurePublic:
    return FigurePublic(figure.cases, figure.median, figure.p90)


def _status_times(durations: Durations) -> dict[str, StatusTimePublic]:
    return {
        status.value: StatusTimePublic(figure.cases, figure.total or 0.0, figure.median, figure.p90)
        for status, figure in durations.time_in_status.items()
    }


def durations_response(report: DurationReport, answer: str) -> DurationsResponse:
    overall = report.overall
    attributes = DurationsResponseAttributes(
        at=rfc3339(report.at),
        total=report.total,
        overall=DurationsPublic(
            overall.cases,
            _figure(overall.time_to_first_assignment),
            _figure(overall.time_to_close),
            _status_times(overall),
        ),
        groups=[
            DurationGroupPublic(
                value,
                durations.cases,
                _figure(durations.time_to_first_assignment),
                _figure(durations.time_to_close),
                _status_times(durations),
            )
            for value, durations in report.groups
        ],
        group_by=report.field,
    )
    return DurationsResponse(DurationsResponseData(answer, "durations", attributes))
