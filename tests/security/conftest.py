"""Shared pieces of the security suite: two organisations, the operation table, counts.

Every test here takes the ``database_url``-based fixtures of ``tests/conftest.py``
and so runs on SQLite and on PostgreSQL. Counts (matrix cells, requests) are
printed by the tests that make them (visible with ``pytest -rA``), recorded as
junit properties, and listed again in a "security counts" terminal section when
this folder is named on the command line (``pytest -n 2 tests/security``; in a
whole-suite xdist run this conftest is not loaded by the controller).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import re
import secrets
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
from starlette.testclient import TestClient

from casebook.config import Settings, load_settings
from casebook.core.clock import now_us
from casebook.core.entities import (
    ADMIN_ONLY_SCOPES,
    ALL_SCOPES,
    EVENT_MANAGEMENT_CASE_TYPE_ID,
    STANDARD_CASE_TYPE_ID,
    Scope,
)
from casebook.domain.keys import KeyPair
from casebook.http.app import create_app
from casebook.http.registry import OPERATIONS as REGISTRY
from casebook.http.registry import PATH_PARAMS
from casebook.http.registry import Operation as Declared
from casebook.storage import Store, open_store
from casebook.storage.outbox import Attempt, Delivery
from tests.conftest import TEMPLATE, TEST_ENV
from tests.support.api import Api, case_body
from tests.support.logs import Captured, access_lines
from tests.support.server import ServerProcess
from tests.support.tracker import FakeTracker

FORBIDDEN_BODY = b'{"errors":["Forbidden"]}'
BANNERS = ("Traceback", "starlette", "uvicorn", 'File "', "psycopg", "sqlite3")

_serial = itertools.count(1)
_COUNTS: list[tuple[str, str, int]] = []


def unique(prefix: str = "") -> str:
    """A short string unique in this process (project keys, emails)."""
    return f"{prefix}{next(_serial)}"


# --- counts ---------------------------------------------------------------------------
def report_count(request: pytest.FixtureRequest, name: str, value: int) -> None:
    """Print a count (``-rA`` shows it) and keep it for the junit report and the summary."""
    node = request.node
    print(f"security count: {node.nodeid}: {name} = {value}")
    node.user_properties.append(("security_count:" + name, value))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the counts from the reports (under xdist, the workers' reports too)."""
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if isinstance(name, str) and name.startswith("security_count:"):
            _COUNTS.append((report.nodeid, name.removeprefix("security_count:"), int(value)))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Every count of the run, once more at the end."""
    if _COUNTS:
        terminalreporter.section("security counts")
        for nodeid, name, value in _COUNTS:
            terminalreporter.write_line(f"{nodeid}: {name} = {value}")


@pytest.fixture
def access_log() -> Iterator[Captured]:
    """The request log lines of the test's in-process apps, in JSON as ``serve`` writes them."""
    with access_lines() as captured:
        yield captured


# --- apps with other settings ---------------------------------------------------------
@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., tuple[TestClient, Store, Settings]]]:
    """Another ``create_app`` on the test's database, with settings overridden by ``env``."""
    opened: list[tuple[TestClient, Store]] = []

    def build(**env: str) -> tuple[TestClient, Store, Settings]:
        settings = load_settings({"CASEBOOK_DATABASE_URL": database_url, **TEST_ENV, **env})
        store = open_store(settings.database_url)
        client = TestClient(create_app(settings, store), raise_server_exceptions=False)
        client.__enter__()
        opened.append((client, store))
        return client, store, settings

    yield build
    for client, store in opened:
        client.__exit__(None, None, None)
        store.close()


