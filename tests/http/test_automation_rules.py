"""Automation rules: ``/api/v2/cases/projects/{project_id}/rules``."""

from __future__ import annotations

from typing import Any

import pytest

from casebook.domain.users import BOOTSTRAP_ADMIN_EMAIL
from tests.support.api import Api


def rules_path(project_id: str) -> str:
    return f"/api/v2/cases/projects/{project_id}/rules"


def rule_body(
    name: str = "Page on P1",
    trigger: Any = None,
    action: Any = None,
    **attributes: Any,
) -> Any:
    attrs = {
        "name": name,
        "trigger": {"type": "CASE_CREATED"} if trigger is None else trigger,
        "action": (
            {"type": "EXECUTE_WORKFLOW", "data": {"handle": "soc-runbook"}}
            if action is None
            else action
        ),
        **attributes,
    }
    return {"data": {"type": "rule", "attributes": attrs}}


def make_rule(api: Api, project_id: str, **kw: Any) -> dict[str, Any]:
    r = api.post(rules_path(project_id), rule_body(**kw))
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


def test_create_get_list_update_delete(api: Api) -> None:
    project = api.create_project("SEC")
    admin = api.user_id(BOOTSTRAP_ADMIN_EMAIL)
    assert api.get(rules_path(project["id"])).json() == {"data": []}
    trigger = {
        "type": "STATUS_TRANSITIONED",
        "data": {"from_status_name": "Open", "to_status_name": "Closed"},
    }
    rule = make_rule(api, project["id"], trigger=trigger)
    assert rule["type"] == "rule"
    attributes = rule["attributes"]
    assert attributes["name"] == "Page on P1"
    assert attributes["state"] == "ENABLED"
    assert attributes["trigger"] == trigger
    assert attributes["action"] == {"type": "EXECUTE_WORKFLOW", "data": {"handle": "soc-runbook"}}
    assert attributes["created_at"].endswith("Z") and "modified_at" not in attributes
    assert rule["relationships"] == {"created_by": {"data": {"id": admin, "type": "user"}}}

    path = f"{rules_path(project['id'])}/{rule['id']}"
    got = api.get(path)
    assert got.status_code == 200 and got.headers["content-type"] == "application/vnd.api+json"
    assert got.json() == {"data": rule}
    second = make_rule(api, project["id"], name="Quiet", state="DISABLED")
    assert second["attributes"]["state"] == "DISABLED"
    listed = api.get(rules_path(project["id"])).json()["data"]
    assert [r["id"] for r in listed] == [rule["id"], second["id"]]

    # PUT replaces name, trigger and action; a state left out stays.
    body = rule_body(
        name="Escalate",
        trigger={"type": "attribute_value_changed", "data": {"field": "priority"}},
        action={"type": "SET_PRIORITY", "data": {"priority": "P1", "handle": "dropped"}},
    )
    changed = api.put(path, body)
    assert changed.status_code == 200, changed.text
    attributes = changed.json()["data"]["attributes"]
    assert attributes["name"] == "Escalate"
    assert attributes["trigger"] == {
        "type": "ATTRIBUTE_VALUE_CHANGED",
        "data": {"field": "priority"},
    }
    assert attributes["action"] == {"type": "SET_PRIORITY", "data": {"priority": "P1"}}
    assert attributes["state"] == "ENABLED" and "modified_at" in attributes
    assert changed.json()["data"]["relationships"]["modified_by"]["data"]["id"] == admin
    assert api.get(path).json() == changed.json()
    body["data"]["attributes"]["state"] = "DISABLED"
    assert api.put(path, body).json()["data"]["attributes"]["state"] == "DISABLED"

    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert api.delete(path).status_code == 404
    assert [r["id"] for r in api.get(rules_path(project["id"])).json()["data"]] == [second["id"]]


def test_enable_and_disable_are_idempotent(api: Api) -> None:
    project = api.create_project("SEC")
    rule = make_rule(api, project["id"])
    path = f"{rules_path(project['id'])}/{rule['id']}"
    # Enabling an enabled rule answers it unchanged.
    r = api.client.post(f"{path}/enable", headers=api.headers)
    assert r.status_code == 200 and r.json() == {"data": rule}
    disabled = api.client.post(f"{path}/disable", headers=api.headers)
    assert disabled.status_code == 200
    attributes = disabled.json()["data"]["attributes"]
    assert attributes["state"] == "DISABLED" and "modified_at" in attributes
    again = api.client.post(f"{path}/disable", headers=api.headers)
    assert again.json() == disabled.json()
    enabled = api.client.post(f"{path}/enable", headers=api.headers)
    assert enabled.json()["data"]["attributes"]["state"] == "ENABLED"
    assert api.get(path).json() == enabled.json()
    # The rest of the rule is untouched.
    for key in ("name", "trigger", "action", "created_at"):
        assert enabled.json()["data"]["attributes"][key] == rule["attributes"][key]


