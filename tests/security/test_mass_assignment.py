"""Mass assignment: server-owned fields in a request body are ignored, on every body-taking endpoint.

casebook's one rule: request structs declare the fields a client may set and
ignore every other member, so ``key``, ``created_at``, ``created_by``, ``id``,
``internal_id``, ``public_id``, ``status_group``, another organisation's or
project's id (at the top, in ``data``, in ``attributes``, in ``relationships``)
never change anything. Each call below carries all of them; it must succeed as
the plain call would, and no poisoned value may show up in the response or in
any row it wrote.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from casebook.core.entities import Scope
from casebook.domain.users import BOOTSTRAP_ADMIN_EMAIL
from tests.security.conftest import (
    OPERATIONS,
    Operation,
    OrgWorld,
    report_count,
    struct_fields,
)
from tests.support.dump import dump_database

POISON_ID = "66666666-6666-4666-8666-666666666666"
POISON_TIME = "2001-01-01T00:00:00.000Z"

# Fields each endpoint declares (the client's to set), read from the registry's request
# structs; everything else is poison. The Users API's update takes a free-form map.
DECLARED_BY_HAND: dict[str, set[str]] = {"UpdateUser": {"name", "title", "email", "disabled"}}


def declared_attributes(op: Operation) -> set[str]:
    """The attribute names of ``data.attributes`` in the operation's request struct."""
    if op.name in DECLARED_BY_HAND:
        return DECLARED_BY_HAND[op.name]
    data = struct_fields(op.request)["data"]
    attributes = struct_fields(data).get("attributes")
    return set() if attributes is None else set(struct_fields(attributes))


def _names_its_target(op: Operation) -> bool:
    """Whether ``data.id`` is the client's: it names the target (a user to update, a project
    to move to), so it is not poisoned."""
    return "id" in struct_fields(struct_fields(op.request)["data"])


def _poison_attributes(b: OrgWorld) -> dict[str, Any]:
    b_admin = b.admin.user_id("admin@")
    return {
        # case fields owned by the server
        "id": POISON_ID,
        "internal_id": POISON_ID,
        "key": "EVIL-666666",
        "public_id": "666666",
        "created_at": POISON_TIME,
        "modified_at": POISON_TIME,
        "closed_at": POISON_TIME,
        "archived_at": POISON_TIME,
        "created_by": b_admin,
        "modified_by": b_admin,
        "status_group": "SG_EVIL666666",
        "creation_source": "EVIL666666",
        "comment_count": 666666,
        "merge_status": "EVIL666666",
        "insights": [{"ref": "EVIL666666"}],
        "org_id": b.org_id,
        "project_id": b.project["id"],
        "project": {"id": b.project["id"], "type": "project"},
        # fields of other endpoints
        "status": "EVIL666666",
        "priority": "EVIL666666",
        "title": "EVIL666666 title",
        "description": "EVIL666666",
        "assignee_id": b_admin,
        "name": "EVIL666666",
        "email": "evil666666@evil.example",
        # project and user fields owned by the server
        "last_case_number": 666666,
        "deleted_at": POISON_TIME,
        "restricted": True,
        "handle": "evil666666@evil.example",
        "is_admin": True,
        "admin": True,
        "role": "admin",
        "roles": ["admin"],
        "service_account": True,
        "verified": True,
        "disabled": True,
        "icon": "https://evil.example/666666.png",
        "last_login_time": POISON_TIME,
    }