# --- two organisations ----------------------------------------------------------------
@dataclass
class OrgWorld:
    """One organisation: its admin (unscoped keys), a member, a project with a saved view, a
    notification rule and an automation rule, a case, a case type of its own with a custom
    attribute config, a custom attribute of the case, a maintenance window, a webhook and
    two deliveries of the project (to a Slack URL and a PagerDuty routing key of its own,
    ``delivery_secrets``); connected to Jira and ServiceNow (a ``FakeTracker``), its project
    naming the Jira project and issue type.

    The case type is the organisation's own (the built-in types refuse changes); both
    organisations name theirs alike (``Investigation``, config ``region``), as both have
    a project ``SEC``. ``field`` is the key of a TEXT config that the standing case's
    types have (Standard, and Event Management, where ChangeCaseType's example moves the
    case), so custom attribute calls work on the case in any order; it differs between
    organisations, so that one organisation's key can be aimed at the other's case.
    ``actor``, when set, is who makes the fresh objects a call needs (the caller, so that
    a comment to edit is their own); else the admin does.
    """

    name: str
    admin: Api
    project: dict[str, Any]
    case: dict[str, Any]
    member: dict[str, Any]
    case_type: dict[str, Any]
    config: dict[str, Any]
    field: str
    view: dict[str, Any]
    webhook: str
    notification_rule: dict[str, Any]
    rule: dict[str, Any]
    window: dict[str, Any]
    deliveries: list[str]
    actor: Api | None = None

    @property
    def org_id(self) -> str:
        return self.member["relationships"]["org"]["data"]["id"]

    @property
    def maker(self) -> Api:
        return self.actor or self.admin

    def acting(self, headers: Any) -> OrgWorld:
        """This organisation, its fresh objects made with the keys of ``headers``."""
        keys = KeyPair(headers["DD-API-KEY"], headers["DD-APPLICATION-KEY"])
        return dataclasses.replace(self, actor=self.admin.as_keys(keys))


def _created(r: Any) -> dict[str, Any]:
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


def config_body(key: str, kind: str = "TEXT", *, is_multi: bool = False) -> dict[str, Any]:
    """The body of ``POST /api/v2/cases/types/{case_type_id}/custom_attributes``."""
    attributes = {"key": key, "display_name": key.title(), "type": kind, "is_multi": is_multi}
    return {"data": {"type": "custom_attribute", "attributes": attributes}}


def notification_rule_body(email: str, *, enabled: bool = True) -> dict[str, Any]:
    """The body of ``POST /api/v2/cases/projects/{project_id}/notification_rules``."""
    attributes = {
        "is_enabled": enabled,
        "query": "priority:P1",
        "triggers": [{"type": "CASE_CREATED"}, {"type": "COMMENT_ADDED", "data": {}}],
        "recipients": [{"type": "EMAIL", "data": {"email": email}}],
    }
    return {"data": {"type": "notification_rule", "attributes": attributes}}


def automation_rule_body(assignee_id: str, name: str = "Assign new cases") -> dict[str, Any]:
    """The body of ``POST /api/v2/cases/projects/{project_id}/rules``: assign new cases."""
    attributes = {
        "name": name,
        "trigger": {"type": "CASE_CREATED", "data": {}},
        "action": {"type": "ASSIGN_USER", "data": {"assignee_id": assignee_id}},
    }
    return {"data": {"type": "rule", "attributes": attributes}}


def window_body(name: str = "Database upgrade") -> dict[str, Any]:
    """The body of ``POST /api/v2/maintenance_windows``."""
    attributes = {
        "name": name,
        "query": "project:SEC priority:(P3 OR P4)",
        "start_at": "2030-01-01T22:00:00Z",
        "end_at": "2030-01-02T02:00:00+01:00",
    }
    return {"data": {"type": "maintenance_window", "attributes": attributes}}


def delivery_secrets(name: str) -> tuple[str, str]:
    """The Slack URL and the PagerDuty routing key the deliveries of organisation ``name``
    go to: secrets no answer may show (the listing masks them)."""
    return (
        f"https://hooks.slack.com/services/T{name.upper()}/B0SECRET/slacktokenof{name}x9Q",
        f"R0{name}routingkey0123456789abcd",
    )