def test_casebooks_own_actions(api: Api) -> None:
    project = api.create_project("SEC")
    member = api.create_user("analyst@example.com")
    actions = [
        (
            {"type": "ASSIGN_USER", "data": {"assignee_id": member["id"].upper()}},
            {"assignee_id": member["id"]},
        ),
        ({"type": "SET_PRIORITY", "data": {"priority": "P2"}}, {"priority": "P2"}),
        (
            {"type": "SET_STATUS", "data": {"status_name": "In Progress"}},
            {"status_name": "In Progress"},
        ),
        (
            {"type": "ADD_COMMENT", "data": {"comment": "Triaged by a rule, @analyst@example.com"}},
            None,
        ),
    ]
    for sent, kept in actions:
        rule = make_rule(api, project["id"], action=sent)
        expected = sent["data"] if kept is None else kept
        assert rule["attributes"]["action"] == {"type": sent["type"], "data": expected}


@pytest.mark.parametrize(
    ("attributes", "status", "fragment"),
    [
        ({"name": "  "}, 400, "invalid rule name"),
        ({"name": "x" * 201}, 400, "length <= 200"),
        ({"state": "PAUSED"}, 400, "Invalid enum value 'PAUSED'"),
        ({"trigger": {"type": "CASE_DELETED"}}, 400, "invalid trigger type CASE_DELETED"),
        ({"trigger": {"type": "CASE_REVIEW_APPROVED"}}, 400, "no case reviews"),
        ({"trigger": {"type": "EVENT_CORRELATION_SIGNAL_CORRELATED"}}, 400, "no event correlation"),
        ({"trigger": {"type": "ATTRIBUTE_VALUE_CHANGED", "data": {}}}, 400, "needs data.field"),
        (
            {"trigger": {"type": "STATUS_TRANSITIONED", "data": {"to_status_name": "Done"}}},
            400,
            "invalid to_status_name Done",
        ),
        ({"action": {"type": "ASSIGN_AGENT", "data": {"agent_type": "bits"}}}, 400, "no AI agents"),
        ({"action": {"type": "DELETE_CASE", "data": {}}}, 400, "invalid action type DELETE_CASE"),
        ({"action": {"type": "EXECUTE_WORKFLOW", "data": {}}}, 400, "need data.handle"),
        ({"action": {"type": "EXECUTE_WORKFLOW"}}, 400, "need data.handle"),
        (
            {"action": {"type": "EXECUTE_WORKFLOW", "data": {"handle": "a b"}}},
            400,
            "invalid webhook name",
        ),
        (
            {"action": {"type": "SET_PRIORITY", "data": {"priority": "P9"}}},
            400,
            "invalid priority P9",
        ),
        (
            {"action": {"type": "SET_STATUS", "data": {"status_name": "Triage"}}},
            400,
            "invalid status_name",
        ),
        (
            {"action": {"type": "ADD_COMMENT", "data": {"comment": "   "}}},
            400,
            "need data.comment",
        ),
        (
            {"action": {"type": "ASSIGN_USER", "data": {"assignee_id": "bob"}}},
            400,
            "invalid assignee_id",
        ),
        (
            {
                "action": {
                    "type": "ASSIGN_USER",
                    "data": {"assignee_id": "7c0f4f0e-0000-4000-8000-000000000000"},
                }
            },
            404,
            "user '7c0f4f0e-0000-4000-8000-000000000000' not found",
        ),
    ],
)
def test_refused_rules(api: Api, attributes: dict[str, Any], status: int, fragment: str) -> None:
    project = api.create_project("SEC")
    r = api.post(rules_path(project["id"]), rule_body(**attributes))
    assert r.status_code == status, r.text
    assert fragment in r.json()["errors"][0]["detail"], r.text
    assert api.get(rules_path(project["id"])).json() == {"data": []}


