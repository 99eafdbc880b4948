"""Deliveries that never leave the machine: the emulator's stand-in for the worker.

After each request that may have changed an organisation, ``deliver`` does what the
delivery worker (``worker/runner.py``) would: it handles the organisation's pending
events through the domain (``events.handle_events``: rules, automation, deliveries),
then makes each due delivery's request exactly as ``worker/send.py`` would — URL,
headers, signature, body — and, instead of sending it, records it in the
organisation's outbox and records a delivered attempt (status 200, or 250 for email),
so the delivery log reads as if it had gone out. Running before the answer is sent
makes the outbox exact the moment a client has its answer: no polling.
"""

from __future__ import annotations

import json
from typing import Any

from casebook.core.clock import new_id, now_us, rfc3339
from casebook.core.entities import JiraIssueRef, ServiceNowTicketRef
from casebook.domain import automation, events, integrations, reports
from casebook.domain.integrations import (
    JiraCredentials,
    JiraIssueDraft,
    ServiceNowCredentials,
    ServiceNowTicketDraft,
)
from casebook.domain.users import DEFAULT_ORG
from casebook.domain.webhooks import signing_secret
from casebook.egress import jira, servicenow
from casebook.emulator.tenants import SECRET, Tenant
from casebook.storage.outbox import Delivery
from casebook.worker import send

_BATCH = 100
FOLD_AT = 1_000
JIRA_URL = "https://jira.emulator.invalid"


def _decoded(body: bytes, content_type: str) -> Any:
    if content_type == "application/json":
        try:
            return json.loads(body)
        except ValueError:
            pass
    return body.decode("utf-8", "replace")


def _message(tenant: Tenant, delivery: Delivery) -> tuple[dict[str, Any], int | None, str | None]:
    """What the delivery would send, and the status and error of its attempt."""
    entry: dict[str, Any] = {
        "id": delivery.id,
        "channel": delivery.channel,
        "rule_id": delivery.rule_id,
        "case_id": delivery.case_id,
        "project_id": delivery.project_id,
        "event": delivery.body,
        "at": rfc3339(now_us()),
    }
    target = delivery.target
    if delivery.channel in ("http", "workflow"):
        name = str(target.get("webhook", ""))
        entry["webhook"] = name or None
        resolved = events.webhook_target(tenant.store, delivery.org_id, name)
        if resolved is None:
            return entry, None, f"no webhook named {name!r}"
        target = resolved
    if delivery.channel == "email":
        entry["to"] = target.get("to") or target.get("address") or target
        entry["subject"] = send.email_subject(delivery.body)
        entry["text"] = send.email_text(delivery.body, delivery.id)
        return entry, send.SMTP_ACCEPTED, None
    try:
        url, headers, body = send.request_of(
            delivery.channel,
            target,
            delivery.body,
            secret=signing_secret(SECRET.encode(), delivery.org_id),
            delivery_id=delivery.id,
        )
    except (KeyError, ValueError) as exc:
        return entry, None, f"cannot build the request: {exc}"
    entry["request"] = {
        "method": "POST",
        "url": url,
        "headers": headers,
        "body": _decoded(body, headers.get("Content-Type", "")),
    }
    return entry, 200, None


def deliver(tenant: Tenant) -> int:
    """Handle every pending event of the organisation and record every due delivery in
    its outbox; how many were recorded. Call it inside ``tenant.context()``."""
    store = tenant.store
    while events.handle_events(store, limit=_BATCH) == _BATCH:
        pass
    recorded = 0
    while True:
        due = events.due_deliveries(store, now_us(), _BATCH)
        for delivery in due:
            entry, status, error = _message(tenant, delivery)
            events.record_attempt(
                store,
                delivery,
                at=now_us(),
                status=status,
                error=error,
                retry_after_us=None,
                duration_ms=0,
            )
            if error is None:
                tenant.outbox.append(entry)
                recorded += 1
        if len(due) < _BATCH:
            break
    # The worker's other chore: the case tallies' waiting changes, folded once there are
    # many, so counts stay cheap however long an organisation lives.
    reports.fold_tallies(store, at_least=FOLD_AT)
    return recorded


def close_inactive(tenant: Tenant) -> None:
    """Close the cases the organisation's projects call inactive by now (after the clock
    moved), and deliver what that causes. Call it inside ``tenant.context()``."""
    automation.close_inactive_cases(tenant.store, proceed=lambda: True)
    deliver(tenant)


class RecordingJira:
    """The organisation's Jira: an issue is made at once, its request kept in the outbox."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant

    def create_issue(self, credentials: JiraCredentials, draft: JiraIssueDraft) -> JiraIssueRef:
        made = sum(1 for entry in self.tenant.outbox if entry["channel"] == "jira") + 1
        project = draft.project if not draft.project.isdigit() else "EMU"
        key = f"{project.upper()}-{made}"
        url = f"{credentials.url}/rest/api/2/issue"
        self.tenant.outbox.append(
            _external("jira", url, {"fields": jira.issue_fields(draft)}, {"key": key})
        )
        return JiraIssueRef(
            issue_id=str(10_000 + made),
            issue_key=key,
            issue_url=f"{credentials.url}/browse/{key}",
            project_key=project.upper(),
        )


class RecordingServiceNow:
    """The organisation's ServiceNow: an incident is made at once, kept in the outbox."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant

    def create_incident(
        self, credentials: ServiceNowCredentials, draft: ServiceNowTicketDraft
    ) -> ServiceNowTicketRef:
        made = sum(1 for entry in self.tenant.outbox if entry["channel"] == "servicenow") + 1
        sys_id = new_id().replace("-", "")
        number = f"INC{made:07d}"
        url = f"{credentials.url}/api/now/table/incident"
        record = servicenow.incident_record(draft)
        self.tenant.outbox.append(
            _external("servicenow", url, record, {"sys_id": sys_id, "number": number})
        )
        return ServiceNowTicketRef(
            sys_target_link=f"{credentials.url}/nav_to.do?uri=incident.do?sys_id={sys_id}",
            sys_id=sys_id,
            number=number,
        )


def _external(channel: str, url: str, body: Any, answer: dict[str, str]) -> dict[str, Any]:
    return {
        "id": new_id(),
        "channel": channel,
        "at": rfc3339(now_us()),
        "request": {"method": "POST", "url": url, "body": body},
        "answer": answer,
    }


def connect(tenant: Tenant, *, stored: bool) -> None:
    """Connect a new organisation to a Jira and a ServiceNow that only the outbox sees, so
    the API's Jira and ServiceNow operations work from the start (``stored``: the
    connections are to be stored too, not read back from a persisted database)."""
    ctx = tenant.app.state.ctx
    ctx.jira = RecordingJira(tenant)
    ctx.service_now = RecordingServiceNow(tenant)
    if not stored:
        return
    secret = SECRET.encode()
    integrations.set_jira_connection(
        tenant.store,
        DEFAULT_ORG,
        server_secret=secret,
        check_url=lambda url: None,
        url=JIRA_URL,
        email="emulator@casebook.local",
        token="emulator",  # noqa: S106 -- not a secret: nothing is ever sent there
    )
    integrations.set_service_now_connection(
        tenant.store,
        DEFAULT_ORG,
        server_secret=secret,
        check_url=lambda url: None,
        instance="emulator",
        user="emulator",
        password="emulator",  # noqa: S106 -- not a secret: nothing is ever sent there
    )