def store_deliveries(admin: Api, name: str, org_id: str, case: dict[str, Any]) -> list[str]:
    """Two deliveries of the case's project, as the worker stores them (the in-process apps
    run no worker): one to Slack, delivered at its second attempt; one to PagerDuty, pending
    after a timeout."""
    slack, routing_key = delivery_secrets(name)
    at = now_us()
    made = []
    for channel, target, attempts in (
        ("slack", {"url": slack}, [Attempt(1, at, 503, "answered 503", 40), Attempt(2, at, 200, None, 30)]),
        ("pagerduty", {"routing_key": routing_key}, [Attempt(1, at, None, "no answer within 10 s", 10_000)]),
    ):  # fmt: skip
        delivered = attempts[-1].error is None
        delivery = Delivery(
            id=str(uuid.uuid4()),
            org_id=org_id,
            project_id=case["relationships"]["project"]["data"]["id"],
            case_id=case["id"],
            rule_id=None,
            channel=channel,
            target=target,
            body={"type": "CASE_CREATED", "case": {"id": case["id"]}},
            state="delivered" if delivered else "pending",
            attempts=len(attempts),
            next_attempt_at=None if delivered else at + 60_000_000,
            last_error=attempts[-1].error,
            created_at=at,
            delivered_at=at if delivered else None,
        )
        with admin.store.write() as tx:
            tx.deliveries.insert(delivery)
            for attempt in attempts:
                tx.deliveries.record(delivery, attempt)
        made.append(delivery.id)
    return made


JIRA_SETTINGS = {"integration_jira": {"metadata": {"project_id": "10001", "issue_type_id": "1"}}}


def build_org(admin: Api, name: str, tracker: FakeTracker, project_key: str = "SEC") -> OrgWorld:
    admin.connect_jira(tracker.url)
    admin.connect_service_now(tracker.url)
    project = admin.create_project(project_key, f"{name} security")
    r = admin.patch(
        f"/api/v2/cases/projects/{project['id']}",
        {"data": {"type": "project", "attributes": {"settings": JIRA_SETTINGS}}},
    )
    assert r.status_code == 200, r.text
    case = admin.create_case(project["id"], f"{name} standing case")
    member = admin.create_user(f"member-{unique()}@{name}.example", name="Member")
    # A pending user becomes active once it holds keys.
    admin.keys_for(name, member["attributes"]["email"])
    body = {"data": {"type": "case_type", "attributes": {"name": "Investigation"}}}
    case_type = _created(admin.post("/api/v2/cases/types", body))
    types = "/api/v2/cases/types"
    config = _created(
        admin.post(f"{types}/{case_type['id']}/custom_attributes", config_body("region"))
    )
    field = f"{name}_notes"
    for type_id in (STANDARD_CASE_TYPE_ID, EVENT_MANAGEMENT_CASE_TYPE_ID):
        _created(admin.post(f"{types}/{type_id}/custom_attributes", config_body(field)))
    view_attributes = {"project_id": project["id"], "name": "Open P1s", "query": "priority:P1"}
    view = _created(
        admin.post("/api/v2/cases/views", {"data": {"type": "view", "attributes": view_attributes}})
    )
    # Named apart in each organisation, so that one's name names nothing in the other.
    webhook = f"{name}-hook"
    r = admin.post(_HOOKS, {"name": webhook, "url": "https://hooks.example.com/cases"})
    assert r.status_code == 201, r.text
    rules = f"/api/v2/cases/projects/{project['id']}"
    notification_rule = _created(
        admin.post(f"{rules}/notification_rules", notification_rule_body(f"soc@{name}.example"))
    )
    rule = _created(admin.post(f"{rules}/rules", automation_rule_body(member["id"])))
    window = _created(admin.post("/api/v2/maintenance_windows", window_body()))
    org_id = member["relationships"]["org"]["data"]["id"]
    deliveries = store_deliveries(admin, name, org_id, case)
    return OrgWorld(
        name=name,
        admin=admin,
        project=project,
        case=case,
        member=member,
        case_type=case_type,
        config=config,
        field=field,
        view=view,
        webhook=webhook,
        notification_rule=notification_rule,
        rule=rule,
        window=window,
        deliveries=deliveries,
    )


