"""Schemathesis against casebook's own OpenAPI document, in process (ASGI), on each back end.

Every phase this Schemathesis version has runs with a pinned seed: examples (the
document has none, so it is skipped), coverage, fuzzing (positive and negative
data) and stateful (link-driven sequences). Checks: every default response check
(no 5xx, status codes, Content-Type, headers and bodies conforming to the
document, auth not ignored, 405 + Allow for undeclared methods, deleted resources
gone). Two request-side checks are left out: ``positive_data_acceptance`` and
``negative_data_rejection`` judge how exact the document's request schemas are,
not what the server answers. ``use_after_free`` is off for ``/api/v2/users/{id}``:
disabling a user keeps it readable, as Datadog's Users API does.

The fuzzer may disable or edit its own admin user (the API allows it); the
harness re-activates that user after such a call so the run keeps exercising
authenticated paths rather than answering 403 to everything after it.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest

from casebook.core.entities import STANDARD_CASE_TYPE_ID, UserStatus
from casebook.domain import users as users_domain
from casebook.domain.users import BOOTSTRAP_ADMIN_EMAIL
from casebook.http.registry import CASE_SIBLINGS
from tests.security.conftest import config_body, report_count
from tests.support.api import Api, case_body

pytestmark = pytest.mark.slow  # minutes per back end: scheduled first

schemathesis = pytest.importorskip("schemathesis", reason="dev dependency schemathesis==4.32.5")
from schemathesis.engine import events, from_schema  # noqa: E402

SEED = 20240611
# The pinned seed sends 8,336 to 8,416 requests per back end at 40 examples per operation.
MIN_REQUESTS = 4_500


class CountingApp:
    """ASGI wrapper: counts answers by status, keeps every 5xx, revives the fuzzer's admin."""

    def __init__(self, inner: Any, store: Any, admin_id: str, org_id: str) -> None:
        self.inner, self.store, self.admin_id, self.org_id = inner, store, admin_id, org_id
        self.statuses: Counter[int] = Counter()
        self.server_errors: list[tuple[str, str, str]] = []
        self.unavailable: list[tuple[str, str, str]] = []
        self.revived = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return

        async def counted(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                self.statuses[status] += 1
                if status >= 500:
                    query = scope.get("query_string", b"").decode("latin-1")
                    where = self.unavailable if status == 503 else self.server_errors
                    where.append((scope["method"], scope["path"], query))
            await send(message)

        await self.inner(scope, receive, counted)
        if scope["method"] in ("DELETE", "PATCH") and scope["path"].startswith("/api/v2/users/"):
            self._revive()

    def _revive(self) -> None:
        with self.store.write() as tx:
            admin = tx.users.get(self.org_id, self.admin_id)
            if admin is not None and admin.status is not UserStatus.ACTIVE:
                admin.status = UserStatus.ACTIVE
                tx.users.update(admin)
                self.revived += 1

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


def _config(headers: dict[str, str]) -> Any:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": headers,
            "continue-on-failure": True,
            "max-failures": 10_000,
            # Per operation. The run is the longest test of the suite (87 operations x 40
            # took 200 to 240 s per back end, a quarter of CI's 15 minutes); the coverage
            # phase, which does not depend on this, already sends every boundary and wrong
            # type of each field.
            "generation": {"max-examples": 25, "database": "none", "no-shrink": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {
                    "enabled": True,
                    "max-steps": 10,
                    "generation": {"max-examples": 60},
                },
            },
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {"enabled": False},
                "negative_data_rejection": {"enabled": False},
            },
            "operations": [
                {
                    "include-path": "/api/v2/users/{user_id}",
                    "checks": {"use_after_free": {"enabled": False}},
                }
            ],
        }
    )


