"""Notification rules: ``/api/v2/cases/projects/{project_id}/notification_rules``."""

from __future__ import annotations

from typing import Any

import pytest

from casebook.domain.projects import restore_project
from tests.support.api import Api

SLACK = "https://hooks.slack.com/services/T0000/B0000/abcdefghijklmnopXa9Q"
TEAMS = "https://example.webhook.office.com/webhookb2/0000/IncomingWebhook/feedbeef"


def rules_path(project_id: str) -> str:
    return f"/api/v2/cases/projects/{project_id}/notification_rules"


def rule_body(
    triggers: list[Any] | None = None, recipients: list[Any] | None = None, **attributes: Any
) -> Any:
    attrs: dict[str, Any] = {
        "triggers": [{"type": "CASE_CREATED"}] if triggers is None else triggers,
        "recipients": (
            [{"type": "EMAIL", "data": {"email": "soc@example.com"}}]
            if recipients is None
            else recipients
        ),
        **attributes,
    }
    return {"data": {"type": "notification_rule", "attributes": attrs}}


def make_rule(api: Api, project_id: str, **kw: Any) -> dict[str, Any]:
    r = api.post(rules_path(project_id), rule_body(**kw))
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


def listed(api: Api, project_id: str) -> list[dict[str, Any]]:
    r = api.get(rules_path(project_id))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.api+json"
    return list(r.json()["data"])


def test_create_list_update_delete(api: Api) -> None:
    project = api.create_project("SEC")
    assert listed(api, project["id"]) == []
    rule = make_rule(
        api,
        project["id"],
        query="priority:P1",
        triggers=[
            {"type": "CASE_CREATED", "data": {}},
            {
                "type": "STATUS_TRANSITIONED",
                "data": {"from_status": "OPEN", "to_status_name": "closed"},
            },
            {
                "type": "ATTRIBUTE_VALUE_CHANGED",
                "data": {"field": "team", "change_type": "VALUE_ADDED", "to_status": "OPEN"},
            },
        ],
        recipients=[
            {"type": "EMAIL", "data": {"email": " SOC@Example.com "}},
            {"type": "HTTP", "data": {"name": "siem-ingest"}},
        ],
    )
    assert rule["type"] == "notification_rule"
    assert rule["attributes"] == {
        "is_enabled": True,
        "query": "priority:P1",
        "triggers": [
            {"type": "CASE_CREATED", "data": {}},
            {
                "type": "STATUS_TRANSITIONED",
                "data": {"from_status": "OPEN", "to_status_name": "closed"},
            },
            # Members a trigger's type does not read are dropped.
            {
                "type": "ATTRIBUTE_VALUE_CHANGED",
                "data": {"field": "team", "change_type": "VALUE_ADDED"},
            },
        ],
        "recipients": [
            {"type": "EMAIL", "data": {"email": "soc@example.com"}},
            {"type": "HTTP", "data": {"name": "siem-ingest"}},
        ],
    }
    second = make_rule(api, project["id"], is_enabled=False)
    assert second["attributes"]["is_enabled"] is False
    assert second["attributes"]["query"] == ""
    assert [r["id"] for r in listed(api, project["id"])] == [rule["id"], second["id"]]

    # PUT changes what it sends (answering 204, as the spec declares); a list replaces the list.
    path = f"{rules_path(project['id'])}/{rule['id']}"
    body = {"data": {"type": "notification_rule", "attributes": {"is_enabled": False}}}
    r = api.put(path, body)
    assert r.status_code == 204 and r.content == b"", r.text
    after = listed(api, project["id"])[0]
    assert after["attributes"] == {**rule["attributes"], "is_enabled": False}
    recipients = [{"type": "HTTP", "data": {"name": "pager-bridge"}}]
    body = {
        "data": {
            "type": "notification_rule",
            "attributes": {
                "recipients": recipients,
                "query": "",
                "triggers": [{"type": "comment_added"}],
            },
        }
    }
    assert api.put(path, body).status_code == 204
    after = listed(api, project["id"])[0]["attributes"]
    assert after["recipients"] == recipients
    assert after["triggers"] == [{"type": "COMMENT_ADDED", "data": {}}]
    assert (after["query"], after["is_enabled"]) == ("", False)
    # No attributes at all: nothing changes.
    assert api.put(path, {"data": {"type": "notification_rule"}}).status_code == 204
    assert listed(api, project["id"])[0]["attributes"] == after

    assert api.delete(path).status_code == 204
    assert [r["id"] for r in listed(api, project["id"])] == [second["id"]]
    assert api.delete(path).status_code == 404
    assert api.put(path, body).status_code == 404


