"""Counts, aggregates and durations over the cases a search finds.

``count_cases`` (CountCases) counts the matches of a filter and, for each field of
``group_bys`` on its own, how many fall under each of its values. ``aggregate_cases``
(AggregateCases) counts them by the combinations of the values of several fields.
``case_durations`` (casebook's extension) measures how long the matches took to be
assigned and closed, and how long they spent in each status group, from their history.

All three read one snapshot, filter exactly as ``GET /api/v2/cases?filter=`` does
(``search.parser.parse``; the store compiles the same condition), and count exactly:
no bound, unlike search's ``total_cases``. ``docs/api.md`` states what each answer
means; ``storage/sql_counts.py`` how a group's value is written and groups ordered.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from casebook.core.clock import now_us
from casebook.core.entities import Actor, Scope, Status
from casebook.core.errors import InvalidRequestError
from casebook.domain import limits
from casebook.domain.access import require_scope
from casebook.search.grouping import parse_group_bys
from casebook.search.parser import parse
from casebook.storage.base import Store


@dataclass(frozen=True, slots=True)
class Facet:
    """One field of ``group_bys`` (as written) and its largest groups: (value, count)."""

    field: str
    values: list[tuple[str, int]]


@dataclass(frozen=True, slots=True)
class CaseCount:
    total: int
    facets: list[Facet]


@dataclass(frozen=True, slots=True)
class CaseAggregate:
    """The matches' number, and the largest groups: (one value per field, count)."""

    total: int
    fields: list[str]
    groups: list[tuple[tuple[str, ...], int]]


def _limit(limit: int | None, name: str, default: int, most: int) -> int:
    if limit is None:
        return default
    if not 1 <= limit <= most:
        raise InvalidRequestError(f"{name} must be between 1 and {most}, got {limit}")
    return limit


def count_cases(
    store: Store,
    *,
    actor: Actor,
    query: str = "",
    group_bys: str = "",
    limit: int | None = None,
) -> CaseCount:
    """The number of cases ``query`` finds and, for each comma-separated field of
    ``group_bys``, the ``limit`` values most of them hold, with how many hold each."""
    require_scope(actor, Scope.CASES_READ)
    names = [name.strip() for name in group_bys.split(",")] if group_bys.strip() else []
    if any(not name for name in names):
        raise InvalidRequestError(f"group_bys has an empty field: {group_bys!r}")
    groups = parse_group_bys(names, most=limits.MAX_COUNT_FIELDS)
    most = _limit(limit, "limit", limits.DEFAULT_FACET_VALUES, limits.MAX_FACET_VALUES)
    tree = parse(query, now_us=now_us())
    with store.read(snapshot=True) as tx:
        counter = tx.cases.counter(actor.org_id, tree, actor_user_id=actor.user_id)
        total, found = counter.facets(groups, most) if groups else (counter.total(), [])
    facets = [
        Facet(group.name, [(values[0], n) for values, n in counted])
        for group, counted in zip(groups, found, strict=True)
    ]
    return CaseCount(total, facets)


def aggregate_cases(
    store: Store, *, actor: Actor, query: str, groups: Sequence[str], limit: int
) -> CaseAggregate:
    """The number of cases ``query`` finds, and the ``limit`` largest groups of them by the
    values of ``groups`` together (a case under each combination of its values)."""
    require_scope(actor, Scope.CASES_READ)
    fields = parse_group_bys(list(groups), most=limits.MAX_AGGREGATE_FIELDS)
    most = _limit(limit, "group_by.limit", limit, limits.MAX_AGGREGATE_GROUPS)
    tree = parse(query, now_us=now_us())
    with store.read(snapshot=True) as tx:
        counter = tx.cases.counter(actor.org_id, tree, actor_user_id=actor.user_id)
        total, found = counter.aggregate(fields, most)
    return CaseAggregate(total, [f.name for f in fields], found)


# --- durations -------------------------------------------------------------------------

_EVENT_FIELDS = ("assignee", "status")
_EVENTS_PER_READ = 500
"""Cases whose history one statement reads (bounded memory, bounded parameters)."""


@dataclass(frozen=True, slots=True)
class Figure:
    """How many cases a duration covers, and its median and 90th percentile (seconds;
    None when it covers none). ``total``: the sum, for time in a status."""

    cases: int
    median: float | None
    p90: float | None
    total: float | None = None


@dataclass(frozen=True, slots=True)
class Durations:
    """The durations of some cases: ``cases`` of them."""

    cases: int
    time_to_first_assignment: Figure
    time_to_close: Figure
    time_in_status: dict[Status, Figure]


@dataclass(frozen=True, slots=True)
class DurationReport:
    """Durations of the matches of a query (``at``: the time open stretches end, in
    microseconds), in all and, grouped by ``field``, per value."""

    at: int
    total: int
    overall: Durations
    field: str | None
    groups: list[tuple[str, Durations]]


@dataclass(slots=True)
class _Samples:
    """What one group's cases measured, in microseconds."""

    cases: int = 0
    assignment: list[int] = field(default_factory=list)
    close: list[int] = field(default_factory=list)
    status: dict[Status, list[int]] = field(
        default_factory=lambda: {status: [] for status in Status}
    )

    def add(self, case: _CaseTimes) -> None:
        self.cases += 1
        if case.assignment is not None:
            self.assignment.append(case.assignment)
        if case.close is not None:
            self.close.append(case.close)
        for status, spent in case.status.items():
            self.status[status].append(spent)

    def durations(self) -> Durations:
        return Durations(
            self.cases,
            _figure(self.assignment),
            _figure(self.close),
            {status: _figure(spent, total=True) for status, spent in self.status.items()},
        )


