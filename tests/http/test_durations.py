"""The durations report (``POST /api/v2/cases/aggregate/durations``, casebook's extension),
checked against figures worked out by hand from each case's timeline as the API returns
it, and the report's own ``at`` (where open stretches end)."""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

import pytest

from tests.http.test_case_types import SECURITY_STATUSES, make_type
from tests.support.api import Api

DURATIONS = "/api/v2/cases/aggregate/durations"


def body(query: str = "", group_by: str | None = None, **more: Any) -> dict[str, Any]:
    attributes: dict[str, Any] = {"query_filter": query, **more}
    if group_by is not None:
        attributes["group_by"] = group_by
    return {"data": {"type": "durations", "attributes": attributes}}


def report(api: Api, query: str = "", group_by: str | None = None) -> dict[str, Any]:
    r = api.post(DURATIONS, body(query, group_by))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.api+json"
    assert r.json()["data"]["type"] == "durations"
    return dict(r.json()["data"]["attributes"])


def us(text: str) -> int:
    """An RFC 3339 time as the API writes it, in microseconds."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


class Timeline:
    """One case's timeline: when it was created, and its assignee and status changes."""

    def __init__(self, api: Api, ref: str) -> None:
        cells = [c["attributes"] for c in api.timeline(ref)]
        cells = [c for c in cells if c["type"] == "ACTIVITY"]
        self.created = next(us(c["created_at"]) for c in cells if self._field(c) == "created")
        self.status = [self._change(c) for c in cells if self._field(c) == "status"]
        self.assignee = [self._change(c) for c in cells if self._field(c) == "assignee"]

    @staticmethod
    def _field(cell: dict[str, Any]) -> str:
        return str(cell["cell_content"]["field"])

    @staticmethod
    def _change(cell: dict[str, Any]) -> tuple[int, str | None, str | None]:
        content = cell["cell_content"]
        return us(cell["created_at"]), content.get("old_value"), content.get("new_value")


def seconds(microseconds: int) -> float:
    return microseconds / 1_000_000