def _seed_data(api: Api) -> None:
    """A project with cases (of no explicit type, and of a type of the organisation's own),
    a second user, a comment, a watcher, a link, and custom attribute configs with values,
    so ids of every kind exist to be found."""
    project = api.create_project("FUZZ", "fuzz")["id"]
    body = {"data": {"type": "case_type", "attributes": {"name": "Investigation"}}}
    r = api.post("/api/v2/cases/types", body)
    assert r.status_code == 201, r.text
    case_type = r.json()["data"]["id"]
    for type_id in (case_type, STANDARD_CASE_TYPE_ID):
        configs = f"/api/v2/cases/types/{type_id}/custom_attributes"
        assert api.post(configs, config_body("region")).status_code == 201
    value = {"region": {"type": "TEXT", "is_multi": False, "value": "eu-west-1"}}
    cases = []
    for i in range(6):
        typed = {"type_id": case_type} if i == 5 else {"type_id": None}
        r = api.post(
            "/api/v2/cases", case_body(project, f"seed {i}", custom_attributes=value, **typed)
        )
        assert r.status_code == 201, r.text
        cases.append(r.json()["data"]["id"])
    member = api.create_user("fuzz-member@example.com")["id"]
    comment = {"data": {"type": "case", "attributes": {"comment": "seed comment"}}}
    assert api.post(f"/api/v2/cases/{cases[0]}/comment", comment).status_code == 200
    watch = api.client.post(f"/api/v2/cases/{cases[0]}/watchers/{member}", headers=api.headers)
    assert watch.status_code == 201
    attributes = {
        "parent_entity_type": "CASE",
        "parent_entity_id": cases[0],
        "child_entity_type": "CASE",
        "child_entity_id": cases[1],
        "relationship": "BLOCKS",
    }
    link = api.post("/api/v2/cases/link", {"data": {"type": "link", "attributes": attributes}})
    assert link.status_code == 201


def _another_routes(label: str, uri: str) -> bool:
    """Whether a call of a ``{case_id}`` path named a route beside cases instead (a case_id
    outside its pattern, such as ``projects``: ``GET /api/v2/cases/projects`` is
    GetProjects): that operation answered, by its own schema, and is fuzzed on its own.
    ``tests/security/test_misuse.py`` checks every such path answers 4xx or that route."""
    _, _, template = label.partition(" ")
    if "{case_id}" not in template:
        return False
    at = template.split("/").index("{case_id}")
    segments = urlsplit(uri).path.split("/")
    return len(segments) > at and segments[at] in CASE_SIBLINGS


def test_schemathesis_finds_no_5xx_and_no_schema_violation(
    make_app: Any, request: pytest.FixtureRequest
) -> None:
    client, store, settings = make_app(CASEBOOK_SQLITE_SYNCHRONOUS="NORMAL")
    keys = users_domain.bootstrap(store, "", api_key="", app_key="").created_keys
    assert keys is not None
    api = Api(client, store, settings, keys)
    _seed_data(api)
    with store.read() as tx:
        org = users_domain.get_org(tx, "default")
        admin = tx.users.by_email(org.id, BOOTSTRAP_ADMIN_EMAIL)
    assert admin is not None
    app = CountingApp(client.app, store, admin.id, org.id)

    schema = schemathesis.openapi.from_asgi(
        "/api/v2/openapi.json", app, config=_config(api.headers)
    )
    start = time.monotonic()
    failures: list[str] = []
    phases: dict[str, str] = {}
    transitions = 0
    elsewhere = 0  # answers of the route a case_id outside its pattern names instead
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseStarted) and event.payload is not None:
            transitions = event.payload.transitions_selected
        elif isinstance(event, events.PhaseFinished):
            phases[event.phase.name.value] = f"{event.status.value} at {app.requests} requests"
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"engine error: {event.info.title}: {event.info.message}")
        elif isinstance(event, events.ScenarioFinished):
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    interaction = event.recorder.interactions.get(case_id)
                    req = interaction.request if interaction else None
                    resp = interaction.response if interaction else None
                    if req is not None and _another_routes(event.recorder.label, req.uri):
                        elsewhere += 1
                        continue
                    failures.append(
                        f"{event.recorder.label}: {check.name}: {check.failure_info.failure.title}"
                        f" -- {req.method if req else '?'} {req.uri if req else '?'}"
                        f" {req.body[:200] if req and req.body else b''!r}"
                        f" -> {resp.status_code if resp else '?'}"
                        f" {resp.content[:300] if resp and resp.content else b''!r}"
                    )
    elapsed = time.monotonic() - start

    print(f"statuses: {dict(sorted(app.statuses.items()))}; phases: {phases}")
    print(f"admin revived {app.revived} times; {elsewhere} answers of another route")
    report_count(request, "fuzz_requests", app.requests)
    report_count(request, "fuzz_seconds", round(elapsed))
    assert not app.server_errors, app.server_errors[:10]
    assert not app.unavailable, app.unavailable[:10]
    assert not failures, "\n".join(sorted(set(failures))[:30])
    assert app.requests >= MIN_REQUESTS, app.requests
    for phase in ("coverage", "fuzzing", "stateful"):
        assert phases[phase].startswith(("success", "failure")), phases  # ran, not skipped
    assert transitions > 0
    report_count(request, "fuzz_stateful_transitions", transitions)