@dataclass(frozen=True, slots=True)
class _CaseTimes:
    assignment: int | None
    close: int | None
    status: dict[Status, int]


def percentile(values: Sequence[int], share: float) -> int:
    """The nearest-rank percentile: the least value that ``share`` of ``values`` (sorted,
    not empty) are at or below."""
    return values[max(math.ceil(share * len(values)), 1) - 1]


def _seconds(us: float) -> float:
    return round(us / 1_000_000, 6)


def _figure(values: list[int], *, total: bool = False) -> Figure:
    if not values:
        return Figure(0, None, None, 0.0 if total else None)
    values.sort()
    return Figure(
        len(values),
        _seconds(statistics.median(values)),
        _seconds(percentile(values, 0.9)),
        _seconds(sum(values)) if total else None,
    )


def measure_case(
    created_at: int,
    closed_at: int | None,
    status: Status,
    assignee_id: str | None,
    events: Iterable[tuple[int, str, str | None, str | None]],
    at: int,
) -> _CaseTimes:
    """One case's durations from its history (``assignee`` and ``status`` rows, oldest
    first), its open stretch ending at ``at``.

    * time to first assignment: from creation to the first time it had an assignee
      (0 when created with one); None if it never had one;
    * time to close: from creation to the close it is in now (``closed_at``), so a case
      closed, reopened and closed again counts until its last close; None unless closed;
    * time in each status group: the stretches between its status changes, the first
      from creation, the last until ``at``.
    """
    assigned: int | None = None
    seen_assignee = False
    group = status  # the group it was created in, found below when it moved since
    moved = False
    stretches: dict[Status, int] = {}
    since = created_at
    for when, name, old, new in events:
        if name == "assignee":
            if not seen_assignee and old is not None:
                assigned = created_at  # it had one from its creation
            if assigned is None and new is not None:
                assigned = when
            seen_assignee = True
        elif name == "status":
            if not moved:
                group = Status(old) if old is not None else status
                moved = True
            stretches[group] = stretches.get(group, 0) + max(when - since, 0)
            since = when
            group = Status(new) if new is not None else group
    if not seen_assignee and assignee_id is not None:
        assigned = created_at
    stretches[group] = stretches.get(group, 0) + max(at - since, 0)
    closed = None
    if status is Status.CLOSED and closed_at is not None:
        closed = max(closed_at - created_at, 0)
    return _CaseTimes(
        None if assigned is None else max(assigned - created_at, 0), closed, stretches
    )


def case_durations(
    store: Store,
    *,
    actor: Actor,
    query: str = "",
    group_by: str | None = None,
    limit: int | None = None,
) -> DurationReport:
    """How long the cases ``query`` finds took to be assigned and closed and spent in each
    status group, in all and (``group_by``) per value of one field. At most
    ``limits.MAX_REPORT_CASES`` matches: a larger set is refused (narrow the query)."""
    require_scope(actor, Scope.CASES_READ)
    group = parse_group_bys([group_by], most=1)[0] if group_by else None
    most = _limit(limit, "limit", limits.DEFAULT_FACET_VALUES, limits.MAX_FACET_VALUES)
    tree = parse(query, now_us=now_us())
    with store.read(snapshot=True) as tx:
        at = now_us()
        counter = tx.cases.counter(actor.org_id, tree, actor_user_id=actor.user_id)
        total = counter.total()
        if total > limits.MAX_REPORT_CASES:
            raise InvalidRequestError(
                f"the query finds {total} cases; durations are measured over at most"
                f" {limits.MAX_REPORT_CASES}: narrow the query"
            )
        rows = counter.cases(group)
        case_ids = list(dict.fromkeys(row[0] for row in rows))
        events: dict[str, list[tuple[int, str, str | None, str | None]]] = {}
        for start in range(0, len(case_ids), _EVENTS_PER_READ):
            chunk = case_ids[start : start + _EVENTS_PER_READ]
            events.update(tx.history.events_of(actor.org_id, chunk, _EVENT_FIELDS))
    overall = _Samples()
    by_value: dict[str, _Samples] = {}
    measured: dict[str, _CaseTimes] = {}
    for case_id, created_at, closed_at, status, assignee_id, value in rows:
        times = measured.get(case_id)
        if times is None:
            times = measured[case_id] = measure_case(
                created_at, closed_at, Status(status), assignee_id, events.get(case_id, ()), at
            )
            overall.add(times)
        if group is not None:
            by_value.setdefault(value, _Samples()).add(times)
    ordered = sorted(by_value.items(), key=lambda item: (-item[1].cases, item[0]))[:most]
    return DurationReport(
        at,
        total,
        overall.durations(),
        None if group is None else group.name,
        [(value, samples.durations()) for value, samples in ordered],
    )


FOLD_CHUNK = 20_000
"""The most changes of the case tallies one fold (one transaction) takes."""


def fold_tallies(store: Store, *, at_least: int = 1, chunk: int = FOLD_CHUNK) -> int:
    """Fold up to ``chunk`` of the case tallies' waiting changes into them
    (``storage/tallies.py``) when at least ``at_least`` wait; how many waited (counted up
    to ``chunk + 1``: more than ``chunk`` means call again), 0 if it did not fold.
    Counts are exact either way: folding keeps them cheap. The delivery worker calls it
    (``casebook.worker``)."""
    with store.read() as tx:
        waiting = tx.cases.tally_deltas(chunk + 1)
    if waiting < max(at_least, 1):
        return 0
    with store.write() as tx:
        tx.cases.fold_tallies(chunk)
    return waiting