@pytest.fixture
def orgs(api: Api, tracker: FakeTracker) -> tuple[OrgWorld, OrgWorld]:
    """Org A (``default``, the bootstrap admin) and org B (``orgb``), each with a project SEC."""
    a = build_org(api, "default", tracker)
    b = build_org(api.new_org_admin("orgb"), "orgb", tracker)
    return a, b


# --- the operations -------------------------------------------------------------------
@dataclass(frozen=True)
class Operation:
    """One API operation of the registry: how to call it on an organisation's objects.

    ``prepare(org)`` returns the path and JSON body (None: no body) of one call;
    operations that consume their target (delete, create) make a fresh one each time.
    """

    name: str  # Datadog's operationId
    method: str
    path: str  # the registry's, with {case_id} and the like
    scope: Scope
    ok: int
    prepare: Callable[[OrgWorld], tuple[str, Any]]
    takes_body: bool = False
    request: Any = None  # the registry's request struct
    admin: bool = False  # for admins only (the user's role), besides the scope

    def call(self, client: TestClient, org: OrgWorld, headers: Any, **kw: Any) -> Any:
        """One call as the keys of ``headers``, who also make any fresh object it needs."""
        path, body = self.prepare(org.acting(headers))
        return client.request(self.method, path, headers=headers, json=body, **kw)


def _case_body(org: OrgWorld) -> dict[str, Any]:
    return case_body(org.project["id"], "matrix case")


def _new_project_body(org: OrgWorld) -> tuple[str, Any]:
    body = {"data": {"type": "project", "attributes": {"key": unique("N"), "name": "new"}}}
    return "/api/v2/cases/projects", body


def _new_user_body(org: OrgWorld) -> tuple[str, Any]:
    email = f"invitee-{unique()}@{org.name}.example"
    return "/api/v2/users", {"data": {"type": "users", "attributes": {"email": email}}}


def _patch_user(org: OrgWorld) -> tuple[str, Any]:
    uid = org.member["id"]
    return f"/api/v2/users/{uid}", {
        "data": {"id": uid, "type": "users", "attributes": {"title": "Analyst"}}
    }


def _assign(org: OrgWorld) -> tuple[str, Any]:
    body = {"data": {"type": "case", "attributes": {"assignee_id": org.member["id"]}}}
    return f"/api/v2/cases/{org.case['id']}/assign", body


def _move(org: OrgWorld) -> tuple[str, Any]:
    # A fresh project each time, so every move moves (a move to where the case is writes nothing).
    body = {"data": {"id": made("project_id", org), "type": "project"}}
    return f"/api/v2/cases/{org.case['id']}/relationships/project", body


def _bulk(org: OrgWorld) -> tuple[str, Any]:
    # The standing case and a fresh one, to a fresh project each time, so that every bulk
    # changes both (a move to where a case is writes nothing).
    fresh = made("case_id", org)
    attributes = {
        "case_ids": [org.case["id"], fresh],
        "type": "update_project",
        "payload": {"project_id": made("project_id", org)},
    }
    return "/api/v2/cases/bulk", {"data": {"type": "bulk", "attributes": attributes}}


def _remove_insights(org: OrgWorld) -> tuple[str, Any]:
    # The insights go on first, so that every removal removes something.
    adder = _operation("AddCaseInsights")
    path, body = adder.prepare(org)
    r = org.maker.client.request(adder.method, path, headers=org.maker.headers, json=body)
    assert r.status_code == adder.ok, r.text
    return path, body


def _link(org: OrgWorld) -> tuple[str, Any]:
    # A fresh child case each time: a link is unique per (parent, child, relationship).
    attributes = {
        "parent_entity_type": "CASE",
        "parent_entity_id": org.case["id"],
        "child_entity_type": "CASE",
        "child_entity_id": made("case_id", org),
        "relationship": "BLOCKS",
    }
    return "/api/v2/cases/link", {"data": {"type": "link", "attributes": attributes}}


