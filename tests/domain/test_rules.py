"""What the delivery worker asks of rules and windows, on the history rows real commands write.

Every change here is made through the API; its history rows are read back as the worker
will read them (``Api.history``), and the worker's functions (``casebook.domain.rules``)
are asked about them and about the rules and windows saved through the API.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest

from casebook.core.entities import Case, CaseChange, RuleTrigger
from casebook.domain import rules
from casebook.domain.users import BOOTSTRAP_ADMIN_EMAIL
from tests.support.api import Api

TYPES = "/api/v2/cases/types"


def org_of(api: Api) -> str:
    users = api.get("/api/v2/users").json()["data"]
    return str(users[0]["relationships"]["org"]["data"]["id"])


def changes_of(api: Api, key: str, change: Callable[[], Any]) -> list[CaseChange]:
    """The history rows ``change`` (one API call, which must succeed) writes on case ``key``."""
    before = len(api.history(key))
    r = change()
    assert r.status_code in (200, 201, 204), r.text
    return [CaseChange(*row) for row in api.history(key)[before:]]


def fires(trigger_type: str, changes: list[CaseChange], **data: str) -> bool:
    return rules.triggered(RuleTrigger(trigger_type, data), changes)


def case_of(api: Api, key: str) -> Case:
    org_id = org_of(api)
    with api.store.read() as tx:
        case = tx.cases.by_key(org_id, key)
    assert case is not None
    return case


def test_case_created_fires_on_creation_only(api: Api) -> None:
    project = api.create_project("SEC")
    api.create_case(project["id"], "Phishing", priority="P1")
    created = [CaseChange(*row) for row in api.history("SEC-1")]
    assert fires("CASE_CREATED", created)
    # Creation is no status move and no change of a field, whatever the case starts with.
    assert not fires("STATUS_TRANSITIONED", created)
    assert not fires("ATTRIBUTE_VALUE_CHANGED", created, field="priority")
    assert not fires("COMMENT_ADDED", created)
    later = changes_of(
        api, "SEC-1", lambda: api.case_action("SEC-1", "priority", {"priority": "P2"})
    )
    assert not fires("CASE_CREATED", later)


def test_status_transitions_of_a_standard_case(api: Api) -> None:
    project = api.create_project("SEC")
    api.create_case(project["id"])
    moved = changes_of(
        api, "SEC-1", lambda: api.case_action("SEC-1", "status", {"status": "IN_PROGRESS"})
    )
    assert fires("STATUS_TRANSITIONED", moved)
    assert fires("STATUS_TRANSITIONED", moved, from_status="OPEN", to_status="SG_IN_PROGRESS")
    assert fires(
        "STATUS_TRANSITIONED", moved, from_status_name="open", to_status_name="In Progress"
    )
    assert not fires("STATUS_TRANSITIONED", moved, to_status="CLOSED")
    assert not fires("STATUS_TRANSITIONED", moved, from_status_name="Closed")
    # The same move asked twice is a no-op: no rows, nothing fires.
    again = changes_of(
        api, "SEC-1", lambda: api.case_action("SEC-1", "status", {"status": "IN_PROGRESS"})
    )
    assert again == [] and not fires("STATUS_TRANSITIONED", again)
    # A bulk move writes the rows a single one does, and fires alike.
    body = {
        "data": {
            "type": "bulk",
            "attributes": {
                "case_ids": ["SEC-1"],
                "type": "status",
                "payload": {"status": "CLOSED"},
            },
        }
    }
    closed = changes_of(api, "SEC-1", lambda: api.post("/api/v2/cases/bulk", body))
    assert fires("STATUS_TRANSITIONED", closed, from_status="IN_PROGRESS", to_status_name="closed")
    assert not fires("STATUS_TRANSITIONED", closed, from_status="OPEN")


def test_status_transitions_of_a_type_with_named_statuses(api: Api) -> None:
    project = api.create_project("SEC")
    statuses = [
        {"name": "Triage", "group": "SG_OPEN"},
        {"name": "Confirmed", "group": "SG_OPEN"},
        {"name": "Investigating", "group": "SG_IN_PROGRESS"},
        {"name": "Closed", "group": "SG_CLOSED"},
    ]
    body = {"data": {"type": "case_type", "attributes": {"name": "Incident", "statuses": statuses}}}
    r = api.post(TYPES, body)
    assert r.status_code == 201, r.text
    api.create_case(project["id"], type_id=r.json()["data"]["id"])
    # Within a group: a status_name row only. Group conditions match moves between groups.
    within = changes_of(
        api, "SEC-1", lambda: api.case_action("SEC-1", "status", {"status_name": "Confirmed"})
    )
    assert [c.field for c in within] == ["status_name"]
    assert fires(
        "STATUS_TRANSITIONED", within, from_status_name="Triage", to_status_name="confirmed"
    )
    assert not fires("STATUS_TRANSITIONED", within, from_status="OPEN")
    assert not fires("STATUS_TRANSITIONED", within, to_status_name="Investigating")
    # Between groups, with names of their own: both rows, both kinds of condition.
    across = changes_of(
        api, "SEC-1", lambda: api.case_action("SEC-1", "status", {"status_name": "Closed"})
    )
    assert {c.field for c in across} == {"status", "status_name"}
    assert fires(
        "STATUS_TRANSITIONED",
        across,
        from_status="OPEN",
        from_status_name="Confirmed",
        to_status="CLOSED",
        to_status_name="Closed",
    )
    assert not fires("STATUS_TRANSITIONED", across, from_status_name="Triage")


def test_attribute_changes_of_the_cases_fields(api: Api) -> None:
    project = api.create_project("SEC")
    admin = api.user_id(BOOTSTRAP_ADMIN_EMAIL)
    api.create_case(project["id"])

    def act(action: str, attributes: dict[str, Any] | None = None) -> list[CaseChange]:
        return changes_of(api, "SEC-1", lambda: api.case_action("SEC-1", action, attributes))

    set_p1 = act("priority", {"priority": "P1"})  # from NOT_DEFINED: a value added
    assert fires("ATTRIBUTE_VALUE_CHANGED", set_p1, field="priority")
    assert fires("ATTRIBUTE_VALUE_CHANGED", set_p1, field="priority", change_type="VALUE_ADDED")
    assert not fires(
        "ATTRIBUTE_VALUE_CHANGED", set_p1, field="priority", change_type="VALUE_DELETED"
    )
    assert not fires("ATTRIBUTE_VALUE_CHANGED", set_p1, field="assignee")
    to_p2 = act("priority", {"priority": "P2"})  # one value for another: both
    assert fires("ATTRIBUTE_VALUE_CHANGED", to_p2, field="priority", change_type="added")
    assert fires("ATTRIBUTE_VALUE_CHANGED", to_p2, field="priority", change_type="removed")
    assert fires("ATTRIBUTE_VALUE_CHANGED", to_p2, field="priority", change_type="changed")
    assigned = act("assign", {"assignee_id": admin})
    assert fires("ATTRIBUTE_VALUE_CHANGED", assigned, field="assignee", change_type="VALUE_ADDED")
    assert not fires(
        "ATTRIBUTE_VALUE_CHANGED", assigned, field="assignee", change_type="VALUE_DELETED"
    )
    unassigned = act("unassign")
    assert fires(
        "ATTRIBUTE_VALUE_CHANGED", unassigned, field="assignee", change_type="VALUE_DELETED"
    )
    assert not fires(
        "ATTRIBUTE_VALUE_CHANGED", unassigned, field="assignee", change_type="VALUE_ADDED"
    )
    archived = act("archive")
    assert fires("ATTRIBUTE_VALUE_CHANGED", archived, field="archived", change_type="VALUE_ADDED")
    unarchived = act("unarchive")
    assert fires(
        "ATTRIBUTE_VALUE_CHANGED", unarchived, field="archived", change_type="VALUE_DELETED"
    )
    due = act("due_date", {"due_date": "2030-12-31"})
    assert fires("ATTRIBUTE_VALUE_CHANGED", due, field="due_date", change_type="VALUE_ADDED")
    titled = act("title", {"title": "Renamed"})
    assert fires("ATTRIBUTE_VALUE_CHANGED", titled, field="title")
    assert not fires("ATTRIBUTE_VALUE_CHANGED", titled, field="description")
    # A status move is a change of the status fields too.
    moved = act("status", {"status": "CLOSED"})
    assert fires("ATTRIBUTE_VALUE_CHANGED", moved, field="status")


def test_attribute_changes_of_attributes_and_custom_attributes(api: Api) -> None:
    project = api.create_project("SEC")
    config = {"key": "region", "display_name": "Region", "type": "TEXT", "is_multi": True}
    body = {"data": {"type": "custom_attribute", "attributes": config}}
    r = api.post(f"{TYPES}/00000000-0000-0000-0000-000000000001/custom_attributes", body)
    assert r.status_code == 201, r.text
    api.create_case(project["id"])

    def attributes(value: dict[str, list[str]]) -> list[CaseChange]:
        return changes_of(
            api, "SEC-1", lambda: api.case_action("SEC-1", "attributes", {"attributes": value})
        )

    def region(value: list[str]) -> list[CaseChange]:
        attrs = {"type": "TEXT", "is_multi": True, "value": value}
        return changes_of(
            api,
            "SEC-1",
            lambda: api.case_action("SEC-1", "custom_attributes/region", attrs),
        )

    team = attributes({"team": ["sre"]})
    for field in ("team", "attributes.team", "attributes"):
        assert fires("ATTRIBUTE_VALUE_CHANGED", team, field=field, change_type="VALUE_ADDED")
        assert not fires("ATTRIBUTE_VALUE_CHANGED", team, field=field, change_type="VALUE_DELETED")
    assert not fires("ATTRIBUTE_VALUE_CHANGED", team, field="service")
    assert not fires("ATTRIBUTE_VALUE_CHANGED", team, field="custom_attributes.team")
    other_key = attributes({"team": ["sre"], "service": ["api"]})
    assert not fires("ATTRIBUTE_VALUE_CHANGED", other_key, field="team")
    assert fires("ATTRIBUTE_VALUE_CHANGED", other_key, field="service")
    swapped = attributes({"team": ["soc"], "service": ["api"]})
    assert fires("ATTRIBUTE_VALUE_CHANGED", swapped, field="team", change_type="VALUE_ADDED")
    assert fires("ATTRIBUTE_VALUE_CHANGED", swapped, field="team", change_type="VALUE_DELETED")

    added = region(["eu-west-1"])
    for field in ("region", "custom_attributes.region"):
        assert fires("ATTRIBUTE_VALUE_CHANGED", added, field=field, change_type="VALUE_ADDED")
    assert not fires("ATTRIBUTE_VALUE_CHANGED", added, field="attributes.region")
    more = region(["eu-west-1", "us-east-1"])
    assert fires("ATTRIBUTE_VALUE_CHANGED", more, field="region", change_type="VALUE_ADDED")
    assert not fires("ATTRIBUTE_VALUE_CHANGED", more, field="region", change_type="VALUE_DELETED")
    cleared = changes_of(
        api,
        "SEC-1",
        lambda: api.delete("/api/v2/cases/SEC-1/custom_attributes/region"),
    )
    assert fires("ATTRIBUTE_VALUE_CHANGED", cleared, field="region", change_type="VALUE_DELETED")
    assert not fires("ATTRIBUTE_VALUE_CHANGED", cleared, field="region", change_type="VALUE_ADDED")


def test_comments_fire_when_added_only(api: Api) -> None:
    project = api.create_project("SEC")
    api.create_case(project["id"])
    added = changes_of(api, "SEC-1", lambda: api.comment("SEC-1", "Looking into it"))
    assert fires("COMMENT_ADDED", added)
    assert not fires("CASE_CREATED", added)
    cell = api.timeline("SEC-1")[-1]["id"]
    body = {"data": {"type": "case", "attributes": {"comment": "Edited"}}}
    edited = changes_of(api, "SEC-1", lambda: api.put(f"/api/v2/cases/SEC-1/comment/{cell}", body))
    assert edited and not fires("COMMENT_ADDED", edited)


# --- queries and the rules the worker reads ------------------------------------------
def test_case_matches_is_the_search(api: Api) -> None:
    org_id = org_of(api)
    project = api.create_project("SEC")
    admin = api.user_id(BOOTSTRAP_ADMIN_EMAIL)
    api.create_case(project["id"], "Phishing wave", priority="P1")
    api.create_case(project["id"], "Laptop stolen", priority="P3")
    assert api.case_action("SEC-1", "assign", {"assignee_id": admin}).status_code == 200
    first, second = case_of(api, "SEC-1"), case_of(api, "SEC-2")

    def matches(case: Case, query: str, **kw: Any) -> bool:
        with api.store.read() as tx:
            return rules.case_matches(tx, org_id, case, query, **kw)

    assert matches(first, "") and matches(second, "")
    assert matches(first, "priority:P1") and not matches(second, "priority:P1")
    assert matches(second, "priority:P1 OR laptop") and not matches(first, "priority:P3 OR laptop")
    assert matches(first, "project:SEC status:open phishing")
    assert matches(first, "assignee:me", me=admin)
    assert not matches(first, "assignee:me") and not matches(second, "assignee:me", me=admin)
    assert matches(first, "created_at:>now-1h") and not matches(first, "created_at:<now-1h")
    # Archived cases match, unless the query says otherwise.
    assert api.case_action("SEC-1", "archive").status_code == 200
    first = case_of(api, "SEC-1")
    assert matches(first, "priority:P1")
    assert not matches(first, "priority:P1 archived:false")
    assert matches(first, "archived:true")
    # Another organisation's case, and a case of a deleted project, match nothing.
    elsewhere = org_of(api.new_org_admin("acme"))
    with api.store.read() as tx:
        assert not rules.case_matches(tx, elsewhere, second, "")
    assert api.delete(f"/api/v2/cases/projects/{project['id']}").status_code == 204
    assert not matches(second, "")


def test_the_rules_a_change_fires(api: Api) -> None:
    org_id = org_of(api)
    sec = api.create_project("SEC")
    ops = api.create_project("OPS")
    path = f"/api/v2/cases/projects/{sec['id']}"
    email = [{"type": "EMAIL", "data": {"email": "soc@example.com"}}]

    def notification_rule(project: dict[str, Any], trigger: Any, **attributes: Any) -> str:
        body = {
            "data": {
                "type": "notification_rule",
                "attributes": {"triggers": [trigger], "recipients": email, **attributes},
            }
        }
        r = api.post(f"/api/v2/cases/projects/{project['id']}/notification_rules", body)
        assert r.status_code == 201, r.text
        return str(r.json()["data"]["id"])

    priority = {"type": "ATTRIBUTE_VALUE_CHANGED", "data": {"field": "priority"}}
    p1s = notification_rule(sec, priority, query="priority:P1")
    every = notification_rule(sec, priority)
    notification_rule(sec, priority, is_enabled=False)
    notification_rule(sec, {"type": "COMMENT_ADDED"})
    notification_rule(ops, priority)
    automation = {
        "name": "Comment on P1s",
        "trigger": priority,
        "action": {"type": "ADD_COMMENT", "data": {"comment": "Paging the on-call"}},
    }
    r = api.post(f"{path}/rules", {"data": {"type": "rule", "attributes": automation}})
    assert r.status_code == 201
    assigned = r.json()["data"]["id"]
    off = {**automation, "state": "DISABLED"}
    assert (
        api.post(f"{path}/rules", {"data": {"type": "rule", "attributes": off}}).status_code == 201
    )

    with api.store.read() as tx:
        assert len(rules.enabled_notification_rules(tx, org_id, sec["id"])) == 3
        assert len(rules.enabled_automation_rules(tx, org_id, sec["id"])) == 1
    api.create_case(sec["id"])
    to_p1 = changes_of(
        api, "SEC-1", lambda: api.case_action("SEC-1", "priority", {"priority": "P1"})
    )
    to_p2 = changes_of(
        api, "SEC-1", lambda: api.case_action("SEC-1", "priority", {"priority": "P2"})
    )
    with api.store.read() as tx:
        # The case as it is after the change: P2 now, so the P1 rule's query fails for both.
        case = tx.cases.by_key(org_id, "SEC-1")
        assert case is not None
        assert [r.id for r in rules.notification_rules_for(tx, case, to_p2)] == [every]
        assert [r.id for r in rules.automation_rules_for(tx, case, to_p1)] == [assigned]
    assert api.case_action("SEC-1", "priority", {"priority": "P1"}).status_code == 200
    with api.store.read() as tx:
        case = tx.cases.by_key(org_id, "SEC-1")
        assert case is not None
        assert [r.id for r in rules.notification_rules_for(tx, case, to_p1)] == [p1s, every]
        comment = [CaseChange("comment", None, "x")]
        assert [r.id for r in rules.automation_rules_for(tx, case, comment)] == []


def _rfc3339(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_active_windows_mute_the_cases_they_match(api: Api) -> None:
    org_id = org_of(api)
    sec = api.create_project("SEC")
    ops = api.create_project("OPS")
    now = datetime.datetime.now(datetime.UTC)
    hour = datetime.timedelta(hours=1)

    def window(name: str, query: str, start: datetime.datetime, end: datetime.datetime) -> str:
        attributes = {
            "name": name,
            "query": query,
            "start_at": _rfc3339(start),
            "end_at": _rfc3339(end),
        }
        r = api.post(
            "/api/v2/maintenance_windows",
            {"data": {"type": "maintenance_window", "attributes": attributes}},
        )
        assert r.status_code == 201, r.text
        return str(r.json()["data"]["id"])

    active = window("Now, SEC P3s", "project:SEC priority:P3", now - hour, now + hour)
    window("Later, everything", "", now + hour, now + 2 * hour)
    window("Earlier, everything", "", now - 2 * hour, now - hour)
    mine = window("Now, my cases", "assignee:me", now - hour, now + hour)
    api.create_case(sec["id"], "Noisy", priority="P3")
    api.create_case(sec["id"], "Real", priority="P1")
    api.create_case(ops["id"], "Elsewhere", priority="P3")
    at = int(now.timestamp() * 1_000_000)
    with api.store.read() as tx:
        assert {w.id for w in rules.active_windows(tx, org_id, at)} == {active, mine}
        end = rules.active_windows(tx, org_id, at)[0].end_at
        # The end is excluded (the window starting then is active).
        assert [w.name for w in rules.active_windows(tx, org_id, end)] == ["Later, everything"]
        muted = {
            key: rules.muting_window(tx, case_of_tx(tx, org_id, key), at)
            for key in ("SEC-1", "SEC-2", "OPS-1")
        }
    assert muted["SEC-1"] is not None and muted["SEC-1"].id == active
    assert muted["SEC-2"] is None and muted["OPS-1"] is None
    # "me" in a window's query is its author.
    admin = api.user_id(BOOTSTRAP_ADMIN_EMAIL)
    assert api.case_action("SEC-2", "assign", {"assignee_id": admin}).status_code == 200
    with api.store.read() as tx:
        found = rules.muting_window(tx, case_of_tx(tx, org_id, "SEC-2"), at)
    assert found is not None and found.id == mine


def case_of_tx(tx: Any, org_id: str, key: str) -> Case:
    case = tx.cases.by_key(org_id, key)
    assert case is not None
    return case


@pytest.mark.parametrize(
    ("change", "field", "change_type", "expected"),
    [
        (
            CaseChange("insights", "[]", '[{"ref":"r","resource_id":"1","type":"MONITOR"}]'),
            "insights",
            "VALUE_ADDED",
            True,
        ),
        (CaseChange("priority", "NOT_DEFINED", "P4"), "priority", "VALUE_DELETED", False),
        (CaseChange("priority", "P4", "NOT_DEFINED"), "priority", "VALUE_DELETED", True),
        (CaseChange("custom_attributes.score", None, "7.0"), "score", "VALUE_ADDED", True),
        (
            CaseChange("custom_attributes.score", "7.0", "8.0"),
            "custom_attributes.score",
            "ANY_CHANGES",
            True,
        ),
        (CaseChange("attributes", "{}", "not json"), "team", "ANY_CHANGES", False),
    ],
)
def test_value_sets_of_single_rows(
    change: CaseChange, field: str, change_type: str, expected: bool
) -> None:
    trigger = RuleTrigger("ATTRIBUTE_VALUE_CHANGED", {"field": field, "change_type": change_type})
    assert rules.triggered(trigger, [change]) is expected
