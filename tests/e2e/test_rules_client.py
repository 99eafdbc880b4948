"""Notification rules, automation rules and maintenance windows with the official Python client.

Against a live ``casebook serve`` per back end, with the client's model validation on: the
fifteen operations succeeding (each answer read whole by the client's models), then the
refusals casebook makes. What the client's models do not declare they keep as additional
properties: a Slack recipient's ``url`` (casebook's member), sent here the same way. The
client's ``AutomationRuleActionType`` enum lacks casebook's own actions (``SET_PRIORITY``
...): it sends them, and reads them back flagged as values it does not know.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from datadog_api_client import ApiClient
from datadog_api_client.v2.api.case_management_api import CaseManagementApi
from datadog_api_client.v2.models import (
    AutomationRuleAction,
    AutomationRuleActionData,
    AutomationRuleActionType,
    AutomationRuleCreate,
    AutomationRuleCreateAttributes,
    AutomationRuleCreateRequest,
    AutomationRuleTrigger,
    AutomationRuleTriggerData,
    AutomationRuleTriggerType,
    AutomationRuleUpdate,
    AutomationRuleUpdateRequest,
    CaseAutomationRuleResourceType,
    CaseAutomationRuleState,
    CaseNotificationRuleAttributes,
    CaseNotificationRuleCreate,
    CaseNotificationRuleCreateAttributes,
    CaseNotificationRuleCreateRequest,
    CaseNotificationRuleRecipient,
    CaseNotificationRuleRecipientData,
    CaseNotificationRuleResourceType,
    CaseNotificationRuleTrigger,
    CaseNotificationRuleTriggerData,
    CaseNotificationRuleUpdate,
    CaseNotificationRuleUpdateRequest,
    MaintenanceWindowCreate,
    MaintenanceWindowCreateAttributes,
    MaintenanceWindowCreateRequest,
    MaintenanceWindowResourceType,
    MaintenanceWindowUpdate,
    MaintenanceWindowUpdateAttributes,
    MaintenanceWindowUpdateRequest,
)

from tests.e2e.conftest import make_client
from tests.e2e.test_types_client import parsed, refused
from tests.support.official import new_project_and_case
from tests.support.server import Keys, ServerProcess

pytestmark = pytest.mark.slow

SLACK = "https://hooks.slack.com/services/T0000/B0000/abcdefghijklmnopXa9Q"
UNKNOWN = "7c0f4f0e-0000-4000-8000-000000000000"


def _project_of(cases: CaseManagementApi, case_id: str) -> str:
    return str(cases.get_case(case_id).data.relationships.project.data.id)


def notification_rule(**attributes: Any) -> CaseNotificationRuleCreateRequest:
    return CaseNotificationRuleCreateRequest(
        data=CaseNotificationRuleCreate(
            type=CaseNotificationRuleResourceType.NOTIFICATION_RULE,
            attributes=CaseNotificationRuleCreateAttributes(**attributes),
        )
    )


def trigger(kind: str, **data: str) -> CaseNotificationRuleTrigger:
    return CaseNotificationRuleTrigger(type=kind, data=CaseNotificationRuleTriggerData(**data))


def recipient(kind: str, **data: str) -> CaseNotificationRuleRecipient:
    return CaseNotificationRuleRecipient(type=kind, data=CaseNotificationRuleRecipientData(**data))


def automation_rule(
    name: str, action: str, state: str | None = None, **data: str
) -> AutomationRuleCreateAttributes:
    extra = {} if state is None else {"state": CaseAutomationRuleState(state)}
    return AutomationRuleCreateAttributes(
        name=name,
        trigger=AutomationRuleTrigger(
            type=AutomationRuleTriggerType.STATUS_TRANSITIONED,
            data=AutomationRuleTriggerData(from_status_name="Open", to_status_name="Closed"),
        ),
        action=AutomationRuleAction(
            type=AutomationRuleActionType(action), data=AutomationRuleActionData(**data)
        ),
        **extra,
    )


def window(**attributes: Any) -> MaintenanceWindowCreateRequest:
    return MaintenanceWindowCreateRequest(
        data=MaintenanceWindowCreate(
            type=MaintenanceWindowResourceType.MAINTENANCE_WINDOW,
            attributes=MaintenanceWindowCreateAttributes(**attributes),
        )
    )


def test_rules_and_windows(live_server: tuple[ServerProcess, Keys]) -> None:
    server, keys = live_server
    client: ApiClient
    with make_client(server, keys) as client:
        cases = CaseManagementApi(client)
        project = _project_of(cases, new_project_and_case(cases, "SEC", "Phishing wave"))

        # Notification rules: create, list, update (204, no body), delete.
        assert parsed(cases.get_project_notification_rules(project)).data == []
        created = parsed(
            cases.create_project_notification_rule(
                project,
                body=notification_rule(
                    is_enabled=True,
                    query="priority:P1",
                    triggers=[
                        trigger("CASE_CREATED"),
                        trigger("STATUS_TRANSITIONED", from_status="OPEN", to_status="CLOSED"),
                        trigger("ATTRIBUTE_VALUE_CHANGED", field="team", change_type="added"),
                    ],
                    recipients=[
                        recipient("EMAIL", email="soc@example.com"),
                        recipient("HTTP", name="siem-ingest"),
                        recipient("SLACK_CHANNEL", channel="#soc", url=SLACK),
                    ],
                ),
            )
        )
        rule = created.data
        assert rule.type == CaseNotificationRuleResourceType.NOTIFICATION_RULE
        assert rule.attributes.is_enabled is True and rule.attributes.query == "priority:P1"
        assert [t.type for t in rule.attributes.triggers] == [
            "CASE_CREATED",
            "STATUS_TRANSITIONED",
            "ATTRIBUTE_VALUE_CHANGED",
        ]
        assert rule.attributes.triggers[1].data.to_status == "CLOSED"
        slack = rule.attributes.recipients[2].data
        assert slack.channel == "#soc" and slack["url"] == "https://hooks.slack.com/…Xa9Q"
        listed = parsed(cases.get_project_notification_rules(project))
        assert [r.id for r in listed.data] == [rule.id]

        update = CaseNotificationRuleUpdateRequest(
            data=CaseNotificationRuleUpdate(
                type=CaseNotificationRuleResourceType.NOTIFICATION_RULE,
                attributes=CaseNotificationRuleAttributes(
                    is_enabled=False, triggers=[trigger("COMMENT_ADDED")]
                ),
            )
        )
        assert cases.update_project_notification_rule(project, rule.id, body=update) is None
        (after,) = parsed(cases.get_project_notification_rules(project)).data
        assert after.attributes.is_enabled is False
        assert [t.type for t in after.attributes.triggers] == ["COMMENT_ADDED"]
        assert after.attributes.recipients == rule.attributes.recipients
        assert cases.delete_project_notification_rule(project, rule.id) is None
        assert parsed(cases.get_project_notification_rules(project)).data == []

        # Automation rules: create, list, get, update, disable and enable, delete.
        made = parsed(
            cases.create_case_automation_rule(
                project,
                body=AutomationRuleCreateRequest(
                    data=AutomationRuleCreate(
                        type=CaseAutomationRuleResourceType.RULE,
                        attributes=automation_rule(
                            "Run the runbook", "EXECUTE_WORKFLOW", handle="soc-runbook"
                        ),
                    )
                ),
            )
        ).data
        assert made.type == CaseAutomationRuleResourceType.RULE
        assert made.attributes.state == CaseAutomationRuleState.ENABLED
        assert made.attributes.action.data.handle == "soc-runbook"
        assert made.attributes.trigger.data.to_status_name == "Closed"
        assert isinstance(made.attributes.created_at, datetime.datetime)
        assert made.relationships.created_by.data.id
        assert [r.id for r in parsed(cases.list_case_automation_rules(project)).data] == [made.id]
        assert parsed(cases.get_case_automation_rule(project, made.id)).data == made

        body = AutomationRuleUpdateRequest(
            data=AutomationRuleUpdate(
                type=CaseAutomationRuleResourceType.RULE,
                attributes=automation_rule(
                    "Run the other runbook", "EXECUTE_WORKFLOW", handle="soc-runbook-2"
                ),
            )
        )
        changed = parsed(cases.update_case_automation_rule(project, made.id, body=body)).data
        assert changed.attributes.name == "Run the other runbook"
        assert changed.attributes.action.data.handle == "soc-runbook-2"
        assert isinstance(changed.attributes.modified_at, datetime.datetime)
        disabled = parsed(cases.disable_case_automation_rule(project, made.id)).data
        assert disabled.attributes.state == CaseAutomationRuleState.DISABLED
        again = parsed(cases.disable_case_automation_rule(project, made.id)).data
        assert again == disabled
        enabled = parsed(cases.enable_case_automation_rule(project, made.id)).data
        assert enabled.attributes.state == CaseAutomationRuleState.ENABLED

        # casebook's own action: sent through the client, read back with an unknown type.
        own = cases.create_case_automation_rule(
            project,
            body=AutomationRuleCreateRequest(
                data=AutomationRuleCreate(
                    type=CaseAutomationRuleResourceType.RULE,
                    attributes=automation_rule(
                        "Raise priority", "SET_PRIORITY", state="DISABLED", priority="P1"
                    ),
                )
            ),
        ).data
        action = own.attributes.action
        assert action.type.value == "SET_PRIORITY" and action.type._unparsed
        assert action.data["priority"] == "P1"
        assert own.attributes.state == CaseAutomationRuleState.DISABLED
        for part in (own.type, own.relationships, own.attributes.trigger, action.data):
            assert not part._unparsed, own

        assert cases.delete_case_automation_rule(project, made.id) is None
        assert cases.delete_case_automation_rule(project, own.id) is None
        assert parsed(cases.list_case_automation_rules(project)).data == []

        # Maintenance windows: create, list, update, delete.
        start = datetime.datetime(2030, 1, 1, 22, tzinfo=datetime.UTC)
        made_window = parsed(
            cases.create_maintenance_window(
                body=window(
                    name="Database upgrade",
                    query="project:SEC priority:P3",
                    start_at=start,
                    end_at=start + datetime.timedelta(hours=4),
                )
            )
        ).data
        attributes = made_window.attributes
        assert (attributes.name, attributes.start_at) == ("Database upgrade", start)
        assert attributes.end_at == start + datetime.timedelta(hours=4)
        assert attributes.created_by
        listed_windows = parsed(cases.list_maintenance_windows()).data
        assert [w.id for w in listed_windows] == [made_window.id]
        update_window = MaintenanceWindowUpdateRequest(
            data=MaintenanceWindowUpdate(
                type=MaintenanceWindowResourceType.MAINTENANCE_WINDOW,
                attributes=MaintenanceWindowUpdateAttributes(
                    end_at=start + datetime.timedelta(hours=6)
                ),
            )
        )
        moved = parsed(cases.update_maintenance_window(made_window.id, body=update_window)).data
        assert moved.attributes.end_at == start + datetime.timedelta(hours=6)
        assert moved.attributes.updated_by == attributes.created_by
        assert cases.delete_maintenance_window(made_window.id) is None
        assert parsed(cases.list_maintenance_windows()).data == []


def test_refusals(live_server: tuple[ServerProcess, Keys]) -> None:
    server, keys = live_server
    client: ApiClient
    with make_client(server, keys) as client:
        cases = CaseManagementApi(client)
        project = _project_of(cases, new_project_and_case(cases, "SEC", "Phishing wave"))

        # Datadog's example body: an EMAIL recipient without an email is refused.
        error = refused(
            400,
            cases.create_project_notification_rule,
            project,
            body=notification_rule(
                is_enabled=True,
                recipients=[recipient("EMAIL")],
                triggers=[trigger("CASE_CREATED")],
            ),
        )
        assert "need data.email" in error["detail"]
        error = refused(
            400,
            cases.create_project_notification_rule,
            project,
            body=notification_rule(
                recipients=[recipient("EMAIL", email="soc@example.com")],
                triggers=[trigger("CASE_CREATED")],
                query="stauts:open",
            ),
        )
        assert '"stauts"' in error["detail"]
        error = refused(
            404,
            cases.get_project_notification_rules,
            UNKNOWN,
        )
        assert error["title"] == "project not found"
        body = CaseNotificationRuleUpdateRequest(
            data=CaseNotificationRuleUpdate(
                type=CaseNotificationRuleResourceType.NOTIFICATION_RULE,
                attributes=CaseNotificationRuleAttributes(is_enabled=False),
            )
        )
        error = refused(404, cases.update_project_notification_rule, project, UNKNOWN, body=body)
        assert error["title"] == "notification rule not found"
        refused(404, cases.delete_project_notification_rule, project, UNKNOWN)

        agent = AutomationRuleCreateRequest(
            data=AutomationRuleCreate(
                type=CaseAutomationRuleResourceType.RULE,
                attributes=automation_rule(
                    "Ask the agent", "ASSIGN_AGENT", agent_type="bits", assigned_agent_id="a1"
                ),
            )
        )
        error = refused(400, cases.create_case_automation_rule, project, body=agent)
        assert "no AI agents" in error["detail"]
        for call in (
            cases.get_case_automation_rule,
            cases.enable_case_automation_rule,
            cases.disable_case_automation_rule,
            cases.delete_case_automation_rule,
        ):
            assert refused(404, call, project, UNKNOWN)["title"] == "rule not found"

        start = datetime.datetime(2030, 1, 1, 22, tzinfo=datetime.UTC)
        backwards = window(name="Backwards", query="", start_at=start, end_at=start)
        error = refused(400, cases.create_maintenance_window, body=backwards)
        assert "start_at must be before end_at" in error["detail"]
        refused(404, cases.delete_maintenance_window, UNKNOWN)