def test_a_disabled_user_cannot_be_a_rules_assignee(api: Api) -> None:
    project = api.create_project("SEC")
    member = api.create_user("leaver@example.com")
    assert api.delete(f"/api/v2/users/{member['id']}").status_code == 204
    action = {"type": "ASSIGN_USER", "data": {"assignee_id": member["id"]}}
    r = api.post(rules_path(project["id"]), rule_body(action=action))
    assert r.status_code == 400 and "disabled" in r.text


def test_updates_are_checked_as_creates_are(api: Api) -> None:
    project = api.create_project("SEC")
    rule = make_rule(api, project["id"])
    path = f"{rules_path(project['id'])}/{rule['id']}"
    bad = rule_body(action={"type": "ASSIGN_AGENT", "data": {"assigned_agent_id": "a1"}})
    assert api.put(path, bad).status_code == 400
    # Name, trigger and action are required, as on create.
    partial = {"data": {"type": "rule", "attributes": {"name": "Only a name"}}}
    r = api.put(path, partial)
    assert r.status_code == 400 and "action" in r.text
    assert api.put(path, {"data": {"type": "rule"}}).status_code == 400
    assert api.put(path, {"data": {"type": "rules", "attributes": {}}}).status_code == 400
    assert api.get(path).json() == {"data": rule}


def test_unknown_projects_and_rules_are_404(api: Api) -> None:
    project = api.create_project("SEC")
    other = api.create_project("OPS")
    rule = make_rule(api, project["id"])
    unknown = "7c0f4f0e-0000-4000-8000-000000000000"
    for project_id in (unknown, "SEC", "x"):
        r = api.get(rules_path(project_id))
        assert r.status_code == 404 and r.json()["errors"][0]["title"] == "project not found"
        assert api.post(rules_path(project_id), rule_body()).status_code == 404
    for path in (
        f"{rules_path(other['id'])}/{rule['id']}",
        f"{rules_path(project['id'])}/{unknown}",
        f"{rules_path(project['id'])}/enable",
    ):
        r = api.get(path)
        assert r.status_code == 404 and r.json()["errors"][0]["title"] == "rule not found", path
        assert api.put(path, rule_body()).status_code == 404
        assert api.delete(path).status_code == 404
        for verb in ("enable", "disable"):
            assert api.client.post(f"{path}/{verb}", headers=api.headers).status_code == 404
    assert api.get(f"{rules_path(project['id'])}/{rule['id']}").json() == {"data": rule}


def test_rules_of_a_deleted_project_go_with_it(api: Api) -> None:
    project = api.create_project("SEC")
    rule = make_rule(api, project["id"])
    assert api.delete(f"/api/v2/cases/projects/{project['id']}").status_code == 204
    assert api.get(f"{rules_path(project['id'])}/{rule['id']}").status_code == 404
    assert api.get(rules_path(project["id"])).status_code == 404


def test_rules_never_cross_organisations(api: Api) -> None:
    other = api.new_org_admin("acme")
    theirs_project = other.create_project("SEC")
    theirs = make_rule(other, theirs_project["id"])
    mine_project = api.create_project("SEC")
    mine = make_rule(api, mine_project["id"])
    for path in (
        f"{rules_path(theirs_project['id'])}/{theirs['id']}",
        f"{rules_path(mine_project['id'])}/{theirs['id']}",
    ):
        assert api.get(path).status_code == 404
        assert api.put(path, rule_body()).status_code == 404
        assert api.client.post(f"{path}/disable", headers=api.headers).status_code == 404
        assert api.delete(path).status_code == 404
    assert api.get(rules_path(theirs_project["id"])).status_code == 404
    # Their users cannot be my rules' assignees: the same 404 as no user.
    their_admin = other.user_id("admin@acme.example")
    action = {"type": "ASSIGN_USER", "data": {"assignee_id": their_admin}}
    r = api.put(f"{rules_path(mine_project['id'])}/{mine['id']}", rule_body(action=action))
    assert r.status_code == 404 and r.json()["errors"][0]["title"] == "user not found"
    assert other.get(f"{rules_path(theirs_project['id'])}/{theirs['id']}").json() == {
        "data": theirs
    }


def test_a_project_holds_at_most_100_rules(api: Api) -> None:
    project = api.create_project("SEC")
    for _ in range(100):
        assert api.post(rules_path(project["id"]), rule_body()).status_code == 201
    r = api.post(rules_path(project["id"]), rule_body())
    assert r.status_code == 409 and "100 automation rules" in r.text, r.text
