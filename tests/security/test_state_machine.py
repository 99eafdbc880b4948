"""A Hypothesis state machine: cases of two organisations against an in-memory model.

Rules create cases (of the Standard type or of the organisation's own), change
status (by group or by name) and priority, assign, archive, change several cases in one
bulk, comment, set and clear a custom attribute, move a case to the other type, search
and probe the other organisation; after every step the API must agree with the model: the same keys
(numbered 1, 2, 3... per project and organisation, though both organisations use
the same project key), the same state, and nothing of one organisation visible to
the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from casebook.core.entities import STANDARD_CASE_TYPE_ID
from tests.security.conftest import OrgWorld, report_count, unique
from tests.support.api import case_body

STATUSES = ["OPEN", "IN_PROGRESS", "CLOSED"]
STATUS_NAMES = {"OPEN": "Open", "IN_PROGRESS": "In Progress", "CLOSED": "Closed"}
PRIORITIES = ["NOT_DEFINED", "P1", "P2", "P3", "P4", "P5"]
TITLES = st.text(
    st.characters(categories=["L", "N"]) | st.sampled_from(" -_'"), min_size=1, max_size=40
).filter(lambda s: s.strip())


@dataclass
class ModelCase:
    id: str
    key: str
    title: str
    status: str = "OPEN"
    priority: str = "NOT_DEFINED"
    assignee: str | None = None
    archived: bool = False
    comments: int = 0
    type_id: str = STANDARD_CASE_TYPE_ID
    custom: dict[str, str] = field(default_factory=dict)  # key -> TEXT value


def test_cases_agree_with_a_model_across_two_orgs(
    orgs: tuple[OrgWorld, OrgWorld], request: pytest.FixtureRequest
) -> None:
    a, b = orgs
    worlds = {"A": a, "B": b}
    admin_ids = {name: w.admin.user_id("admin@") for name, w in worlds.items()}
    stats = {"steps": 0, "requests": 0, "examples": 0}

    class CaseMachine(RuleBasedStateMachine):
        cases = Bundle("cases")

        def __init__(self) -> None:
            super().__init__()
            stats["examples"] += 1
            self.project_key = unique("M")
            self.projects = {
                name: w.admin.create_project(self.project_key, "model")["id"]
                for name, w in worlds.items()
            }
            self.model: dict[str, dict[str, ModelCase]] = {"A": {}, "B": {}}

        # --- helpers -----------------------------------------------------------
        def call(self, org: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
            stats["requests"] += 1
            admin = worlds[org].admin
            return admin.client.request(
                method, path, headers=admin.headers, json=body, params=params or None
            )

        def action(self, org: str, case_id: str, name: str, attrs: Any = None) -> Any:
            stats["requests"] += 1
            r = worlds[org].admin.case_action(case_id, name, attrs)
            assert r.status_code == 200, (name, r.text)
            return r.json()["data"]

        def people(self, org: str) -> dict[str, str]:
            return {"admin": admin_ids[org], "member": worlds[org].member["id"]}

        def key_of(self, org: str, type_id: str) -> str:
            """The custom attribute the type has: the org's own on Standard, else region."""
            return worlds[org].field if type_id == STANDARD_CASE_TYPE_ID else "region"

        # --- rules -------------------------------------------------------------
        @rule(target=cases, org=st.sampled_from(["A", "B"]), title=TITLES, own=st.booleans())
        def create(self, org: str, title: str, own: bool) -> tuple[str, str]:
            stats["steps"] += 1
            type_id = worlds[org].case_type["id"] if own else None
            body = case_body(self.projects[org], title, type_id=type_id)
            r = self.call(org, "POST", "/api/v2/cases", body)
            assert r.status_code == 201, r.text
            data = r.json()["data"]
            expected_key = f"{self.project_key}-{len(self.model[org]) + 1}"
            assert data["attributes"]["key"] == expected_key
            case = ModelCase(data["id"], expected_key, title.strip())
            case.type_id = type_id or STANDARD_CASE_TYPE_ID
            self.model[org][data["id"]] = case
            return org, data["id"]

        @rule(ref=cases, status=st.sampled_from(STATUSES), by_name=st.booleans())
        def set_status(self, ref: tuple[str, str], status: str, by_name: bool) -> None:
            stats["steps"] += 1
            org, case_id = ref
            given = {"status_name": STATUS_NAMES[status]} if by_name else {"status": status}
            data = self.action(org, case_id, "status", given)
            self.model[org][case_id].status = status
            assert data["attributes"]["status"] == status
            assert data["attributes"]["status_name"] == STATUS_NAMES[status]

        @rule(ref=cases, value=st.none() | TITLES)
        def set_custom(self, ref: tuple[str, str], value: str | None) -> None:
            stats["steps"] += 1
            org, case_id = ref
            case = self.model[org][case_id]
            key = self.key_of(org, case.type_id)
            path = f"/api/v2/cases/{case_id}/custom_attributes/{key}"
            if value is None:
                r = self.call(org, "DELETE", path)
                case.custom.pop(key, None)
            else:
                attributes = {"type": "TEXT", "is_multi": False, "value": value}
                r = self.call(
                    org, "POST", path, {"data": {"type": "case", "attributes": attributes}}
                )
                case.custom[key] = value
            assert r.status_code == 200, r.text

        @rule(ref=cases)
        def change_type(self, ref: tuple[str, str]) -> None:
            """The other type: values of keys the new type lacks go; the status stays (both
            types name their statuses alike)."""
            stats["steps"] += 1
            org, case_id = ref
            case = self.model[org][case_id]
            own = worlds[org].case_type["id"]
            case.type_id = own if case.type_id == STANDARD_CASE_TYPE_ID else STANDARD_CASE_TYPE_ID
            data = self.action(org, case_id, "type", {"type_id": case.type_id})
            case.custom = {}  # the two types have no key in common
            assert data["attributes"]["type_id"] == case.type_id

        @rule(ref=cases, priority=st.sampled_from(PRIORITIES))
        def set_priority(self, ref: tuple[str, str], priority: str) -> None:
            stats["steps"] += 1
            org, case_id = ref
            self.action(org, case_id, "priority", {"priority": priority})
            self.model[org][case_id].priority = priority

        @rule(ref=cases, who=st.sampled_from([None, "admin", "member"]))
        def assign(self, ref: tuple[str, str], who: str | None) -> None:
            stats["steps"] += 1
            org, case_id = ref
            if who is None:
                self.action(org, case_id, "unassign")
                self.model[org][case_id].assignee = None
            else:
                user_id = self.people(org)[who]
                self.action(org, case_id, "assign", {"assignee_id": user_id})
                self.model[org][case_id].assignee = user_id

        @rule(ref=cases, archived=st.booleans())
        def archive(self, ref: tuple[str, str], archived: bool) -> None:
            stats["steps"] += 1
            org, case_id = ref
            self.action(org, case_id, "archive" if archived else "unarchive")
            self.model[org][case_id].archived = archived

        @rule(
            refs=st.lists(cases, min_size=1, max_size=4),
            change=st.sampled_from(
                [("priority", p) for p in PRIORITIES]
                + [("status", s) for s in STATUSES]
                + [("archive", None), ("unarchive", None)]
            ),
            by_key=st.booleans(),
        )
        def bulk(self, refs: list[tuple[str, str]], change: tuple[str, Any], by_key: bool) -> None:
            """One bulk by the first case's organisation: all its cases change, or, when the
            list holds a case of the other organisation, none (404 naming the first such)."""
            stats["steps"] += 1
            org = refs[0][0]
            action, value = change
            ids = [
                self.model[o][case_id].key if by_key and o == org else case_id
                for o, case_id in refs
            ]
            attributes = {"case_ids": ids, "type": action}
            if value is not None:
                attributes["payload"] = {action: value}
            body = {"data": {"type": "bulk", "attributes": attributes}}
            r = self.call(org, "POST", "/api/v2/cases/bulk", body)
            theirs = [ref for (o, _), ref in zip(refs, ids, strict=True) if o != org]
            if theirs:
                assert r.status_code == 404, r.text
                assert r.json()["errors"][0]["meta"] == {"case_id": theirs[0]}
                return
            assert r.status_code == 200, r.text
            for _, case_id in refs:
                case = self.model[org][case_id]
                if action == "priority":
                    case.priority = value
                elif action == "status":
                    case.status = value
                else:
                    case.archived = action == "archive"

        @rule(ref=cases, text=TITLES)
        def comment(self, ref: tuple[str, str], text: str) -> None:
            stats["steps"] += 1
            org, case_id = ref
            body = {"data": {"type": "case", "attributes": {"comment": text}}}
            r = self.call(org, "POST", f"/api/v2/cases/{case_id}/comment", body)
            assert r.status_code == 200, r.text
            assert r.json()["data"][0]["attributes"]["cell_content"]["message"] == text
            self.model[org][case_id].comments += 1

        @rule(ref=cases, by_key=st.booleans())
        def probe_from_the_other_org(self, ref: tuple[str, str], by_key: bool) -> None:
            stats["steps"] += 1
            org, case_id = ref
            other = "B" if org == "A" else "A"
            mine = self.model[org][case_id]
            r = self.call(other, "GET", f"/api/v2/cases/{mine.key if by_key else case_id}")
            twin = next((c for c in self.model[other].values() if c.key == mine.key), None)
            if by_key and twin is not None:
                assert r.status_code == 200 and r.json()["data"]["id"] == twin.id
            else:
                assert r.status_code == 404, r.text
            r = self.call(
                other, "POST", f"/api/v2/cases/{case_id}/archive", {"data": {"type": "case"}}
            )
            assert r.status_code == 404
            comment = {"data": {"type": "case", "attributes": {"comment": "not yours"}}}
            r = self.call(other, "POST", f"/api/v2/cases/{case_id}/comment", comment)
            assert r.status_code == 404
            r = self.call(other, "GET", f"/api/v2/cases/{case_id}/timelines")
            assert r.status_code == 404
            key = self.key_of(org, mine.type_id)
            value = {"type": "TEXT", "is_multi": False, "value": "not yours"}
            path = f"/api/v2/cases/{case_id}/custom_attributes/{key}"
            r = self.call(other, "POST", path, {"data": {"type": "case", "attributes": value}})
            assert r.status_code == 404
            r = self.call(other, "GET", f"/api/v2/cases/types/{mine.type_id}/custom_attributes")
            assert r.status_code == (200 if mine.type_id == STANDARD_CASE_TYPE_ID else 404)
            if r.status_code == 200:
                assert key not in {c["attributes"]["key"] for c in r.json()["data"]}

        @rule(
            org=st.sampled_from(["A", "B"]),
            status=st.sampled_from([None, *STATUSES]),
            negate=st.booleans(),
            priorities=st.lists(st.sampled_from(PRIORITIES), max_size=2, unique=True),
            archived=st.sampled_from([None, "true", "false", "*"]),
            assignee=st.sampled_from([None, "me", "member"]),
        )
        def search(
            self,
            org: str,
            status: str | None,
            negate: bool,
            priorities: list[str],
            archived: str | None,
            assignee: str | None,
        ) -> None:
            stats["steps"] += 1
            terms = [f"project_id:{self.projects[org]}"]
            if status:
                terms.append(("-" if negate else "") + f"status:{status.lower()}")
            if priorities:
                terms.append("priority:(" + " OR ".join(priorities) + ")")
            if archived:
                terms.append(f"archived:{archived}")
            if assignee:
                terms.append(
                    "assignee:me" if assignee == "me" else f"assignee:{worlds[org].member['id']}"
                )
            r = self.call(
                org, "GET", "/api/v2/cases", filter=" ".join(terms), **{"page[size]": 100}
            )
            assert r.status_code == 200, r.text
            got = {c["id"] for c in r.json()["data"]}

            def matches(c: ModelCase) -> bool:
                if status and (c.status == status) == negate:
                    return False
                if priorities and c.priority not in priorities:
                    return False
                if archived in (None, "false") and c.archived:
                    return False
                if archived == "true" and not c.archived:
                    return False
                if assignee == "me" and c.assignee != admin_ids[org]:
                    return False
                return not (assignee == "member" and c.assignee != worlds[org].member["id"])

            assert got == {c.id for c in self.model[org].values() if matches(c)}, terms

        # --- after every step --------------------------------------------------
        @invariant()
        def api_agrees_with_model(self) -> None:
            for org in ("A", "B"):
                r = self.call(
                    org,
                    "GET",
                    "/api/v2/cases",
                    filter=f"project_id:{self.projects[org]} archived:*",
                    **{"page[size]": 100},
                )
                assert r.status_code == 200
                seen = {}
                for case in r.json()["data"]:
                    attrs, rels = case["attributes"], case["relationships"]
                    assignee = rels.get("assignee", {}).get("data", {}) or {}
                    seen[case["id"]] = ModelCase(
                        id=case["id"],
                        key=attrs["key"],
                        title=attrs["title"],
                        status=attrs["status"],
                        priority=attrs["priority"],
                        assignee=assignee.get("id"),
                        archived="archived_at" in attrs,
                        comments=attrs["comment_count"],
                        type_id=attrs["type_id"],
                        custom={k: v["value"] for k, v in attrs["custom_attributes"].items()},
                    )
                    assert attrs["status_group"] == "SG_" + attrs["status"]
                    assert ("closed_at" in attrs) == (attrs["status"] == "CLOSED")
                    assert rels["project"]["data"]["id"] == self.projects[org]
                assert seen == self.model[org]

    hyp = settings(
        max_examples=6,
        stateful_step_count=25,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    run_state_machine_as_test(CaseMachine, settings=hyp)
    report_count(request, "state_machine_examples", stats["examples"])
    report_count(request, "state_machine_steps", stats["steps"])
    report_count(request, "state_machine_requests", stats["requests"])
