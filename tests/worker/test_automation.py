"""casebook's own automation, through the API and the worker functions ``casebook serve``
runs: automation rules' assign, priority, status and comment actions (``handle_events``),
and the auto-close of inactive cases (``close_inactive_cases``, and the worker's loop that
calls it while it holds the lease)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from casebook.core.clock import now_us
from casebook.domain import automation, events
from casebook.domain.users import BOOTSTRAP_ADMIN_EMAIL
from casebook.storage import Store
from casebook.storage.outbox import Delivery
from casebook.worker import runner
from tests.http.test_automation_rules import rules_path
from tests.http.test_case_types import SECURITY_STATUSES, make_type
from tests.support.api import Api

WINDOWS = "/api/v2/maintenance_windows"
HOUR_US = 3_600_000_000


def drain(store: Store) -> int:
    """Handle events until the outbox is empty (the worker's turns, without sending);
    how many were handled."""
    handled = 0
    for _ in range(50):
        got = events.handle_events(store)
        if not got:
            return handled
        handled += got
    raise AssertionError("the outbox never empties")


def make_rule(
    api: Api, project_id: str, name: str, trigger: dict[str, Any], action: dict[str, Any]
) -> str:
    attributes = {"name": name, "trigger": trigger, "action": action}
    r = api.post(rules_path(project_id), {"data": {"type": "rule", "attributes": attributes}})
    assert r.status_code == 201, r.text
    return str(r.json()["data"]["id"])


CREATED = {"type": "CASE_CREATED"}


def case_of(api: Api, ref: str) -> dict[str, Any]:
    r = api.get(f"/api/v2/cases/{ref}")
    assert r.status_code == 200, r.text
    return dict(r.json()["data"])


def by_rule(rule_id: str, name: str) -> dict[str, str]:
    return {"type": "AUTOMATION_RULE", "rule_id": rule_id, "rule_name": name}


def activity(cells: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    """The activity cells of ``field``: (content, author, automation) as they read."""
    return [
        {
            **c["attributes"]["cell_content"],
            "author": c["attributes"].get("author"),
            "automation": c["attributes"].get("automation"),
        }
        for c in cells
        if c["attributes"]["cell_content"].get("field") == field
    ]


def deliveries(api: Api, project_id: str) -> list[Delivery]:
    """The project's deliveries, as the delivery log lists them."""
    with api.store.read() as tx:
        row = tx.sql.one("SELECT org_id FROM projects WHERE id = ?", (project_id,))  # type: ignore[attr-defined]
        return tx.deliveries.recent(str(row[0]), project_id, 50)


# --- the actions of automation rules ---------------------------------------------------
def test_a_set_priority_rule_sets_a_new_case_priority_as_the_rule(api: Api) -> None:
    project = api.create_project("SEC")
    rule = make_rule(
        api,
        project["id"],
        "P1 by default",
        CREATED,
        {"type": "SET_PRIORITY", "data": {"priority": "P1"}},
    )
    case = api.create_case(project["id"], "Phishing wave")
    assert case["attributes"]["priority"] == "NOT_DEFINED"  # the worker has not run yet
    drain(api.store)

    after = case_of(api, case["id"])
    assert after["attributes"]["priority"] == "P1"
    assert after["attributes"]["modified_at"] > case["attributes"]["created_at"]
    assert "modified_by" not in after["relationships"]  # no user changed it
    (cell,) = activity(api.timeline(case["id"]), "priority")
    assert cell == {
        "field": "priority",
        "old_value": "NOT_DEFINED",
        "new_value": "P1",
        "author": None,
        "automation": by_rule(rule, "P1 by default"),
    }
    # The creation cell is the admin's, as ever.
    (created,) = activity(api.timeline(case["id"]), "created")
    assert (
        created["author"]["content"]["email"] == BOOTSTRAP_ADMIN_EMAIL
        and created["automation"] is None
    )

    # A case that has that priority already: nothing written, not even a new version.
    same = api.create_case(project["id"], "Already urgent", priority="P1")
    etag = api.get(f"/api/v2/cases/{same['id']}").headers.get("etag")
    drain(api.store)
    assert activity(api.timeline(same["id"]), "priority") == []
    assert api.get(f"/api/v2/cases/{same['id']}").headers.get("etag") == etag
    assert deliveries(api, project["id"]) == []


def test_assign_status_and_comment_rules_act_as_the_rules(api: Api) -> None:
    project = api.create_project("SEC")
    ann = api.create_user("ann@example.com")
    bob = api.create_user("bob@example.com")
    assign = make_rule(
        api, project["id"], "To Ann", CREATED,
        {"type": "ASSIGN_USER", "data": {"assignee_id": ann["id"]}},
    )  # fmt: skip
    status = make_rule(
        api, project["id"], "Start at once", CREATED,
        {"type": "SET_STATUS", "data": {"status_name": "in progress"}},
    )  # fmt: skip
    comment = make_rule(
        api, project["id"], "Say hello", CREATED,
        {"type": "ADD_COMMENT", "data": {"comment": "Triage within 4 hours, @bob@example.com"}},
    )  # fmt: skip
    case = api.create_case(project["id"], "Laptop stolen")
    drain(api.store)

    attributes = case_of(api, case["id"])["attributes"]
    assert (attributes["status"], attributes["status_name"]) == ("IN_PROGRESS", "In Progress")
    assert case_of(api, case["id"])["relationships"]["assignee"]["data"]["id"] == ann["id"]
    cells = api.timeline(case["id"])
    (assigned,) = activity(cells, "assignee")
    assert assigned["new_value"] == ann["id"] and assigned["author"] is None
    assert assigned["automation"] == by_rule(assign, "To Ann")
    (moved,) = activity(cells, "status")
    assert (moved["old_value"], moved["new_value"]) == ("OPEN", "IN_PROGRESS")
    assert moved["automation"] == by_rule(status, "Start at once")
    (said,) = [c for c in cells if c["attributes"]["type"] == "COMMENT"]
    assert said["attributes"]["cell_content"] == {
        "message": "Triage within 4 hours, @bob@example.com"
    }
    assert "author" not in said["attributes"]
    assert said["attributes"]["automation"] == by_rule(comment, "Say hello")
    # The assignee and the mentioned user watch; the rules do not.
    r = api.get(f"/api/v2/cases/{case['id']}/watchers")
    watching = {w["id"] for w in r.json()["data"]}
    assert watching == {api.user_id(BOOTSTRAP_ADMIN_EMAIL), ann["id"], bob["id"]}
    watcher_cells = activity(cells, "watcher")
    assert [c["automation"] for c in watcher_cells[1:]] == [
        by_rule(assign, "To Ann"),
        by_rule(comment, "Say hello"),
    ]
    # Every rule made one change: history in the order the rules were made.
    fields = [f for f, _, _ in api.history(case["id"])]
    assert fields == ["created", "watcher", "assignee", "watcher", "status", "comment", "watcher"]


def test_rules_that_set_each_other_off_stop_at_the_depth_limit(api: Api) -> None:
    project = api.create_project("SEC")
    back = make_rule(
        api, project["id"], "Back to open",
        {"type": "STATUS_TRANSITIONED", "data": {"to_status_name": "In Progress"}},
        {"type": "SET_STATUS", "data": {"status_name": "Open"}},
    )  # fmt: skip
    forth = make_rule(
        api, project["id"], "Forth to work",
        {"type": "STATUS_TRANSITIONED", "data": {"to_status_name": "Open"}},
        {"type": "SET_STATUS", "data": {"status_name": "In Progress"}},
    )  # fmt: skip
    case = api.create_case(project["id"], "Ping-pong")
    drain(api.store)
    assert api.case_action(case["id"], "status", {"status": "IN_PROGRESS"}).status_code == 200
    drain(api.store)

    moves = activity(api.timeline(case["id"]), "status")
    assert [(m["new_value"], m["automation"]) for m in moves] == [
        ("IN_PROGRESS", None),  # the person, depth 0
        ("OPEN", by_rule(back, "Back to open")),  # depth 1
        ("IN_PROGRESS", by_rule(forth, "Forth to work")),  # depth 2
        ("OPEN", by_rule(back, "Back to open")),  # depth 3: no rule acts on it
    ]
    assert case_of(api, case["id"])["attributes"]["status"] == "OPEN"
    assert events.pending_events(api.store) == 0


def test_a_disabled_rule_does_nothing(api: Api) -> None:
    project = api.create_project("SEC")
    rule = make_rule(
        api, project["id"], "P2", CREATED, {"type": "SET_PRIORITY", "data": {"priority": "P2"}}
    )
    path = f"{rules_path(project['id'])}/{rule}"
    assert api.post(f"{path}/disable", None).status_code == 200
    quiet = api.create_case(project["id"], "While disabled")
    drain(api.store)
    assert case_of(api, quiet["id"])["attributes"]["priority"] == "NOT_DEFINED"
    assert api.post(f"{path}/enable", None).status_code == 200
    loud = api.create_case(project["id"], "Once enabled")
    drain(api.store)
    assert case_of(api, loud["id"])["attributes"]["priority"] == "P2"
    assert case_of(api, quiet["id"])["attributes"]["priority"] == "NOT_DEFINED"


def test_a_maintenance_window_mutes_automation(api: Api) -> None:
    project = api.create_project("SEC")
    make_rule(
        api, project["id"], "P3", CREATED, {"type": "SET_PRIORITY", "data": {"priority": "P3"}}
    )
    window = {
        "data": {
            "type": "maintenance_window",
            "attributes": {
                "name": "Upgrade",
                "query": "",
                "start_at": "2000-01-01T00:00:00Z",
                "end_at": "2999-01-01T00:00:00Z",
            },
        }
    }
    r = api.post(WINDOWS, window)
    assert r.status_code == 201, r.text
    muted = api.create_case(project["id"], "During the upgrade")
    drain(api.store)
    assert case_of(api, muted["id"])["attributes"]["priority"] == "NOT_DEFINED"
    assert api.delete(f"{WINDOWS}/{r.json()['data']['id']}").status_code == 204
    after = api.create_case(project["id"], "After the upgrade")
    drain(api.store)
    assert case_of(api, after["id"])["attributes"]["priority"] == "P3"


def test_an_action_that_no_longer_applies_is_skipped_and_recorded(api: Api) -> None:
    """A user disabled since the rule was saved, a status the case's type lacks: the event
    is handled all the same (the outbox does not wedge), the other rules act, and each
    skipped action is a failed delivery on the ``action`` channel, with why."""
    project = api.create_project("SEC")
    make_type(api, statuses=SECURITY_STATUSES)  # "Triage" is a status of some type
    carl = api.create_user("carl@example.com")
    assign = make_rule(
        api, project["id"], "To Carl", CREATED,
        {"type": "ASSIGN_USER", "data": {"assignee_id": carl["id"]}},
    )  # fmt: skip
    triage = make_rule(
        api, project["id"], "Triage", CREATED,
        {"type": "SET_STATUS", "data": {"status_name": "Triage"}},
    )  # fmt: skip
    make_rule(
        api, project["id"], "P4", CREATED, {"type": "SET_PRIORITY", "data": {"priority": "P4"}}
    )
    disable = {"data": {"id": carl["id"], "type": "users", "attributes": {"disabled": True}}}
    assert api.patch(f"/api/v2/users/{carl['id']}", disable).status_code == 200
    case = api.create_case(project["id"], "A Standard case")  # its type has no Triage
    drain(api.store)

    assert events.pending_events(api.store) == 0
    attributes = case_of(api, case["id"])
    assert attributes["attributes"]["priority"] == "P4"
    assert attributes["attributes"]["status"] == "OPEN"
    assert "assignee" not in attributes["relationships"]
    failed = {d.rule_id: d for d in deliveries(api, project["id"])}
    assert set(failed) == {assign, triage}
    for delivery in failed.values():
        assert (delivery.channel, delivery.state, delivery.attempts) == ("action", "failed", 0)
        assert delivery.case_id == case["id"] and delivery.next_attempt_at is None
    assert failed[assign].target == {"action": "ASSIGN_USER", "assignee_id": carl["id"]}
    assert failed[assign].last_error == (
        f"ASSIGN_USER was not applied: user {carl['id']} is disabled and cannot be assigned"
    )
    assert failed[triage].last_error == (
        "SET_STATUS was not applied: invalid status Triage. Must be one of Open, In Progress,"
        " Closed"
    )


# --- the auto-close of inactive cases --------------------------------------------------
def set_auto_close(api: Api, project: dict[str, Any], enabled: bool, seconds: int) -> None:
    setting = {"enabled": enabled, "max_inactive_time_in_secs": seconds}
    body = {"data": {"type": "project", "attributes": {"settings": {
        "auto_close_inactive_cases": setting
    }}}}  # fmt: skip
    r = api.patch(f"/api/v2/cases/projects/{project['id']}", body)
    assert r.status_code == 200, r.text


def age(api: Api, case: dict[str, Any], hours: float) -> None:
    """Make everything that happened to the case so far ``hours`` older."""
    shift = int(hours * HOUR_US)
    with api.store.write() as tx:
        sql = tx.sql  # type: ignore[attr-defined]
        sql.execute(
            "UPDATE cases SET created_at = created_at - ?,"
            " modified_at = modified_at - ? WHERE id = ?",
            (shift, shift, case["id"]),
        )
        sql.execute("UPDATE case_events SET at = at - ? WHERE case_id = ?", (shift, case["id"]))


def test_auto_close_closes_inactive_cases_only_where_enabled(api: Api) -> None:
    sec, net = api.create_project("SEC"), api.create_project("NET")
    set_auto_close(api, sec, True, 3600)
    set_auto_close(api, net, False, 3600)
    kind = make_type(api, statuses=SECURITY_STATUSES)
    old = api.create_case(sec["id"], "Forgotten")
    custom = api.create_case(sec["id"], "Forgotten incident", type_id=kind["id"])
    talked = api.create_case(sec["id"], "Old but discussed")
    fresh = api.create_case(sec["id"], "Just opened")
    elsewhere = api.create_case(net["id"], "Old, in a project that keeps them")
    for case in (old, custom, talked, elsewhere):
        age(api, case, hours=2)
    assert api.comment(talked["id"], "Still on it").status_code == 200  # activity: a comment
    drain(api.store)

    assert automation.close_inactive_cases(api.store, batch=1) == 2  # a batch at a time
    for case, status_name in ((old, "Closed"), (custom, "Resolved")):
        attributes = case_of(api, case["id"])["attributes"]
        assert (attributes["status"], attributes["status_name"]) == ("CLOSED", status_name)
        assert "closed_at" in attributes
        (cell,) = activity(api.timeline(case["id"]), "status")
        assert (cell["old_value"], cell["new_value"]) == ("OPEN", "CLOSED")
        assert cell["author"] is None
        assert cell["automation"] == {"type": "AUTO_CLOSE_INACTIVE_CASES"}
    for case in (talked, fresh, elsewhere):
        assert case_of(api, case["id"])["attributes"]["status"] == "OPEN"
    assert automation.close_inactive_cases(api.store) == 0  # closed cases stay as they are

    # An hour later, by the clock the sweep takes, the others have been idle long enough
    # (but the project that keeps its cases keeps them).
    later = now_us() + HOUR_US + 1_000_000
    assert automation.close_inactive_cases(api.store, now=later) == 2
    assert case_of(api, elsewhere["id"])["attributes"]["status"] == "OPEN"


def test_rules_act_on_what_the_auto_close_closes(api: Api) -> None:
    project = api.create_project("SEC")
    set_auto_close(api, project, True, 60)
    closed = {"type": "STATUS_TRANSITIONED", "data": {"to_status": "SG_CLOSED"}}
    rule = make_rule(
        api, project["id"], "Explain", closed,
        {"type": "ADD_COMMENT", "data": {"comment": "Closed after a quiet hour."}},
    )  # fmt: skip
    case = api.create_case(project["id"], "Quiet")
    age(api, case, hours=1)
    drain(api.store)
    assert automation.close_inactive_cases(api.store) == 1
    drain(api.store)
    cells = api.timeline(case["id"])
    assert cells[-1]["attributes"]["type"] == "COMMENT"
    assert cells[-1]["attributes"]["automation"] == by_rule(rule, "Explain")


def test_the_worker_auto_closes_only_while_it_holds_the_lease(api: Api) -> None:
    project = api.create_project("SEC")
    set_auto_close(api, project, True, 60)
    case = api.create_case(project["id"], "Quiet")
    age(api, case, hours=1)
    store = api.store
    # Another process holds the lease: this one waits, and closes nothing.
    events.take_lease(store, runner.LEASE, "another", now_us(), 60_000_000)

    def status() -> str:
        return str(case_of(api, case["id"])["attributes"]["status"])

    async def run() -> None:
        async with runner.running(store):
            await asyncio.sleep(1.0)
            assert status() == "OPEN"
            events.release_lease(store, runner.LEASE, "another")
            start = time.monotonic()
            while status() != "CLOSED":
                assert time.monotonic() - start < 10, "the worker did not close the case"
                await asyncio.sleep(0.1)

    asyncio.run(run())