# A case holds one Jira issue and one ServiceNow ticket: each call that makes or links one
# takes a fresh case. The Jira project and issue type come from the project's settings
# (JIRA_SETTINGS): a body member ``project_id`` would read as naming a casebook project.
def _new_jira_issue(org: OrgWorld) -> tuple[str, Any]:
    body = {"data": {"type": "issues", "attributes": {"jira_account_id": "1"}}}
    return f"/api/v2/cases/{made('case_id', org)}/relationships/jira_issues", body


def _link_jira_issue(org: OrgWorld) -> tuple[str, Any]:
    attributes = {"jira_issue_url": f"https://{org.name}.atlassian.net/browse/SEC-{unique()}"}
    body = {"data": {"type": "issues", "attributes": attributes}}
    return f"/api/v2/cases/{made('case_id', org)}/relationships/jira_issues", body


def _unlink_jira_issue(org: OrgWorld) -> tuple[str, Any]:
    # The issue is linked first, so that every unlink unlinks something.
    path, body = _link_jira_issue(org)
    r = org.maker.client.request("PATCH", path, headers=org.maker.headers, json=body)
    assert r.status_code == 204, r.text
    return path, None


def _new_ticket(org: OrgWorld) -> tuple[str, Any]:
    body = {"data": {"type": "tickets", "attributes": {"instance_name": "acme"}}}
    return f"/api/v2/cases/{made('case_id', org)}/relationships/servicenow_tickets", body


def _link_incident(org: OrgWorld) -> tuple[str, Any]:
    # A fresh incident each time, so that every call adds one.
    body = {"data": {"id": unique("incident-"), "type": "incidents"}}
    return f"/api/v2/cases/{org.case['id']}/relationships/incidents", body


def _links_of(org: OrgWorld) -> tuple[str, Any]:
    return f"/api/v2/cases/link?entity_type=CASE&entity_id={org.case['id']}", None


def _type_body(name: str) -> dict[str, Any]:
    attributes = {"name": name, "emoji": "🔍", "description": "made by a test"}
    return {"data": {"type": "case_type", "attributes": attributes}}


def _new_type(org: OrgWorld) -> tuple[str, Any]:
    # A fresh name each time: names are unique in an organisation.
    return "/api/v2/cases/types", _type_body(unique("Type "))


def _rename_type(org: OrgWorld) -> tuple[str, Any]:
    return f"/api/v2/cases/types/{org.case_type['id']}", _type_body(unique("Renamed "))


def _new_config(org: OrgWorld) -> tuple[str, Any]:
    # A fresh key each time: keys are unique in a type.
    path = f"/api/v2/cases/types/{org.case_type['id']}/custom_attributes"
    return path, config_body(unique("key_"))


def _change_config(org: OrgWorld) -> tuple[str, Any]:
    path = f"/api/v2/cases/types/{org.case_type['id']}/custom_attributes/{org.config['id']}"
    attributes = {"display_name": unique("Region "), "description": "changed by a test"}
    return path, {"data": {"type": "custom_attribute", "attributes": attributes}}


_HOOKS = "/api/v1/integration/webhooks/configuration/webhooks"


def _new_webhook(org: OrgWorld) -> tuple[str, Any]:
    return _HOOKS, {"name": unique("hook-"), "url": "https://hooks.example.com/new"}


def _change_webhook(org: OrgWorld) -> tuple[str, Any]:
    return f"{_HOOKS}/{org.webhook}", {"url": f"https://hooks.example.com/{unique('v')}"}


def _patch_project(org: OrgWorld) -> tuple[str, Any]:
    attributes = {"name": unique("Renamed "), "settings": {"notification": {"enabled": False}}}
    return f"/api/v2/cases/projects/{org.project['id']}", {
        "data": {"type": "project", "attributes": attributes}
    }


