"""The deliveries listing: ``GET /api/v2/cases/projects/{project_id}/deliveries`` (admins only).

The first test lets the app's own worker deliver to a local receiver; the others store
deliveries as the worker's plan stores them (the worker off), to list them at will.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from starlette.testclient import TestClient

from casebook.config import load_settings
from casebook.domain import users as users_domain
from casebook.http.app import create_app
from casebook.storage import open_store
from casebook.storage.outbox import Attempt, Delivery
from tests.conftest import TEST_ENV
from tests.support.api import Api, case_body
from tests.support.receiver import running_receiver

HOOKS = "/api/v1/integration/webhooks/configuration/webhooks"
SLACK = "https://hooks.slack.com/services/T0000/B0000/abcdefghijklmnopXa9Q"
TEAMS = "https://example.webhook.office.com/webhookb2/0000/IncomingWebhook/feedbeef"
ROUTING_KEY = "R0123456789abcdef0123456789abcd"
ADMINS_ONLY = {"errors": ["Forbidden: only an admin of the organisation may do this"]}


def deliveries_path(project_id: str) -> str:
    return f"/api/v2/cases/projects/{project_id}/deliveries"


def listed(api: Api, project_id: str, **params: Any) -> dict[str, Any]:
    r = api.get(deliveries_path(project_id), **params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.api+json"
    return dict(r.json())


def org_id_of(api: Api) -> str:
    data = api.get("/api/v2/users").json()["data"][0]
    return str(data["relationships"]["org"]["data"]["id"])


def store_delivery(
    api: Api,
    case: dict[str, Any],
    channel: str,
    target: dict[str, Any],
    *,
    created_at: int,
    state: str = "pending",
    attempts: Sequence[Attempt] = (),
) -> str:
    """A delivery as the worker stores it: planned, then in ``state`` after ``attempts``."""
    last = attempts[-1] if attempts else None
    delivery = Delivery(
        id=str(uuid.uuid4()),
        org_id=org_id_of(api),
        project_id=case["relationships"]["project"]["data"]["id"],
        case_id=case["id"],
        rule_id=str(uuid.uuid4()),
        channel=channel,
        target=target,
        body={"type": "CASE_CREATED", "case": {"id": case["id"]}},
        state=state,
        attempts=len(attempts),
        next_attempt_at=created_at if state == "pending" else None,
        last_error=None if last is None else last.error,
        created_at=created_at,
        delivered_at=last.at if last is not None and state == "delivered" else None,
    )
    with api.store.write() as tx:
        tx.deliveries.insert(delivery)
        for attempt in attempts:
            tx.deliveries.record(delivery, attempt)
    return delivery.id


def _wait(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def working_api(database_url: str) -> Iterator[Api]:
    """The API as the bootstrap admin, with the app's delivery worker running (retries
    after 0.1 s)."""
    settings = load_settings(
        {
            "CASEBOOK_DATABASE_URL": database_url,
            **TEST_ENV,
            "CASEBOOK_DELIVERY_FIRST_RETRY_SECONDS": "0.1",
        }
    )
    store = open_store(settings.database_url)
    try:
        app = create_app(settings, store, worker=True)
        with TestClient(app, raise_server_exceptions=True) as client:
            made = users_domain.bootstrap(store, settings.secret_key, api_key="", app_key="")
            assert made.created_keys is not None
            yield Api(client, store, settings, made.created_keys)
    finally:
        store.close()


def test_lists_the_attempts_of_a_delivery_to_a_receiver(working_api: Api) -> None:
    api = working_api
    with running_receiver() as receiver:
        receiver.failures = [503]
        r = api.post(HOOKS, {"name": "soc", "url": f"{receiver.url}/soc"})
        assert r.status_code == 201, r.text
        project = api.create_project("SEC")
        rule_attributes = {
            "is_enabled": True,
            "query": "priority:P1",
            "triggers": [{"type": "CASE_CREATED"}],
            "recipients": [{"type": "HTTP", "data": {"name": "soc"}}],
        }
        r = api.post(
            f"/api/v2/cases/projects/{project['id']}/notification_rules",
            {"data": {"type": "notification_rule", "attributes": rule_attributes}},
        )
        assert r.status_code == 201, r.text
        rule_id = r.json()["data"]["id"]
        r = api.post("/api/v2/cases", case_body(project["id"], "Phishing", priority="P1"))
        assert r.status_code == 201, r.text
        case_id = r.json()["data"]["id"]

        def delivered() -> bool:
            data = listed(api, project["id"])["data"]
            return bool(data) and data[0]["attributes"]["state"] == "delivered"

        _wait(delivered, timeout=10)
        document = listed(api, project["id"])
    (item,) = document["data"]
    assert item["type"] == "delivery"
    attributes = item["attributes"]
    log = attributes.pop("attempt_log")
    created_at = attributes.pop("created_at")
    delivered_at = attributes.pop("delivered_at")
    assert attributes == {
        "channel": "http",
        "state": "delivered",
        "rule_id": rule_id,
        "case_id": case_id,
        "target": {"webhook": "soc"},
        "attempts": 2,
        "last_error": None,
        "next_attempt_at": None,
    }
    assert [(a["n"], a["status"], a["error"]) for a in log] == [
        (1, 503, "answered 503"),
        (2, 200, None),
    ]
    assert created_at <= log[0]["at"] <= log[1]["at"] == delivered_at
    assert all(isinstance(a["duration_ms"], int) and a["duration_ms"] >= 0 for a in log)
    assert document["meta"] == {
        "page": {"current": 1, "size": 1, "total": 1},
        "total_deliveries": 1,
    }
    # The receiver got both attempts, under the listed id.
    assert [r.headers["x-casebook-delivery"] for r in receiver.received] == [item["id"]] * 2
    assert json.loads(receiver.received[-1].body)["case"]["id"] == case_id


def test_destinations_are_listed_without_their_secrets(api: Api) -> None:
    project = api.create_project("SEC")
    case = api.create_case(project["id"])
    at = 1_700_000_000_000_000
    targets = {
        "http": {"webhook": "soc-hook"},
        "slack": {"url": SLACK},
        "teams": {"url": TEAMS},
        "pagerduty": {"routing_key": ROUTING_KEY},
        "email": {"to": "soc@example.com"},
    }
    ids = {
        channel: store_delivery(api, case, channel, target, created_at=at + i)
        for i, (channel, target) in enumerate(targets.items())
    }
    # A target with anything else (say, a header a later channel keeps) shows none of it.
    odd = store_delivery(
        api, case, "http", {"webhook": "x", "token": "s3cr3t-t0ken"}, created_at=at - 1
    )
    r = api.get(deliveries_path(project["id"]))
    assert r.status_code == 200, r.text
    shown = {d["id"]: d["attributes"]["target"] for d in r.json()["data"]}
    assert shown == {
        ids["http"]: {"webhook": "soc-hook"},
        ids["slack"]: {"url": "https://hooks.slack.com/…Xa9Q"},
        ids["teams"]: {"url": "https://example.webhook.office.com/…beef"},
        ids["pagerduty"]: {"routing_key": "…abcd"},
        ids["email"]: {"to": "soc@example.com"},
        odd: {"webhook": "x"},
    }
    for secret in ("T0000/B0000", "abcdefghijklmnop", "IncomingWebhook", ROUTING_KEY[:-4]):
        assert secret not in r.text
    assert "s3cr3t" not in r.text
    # Nor the body it sends (the case as the event saw it): not part of the listing.
    assert all("body" not in d["attributes"] for d in r.json()["data"])


def test_pages_newest_first_and_filters_by_state(api: Api) -> None:
    project = api.create_project("SEC")
    other = api.create_project("OPS")
    case = api.create_case(project["id"])
    elsewhere = api.create_case(other["id"])
    at = 1_700_000_000_000_000
    states = ["pending", "delivered", "failed"]
    made = [
        store_delivery(
            api,
            case,
            "http",
            {"webhook": "soc"},
            created_at=at + i * 1000,
            state=states[i % 3],
            attempts=[Attempt(1, at + i * 1000 + 1, 500, "answered 500", 12)],
        )
        for i in range(25)
    ]
    store_delivery(api, elsewhere, "http", {"webhook": "soc"}, created_at=at + 10**9)
    newest_first = made[::-1]
    pages = [listed(api, project["id"], **{"page[size]": 10, "page[number]": n}) for n in (1, 2, 3)]
    assert [[d["id"] for d in p["data"]] for p in pages] == [
        newest_first[:10],
        newest_first[10:20],
        newest_first[20:],
    ]
    assert [p["meta"] for p in pages] == [
        {"page": {"current": n, "size": size, "total": 3}, "total_deliveries": 25}
        for n, size in ((1, 10), (2, 10), (3, 5))
    ]
    # Page 0 is the first page; past the last, an empty page.
    first = listed(api, project["id"], **{"page[size]": 10, "page[number]": 0})
    assert [d["id"] for d in first["data"]] == newest_first[:10]
    assert first["meta"]["page"]["current"] == 1
    assert listed(api, project["id"], **{"page[number]": 99})["data"] == []
    # Ten a page by default.
    assert [d["id"] for d in listed(api, project["id"])["data"]] == newest_first[:10]
    # Each with its attempts.
    item = listed(api, project["id"], **{"page[size]": 1})["data"][0]["attributes"]
    assert item["attempt_log"] == [
        {
            "n": 1,
            "at": item["attempt_log"][0]["at"],
            "status": 500,
            "error": "answered 500",
            "duration_ms": 12,
        }
    ]
    failed = listed(api, project["id"], **{"filter[state]": "failed", "page[size]": 100})
    assert [d["id"] for d in failed["data"]] == [d for i, d in enumerate(made) if i % 3 == 2][::-1]
    assert {d["attributes"]["state"] for d in failed["data"]} == {"failed"}
    assert failed["meta"]["total_deliveries"] == 8
    pending = listed(api, project["id"], **{"filter[state]": "pending", "page[size]": 100})
    assert pending["meta"]["total_deliveries"] == 9
    assert all(d["attributes"]["next_attempt_at"] for d in pending["data"])
    # The other project's delivery is its own.
    assert listed(api, other["id"])["meta"]["total_deliveries"] == 1


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"filter[state]": "lost"}, "invalid filter[state] 'lost'"),
        ({"page[size]": 0}, "page[size] must be between 1 and 100"),
        ({"page[size]": 101}, "page[size] must be between 1 and 100"),
        ({"page[size]": "ten"}, "invalid page[size] 'ten'"),
        ({"page[number]": -1}, "page[number] must not be negative"),
        ({"page[number]": "1.5"}, "invalid page[number] '1.5'"),
    ],
)
def test_bad_parameters_are_400(api: Api, params: dict[str, Any], fragment: str) -> None:
    project = api.create_project("SEC")
    r = api.get(deliveries_path(project["id"]), **params)
    assert r.status_code == 400, r.text
    assert fragment in r.json()["errors"][0]["detail"], r.text


def test_only_admins_list_deliveries(api: Api) -> None:
    project = api.create_project("SEC")
    path = deliveries_path(project["id"])
    member = api.create_user("member@example.com", name="Member")
    as_member = api.as_keys(api.keys_for("default", member["attributes"]["email"]))
    r = as_member.get(path)
    assert (r.status_code, r.json()) == (403, ADMINS_ONLY), r.text
    assert r.headers["content-type"] == "application/json"
    # Whatever the project: the role is checked before the project is looked for.
    assert as_member.get(deliveries_path(str(uuid.uuid4()))).json() == ADMINS_ONLY
    # A member's key scoped to cases_read is no better; an admin's needs cases_read.
    scoped = api.as_keys(api.keys_for("default", "member@example.com", scopes="cases_read"))
    assert scoped.get(path).json() == ADMINS_ONLY
    admin = users_domain.BOOTSTRAP_ADMIN_EMAIL
    write_only = api.as_keys(api.keys_for("default", admin, scopes="cases_write"))
    r = write_only.get(path)
    assert (r.status_code, r.json()) == (
        403,
        {"errors": ["Forbidden: the application key lacks the cases_read scope"]},
    )
    read_only = api.as_keys(api.keys_for("default", admin, scopes="cases_read"))
    assert read_only.get(path).status_code == 200


def test_another_organisations_project_is_not_found(api: Api) -> None:
    mine = api.create_project("SEC")
    case = api.create_case(mine["id"])
    store_delivery(api, case, "slack", {"url": SLACK}, created_at=1_700_000_000_000_000)
    other = api.new_org_admin("acme")
    theirs = other.create_project("SEC")
    missing = str(uuid.uuid4())

    def answer(who: Api, project_id: str) -> tuple[int, str]:
        r = who.get(deliveries_path(project_id))
        text = r.text.replace(project_id, "<id>").replace(r.headers["x-request-id"], "<request id>")
        return r.status_code, text

    assert answer(other, mine["id"]) == answer(other, missing)
    status, text = answer(other, mine["id"])
    assert status == 404 and "project not found" in text
    assert answer(api, theirs["id"]) == answer(api, missing)
    assert api.get(deliveries_path("not-a-uuid")).status_code == 404
    assert listed(other, theirs["id"])["data"] == []
    assert listed(api, mine["id"])["meta"]["total_deliveries"] == 1
    # A deleted project's deliveries go with it.
    assert api.delete(f"/api/v2/cases/projects/{mine['id']}").status_code == 204
    assert api.get(deliveries_path(mine["id"])).status_code == 404
