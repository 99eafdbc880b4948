"""Integration credentials never leave the server: no answer of any operation, failed or
not, carries a Jira API token or a ServiceNow password (nor the basic credentials made of
them), even when Jira or ServiceNow echoes them back; the database holds them sealed only.
Nor does any answer carry the Slack URL or the PagerDuty routing key a delivery went to
(the deliveries listing masks them; the worker keeps them whole to send).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.security.conftest import OPERATIONS, OrgWorld, delivery_secrets, report_count
from tests.support.dump import dump_database
from tests.support.logs import Captured
from tests.support.tracker import JIRA_AUTH, SERVICENOW_AUTH, Answer, FakeTracker


def _forms(auth: tuple[str, str]) -> list[str]:
    """What would give a credential away: itself, and the Authorization header made of it."""
    user, password = auth
    return [password, base64.b64encode(f"{user}:{password}".encode()).decode()]


SECRETS = _forms(JIRA_AUTH) + _forms(SERVICENOW_AUTH)


def _destinations(name: str) -> list[str]:
    """What would give a delivery's destination away: the secret part of its Slack URL (the
    host is shown), its routing key but for the last four characters."""
    slack, routing_key = delivery_secrets(name)
    return [slack.split("/services/")[1][:-4], routing_key[:-4]]


SHOWN_NEVER = SECRETS + _destinations("default") + _destinations("orgb")


def _clean(r: Any, label: str) -> None:
    shown = r.text + "".join(f"{k}: {v}\n" for k, v in r.headers.items())
    for secret in SHOWN_NEVER:
        assert secret not in shown, (label, r.status_code, r.text[:300])


def test_no_answer_carries_a_credential(
    orgs: tuple[OrgWorld, OrgWorld],
    tracker: FakeTracker,
    database_url: str,
    request: pytest.FixtureRequest,
    access_log: Captured,
) -> None:
    a, _ = orgs
    client, headers = a.admin.client, a.admin.headers
    checked = 0
    for op in OPERATIONS:  # every operation, as it succeeds
        r = op.call(client, a, headers)
        assert r.status_code == op.ok, (op.name, r.text)
        _clean(r, op.name)
        checked += 1
        if op.name == "ListProjectDeliveries":  # the destinations are listed, masked
            slack, routing_key = delivery_secrets(a.name)
            targets = {d["id"]: d["attributes"]["target"] for d in r.json()["data"]}
            assert targets == {
                a.deliveries[0]: {"url": f"https://hooks.slack.com/…{slack[-4:]}"},
                a.deliveries[1]: {"routing_key": f"…{routing_key[-4:]}"},
            }, targets
    # Jira and ServiceNow failing, and echoing what they were sent.
    makers = [
        op for op in OPERATIONS if op.name in ("CreateCaseJiraIssue", "CreateCaseServiceNowTicket")
    ]
    assert len(makers) == 2
    for op in makers:
        for answer in (
            Answer(400, {"errorMessages": ["ECHO"], "errors": {"auth": "ECHO"}}),
            Answer(500, {"error": {"message": "ECHO", "detail": "ECHO"}}),
            Answer(401, {"errorMessages": ["ECHO"]}),
            Answer(201, "ECHO"),
            Answer(delay=3.0),
        ):
            path, body = op.prepare(a)
            sent = len(tracker.received)
            # The stand-in answers with what it was sent: the Authorization header included.
            tracker.script.append(answer)
            tracker.echo = True
            r = client.request(op.method, path, headers=headers, json=body)
            tracker.echo = False
            assert r.status_code in (502, 504), (op.name, r.text)
            assert len(tracker.received) == sent + 1
            _clean(r, f"{op.name} {answer}")
            checked += 1
    # Stored sealed: no row holds a credential as it is.
    for table, rows in dump_database(database_url).items():
        for row in rows:
            for secret in SECRETS:
                assert not any(secret in cell for cell in row), (table, row)
    # Nor does the request log (one JSON line per call), nor does it carry the caller's keys.
    assert len(access_log.entries()) >= checked
    access_log.assert_none_carries([*SHOWN_NEVER, a.admin.keys.api_key, a.admin.keys.app_key])
    report_count(request, "secret_checks", checked)
