"""BulkUpdateCases (``POST /api/v2/cases/bulk``): one action on up to 100 cases, all or nothing.

Each case changes exactly as its single-case operation would change it (the same history
rows, the same no-ops); the first case that cannot be changed is named in one 4xx and
nothing at all is written.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from casebook.domain.users import BOOTSTRAP_ADMIN_EMAIL
from tests.support.api import Api
from tests.support.dump import dump_database
from tests.support.errors import as_recorded

BULK = "/api/v2/cases/bulk"
TYPES = "/api/v2/cases/types"
CUSTOM_STATUSES = [
    {"name": "New", "group": "SG_OPEN"},
    {"name": "Investigating", "group": "SG_IN_PROGRESS"},
    {"name": "Resolved", "group": "SG_CLOSED"},
]


def bulk_body(case_ids: list[str], action: str, payload: dict[str, Any] | None = None) -> Any:
    attributes: dict[str, Any] = {"case_ids": case_ids, "type": action}
    if payload is not None:
        attributes["payload"] = payload
    return {"data": {"type": "bulk", "attributes": attributes}}


def bulk(api: Api, case_ids: list[str], action: str, payload: dict[str, Any] | None = None) -> Any:
    return api.post(BULK, bulk_body(case_ids, action, payload))


def ok(r: Any) -> None:
    """A bulk that succeeded: 200, and no body (as the spec declares)."""
    assert r.status_code == 200, r.text
    assert r.content == b""


def error(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    (item,) = r.json()["errors"]
    return dict(as_recorded(item))


def case_of(api: Api, ref: str) -> dict[str, Any]:
    r = api.get(f"/api/v2/cases/{ref}")
    assert r.status_code == 200, r.text
    return dict(r.json()["data"])


@pytest.fixture
def project(api: Api) -> dict[str, Any]:
    return api.create_project("SEC", "Security")


@pytest.fixture
def three(api: Api, project: dict[str, Any]) -> list[dict[str, Any]]:
    """SEC-1, SEC-2 and SEC-3."""
    return [api.create_case(project["id"], f"case {n}") for n in (1, 2, 3)]


# --- each action, as its single-case operation -------------------------------------------
# (bulk action, payload, the single-case action and its attributes, what to do first)
ACTIONS = [
    ("priority", {"priority": "P1"}, "priority", {"priority": "P1"}, None),
    ("status", {"status": "IN_PROGRESS"}, "status", {"status": "IN_PROGRESS"}, None),
    ("status", {"status_name": "Closed"}, "status", {"status_name": "Closed"}, None),
    ("assign", {"assignee_id": "member"}, "assign", {"assignee_id": "member"}, None),
    ("unassign", None, "unassign", None, ("assign", {"assignee_id": "member"})),
    ("archive", None, "archive", None, None),
    ("unarchive", None, "unarchive", None, ("archive", None)),
]


def _member(attributes: dict[str, Any] | None, member_id: str) -> dict[str, Any] | None:
    if attributes is None:
        return None
    return {k: member_id if v == "member" else v for k, v in attributes.items()}


def _state(data: dict[str, Any]) -> dict[str, Any]:
    attrs = data["attributes"]
    assignee = data["relationships"].get("assignee", {}).get("data") or {}
    return {
        "priority": attrs["priority"],
        "status": attrs["status"],
        "status_name": attrs["status_name"],
        "closed": "closed_at" in attrs,
        "archived": "archived_at" in attrs,
        "modified": "modified_at" in attrs,
        "assignee": assignee.get("id"),
    }


@pytest.mark.parametrize(("action", "payload", "single", "attributes", "first"), ACTIONS)
def test_each_action_changes_a_case_as_its_single_case_operation(
    api: Api,
    project: dict[str, Any],
    action: str,
    payload: dict[str, Any] | None,
    single: str,
    attributes: dict[str, Any] | None,
    first: tuple[str, dict[str, Any] | None] | None,
) -> None:
    member = api.create_user(name="Member")["id"]
    api.keys_for(
        "default", api.get(f"/api/v2/users/{member}").json()["data"]["attributes"]["email"]
    )
    alone = api.create_case(project["id"], "changed alone")
    in_bulk = [api.create_case(project["id"], f"changed in bulk {n}") for n in range(3)]
    if first is not None:
        for case in [alone, *in_bulk]:
            r = api.case_action(case["id"], first[0], _member(first[1], member))
            assert r.status_code == 200, r.text
    r = api.case_action(alone["id"], single, _member(attributes, member))
    assert r.status_code == 200, r.text
    etag = r.headers["etag"]
    # One by key, one by UUID, one by a key in lower case with a leading zero.
    refs = [
        in_bulk[0]["attributes"]["key"],
        in_bulk[1]["id"],
        in_bulk[2]["attributes"]["key"].lower().replace("-", "-0"),
    ]
    ok(bulk(api, refs, action, _member(payload, member)))
    expected = _state(case_of(api, alone["id"]))
    history = api.history(alone["id"])[1:]  # past its "created" row
    for case in in_bulk:
        got = api.get(f"/api/v2/cases/{case['id']}")
        assert _state(got.json()["data"]) == expected
        assert got.headers["etag"] == etag  # one version more, as one change makes
        assert api.history(case["id"])[1:] == history
        assert api.timeline(case["id"])[-1]["attributes"]["cell_content"]["field"] == history[-1][0]
    # The same bulk again is a no-op for every case: no history, no new version.
    ok(bulk(api, refs, action, _member(payload, member)))
    for case in in_bulk:
        got = api.get(f"/api/v2/cases/{case['id']}")
        assert got.headers["etag"] == etag
        assert api.history(case["id"])[1:] == history


def test_a_case_already_as_asked_gets_no_cell(api: Api, three: list[dict[str, Any]]) -> None:
    assert api.case_action("SEC-2", "priority", {"priority": "P3"}).status_code == 200
    before = case_of(api, "SEC-2")
    ok(bulk(api, ["SEC-1", "SEC-2", "SEC-3"], "priority", {"priority": "P3"}))
    assert case_of(api, "SEC-2") == before
    for ref in ("SEC-1", "SEC-2", "SEC-3"):
        priority = [h for h in api.history(ref) if h[0] == "priority"]
        assert priority == [("priority", "NOT_DEFINED", "P3")], ref
        assert case_of(api, ref)["attributes"]["priority"] == "P3"


def test_status_moves_set_and_clear_closed_at(api: Api, three: list[dict[str, Any]]) -> None:
    refs = [c["id"] for c in three]
    ok(bulk(api, refs, "status", {"status": "CLOSED"}))
    assert all("closed_at" in case_of(api, ref)["attributes"] for ref in refs)
    ok(bulk(api, refs, "status", {"status_name": "in progress"}))
    for ref in refs:
        attrs = case_of(api, ref)["attributes"]
        assert (attrs["status"], attrs["status_name"]) == ("IN_PROGRESS", "In Progress")
        assert "closed_at" not in attrs
        assert [h for h in api.history(ref) if h[0] == "status"] == [
            ("status", "OPEN", "CLOSED"),
            ("status", "CLOSED", "IN_PROGRESS"),
        ]
    # status_name wins over status, as in UpdateStatus.
    ok(bulk(api, refs, "status", {"status": "OPEN", "status_name": "Closed"}))
    assert {case_of(api, ref)["attributes"]["status"] for ref in refs} == {"CLOSED"}


def test_cases_of_several_types_move_to_a_status_each_type_has(
    api: Api, project: dict[str, Any]
) -> None:
    r = api.post(
        TYPES,
        {
            "data": {
                "type": "case_type",
                "attributes": {"name": "Hunt", "statuses": CUSTOM_STATUSES},
            }
        },
    )
    assert r.status_code == 201, r.text
    hunt = r.json()["data"]["id"]
    standard = api.create_case(project["id"], "standard")
    custom = api.create_case(project["id"], "custom", type_id=hunt)
    # The deprecated group: each type's first status of that group.
    ok(bulk(api, [standard["id"], custom["id"]], "status", {"status": "IN_PROGRESS"}))
    assert case_of(api, standard["id"])["attributes"]["status_name"] == "In Progress"
    assert case_of(api, custom["id"])["attributes"]["status_name"] == "Investigating"


def test_assign_makes_the_assignee_a_watcher(api: Api, three: list[dict[str, Any]]) -> None:
    member = api.create_user(name="Member")
    api.keys_for("default", member["attributes"]["email"])
    ok(bulk(api, ["SEC-1", "SEC-2"], "assign", {"assignee_id": member["id"]}))
    for ref in ("SEC-1", "SEC-2"):
        assert api.history(ref)[-2:] == [
            ("assignee", None, member["id"]),
            ("watcher", None, member["id"]),
        ]
        watchers = api.get(f"/api/v2/cases/{ref}/watchers").json()["data"]
        assert member["id"] in {w["id"] for w in watchers}
    assert api.search(f"assignee:{member['id']}").json()["meta"]["total_cases"] == 2
    ok(bulk(api, ["SEC-1", "SEC-2", "SEC-3"], "unassign"))
    assert api.history("SEC-1")[-1] == ("assignee", member["id"], None)
    assert [h for h in api.history("SEC-3") if h[0] == "assignee"] == []


def test_archived_cases_can_be_changed_and_unarchived(
    api: Api, three: list[dict[str, Any]]
) -> None:
    ok(bulk(api, ["SEC-1", "SEC-2"], "archive"))
    assert api.search("").json()["meta"]["total_cases"] == 1
    assert api.search("archived:true").json()["meta"]["total_cases"] == 2
    ok(bulk(api, ["SEC-1", "SEC-2", "SEC-3"], "priority", {"priority": "P2"}))
    assert api.search("archived:true priority:P2").json()["meta"]["total_cases"] == 2
    ok(bulk(api, ["SEC-1", "SEC-2", "SEC-3"], "unarchive"))
    assert api.search("").json()["meta"]["total_cases"] == 3
    assert [h for h in api.history("SEC-3") if h[0] == "archived"] == []
    assert [h for h in api.history("SEC-1") if h[0] == "archived"] == [
        ("archived", "false", "true"),
        ("archived", "true", "false"),
    ]


def test_update_project_moves_keys_in_the_order_given(
    api: Api, project: dict[str, Any], three: list[dict[str, Any]]
) -> None:
    net = api.create_project("NET", "Network")
    ok(bulk(api, ["SEC-3", three[0]["id"]], "update_project", {"project_id": net["id"]}))
    assert case_of(api, three[2]["id"])["attributes"]["key"] == "NET-1"
    assert case_of(api, three[0]["id"])["attributes"]["key"] == "NET-2"
    assert case_of(api, "SEC-2")["attributes"]["key"] == "SEC-2"
    # The old keys keep naming the cases, in a bulk too.
    assert case_of(api, "SEC-3")["id"] == three[2]["id"]
    assert api.history("NET-1")[-2:] == [
        ("project", project["id"], net["id"]),
        ("key", "SEC-3", "NET-1"),
    ]
    # A move to where they are is a no-op; old and new keys of one case count once.
    ok(bulk(api, ["NET-1", "SEC-3", "SEC-1"], "update_project", {"project_id": net["id"]}))
    assert [h for h in api.history("NET-1") if h[0] == "key"] == [("key", "SEC-3", "NET-1")]
    ok(
        bulk(
            api, ["SEC-1", "NET-2", three[0]["id"]], "update_project", {"project_id": project["id"]}
        )
    )
    assert case_of(api, three[0]["id"])["attributes"]["key"] == "SEC-4"
    assert [h for h in api.history("SEC-4") if h[0] == "key"] == [
        ("key", "SEC-1", "NET-2"),
        ("key", "NET-2", "SEC-4"),
    ]
    r = api.search(f"project_id:{net['id']}")
    assert [c["attributes"]["key"] for c in r.json()["data"]] == ["NET-1"]


def test_a_case_named_twice_changes_once(api: Api, three: list[dict[str, Any]]) -> None:
    first = three[0]
    ok(bulk(api, ["SEC-1", first["id"], "sec-001", "SEC-1"], "archive"))
    assert [h for h in api.history("SEC-1") if h[0] == "archived"] == [
        ("archived", "false", "true")
    ]
    assert api.get("/api/v2/cases/SEC-1").headers["etag"] == '"2"'


def test_a_hundred_cases_in_one_bulk(api: Api, project: dict[str, Any]) -> None:
    refs = [api.create_case(project["id"], f"case {n}")["attributes"]["key"] for n in range(100)]
    ok(bulk(api, refs, "priority", {"priority": "P4"}))
    r = api.search("priority:P4", **{"page[size]": 100})
    assert r.json()["meta"]["total_cases"] == 100
    error101 = error(bulk(api, [*refs, "SEC-1"], "priority", {"priority": "P5"}), 400)
    assert "length <= 100" in error101["detail"]
    assert "case_ids" in error101["detail"]
    assert api.search("priority:P5").json()["meta"]["total_cases"] == 0


# --- refused before any case is read -----------------------------------------------------
def test_bad_requests_change_nothing(
    api: Api, database_url: str, three: list[dict[str, Any]]
) -> None:
    disabled = api.create_user(name="Gone")
    assert api.delete(f"/api/v2/users/{disabled['id']}").status_code == 204
    refs = ["SEC-1", "SEC-2"]
    cases = [
        (bulk_body([], "archive"), 400, "case_ids must hold at least one case id"),
        (bulk_body(refs, "close"), 400, "invalid bulk action close. Must be one of priority,"),
        (bulk_body(refs, "priority"), 400, "the priority action needs payload.priority"),
        (bulk_body(refs, "priority", {"prio": "P1"}), 400, "needs payload.priority"),
        (bulk_body(refs, "priority", {"priority": "P9"}), 400, "invalid priority P9"),
        (bulk_body(refs, "status", {}), 400, "needs payload.status or payload.status_name"),
        (bulk_body(refs, "status", {"status": "DONE"}), 400, "invalid status DONE"),
        (bulk_body(refs, "assign", {}), 400, "the assign action needs payload.assignee_id"),
        (bulk_body(refs, "assign", {"assignee_id": "bob"}), 400, "invalid assignee_id 'bob'"),
        (bulk_body(refs, "assign", {"assignee_id": str(uuid.uuid4())}), 404, "user"),
        (bulk_body(refs, "assign", {"assignee_id": disabled["id"]}), 400, "is disabled"),
        (bulk_body(refs, "update_project", {}), 400, "needs payload.project_id"),
        (bulk_body(refs, "update_project", {"project_id": "x"}), 404, "project 'x' not found"),
        ({"data": {"type": "case", "attributes": {"case_ids": refs, "type": "archive"}}}, 400, 'expected one of "bulk"'),
        ({"data": {"type": "bulk"}}, 400, "data.attributes is required"),
        ({"data": {"type": "bulk", "attributes": {"type": "archive"}}}, 400, "missing required field `case_ids`"),
        (bulk_body(refs, "archive", {"a": 1}), 400, "Expected `str`, got `int`"),
    ]  # fmt: skip
    for action in ("jira", "servicenow", "linear"):
        cases.append((bulk_body(refs, action, {}), 400, f"the {action} action opens tickets"))
    before = dump_database(database_url)
    for body, status, detail in cases:
        r = api.post(BULK, body)
        assert detail in error(r, status)["detail"], (body, r.text)
    assert dump_database(database_url) == before


def test_a_bad_value_is_refused_before_a_missing_case(
    api: Api, three: list[dict[str, Any]]
) -> None:
    r = bulk(api, ["SEC-1", "SEC-404"], "priority", {"priority": "P9"})
    assert error(r, 400)["detail"] == (
        "invalid priority P9. Must be one of P1, P2, P3, P4, P5, NOT_DEFINED"
    )


def test_get_on_the_bulk_path_is_405(api: Api) -> None:
    r = api.get(BULK)
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"


# --- all or nothing ----------------------------------------------------------------------
def test_a_missing_case_last_changes_nothing_and_is_named(
    api: Api, database_url: str, three: list[dict[str, Any]]
) -> None:
    before = dump_database(database_url)
    missing = str(uuid.uuid4())
    for ref in (missing, "SEC-404", "sec-0404", "not-a-case"):
        r = bulk(api, ["SEC-1", three[1]["id"], "SEC-3", ref], "status", {"status": "CLOSED"})
        assert error(r, 404) == {
            "code": "resource_not_found",
            "title": "case not found",
            "detail": f"case {ref!r} not found",
            "meta": {"case_id": ref},
        }
    assert dump_database(database_url) == before
    for case in three:
        assert case_of(api, case["id"])["attributes"]["status"] == "OPEN"
        assert [h[0] for h in api.history(case["id"])] == ["created", "watcher"]
        assert len(api.timeline(case["id"])) == 2


def test_the_first_case_refused_is_named_and_nothing_changes(
    api: Api, database_url: str, project: dict[str, Any]
) -> None:
    r = api.post(
        TYPES,
        {
            "data": {
                "type": "case_type",
                "attributes": {"name": "Hunt", "statuses": CUSTOM_STATUSES},
            }
        },
    )
    hunt = r.json()["data"]["id"]
    customs = [api.create_case(project["id"], f"hunt {n}", type_id=hunt) for n in range(3)]
    standard = api.create_case(project["id"], "standard")
    before = dump_database(database_url)
    # "Investigating" is a status of the custom type only: the Standard case, last, is refused.
    refs = [c["attributes"]["key"] for c in customs] + [standard["attributes"]["key"].lower()]
    r = bulk(api, refs, "status", {"status_name": "Investigating"})
    assert error(r, 400) == {
        "title": "Generic Error",
        "detail": f"case {refs[-1]}: invalid status Investigating. Must be one of Open,"
        " In Progress, Closed",
        "meta": {"case_id": refs[-1]},
    }
    assert dump_database(database_url) == before
    # The first of several refused cases is the one named.
    r = bulk(api, [standard["id"], "SEC-404", customs[0]["id"]], "status", {"status_name": "New"})
    assert error(r, 404)["meta"] == {"case_id": "SEC-404"}
    r = bulk(api, [customs[0]["id"], standard["id"], "SEC-404"], "status", {"status_name": "New"})
    assert error(r, 404)["meta"] == {"case_id": "SEC-404"}  # missing cases first, then rules
    r = bulk(api, [customs[0]["id"], standard["id"]], "status", {"status_name": "New"})
    assert error(r, 400)["meta"] == {"case_id": standard["id"]}
    assert dump_database(database_url) == before
    # Without it, every case moves.
    ok(bulk(api, refs[:-1], "status", {"status_name": "Investigating"}))
    assert {case_of(api, c["id"])["attributes"]["status_name"] for c in customs} == {
        "Investigating"
    }


def test_another_organisations_case_reads_like_a_missing_one(
    api: Api, database_url: str, three: list[dict[str, Any]]
) -> None:
    other = api.new_org_admin("orgb")
    theirs = other.create_case(other.create_project("OPS", "Ops")["id"], "theirs")
    before = dump_database(database_url)

    def answer(ref: str) -> tuple[int, str, str]:
        r = bulk(api, ["SEC-1", "SEC-2", ref], "archive")
        text = r.text.replace(ref, "<ref>").replace(r.headers["x-request-id"], "<request id>")
        return r.status_code, r.headers["content-type"], text

    assert answer(theirs["id"]) == answer(str(uuid.uuid4()))
    assert answer("OPS-1") == answer("OPS-2")
    assert answer(theirs["id"])[0] == 404
    assert dump_database(database_url) == before
    # Their keys that collide with ours name ours.
    ok(bulk(other, ["OPS-1"], "archive"))
    assert "archived_at" in case_of(other, theirs["id"])["attributes"]
    assert "archived_at" not in case_of(api, "SEC-1")["attributes"]


def test_a_read_only_key_cannot_bulk(api: Api, three: list[dict[str, Any]]) -> None:
    reader = api.as_keys(api.keys_for("default", BOOTSTRAP_ADMIN_EMAIL, scopes="cases_read"))
    r = bulk(reader, ["SEC-1"], "archive")
    assert r.status_code == 403
    assert r.json() == {"errors": ["Forbidden: the application key lacks the cases_write scope"]}
    assert "archived_at" not in case_of(api, "SEC-1")["attributes"]