def _view_body(org: OrgWorld) -> dict[str, Any]:
    attributes = {"project_id": org.project["id"], "name": unique("View "), "query": "priority:P1"}
    return {"data": {"type": "view", "attributes": attributes}}


def _change_view(org: OrgWorld) -> tuple[str, Any]:
    attributes = {"name": unique("Renamed "), "query": "status:open"}
    path = f"/api/v2/cases/views/{org.view['id']}"
    return path, {"data": {"type": "view", "attributes": attributes}}


def _aggregate(org: OrgWorld) -> tuple[str, Any]:
    group_by = {"groups": ["status", "priority"], "limit": 10}
    attributes = {"query_filter": "project:SEC", "group_by": group_by}
    return "/api/v2/cases/aggregate", {"data": {"type": "aggregate", "attributes": attributes}}


def _durations(org: OrgWorld) -> tuple[str, Any]:
    attributes = {"query_filter": "project:SEC", "group_by": "priority"}
    body = {"data": {"type": "durations", "attributes": attributes}}
    return "/api/v2/cases/aggregate/durations", body


def _rules_of(org: OrgWorld) -> str:
    return f"/api/v2/cases/projects/{org.project['id']}"


def _change_notification_rule(org: OrgWorld) -> tuple[str, Any]:
    # Its recipients change each time, so every call changes the rule.
    path = f"{_rules_of(org)}/notification_rules/{org.notification_rule['id']}"
    body = notification_rule_body(f"{unique('soc-')}@{org.name}.example", enabled=False)
    return path, body


def _change_rule(org: OrgWorld) -> tuple[str, Any]:
    path = f"{_rules_of(org)}/rules/{org.rule['id']}"
    return path, automation_rule_body(org.member["id"], unique("Renamed rule "))


def _change_window(org: OrgWorld) -> tuple[str, Any]:
    path = f"/api/v2/maintenance_windows/{org.window['id']}"
    attributes = {"name": unique("Renamed window "), "end_at": "2030-01-03T00:00:00Z"}
    return path, {"data": {"type": "maintenance_window", "attributes": attributes}}


# How to call the operations whose calls the registry cannot describe: they create
# objects (with unique keys), need another object of the organisation, take their
# cases in the body or the query string, or a body whose type is not "case".
RECIPES: dict[str, Callable[[OrgWorld], tuple[str, Any]]] = {
    "CreateCase": lambda o: ("/api/v2/cases", _case_body(o)),
    "AssignCase": _assign,
    "MoveCaseToProject": _move,
    "BulkUpdateCases": _bulk,
    "RemoveCaseInsights": _remove_insights,
    "ListCaseLinks": _links_of,
    "CreateCaseLink": _link,
    "CreateProject": _new_project_body,
    "CreateUser": _new_user_body,
    "UpdateUser": _patch_user,
    "CreateCaseType": _new_type,
    "UpdateCaseType": _rename_type,
    "CreateCustomAttributeConfig": _new_config,
    "UpdateCustomAttributeConfig": _change_config,
    "UpdateProject": _patch_project,
    "ListCaseViews": lambda o: (f"/api/v2/cases/views?project_id={o.project['id']}", None),
    "CreateCaseView": lambda o: ("/api/v2/cases/views", _view_body(o)),
    "UpdateCaseView": _change_view,
    "CreateWebhooksIntegration": _new_webhook,
    "UpdateWebhooksIntegration": _change_webhook,
    "CountCases": lambda o: ("/api/v2/cases/count?query_filter=project:SEC&group_bys=status", None),
    "AggregateCases": _aggregate,
    "AggregateCaseDurations": _durations,
    "CreateCaseJiraIssue": _new_jira_issue,
    "LinkJiraIssueToCase": _link_jira_issue,
    "UnlinkJiraIssue": _unlink_jira_issue,
    "CreateCaseServiceNowTicket": _new_ticket,
    "CreateCaseNotebook": lambda o: (
        f"/api/v2/cases/{o.case['id']}/relationships/notebook",
        {"data": {"type": "notebook"}},
    ),
    "LinkIncident": _link_incident,
    "CreateProjectNotificationRule": lambda o: (
        f"{_rules_of(o)}/notification_rules",
        notification_rule_body(f"{unique('soc-')}@{o.name}.example"),
    ),
    "UpdateProjectNotificationRule": _change_notification_rule,
    "CreateCaseAutomationRule": lambda o: (
        f"{_rules_of(o)}/rules",
        automation_rule_body(o.member["id"], unique("Rule ")),
    ),
    "UpdateCaseAutomationRule": _change_rule,
    "CreateMaintenanceWindow": lambda o: (
        "/api/v2/maintenance_windows",
        window_body(unique("Window ")),
    ),
    "UpdateMaintenanceWindow": _change_window,
}

