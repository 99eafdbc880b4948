"""Email deliveries, end to end: a notification rule with an ``EMAIL`` recipient, a running
server pointed at a local SMTP server (tests/support/smtp.py), and what that server gets."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx

from casebook.storage import Store
from casebook.storage.outbox import Attempt, Delivery
from tests.support.api import case_body
from tests.support.postgres import free_port
from tests.support.server import ServerProcess
from tests.support.smtp import Mailbox, running_smtp, self_signed
from tests.worker.test_deliveries import _org_of, _wait, world

# Loopback SMTP is reached although private addresses are refused to webhooks: the SMTP
# host is the operator's own setting, so it does not pass the SSRF guard.
FAST = {"CASEBOOK_DELIVERY_FIRST_RETRY_SECONDS": "0.2", "CASEBOOK_ALLOW_PRIVATE_WEBHOOKS": "0"}
SOC = "soc@example.com"


def email_rule(to: str = SOC, query: str = "priority:P1") -> dict[str, Any]:
    attributes = {
        "is_enabled": True,
        "query": query,
        "triggers": [{"type": "CASE_CREATED"}, {"type": "STATUS_TRANSITIONED", "data": {}}],
        "recipients": [{"type": "EMAIL", "data": {"email": to}}],
    }
    return {"data": {"type": "notification_rule", "attributes": attributes}}


@contextmanager
def emailing(
    database_url: str, env: dict[str, str]
) -> Iterator[tuple[ServerProcess, Store, httpx.Client, str]]:
    """A running server with ``env``, project SEC and an email rule on its P1 cases."""
    with world(database_url, {**FAST, **env}) as (server, _, store, http, case):
        project_id = case["relationships"]["project"]["data"]["id"]
        rules = f"/api/v2/cases/projects/{project_id}/notification_rules"
        r = http.post(rules, json=email_rule())
        assert r.status_code == 201, r.text
        yield server, store, http, project_id


def new_case(http: httpx.Client, project_id: str, title: str, priority: str = "P1") -> str:
    r = http.post("/api/v2/cases", json=case_body(project_id, title, priority=priority))
    assert r.status_code == 201, r.text
    return str(r.json()["data"]["id"])


def deliveries(store: Store, case_id: str) -> list[Delivery]:
    org_id = _org_of(store, case_id)
    with store.read() as tx:
        row = tx.sql.one("SELECT project_id FROM cases WHERE id = ?", (case_id,))  # type: ignore[attr-defined]
        found = tx.deliveries.recent(org_id, str(row[0]), 100)
    return sorted((d for d in found if d.case_id == case_id), key=lambda d: d.created_at)


def the_delivery(store: Store, case_id: str, state: str, timeout: float = 10) -> Delivery:
    """The case's one email delivery, once it is in ``state``."""

    def reached() -> bool:
        found = deliveries(store, case_id)
        return len(found) == 1 and found[0].state == state

    _wait(reached, timeout=timeout)
    return deliveries(store, case_id)[0]


def attempts(store: Store, delivery_id: str) -> list[Attempt]:
    with store.read() as tx:
        return tx.deliveries.attempts(delivery_id)


def test_a_rule_emails_once_per_matching_event(database_url: str) -> None:
    with running_smtp() as mailbox, emailing(database_url, mailbox.env()) as (_, store, http, pid):
        case_id = new_case(http, pid, "Phishing wave")
        new_case(http, pid, "Laptop stolen", priority="P3")  # the query does not match
        status = {"data": {"type": "case", "attributes": {"status": "IN_PROGRESS"}}}
        assert http.post(f"/api/v2/cases/{case_id}/status", json=status).status_code == 200
        _wait(lambda: len(mailbox.accepted) >= 2, timeout=10)
        # (A message says what the case is like when its event is handled: rename it later.)
        title = {"data": {"type": "case", "attributes": {"title": "Phishing wave, day 2"}}}
        assert http.post(f"/api/v2/cases/{case_id}/title", json=title).status_code == 200
        time.sleep(1.0)  # anything more would have come by now (a rename does not fire)
        assert len(mailbox.accepted) == 2
        sent = deliveries(store, case_id)
        assert [(d.channel, d.state, d.attempts) for d in sent] == [("email", "delivered", 1)] * 2
        by_id = {m.message["X-Casebook-Delivery"]: m for m in mailbox.accepted}
        assert set(by_id) == {d.id for d in sent}
        subjects = set()
        for delivery in sent:
            mail = by_id[delivery.id]
            assert mail.mail_from == "casebook@example.com"
            assert mail.rcpt_tos == [SOC]
            assert mail.message["To"] == SOC
            assert mail.message["From"] == "Casebook <casebook@example.com>"
            assert mail.message["Message-ID"] == f"<{delivery.id}@example.com>"
            assert mail.message["Auto-Submitted"] == "auto-generated"
            body = mail.message.get_content()
            assert "SEC-2 Phishing wave" in body and delivery.id in body
            subjects.add(mail.message["Subject"])
            assert [(a.attempt, a.status, a.error) for a in attempts(store, delivery.id)] == [
                (1, 250, None)
            ]
        assert subjects == {
            "[SEC-2] Phishing wave: created",
            "[SEC-2] Phishing wave: status OPEN → IN_PROGRESS",
        }