def _poison(op: Operation, body: Any, b: OrgWorld, attrs: dict[str, Any]) -> Any:
    op_name = op.name
    body = copy.deepcopy(body) if body is not None else {}
    body.update({"id": POISON_ID, "org_id": b.org_id, "meta": {"org_id": b.org_id}})
    data = body["data"]
    if not _names_its_target(op):
        data["id"] = POISON_ID
    data.update({"org_id": b.org_id, "key": "EVIL-666666", "created_at": POISON_TIME})
    data["project_id"] = b.project["id"]
    attributes = data.setdefault("attributes", {})
    for name, value in attrs.items():
        if name not in declared_attributes(op):
            attributes[name] = value
    link = {"data": {"id": b.org_id, "type": "orgs"}}
    relationships = data.setdefault("relationships", {})
    relationships.update(
        {
            "org": link,
            "created_by": {"data": {"id": attrs["created_by"], "type": "user"}},
            "modified_by": {"data": {"id": attrs["created_by"], "type": "user"}},
            "roles": {"data": [{"id": POISON_ID, "type": "roles"}]},
        }
    )
    if op_name != "CreateCase":
        relationships["project"] = {"data": {"id": b.project["id"], "type": "project"}}
        relationships["assignee"] = {"data": {"id": attrs["created_by"], "type": "user"}}
    return body


def _tokens(b: OrgWorld, attrs: dict[str, Any]) -> list[str]:
    return [
        POISON_ID,
        "666666",
        "2001-01-01",
        "EVIL",
        "evil",
        b.org_id,
        b.project["id"],
        b.case["id"],
        attrs["created_by"],
    ]