_CASE_ACTION = "/api/v2/cases/{case_id}/"


def struct_fields(kind: Any) -> dict[str, Any]:
    """The fields of a msgspec struct (of ``X | None``'s struct), by name."""
    info = kind if isinstance(kind, msgspec.inspect.Type) else msgspec.inspect.type_info(kind)
    if isinstance(info, msgspec.inspect.UnionType):  # ``X | None``
        info = next(t for t in info.types if isinstance(t, msgspec.inspect.StructType))
    assert isinstance(info, msgspec.inspect.StructType), kind
    return {f.name: f.type for f in info.fields}


def _is_case_action_body(request: Any) -> bool:
    """``{"data": {"type": "case", "attributes": ...}}``: the body of every case action."""
    return set(struct_fields(struct_fields(request)["data"])) <= {"type", "attributes"}


def _standing(org: OrgWorld) -> dict[str, str]:
    """The organisation's objects that calls aim at, by path parameter."""
    return {
        "case_id": org.case["id"],
        "project_id": org.project["id"],
        "user_id": org.member["id"],
        "user_uuid": org.member["id"],
        "case_type_id": org.case_type["id"],
        "custom_attribute_id": org.config["id"],
        "custom_attribute_key": org.field,
        "view_id": org.view["id"],
        "webhook_name": org.webhook,
        "notification_rule_id": org.notification_rule["id"],
        "rule_id": org.rule["id"],
        "maintenance_window_id": org.window["id"],
    }


def _operation(name: str) -> Operation:
    return next(op for op in OPERATIONS if op.name == name)


def made(param: str, org: OrgWorld) -> str:
    """A fresh object for ``param``, made by the operation the registry names for it; its id
    is the answer's ``data.id`` (``data[0].id`` when ``data`` is an array), or its
    ``data.attributes.key`` when the registry says the parameter is a key."""
    declared = PATH_PARAMS[param]
    maker = _operation(declared.made_by)
    path, body = maker.prepare(org)
    r = org.maker.client.request(maker.method, path, headers=org.maker.headers, json=body)
    assert r.status_code == maker.ok, (maker.name, r.text)
    if declared.made_field == "name":  # the Webhooks integration's plain JSON
        return str(r.json()["name"])
    data = r.json()["data"]
    item = data[0] if isinstance(data, list) else data
    if declared.made_field == "key":
        return str(item["attributes"]["key"])
    assert declared.made_field == "id", declared
    return str(item["id"])