def test_every_recipient_type_and_its_secrets(api: Api) -> None:
    project = api.create_project("SEC")
    recipients = [
        {"type": "EMAIL", "data": {"email": "soc@example.com", "channel": "dropped"}},
        {"type": "HTTP", "data": {"name": "webhook-that-does-not-exist-yet"}},
        {"type": "SLACK_CHANNEL", "data": {"url": SLACK, "channel": "#soc", "workspace": "acme"}},
        {"type": "MS_TEAMS_CHANNEL", "data": {"url": TEAMS, "team_name": "SOC"}},
        {
            "type": "PAGERDUTY_SERVICE",
            "data": {"routing_key": "R0123456789abcdef0123456789abcd", "service_name": "soc"},
        },
    ]
    rule = make_rule(api, project["id"], recipients=recipients)
    answered = rule["attributes"]["recipients"]
    assert answered == [
        {"type": "EMAIL", "data": {"email": "soc@example.com"}},
        {"type": "HTTP", "data": {"name": "webhook-that-does-not-exist-yet"}},
        {
            "type": "SLACK_CHANNEL",
            "data": {
                "url": "https://hooks.slack.com/…Xa9Q",
                "channel": "#soc",
                "workspace": "acme",
            },
        },
        {
            "type": "MS_TEAMS_CHANNEL",
            "data": {"url": "https://example.webhook.office.com/…beef", "team_name": "SOC"},
        },
        {"type": "PAGERDUTY_SERVICE", "data": {"routing_key": "…abcd", "service_name": "soc"}},
    ]
    assert listed(api, project["id"])[0]["attributes"]["recipients"] == answered
    # The secrets are kept whole: the worker reads them.
    org_id = api.get("/api/v2/users").json()["data"][0]["relationships"]["org"]["data"]["id"]
    with api.store.read() as tx:
        (stored,) = tx.notification_rules.list(org_id, project["id"])
    assert [r.data.get("url") or r.data.get("routing_key") for r in stored.recipients][2:] == [
        SLACK,
        TEAMS,
        "R0123456789abcdef0123456789abcd",
    ]
    # An answer's recipients sent back keep the secrets; a new URL replaces one.
    path = f"{rules_path(project['id'])}/{rule['id']}"
    answered[3]["data"]["url"] = TEAMS.replace("feedbeef", "cafecafe")
    body = {"data": {"type": "notification_rule", "attributes": {"recipients": answered}}}
    assert api.put(path, body).status_code == 204
    with api.store.read() as tx:
        (stored,) = tx.notification_rules.list(org_id, project["id"])
    assert stored.recipients[2].data["url"] == SLACK
    assert stored.recipients[3].data["url"].endswith("cafecafe")
    assert stored.recipients[4].data["routing_key"] == "R0123456789abcdef0123456789abcd"
    # A masked value that masks nothing stored is refused.
    body["data"]["attributes"]["recipients"] = [
        {"type": "SLACK_CHANNEL", "data": {"url": "https://hooks.slack.com/…0000"}}
    ]
    r = api.put(path, body)
    assert r.status_code == 400 and "masked" in r.json()["errors"][0]["detail"], r.text