def figure(values: list[int]) -> dict[str, Any]:
    """cases, median (the middle, or the mean of the two middles) and p90 (nearest rank)."""
    if not values:
        return {"cases": 0}
    ordered = sorted(values)
    rank = -(-9 * len(ordered) // 10)  # ceil(0.9 n)
    return {
        "cases": len(ordered),
        "median": pytest.approx(seconds(statistics.median(ordered)), abs=1e-6),
        "p90": pytest.approx(seconds(ordered[rank - 1]), abs=1e-6),
    }


def status_figure(values: list[int]) -> dict[str, Any]:
    found = figure(values)
    found["total"] = pytest.approx(seconds(sum(values)), abs=1e-6)
    return found


@pytest.fixture
def worked(api: Api) -> dict[str, Any]:
    """Five cases worked in known ways (and one archived, which the report leaves out)."""
    project = api.create_project()
    security = make_type(api, "Security Incident", statuses=SECURITY_STATUSES)
    ann, bob = api.create_user("ann@example.com"), api.create_user("bob@example.com")
    # A: assigned later; in progress, closed, reopened and closed again.
    a = api.create_case(project["id"], "a", priority="P1")["id"]
    api.case_action(a, "assign", {"assignee_id": ann["id"]})
    for status in ("IN_PROGRESS", "CLOSED", "OPEN", "CLOSED"):
        assert api.case_action(a, "status", {"status": status}).status_code == 200
    # B: created assigned; in progress since.
    b = api.create_case(project["id"], "b", priority="P1", assignee_id=bob["id"])["id"]
    api.case_action(b, "status", {"status": "IN_PROGRESS"})
    # C: never assigned; closed.
    c = api.create_case(project["id"], "c", priority="P2")["id"]
    api.case_action(c, "status", {"status": "CLOSED"})
    # D: created closed ("Resolved" is in SG_CLOSED) and assigned; reassigned since.
    d = api.create_case(
        project["id"],
        "d",
        priority="P2",
        type_id=security["id"],
        status_name="Resolved",
        assignee_id=ann["id"],
    )["id"]
    api.case_action(d, "assign", {"assignee_id": bob["id"]})
    # E: assigned, unassigned and assigned again; open all along.
    e = api.create_case(project["id"], "e", priority="P3")["id"]
    for action, attributes in (
        ("assign", {"assignee_id": ann["id"]}),
        ("unassign", None),
        ("assign", {"assignee_id": bob["id"]}),
    ):
        assert api.case_action(e, action, attributes).status_code == 200
    archived = api.create_case(project["id"], "archived", priority="P1")["id"]
    api.case_action(archived, "archive")
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def expected_times(api: Api, refs: dict[str, str], at: int) -> dict[str, dict[str, Any]]:
    """Each case's durations, worked out from its timeline as the scenario made it."""
    t = {name: Timeline(api, ref) for name, ref in refs.items()}
    a, b, c, d, e = (t[n] for n in "abcde")
    a_moves = [when for when, _, _ in a.status]  # IN_PROGRESS, CLOSED, OPEN, CLOSED
    assert [new for _, _, new in a.status] == ["IN_PROGRESS", "CLOSED", "OPEN", "CLOSED"]
    assert [old for _, old, _ in d.assignee] == [api.user_id("ann@example.com")]
    return {
        "a": {
            "assignment": a.assignee[0][0] - a.created,
            "close": a_moves[3] - a.created,  # the close it is in now, reopening included
            "OPEN": (a_moves[0] - a.created) + (a_moves[3] - a_moves[2]),
            "IN_PROGRESS": a_moves[1] - a_moves[0],
            "CLOSED": (a_moves[2] - a_moves[1]) + (at - a_moves[3]),
        },
        "b": {
            "assignment": 0,
            "OPEN": b.status[0][0] - b.created,
            "IN_PROGRESS": at - b.status[0][0],
        },
        "c": {
            "close": c.status[0][0] - c.created,
            "OPEN": c.status[0][0] - c.created,
            "CLOSED": at - c.status[0][0],
        },
        "d": {"assignment": 0, "close": 0, "CLOSED": at - d.created},
        "e": {"assignment": e.assignee[0][0] - e.created, "OPEN": at - e.created},
    }


def expected_figures(times: list[dict[str, Any]]) -> dict[str, Any]:
    def values(what: str) -> list[int]:
        return [case[what] for case in times if what in case]

    return {
        "cases": len(times),
        "time_to_first_assignment": figure(values("assignment")),
        "time_to_close": figure(values("close")),
        "time_in_status": {
            status: status_figure(values(status)) for status in ("OPEN", "IN_PROGRESS", "CLOSED")
        },
    }


def test_durations_are_the_timelines(api: Api, worked: dict[str, str]) -> None:
    found = report(api)
    at = us(found["at"])
    times = expected_times(api, worked, at)
    assert found["total"] == 5
    assert found["groups"] == []
    assert "group_by" not in found
    assert found["overall"] == expected_figures(list(times.values()))
    # Spot checks of what the figures mean, independent of the arithmetic above.
    overall = found["overall"]
    assert overall["time_to_first_assignment"]["cases"] == 4  # A, B, D, E; C never assigned
    assert overall["time_to_close"]["cases"] == 3  # A, C, D: the cases closed now
    assert overall["time_in_status"]["IN_PROGRESS"]["cases"] == 2
    assert overall["time_in_status"]["CLOSED"]["cases"] == 3


def test_durations_by_a_field(api: Api, worked: dict[str, str]) -> None:
    found = report(api, group_by="priority")
    at = us(found["at"])
    times = expected_times(api, worked, at)
    assert found["group_by"] == "priority"
    groups = {"P1": "ab", "P2": "cd", "P3": "e"}
    assert [g["group"] for g in found["groups"]] == ["P1", "P2", "P3"]  # most cases first
    for group in found["groups"]:
        names = groups[group.pop("group")]
        assert group == expected_figures([times[n] for n in names])
    assert found["overall"] == expected_figures(list(times.values()))


def test_durations_of_a_filter(api: Api, worked: dict[str, str]) -> None:
    found = report(api, "status:closed")
    times = expected_times(api, worked, us(found["at"]))
    assert found["total"] == 3
    assert found["overall"] == expected_figures([times[n] for n in "acd"])
    assert report(api, "archived:true")["overall"]["cases"] == 1
    empty = report(api, "nothing-matches-this", "assignee")
    assert empty["total"] == 0 and empty["groups"] == []
    assert empty["overall"] == {
        "cases": 0,
        "time_to_first_assignment": {"cases": 0},
        "time_to_close": {"cases": 0},
        "time_in_status": {
            s: {"cases": 0, "total": 0.0} for s in ("OPEN", "IN_PROGRESS", "CLOSED")
        },
    }


def test_other_organisations_cases_are_not_measured(api: Api, worked: dict[str, str]) -> None:
    other = api.new_org_admin("acme")
    project = other.create_project("SEC")
    other.create_case(project["id"], "theirs")
    assert report(other)["total"] == 1
    assert report(api)["total"] == 5


@pytest.mark.parametrize(
    ("sent", "detail"),
    [
        (body(group_by="stauts"), 'unknown field "stauts"; did you mean "status"?'),
        (body(group_by="created_at"), 'cannot group by "created_at"'),
        (body("stauts:open"), 'unknown facet "stauts" at 0'),
        (body(limit=0), "limit must be between 1 and 1000, got 0"),
        ({"data": {"type": "aggregate", "attributes": {}}}, 'expected one of "durations"'),
        ({"data": {"type": "durations"}}, "data.attributes is required"),
    ],
)
def test_durations_errors(api: Api, sent: Any, detail: str) -> None:
    r = api.post(DURATIONS, sent)
    assert r.status_code == 400, r.text
    assert detail in r.json()["errors"][0]["detail"]