def test_a_4xx_is_tried_again_with_the_same_message_id(database_url: str) -> None:
    with running_smtp() as mailbox, emailing(database_url, mailbox.env()) as (_, store, http, pid):
        mailbox.replies = ["451 4.3.0 Try again later", "451 4.3.0 Try again later"]
        case_id = new_case(http, pid, "Greylisted")
        delivery = the_delivery(store, case_id, "delivered")
        assert delivery.attempts == 3 and delivery.last_error is None
        assert [a.status for a in attempts(store, delivery.id)] == [451, 451, 250]
        assert "451 4.3.0 Try again later" in str(attempts(store, delivery.id)[0].error)
        assert len(mailbox.accepted) == 1 and len(mailbox.tried) == 3
        assert {m.message["Message-ID"] for m in mailbox.tried} == {f"<{delivery.id}@example.com>"}


def test_a_5xx_fails_at_once_and_is_recorded(database_url: str) -> None:
    with running_smtp() as mailbox, emailing(database_url, mailbox.env()) as (_, store, http, pid):
        mailbox.replies = ["550 5.1.1 Mailbox unavailable"]
        case_id = new_case(http, pid, "Nobody home")
        the_delivery(store, case_id, "failed")
        time.sleep(0.5)  # a retry would be due by now
        (delivery,) = deliveries(store, case_id)
        assert delivery.state == "failed" and delivery.attempts == 1
        assert (
            delivery.last_error
            == "the SMTP server refused the message: 550 5.1.1 Mailbox unavailable"
        )
        assert [a.status for a in attempts(store, delivery.id)] == [550]
        assert mailbox.accepted == [] and len(mailbox.tried) == 1


def test_starttls_and_a_login(database_url: str, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with running_smtp(starttls_cert=(cert, key), login=("ann", "s3cret-smtp")) as mailbox:
        env = {
            **mailbox.env(),
            "CASEBOOK_SMTP_STARTTLS": "1",
            "CASEBOOK_SMTP_USERNAME": "ann",
            "CASEBOOK_SMTP_PASSWORD": "s3cret-smtp",
            "SSL_CERT_FILE": str(cert),  # the server's process trusts the test's certificate
        }
        with emailing(database_url, env) as (_, store, http, pid):
            case_id = new_case(http, pid, "Over TLS")
            the_delivery(store, case_id, "delivered")
        assert mailbox.logins == ["ann"]
        assert [m.message["Subject"] for m in mailbox.accepted] == ["[SEC-2] Over TLS: created"]


def test_starttls_to_an_untrusted_certificate_fails_at_once(
    database_url: str, tmp_path: Path
) -> None:
    with running_smtp(starttls_cert=self_signed(tmp_path)) as mailbox:
        env = {**mailbox.env(), "CASEBOOK_SMTP_STARTTLS": "1"}
        with emailing(database_url, env) as (_, store, http, pid):
            delivery = the_delivery(store, new_case(http, pid, "Who are you?"), "failed")
        assert delivery.attempts == 1
        assert "TLS certificate is not trusted" in str(delivery.last_error)
        assert mailbox.tried == []


def test_plain_smtp_with_a_login(database_url: str) -> None:
    with running_smtp(login=("ann", "s3cret-smtp")) as mailbox:
        env = {
            **mailbox.env(),
            "CASEBOOK_SMTP_USERNAME": "ann",
            "CASEBOOK_SMTP_PASSWORD": "s3cret-smtp",
        }
        with emailing(database_url, env) as (_, store, http, pid):
            the_delivery(store, new_case(http, pid, "In clear"), "delivered")
        assert mailbox.logins == ["ann"] and len(mailbox.accepted) == 1


def test_a_refused_login_fails_at_once_without_the_password(
    database_url: str, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    with running_smtp(starttls_cert=(cert, key), login=("ann", "the-right-one")) as mailbox:
        env = {
            **mailbox.env(),
            "CASEBOOK_SMTP_STARTTLS": "1",
            "CASEBOOK_SMTP_USERNAME": "ann",
            "CASEBOOK_SMTP_PASSWORD": "wr0ng-passw0rd",
            "SSL_CERT_FILE": str(cert),
        }
        with emailing(database_url, env) as (server, store, http, pid):
            delivery = the_delivery(store, new_case(http, pid, "Locked out"), "failed")
            recorded = attempts(store, delivery.id)
        assert delivery.attempts == 1 and [a.status for a in recorded] == [535]
        assert delivery.last_error is not None
        assert delivery.last_error.startswith("the SMTP server refused the login of 'ann': 535")
        assert "CASEBOOK_SMTP_PASSWORD" in delivery.last_error
        assert "wr0ng-passw0rd" not in delivery.last_error
        assert b"wr0ng-passw0rd" not in server.output  # nor in the server's log
        assert mailbox.logins == [] and mailbox.tried == []


def test_with_no_smtp_server_email_fails_visibly(database_url: str) -> None:
    with emailing(database_url, {}) as (_, store, http, pid):
        delivery = the_delivery(store, new_case(http, pid, "Nowhere to send"), "failed")
        assert delivery.attempts == 1
        assert delivery.last_error == "email is not configured: set CASEBOOK_SMTP_HOST"


def test_an_unreachable_smtp_server_is_tried_again(database_url: str) -> None:
    nobody = Mailbox(port=free_port())  # bound and released at once: nothing listens on it
    with emailing(database_url, nobody.env()) as (_, store, http, pid):
        case_id = new_case(http, pid, "Server down")
        _wait(lambda: sum(d.attempts for d in deliveries(store, case_id)) >= 2, timeout=10)
        (delivery,) = deliveries(store, case_id)
        assert delivery.state == "pending"
        assert str(delivery.last_error).startswith("cannot reach the SMTP server 127.0.0.1:")
        assert {a.status for a in attempts(store, delivery.id)} == {None}