@pytest.mark.parametrize(
    ("attributes", "fragment"),
    [
        ({"triggers": []}, "at least one trigger"),
        ({"recipients": []}, "at least one recipient"),
        ({"triggers": [{"type": "CASE_DELETED"}]}, "invalid trigger type CASE_DELETED"),
        (
            {"triggers": [{"type": "EVENT_CORRELATION_SIGNAL_CORRELATED"}]},
            "no event correlation",
        ),
        ({"triggers": [{"type": "CASE_REVIEW_APPROVED"}]}, "no case reviews"),
        ({"triggers": [{"type": "ATTRIBUTE_VALUE_CHANGED"}]}, "needs data.field"),
        (
            {
                "triggers": [
                    {
                        "type": "ATTRIBUTE_VALUE_CHANGED",
                        "data": {"field": "team", "change_type": "SOMETIMES"},
                    }
                ]
            },
            "invalid change_type SOMETIMES",
        ),
        (
            {"triggers": [{"type": "STATUS_TRANSITIONED", "data": {"to_status": "DONE"}}]},
            "invalid to_status DONE",
        ),
        (
            {"triggers": [{"type": "STATUS_TRANSITIONED", "data": {"to_status_name": "Triage"}}]},
            "invalid to_status_name Triage",
        ),
        ({"recipients": [{"type": "CARRIER_PIGEON", "data": {}}]}, "invalid recipient type"),
        ({"recipients": [{"type": "EMAIL", "data": {}}]}, "need data.email"),
        ({"recipients": [{"type": "EMAIL"}]}, "need data.email"),
        ({"recipients": [{"type": "EMAIL", "data": {"email": "not an email"}}]}, "invalid email"),
        (
            {"recipients": [{"type": "EMAIL", "data": {"email": "ops,cfo@example.com"}}]},
            "invalid email 'ops,cfo@example.com'",
        ),
        (
            {"recipients": [{"type": "EMAIL", "data": {"email": "ops..x@example.com"}}]},
            "invalid email",
        ),
        ({"recipients": [{"type": "HTTP", "data": {"name": "two words"}}]}, "invalid webhook name"),
        (
            {"recipients": [{"type": "SLACK_CHANNEL", "data": {"channel": "#soc"}}]},
            "need data.url",
        ),
        ({"recipients": [{"type": "SLACK_CHANNEL", "data": {"url": "ftp://x"}}]}, "invalid url"),
        (
            {"recipients": [{"type": "MS_TEAMS_CHANNEL", "data": {"url": "https://"}}]},
            "invalid url",
        ),
        (
            {"recipients": [{"type": "PAGERDUTY_SERVICE", "data": {"service_name": "soc"}}]},
            "routing_key",
        ),
        ({"query": "stauts:open"}, '"stauts"'),
        ({"triggers": [{"type": "CASE_CREATED"}] * 21}, "length <= 20"),
        ({"is_enabled": "yes"}, "Expected `bool"),
    ],
)
def test_refused_rules(api: Api, attributes: dict[str, Any], fragment: str) -> None:
    project = api.create_project("SEC")
    r = api.post(rules_path(project["id"]), rule_body(**attributes))
    assert r.status_code == 400, r.text
    assert fragment in r.json()["errors"][0]["detail"], r.text
    assert listed(api, project["id"]) == []


def test_a_bad_query_names_its_position(api: Api) -> None:
    project = api.create_project("SEC")
    r = api.post(rules_path(project["id"]), rule_body(query="status:open stauts:closed"))
    assert r.status_code == 400
    detail = r.json()["errors"][0]["detail"]
    assert '"stauts"' in detail and "12" in detail
    rule = make_rule(api, project["id"])
    path = f"{rules_path(project['id'])}/{rule['id']}"
    r = api.put(path, {"data": {"type": "notification_rule", "attributes": {"query": "("}}})
    assert r.status_code == 400
    assert listed(api, project["id"])[0]["attributes"]["query"] == ""