def _from_registry(declared: Declared) -> Callable[[OrgWorld], tuple[str, Any]]:
    """A call built from the registry: a path parameter names the organisation's standing
    object, or a fresh one (made by the operation the registry names for it) when the call
    removes it or there is none; a case action's body is its ``example``."""
    takes_body = declared.request is not None
    if takes_body and not (
        declared.path.startswith(_CASE_ACTION) and _is_case_action_body(declared.request)
    ):
        raise AssertionError(
            f"{declared.operation_id}: add a recipe to tests/security/conftest.py RECIPES"
        )
    deleted = None  # the parameter naming the object the call removes
    if declared.method == "DELETE" and declared.path_params:
        last = declared.path_params[-1]
        maker = next(op for op in REGISTRY if op.operation_id == PATH_PARAMS[last].made_by)
        if declared.path == f"{maker.path}/{{{last}}}":  # DELETE /things/{id}, made by POST /things
            deleted = last

    def prepare(org: OrgWorld) -> tuple[str, Any]:
        standing = _standing(org)
        values = {
            name: standing[name] if name in standing and name != deleted else made(name, org)
            for name in declared.path_params
        }
        path = declared.path.format(**values)
        if not takes_body:
            return path, None
        data: dict[str, Any] = {"type": "case"}
        if declared.example is not None:
            data["attributes"] = dict(declared.example)
        return path, {"data": data}

    return prepare


# Every operation the API serves, from the registry: none can be left out of a suite.
OPERATIONS: tuple[Operation, ...] = tuple(
    Operation(
        name=declared.operation_id,
        method=declared.method,
        path=declared.path,
        scope=declared.scope,
        ok=declared.success,
        prepare=RECIPES.get(declared.operation_id) or _from_registry(declared),
        takes_body=declared.request is not None,
        request=declared.request,
        admin=declared.admin,
    )
    for declared in REGISTRY
)
assert set(RECIPES) <= {op.name for op in OPERATIONS}, "a recipe for an operation not served"

MEMBER_SCOPES = ALL_SCOPES - ADMIN_ONLY_SCOPES


# --- timing and rate-limit windows ----------------------------------------------------
def fresh_window(period: int, need: float) -> None:
    """Sleep into the next clock-aligned window if fewer than ``need`` seconds are left."""
    left = period - (time.time() % period)
    if left < need:
        time.sleep(left + 0.05)


# --- a live server, and raw HTTP to it ------------------------------------------------
LIVE_MAX_BODY = 65_536


@dataclass
class Live:
    """A ``casebook serve`` process (one worker) and the admin's keys."""

    server: ServerProcess
    api_key: str
    app_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"DD-API-KEY": self.api_key, "DD-APPLICATION-KEY": self.app_key}

    @property
    def key_lines(self) -> bytes:
        return f"DD-API-KEY: {self.api_key}\r\nDD-APPLICATION-KEY: {self.app_key}\r\n".encode()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """One server per module and back end (rate limits off, 64 KiB body cap)."""
    name = ""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'casebook.db'}"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        name = f"live_{secrets.token_hex(4)}"
        url = cluster.create_database(name, template=TEMPLATE)
    api_key, app_key = secrets.token_hex(16), secrets.token_hex(20)
    server = ServerProcess(
        url,
        api_key=api_key,
        app_key=app_key,
        env={
            "CASEBOOK_RATE_LIMIT": "off",
            "CASEBOOK_AUTH_FAILURE_LIMIT": "off",
            "CASEBOOK_MAX_BODY_BYTES": str(LIVE_MAX_BODY),
        },
    )
    server.start(timeout=30)
    try:
        yield Live(server, api_key, app_key)
    finally:
        server.stop()
        if name:
            request.getfixturevalue("pg_cluster").drop_database(name)
    # Whatever the tests sent, the keys never reached the server's output.
    for key in (api_key, app_key):
        assert key[:12].encode() not in server.output and key[-12:].encode() not in server.output


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def read_response(sock: socket.socket, start: float) -> RawResponse:
    """One HTTP/1.1 response from ``sock`` (Content-Length bodies, or until close)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    assert match, f"not an HTTP response: {data[:200]!r}"
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = headers.get("content-length")
    while length is not None and len(body) < int(length):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return RawResponse(int(match[1]), headers, body, time.perf_counter() - start)


def raw_request(port: int, data: bytes, *, timeout: float = 5.0) -> RawResponse:
    """Send bytes as they are (no client-side checks) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        start = time.perf_counter()
        # The server may answer and close before taking everything.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        return read_response(sock, start)