def _changed_rows(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for table, now in after.items():
        old = set(before.get(table, []))
        rows.extend(row for row in now if row not in old)
    return rows


# The Webhooks integration's bodies are plain JSON (no ``data``): test_webhooks_ignore_...
BODY_OPS = [op for op in OPERATIONS if op.takes_body and not op.path.startswith("/api/v1/")]


def test_server_owned_fields_are_ignored_everywhere(
    orgs: tuple[OrgWorld, OrgWorld], database_url: str, request: pytest.FixtureRequest
) -> None:
    a, b = orgs
    attrs = _poison_attributes(b)
    tokens = _tokens(b, attrs)
    client = a.admin.client
    checked = 0
    for op in BODY_OPS:
        path, body = op.prepare(a)
        poisoned = _poison(op, body, b, attrs)
        case_before = a.admin.get(f"/api/v2/cases/{a.case['id']}").json()["data"]
        before = dump_database(database_url)
        r = client.request(op.method, path, headers=a.admin.headers, json=poisoned)
        assert r.status_code == op.ok, (op.name, r.text)
        written = _changed_rows(before, dump_database(database_url))
        if op.scope is Scope.CASES_READ:  # a read that takes a body (counts, reports)
            assert not written, (op.name, written)
            for token in tokens:
                assert token not in r.text, (op.name, token, r.text)
            plain = client.request(op.method, path, headers=a.admin.headers, json=body)
            assert _read_answer(r) == _read_answer(plain), op.name
            checked += 1
            continue
        assert written, f"{op.name} wrote nothing"
        for token in tokens:
            assert token not in r.text, (op.name, token, r.text)
            for row in written:
                assert not any(token in cell for cell in row), (op.name, token, row)
        data = r.json()["data"] if r.content else None
        _check_semantics(op, data, body, a, case_before, path)
        checked += 1
    report_count(request, "mass_assignment_endpoints", checked)


def _read_answer(r: Any) -> Any:
    """A read's answer, but for what differs from call to call: a report's time, its id,
    and the durations that run until that time (every number that is not a count)."""

    def counts(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: counts(v) for k, v in node.items() if k not in ("at", "id")}
        if isinstance(node, list):
            return [counts(v) for v in node]
        return None if isinstance(node, float) else node

    return counts(r.json()["data"])


def _integration_semantics(name: str, body: Any, a: OrgWorld, path: str) -> None:
    """What a Jira, ServiceNow or notebook call (answering no body) did to its case."""
    ref = path.split("/")[4]
    case = a.admin.get(f"/api/v2/cases/{ref}").json()["data"]["attributes"]
    if name == "CreateCaseJiraIssue":  # the project's settings name the Jira project
        assert case["jira_issue"]["result"]["project_key"] == "SEC", case
        assert case["jira_issue"]["status"] == "COMPLETED"
    elif name == "LinkJiraIssueToCase":
        url = body["data"]["attributes"]["jira_issue_url"]
        assert case["jira_issue"]["result"]["issue_url"] == url
    elif name == "CreateCaseServiceNowTicket":
        assert case["service_now_ticket"]["status"] == "COMPLETED"
    else:
        assert name == "CreateCaseNotebook", name
        cells = a.admin.get(f"/api/v2/cases/{ref}/timelines", **{"page[size]": 1}).json()
        message = cells["data"][0]["attributes"]["cell_content"]["message"]
        assert message.startswith(f"# Investigation notebook: {case['key']} {case['title']}")


def _as_kept(sent: dict[str, Any]) -> dict[str, Any]:
    """A notification rule's attributes as sent, as the rule keeps and answers them."""
    return {
        "is_enabled": sent["is_enabled"],
        "query": sent["query"],
        "recipients": sent["recipients"],
        "triggers": [{"type": t["type"], "data": t.get("data", {})} for t in sent["triggers"]],
    }


def _check_semantics(
    op: Operation,
    data: Any,
    body: Any,
    a: OrgWorld,
    case_before: dict[str, Any],
    path: str,
) -> None:
    """The answer is the plain call's: ``body`` is the call before it was poisoned."""
    name = op.name
    admin_id = a.admin.user_id(BOOTSTRAP_ADMIN_EMAIL)
    if data is None and name == "UpdateProjectNotificationRule":  # 204: the rule shows it
        listed = a.admin.get(f"/api/v2/cases/projects/{a.project['id']}/notification_rules")
        (rule,) = [r for r in listed.json()["data"] if r["id"] == a.notification_rule["id"]]
        assert rule["attributes"] == _as_kept(body["data"]["attributes"])
        return
    if data is None and name != "BulkUpdateCases":  # Jira, ServiceNow, notebook: no body
        _integration_semantics(name, body, a, path)
        return
    if data is None:  # BulkUpdateCases answers no body: its cases show what it did
        assert name == "BulkUpdateCases", name
        sent = body["data"]["attributes"]
        target = sent["payload"]["project_id"]
        project_key = a.admin.get(f"/api/v2/cases/projects/{target}").json()["data"]
        for ref in sent["case_ids"]:
            case = a.admin.get(f"/api/v2/cases/{ref}").json()["data"]
            assert case["relationships"]["project"]["data"]["id"] == target
            assert case["attributes"]["key"].startswith(project_key["attributes"]["key"] + "-")
        standing = a.admin.get(f"/api/v2/cases/{a.case['id']}").json()["data"]["attributes"]
        for kept in ("public_id", "created_at", "title", "status", "priority"):
            assert standing[kept] == case_before["attributes"][kept], kept
        assert standing["key"] != case_before["attributes"]["key"]
        return
    if isinstance(data, list):  # a comment's timeline cell, as recorded
        (cell,) = data
        assert cell["type"] == "timeline_cell" and cell["id"] != POISON_ID
        assert cell["attributes"]["type"] == "COMMENT"
        assert cell["attributes"]["author"]["content"]["id"] == admin_id
        assert cell["attributes"]["cell_content"] == {
            "message": body["data"]["attributes"]["comment"]
        }
        timeline = a.admin.get(f"/api/v2/cases/{a.case['id']}/timelines", **{"page[size]": 100})
        assert cell["id"] in {c["id"] for c in timeline.json()["data"]}
        return
    attributes = data["attributes"]
    if name == "CreateCase":
        assert data["id"] == attributes["internal_id"] != POISON_ID
        assert attributes["key"].startswith("SEC-")
        assert attributes["status"] == "OPEN" and attributes["status_group"] == "SG_OPEN"
        assert attributes["creation_source"] == "MANUAL"
        assert attributes["comment_count"] == 0 and attributes["insights"] == []
        assert "closed_at" not in attributes and "archived_at" not in attributes
        assert data["relationships"]["project"]["data"]["id"] == a.project["id"]
        assert "assignee" not in data["relationships"]
        creator = data["relationships"]["created_by"]["data"]["id"]
        assert creator == a.admin.user_id(BOOTSTRAP_ADMIN_EMAIL)
        # Only org A sees it.
        assert a.admin.get(f"/api/v2/cases/{data['id']}").status_code == 200
    elif name == "CreateProject":
        assert data["id"] != POISON_ID and attributes["restricted"] is False
        case = a.admin.create_case(data["id"], "first of a poisoned project")
        assert case["attributes"]["key"] == f"{attributes['key']}-1"
    elif name == "UpdateProject":
        assert data["id"] == a.project["id"]
        assert attributes["key"] == a.project["attributes"]["key"]
        assert attributes["restricted"] is False
        assert attributes["name"] == body["data"]["attributes"]["name"]
        assert attributes["settings"]["notification"]["enabled"] is False
    elif data["type"] == "view":
        assert data["id"] != POISON_ID
        assert attributes["name"] == body["data"]["attributes"]["name"]
        assert attributes["query"] == body["data"]["attributes"]["query"]
        assert data["relationships"]["project"]["data"]["id"] == a.project["id"]
        creator = data["relationships"]["created_by"]["data"]["id"]
        assert creator == a.admin.user_id(BOOTSTRAP_ADMIN_EMAIL)
        assert a.admin.get(f"/api/v2/cases/views/{data['id']}").json()["data"] == data
    elif data["type"] == "notification_rule":
        assert data["id"] != POISON_ID
        assert attributes == _as_kept(body["data"]["attributes"])
        listed = a.admin.get(f"/api/v2/cases/projects/{a.project['id']}/notification_rules")
        assert data in listed.json()["data"]
    elif data["type"] == "rule":
        assert data["id"] != POISON_ID
        sent = body["data"]["attributes"]
        assert attributes["name"] == sent["name"]
        assert attributes["action"] == sent["action"]
        assert attributes["trigger"] == sent["trigger"]
        relationships = data["relationships"]
        assert relationships["created_by"]["data"]["id"] == admin_id
        if name == "UpdateCaseAutomationRule":
            assert data["id"] == a.rule["id"]
            assert relationships["modified_by"]["data"]["id"] == admin_id
        else:
            assert attributes["state"] == "ENABLED" and "modified_at" not in attributes
        rule = a.admin.get(f"/api/v2/cases/projects/{a.project['id']}/rules/{data['id']}")
        assert rule.json()["data"] == data
    elif data["type"] == "maintenance_window":
        assert data["id"] != POISON_ID
        sent = body["data"]["attributes"]
        assert attributes["name"] == sent["name"]
        assert attributes["created_by"] == admin_id
        if name == "UpdateMaintenanceWindow":
            assert data["id"] == a.window["id"] and attributes["updated_by"] == admin_id
            assert attributes["query"] == a.window["attributes"]["query"]
        else:
            assert attributes["query"] == sent["query"] and "updated_by" not in attributes
        assert data in a.admin.get("/api/v2/maintenance_windows").json()["data"]
    elif name in ("CreateUser", "UpdateUser"):
        assert attributes["service_account"] is False
        assert attributes["verified"] is False
        assert attributes["handle"] == attributes["email"]
        assert data["relationships"]["org"]["data"]["id"] == a.org_id
        assert data["relationships"]["roles"]["data"] == []
        if name == "CreateUser":
            assert attributes["status"] == "Pending" and attributes["disabled"] is False
        else:
            assert attributes["status"] == "Active" and attributes["disabled"] is False
            assert attributes["title"] == "Analyst"
            # "is_admin" did not make the member an admin: their key still cannot invite.
            member = a.admin.as_keys(a.admin.keys_for(a.name, a.member["attributes"]["email"]))
            r = member.post(
                "/api/v2/users",
                {"data": {"type": "users", "attributes": {"email": "x@default.example"}}},
            )
            assert r.status_code == 403
    elif data["type"] == "case_type":
        assert data["id"] != POISON_ID and "deleted_at" not in attributes
        assert attributes["name"] == body["data"]["attributes"]["name"]
        assert [s["name"] for s in attributes["statuses"]] == ["Open", "In Progress", "Closed"]
        if name == "UpdateCaseType":
            assert data["id"] == a.case_type["id"]
        assert data in a.admin.get("/api/v2/cases/types").json()["data"]
    elif data["type"] == "custom_attribute":
        assert data["id"] != POISON_ID
        assert attributes["case_type_id"] == a.case_type["id"]
        sent = body["data"]["attributes"]
        if name == "CreateCustomAttributeConfig":
            kept = ("key", "display_name", "type", "is_multi")
            assert {k: attributes[k] for k in kept} == {k: sent[k] for k in kept}
        else:
            assert data["id"] == a.config["id"]
            assert attributes["key"] == a.config["attributes"]["key"]
            assert attributes["display_name"] == sent["display_name"]
        configs = a.admin.get(f"/api/v2/cases/types/{a.case_type['id']}/custom_attributes")
        assert data in configs.json()["data"]
    elif name == "LinkIncident":  # names the incident, not a case, in data.id
        assert data["id"] == a.case["id"]
        incident = body["data"]["id"]
        insight = {"type": "INCIDENT", "ref": f"/incidents/{incident}", "resource_id": incident}
        assert insight in attributes["insights"]
        assert attributes["key"] == case_before["attributes"]["key"]
    elif data["type"] == "link":
        assert data["id"] != POISON_ID
        assert attributes == body["data"]["attributes"]
        links = a.admin.get("/api/v2/cases/link", entity_type="CASE", entity_id=a.case["id"])
        assert data in links.json()["data"]
    else:  # the case commands keep every server-owned field of the case
        assert data["id"] == a.case["id"] == attributes["internal_id"]
        assert attributes["public_id"] == a.case["attributes"]["public_id"]
        assert attributes["created_at"] == a.case["attributes"]["created_at"]
        if "title" not in declared_attributes(op):  # else the client's to change
            assert attributes["title"] == case_before["attributes"]["title"]
        assert attributes["status_group"] == "SG_" + attributes["status"]
        sent = body["data"].get("attributes", {})
        if name == "UpdateCaseCustomAttribute":
            assert attributes["custom_attributes"][a.field] == sent
        if name == "ChangeCaseType":
            assert attributes["type_id"] == sent["type_id"]
        project = data["relationships"]["project"]["data"]["id"]
        if _names_its_target(op):  # a move: to the project named, with a key of that project
            assert (
                project
                == body["data"]["id"]
                != case_before["relationships"]["project"]["data"]["id"]
            )
            assert attributes["key"] != case_before["attributes"]["key"]
            old_key = a.admin.get(f"/api/v2/cases/{case_before['attributes']['key']}")
            assert old_key.json()["data"]["id"] == a.case["id"]
        else:
            assert project == case_before["relationships"]["project"]["data"]["id"]
            assert attributes["key"] == case_before["attributes"]["key"]


def test_webhooks_ignore_what_they_do_not_declare(
    orgs: tuple[OrgWorld, OrgWorld], database_url: str
) -> None:
    a, b = orgs
    hooks = "/api/v1/integration/webhooks/configuration/webhooks"
    poison = {"org_id": b.org_id, "created_at": POISON_TIME, "id": POISON_ID, "secret": "EVIL"}
    body = {"name": "poisoned", "url": "https://hooks.example.com/p", **poison}
    before = dump_database(database_url)
    r = a.admin.post(hooks, body)
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"name", "url", "payload", "custom_headers", "encode_as"}
    for token in (POISON_ID, "2001-01-01", "EVIL", b.org_id):
        assert token not in r.text
        for table, rows in dump_database(database_url).items():
            new = set(rows) - set(before.get(table, []))
            assert not any(token in cell for row in new for cell in row), (table, token)
    assert b.admin.get(f"{hooks}/poisoned").status_code == 404