def test_status_names_of_the_organisations_types(api: Api) -> None:
    project = api.create_project("SEC")
    statuses = [
        {"name": "Triage", "group": "SG_OPEN"},
        {"name": "Open", "group": "SG_OPEN"},
        {"name": "In Progress", "group": "SG_IN_PROGRESS"},
        {"name": "Closed", "group": "SG_CLOSED"},
    ]
    body = {"data": {"type": "case_type", "attributes": {"name": "Incident", "statuses": statuses}}}
    assert api.post("/api/v2/cases/types", body).status_code == 201
    data = {"from_status_name": "TRIAGE", "to_status": "sg_in_progress"}
    rule = make_rule(api, project["id"], triggers=[{"type": "STATUS_TRANSITIONED", "data": data}])
    assert rule["attributes"]["triggers"][0]["data"] == data


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"type": "notification_rules", "attributes": {}}},
        {"data": {"type": "notification_rule"}},
        {"data": {"type": "notification_rule", "attributes": {"triggers": []}}},
    ],
)
def test_bad_bodies(api: Api, body: Any) -> None:
    project = api.create_project("SEC")
    assert api.post(rules_path(project["id"]), body).status_code == 400


def test_unknown_projects_and_rules_are_404(api: Api) -> None:
    project = api.create_project("SEC")
    other = api.create_project("OPS")
    rule = make_rule(api, project["id"])
    unknown = "7c0f4f0e-0000-4000-8000-000000000000"
    for project_id in (unknown, "SEC", "not-a-uuid"):
        r = api.get(rules_path(project_id))
        assert r.status_code == 404 and r.json()["errors"][0]["title"] == "project not found"
        assert api.post(rules_path(project_id), rule_body()).status_code == 404
    body = {"data": {"type": "notification_rule", "attributes": {"is_enabled": False}}}
    # A rule is found under its own project only.
    for path in (
        f"{rules_path(other['id'])}/{rule['id']}",
        f"{rules_path(project['id'])}/{unknown}",
        f"{rules_path(project['id'])}/not-a-uuid",
    ):
        r = api.put(path, body)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["errors"][0]["title"] in ("notification rule not found"), r.text
        assert api.delete(path).status_code == 404
    assert listed(api, project["id"])[0]["attributes"]["is_enabled"] is True


def test_rules_of_a_deleted_project_go_and_come_back_with_it(api: Api) -> None:
    project = api.create_project("SEC")
    rule = make_rule(api, project["id"])
    assert api.delete(f"/api/v2/cases/projects/{project['id']}").status_code == 204
    assert api.get(rules_path(project["id"])).status_code == 404
    path = f"{rules_path(project['id'])}/{rule['id']}"
    assert api.delete(path).status_code == 404
    restore_project(api.store, org_name="default", key="SEC")
    assert [r["id"] for r in listed(api, project["id"])] == [rule["id"]]


def test_rules_never_cross_organisations(api: Api) -> None:
    other = api.new_org_admin("acme")
    theirs_project = other.create_project("SEC")
    theirs = make_rule(other, theirs_project["id"])
    mine_project = api.create_project("SEC")
    make_rule(api, mine_project["id"])
    path = f"{rules_path(theirs_project['id'])}/{theirs['id']}"
    body = {"data": {"type": "notification_rule", "attributes": {"is_enabled": False}}}
    assert api.get(rules_path(theirs_project["id"])).status_code == 404
    assert api.post(rules_path(theirs_project["id"]), rule_body()).status_code == 404
    assert api.put(path, body).status_code == 404
    assert api.delete(path).status_code == 404
    # Nor under the caller's own project.
    assert api.delete(f"{rules_path(mine_project['id'])}/{theirs['id']}").status_code == 404
    assert [r["id"] for r in listed(other, theirs_project["id"])] == [theirs["id"]]
    assert listed(other, theirs_project["id"])[0]["attributes"]["is_enabled"] is True


def test_a_project_holds_at_most_100_rules(api: Api) -> None:
    project = api.create_project("SEC")
    for _ in range(100):
        assert api.post(rules_path(project["id"]), rule_body()).status_code == 201
    r = api.post(rules_path(project["id"]), rule_body())
    assert r.status_code == 409 and "100 notification rules" in r.text, r.text


def test_read_only_keys_may_list_but_not_write(api: Api) -> None:
    project = api.create_project("SEC")
    make_rule(api, project["id"])
    reader = api.as_keys(api.keys_for("default", "admin@casebook.local", scopes="cases_read"))
    assert len(listed(reader, project["id"])) == 1
    r = reader.post(rules_path(project["id"]), rule_body())
    assert r.status_code == 403 and "cases_write" in r.text
