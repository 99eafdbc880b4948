"""Case endpoints through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from casebook.domain import cases as cases_domain
from casebook.domain.keys import Authenticator, load_secret
from tests.support.api import Api
from tests.support.errors import as_recorded

STANDARD = "00000000-0000-0000-0000-000000000001"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


@pytest.fixture
def project(api: Api) -> dict:
    return api.create_project("SEC", "Security")


def test_create_case_answers_the_recorded_shape(api: Api, project: dict) -> None:
    r = api.post(
        "/api/v2/cases",
        {
            "data": {
                "type": "case",
                "attributes": {"title": "Security breach", "type_id": STANDARD, "priority": "P4"},
                "relationships": {"project": {"data": {"id": project["id"], "type": "project"}}},
            }
        },
    )
    assert r.status_code == 201
    assert r.headers["content-type"] == "application/vnd.api+json"
    body = r.json()
    data = body["data"]
    assert list(data) == ["id", "type", "attributes", "relationships"]
    assert data["type"] == "case"
    attrs = data["attributes"]
    assert attrs == {
        "attributes": {},
        "comment_count": 0,
        "created_at": attrs["created_at"],
        "creation_source": "MANUAL",
        "custom_attributes": {},
        "description": "",
        "insights": [],
        "internal_id": data["id"],
        "key": "SEC-1",
        "merge_status": "NOT_MERGED",
        "priority": "P4",
        "public_id": attrs["public_id"],
        "status": "OPEN",
        "status_group": "SG_OPEN",
        "status_name": "Open",
        "title": "Security breach",
        "type": "STANDARD",
        "type_id": STANDARD,
    }
    assert TIMESTAMP.fullmatch(attrs["created_at"])
    assert attrs["public_id"].isdigit()
    rels = data["relationships"]
    assert set(rels) == {"created_by", "project"}
    assert rels["project"] == {"data": {"id": project["id"], "type": "project"}}
    creator = rels["created_by"]["data"]
    assert creator["type"] == "user"
    assert body["included"] == [
        {
            "id": creator["id"],
            "type": "user",
            "attributes": {
                "active": True,
                "email": "admin@casebook.local",
                "handle": "admin@casebook.local",
                "name": "casebook admin",
            },
        }
    ]


def test_create_accepts_the_seed_type_field_and_defaults(api: Api, project: dict) -> None:
    r = api.post(
        "/api/v2/cases",
        {
            "data": {
                "type": "case",
                "attributes": {"title": "Old client", "type": "STANDARD"},
                "relationships": {"project": {"data": {"id": project["id"], "type": "project"}}},
            }
        },
    )
    assert r.status_code == 201, r.text
    attrs = r.json()["data"]["attributes"]
    assert attrs["type_id"] == STANDARD
    assert attrs["priority"] == "NOT_DEFINED"


def test_keys_count_up_per_project(api: Api, project: dict) -> None:
    other = api.create_project("NOC", "Operations")
    keys = [api.create_case(project["id"])["attributes"]["key"] for _ in range(3)]
    keys.append(api.create_case(other["id"])["attributes"]["key"])
    assert keys == ["SEC-1", "SEC-2", "SEC-3", "NOC-1"]


def test_create_with_assignee_includes_the_user(api: Api, project: dict) -> None:
    user = api.create_user("Alice@Example.com", name="Alice")
    case = api.create_case(project["id"], assignee_id=user["id"])
    assert case["relationships"]["assignee"] == {"data": {"id": user["id"], "type": "user"}}
    r = api.get(f"/api/v2/cases/{case['id']}")
    included = {u["id"]: u["attributes"] for u in r.json()["included"]}
    assert included[user["id"]] == {
        "active": False,  # invited through the API: pending until given keys
        "email": "alice@example.com",
        "handle": "alice@example.com",
        "name": "Alice",
    }


@pytest.mark.parametrize(
    ("mutate", "status", "error"),
    [
        (
            lambda d: d["relationships"]["assignee"].update(
                {"data": {"id": "e555e290-ed65-49bd-ae18-8acbfcf18db7", "type": "userx"}}
            ),
            400,
            {
                "status": "400",
                "title": "Bad Request",
                "detail": 'got type "userx" expected one of "user"',
            },
        ),
        (
            lambda d: d.update({"type": "project"}),
            400,
            {
                "status": "400",
                "title": "Bad Request",
                "detail": 'got type "project" expected one of "case"',
            },
        ),
        (
            lambda d: d["attributes"].update({"priority": "P1234"}),
            400,
            {
                "title": "Generic Error",
                "detail": "invalid priority P1234. Must be one of P1, P2, P3, P4, P5, NOT_DEFINED",
            },
        ),
        (
            lambda d: d["attributes"].update({"title": "  "}),
            400,
            {"status": "400", "title": "Bad Request", "detail": "title must not be empty"},
        ),
        (
            lambda d: d["attributes"].update({"title": "x" * 501}),
            400,
            {
                "status": "400",
                "title": "Bad Request",
                "detail": "invalid request body: Expected `str` of length <= 500 - at `$.data.attributes.title`",
            },
        ),
        (
            lambda d: d["attributes"].update({"title": 5}),
            400,
            {
                "status": "400",
                "title": "Bad Request",
                "detail": "invalid request body: Expected `str`, got `int` - at `$.data.attributes.title`",
            },
        ),
        (
            lambda d: d["attributes"].pop("title"),
            400,
            {
                "status": "400",
                "title": "Bad Request",
                "detail": "invalid request body: Object missing required field `title`"
                " - at `$.data.attributes`",
            },
        ),
        (
            lambda d: d.pop("relationships"),
            400,
            {
                "status": "400",
                "title": "Bad Request",
                "detail": "relationships.project.data is required",
            },
        ),
        (
            lambda d: d["attributes"].update({"type_id": "not-a-uuid"}),
            400,
            {
                "status": "400",
                "title": "Bad Request",
                "detail": "invalid type_id 'not-a-uuid': expected a UUID",
            },
        ),
        (
            lambda d: d["attributes"].update({"type_id": "00000000-0000-0000-0000-000000000777"}),
            404,
            {
                "code": "resource_not_found",
                "title": "case_type not found",
                "detail": "case_type '00000000-0000-0000-0000-000000000777' not found",
            },
        ),
        (
            lambda d: d["relationships"]["project"]["data"].update(
                {"id": "721074c8-63df-4d8f-a43d-ab41dd24ec35"}
            ),
            404,
            {
                "code": "resource_not_found",
                "title": "project not found",
                "detail": "project '721074c8-63df-4d8f-a43d-ab41dd24ec35' not found",
            },
        ),
        (
            lambda d: d["relationships"]["assignee"]["data"].update(
                {"id": "721074c8-63df-4d8f-a43d-ab41dd24ec35"}
            ),
            404,
            {
                "code": "resource_not_found",
                "title": "user not found",
                "detail": "user '721074c8-63df-4d8f-a43d-ab41dd24ec35' not found",
            },
        ),
    ],
)
def test_create_errors_say_what_is_wrong(
    api: Api, project: dict, mutate: object, status: int, error: dict
) -> None:
    user = api.create_user()
    data = {
        "type": "case",
        "attributes": {"title": "x", "type_id": STANDARD},
        "relationships": {
            "project": {"data": {"id": project["id"], "type": "project"}},
            "assignee": {"data": {"id": user["id"], "type": "user"}},
        },
    }
    mutate(data)  # type: ignore[operator]
    r = api.post("/api/v2/cases", {"data": data})
    assert r.status_code == status
    assert r.headers["content-type"] == "application/vnd.api+json"
    assert as_recorded(r.json()) == {"errors": [error]}
    # A refused create takes no number: the next case is still SEC-1.
    assert api.create_case(project["id"])["attributes"]["key"] == "SEC-1"


def test_unknown_project_is_reported_before_unknown_assignee(api: Api) -> None:
    missing = "721074c8-63df-4d8f-a43d-ab41dd24ec35"
    r = api.post(
        "/api/v2/cases",
        {
            "data": {
                "type": "case",
                "attributes": {"title": "x", "type_id": STANDARD},
                "relationships": {
                    "project": {"data": {"id": missing, "type": "project"}},
                    "assignee": {"data": {"id": missing, "type": "user"}},
                },
            }
        },
    )
    assert r.status_code == 404
    assert r.json()["errors"][0]["title"] == "project not found"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "detail"),
    [
        (b"{", "application/json", 400, "malformed JSON: Input data was truncated"),
        (b"", "application/json", 400, "a JSON request body is required"),
        (b"[]", "application/json", 400, "invalid request body: Expected `object`, got `array`"),
        (b"{}", "text/plain", 400, "unsupported Content-Type 'text/plain': send application/json"),
        (b"x" * 1_100_000, "application/json", 413, "request body is larger than 1048576 bytes"),
    ],
)
def test_malformed_bodies_are_4xx(
    api: Api, project: dict, body: bytes, content_type: str, status: int, detail: str
) -> None:
    r = api.client.post(
        "/api/v2/cases", content=body, headers={**api.headers, "content-type": content_type}
    )
    assert r.status_code == status
    assert r.json()["errors"][0]["detail"] == detail


def test_get_by_uuid_and_by_key(api: Api, project: dict) -> None:
    case = api.create_case(project["id"], "Phishing")
    by_id = api.get(f"/api/v2/cases/{case['id']}")
    by_key = api.get("/api/v2/cases/SEC-1")
    by_lower_key = api.get("/api/v2/cases/sec-1")
    by_upper_uuid = api.get(f"/api/v2/cases/{case['id'].upper()}")
    assert by_id.status_code == by_key.status_code == by_lower_key.status_code == 200
    assert by_id.json() == by_key.json() == by_lower_key.json() == by_upper_uuid.json()
    assert by_id.json()["data"]["attributes"]["title"] == "Phishing"


@pytest.mark.parametrize(
    "ref", ["67d80aa3-36ff-44b9-a694-c501a7591737", "SEC-999", "SEC-0", "nope", "SEC-1-2", "%00"]
)
def test_unknown_case_is_404(api: Api, project: dict, ref: str) -> None:
    api.create_case(project["id"])
    r = api.get(f"/api/v2/cases/{ref}")
    assert r.status_code == 404
    error = r.json()["errors"][0]
    assert error["code"] == "resource_not_found"
    assert error["title"] == "case not found"


def test_status_moves_set_and_clear_closed_at(api: Api, project: dict) -> None:
    case = api.create_case(project["id"])
    r = api.case_action(case["id"], "status", {"status": "IN_PROGRESS"})
    assert r.status_code == 200
    attrs = r.json()["data"]["attributes"]
    assert (attrs["status"], attrs["status_group"], attrs["status_name"]) == (
        "IN_PROGRESS",
        "SG_IN_PROGRESS",
        "In Progress",
    )
    assert TIMESTAMP.fullmatch(attrs["modified_at"])
    assert "closed_at" not in attrs
    assert "modified_by" in r.json()["data"]["relationships"]

    closed = api.case_action("SEC-1", "status", {"status_name": "Closed"}).json()["data"]
    assert closed["attributes"]["status"] == "CLOSED"
    assert TIMESTAMP.fullmatch(closed["attributes"]["closed_at"])

    reopened = api.case_action("SEC-1", "status", {"status": "OPEN"}).json()["data"]
    assert reopened["attributes"]["status_group"] == "SG_OPEN"
    assert "closed_at" not in reopened["attributes"]
    assert api.get("/api/v2/cases/SEC-1").json()["data"] == reopened


def test_same_status_is_a_no_op(api: Api, project: dict) -> None:
    case = api.create_case(project["id"])
    r = api.case_action(case["id"], "status", {"status": "OPEN"})
    assert r.status_code == 200
    assert "modified_at" not in r.json()["data"]["attributes"]
    assert "modified_by" not in r.json()["data"]["relationships"]


@pytest.mark.parametrize(
    ("attributes", "error"),
    [
        (
            {"status": "OPENED"},
            {
                "title": "Generic Error",
                "detail": "invalid status OPENED. Must be one of OPEN, IN_PROGRESS, CLOSED",
            },
        ),
        (
            {},
            {
                "status": "400",
                "title": "Bad Request",
                "detail": "one of status or status_name is required",
            },
        ),
    ],
)
def test_bad_status_is_400(api: Api, project: dict, attributes: dict, error: dict) -> None:
    case = api.create_case(project["id"])
    r = api.case_action(case["id"], "status", attributes)
    assert r.status_code == 400
    assert as_recorded(r.json()) == {"errors": [error]}


def test_priority_change(api: Api, project: dict) -> None:
    case = api.create_case(project["id"])
    r = api.case_action(case["attributes"]["key"], "priority", {"priority": "P3"})
    assert r.status_code == 200
    assert r.json()["data"]["attributes"]["priority"] == "P3"
    bad = api.case_action("SEC-1", "priority", {"priority": "P1234"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["title"] == "Generic Error"


def test_assign_and_unassign(api: Api, project: dict) -> None:
    case = api.create_case(project["id"])
    untouched = api.case_action(case["id"], "unassign")
    assert untouched.status_code == 200
    assert "modified_at" not in untouched.json()["data"]["attributes"]

    user = api.create_user()
    r = api.case_action(case["id"], "assign", {"assignee_id": user["id"]})
    assert r.status_code == 200
    body = r.json()
    assert body["data"]["relationships"]["assignee"]["data"]["id"] == user["id"]
    assert user["id"] in {u["id"] for u in body["included"]}

    again = api.case_action(case["id"], "assign", {"assignee_id": user["id"]}).json()
    assert again["data"]["attributes"]["modified_at"] == body["data"]["attributes"]["modified_at"]

    r = api.case_action(case["id"], "unassign")
    assert "assignee" not in r.json()["data"]["relationships"]


@pytest.mark.parametrize(
    ("assignee_id", "status"),
    [("invalid-uuid", 400), ("721074c8-63df-4d8f-a43d-ab41dd24ec35", 404)],
)
def test_assign_errors(api: Api, project: dict, assignee_id: str, status: int) -> None:
    case = api.create_case(project["id"])
    r = api.case_action(case["id"], "assign", {"assignee_id": assignee_id})
    assert r.status_code == status
    assert assignee_id in r.json()["errors"][0]["detail"]


def test_disabled_users_cannot_be_assigned(api: Api, project: dict) -> None:
    case = api.create_case(project["id"])
    user = api.create_user()
    assert api.delete(f"/api/v2/users/{user['id']}").status_code == 204
    r = api.case_action(case["id"], "assign", {"assignee_id": user["id"]})
    assert r.status_code == 400
    assert "disabled" in r.json()["errors"][0]["detail"]


def test_archive_and_unarchive(api: Api, project: dict) -> None:
    case = api.create_case(project["id"])
    noop = api.case_action(case["id"], "unarchive").json()["data"]["attributes"]
    assert "archived_at" not in noop and "modified_at" not in noop

    archived = api.case_action(case["id"], "archive").json()["data"]["attributes"]
    assert TIMESTAMP.fullmatch(archived["archived_at"])
    assert archived["status"] == "OPEN"
    assert api.case_action(case["id"], "archive").json()["data"]["attributes"] == archived

    restored = api.case_action(case["id"], "unarchive").json()["data"]["attributes"]
    assert "archived_at" not in restored


@pytest.mark.parametrize("action", ["unassign", "archive", "unarchive"])
def test_empty_commands_check_the_type(api: Api, project: dict, action: str) -> None:
    case = api.create_case(project["id"])
    r = api.post(f"/api/v2/cases/{case['id']}/{action}", {"data": {"type": "project"}})
    assert r.status_code == 400
    assert as_recorded(r.json()) == {
        "errors": [
            {
                "status": "400",
                "title": "Bad Request",
                "detail": 'got type "project" expected one of "case"',
            }
        ]
    }
    missing = api.post(
        "/api/v2/cases/67d80aa3-36ff-44b9-a694-c501a7591737/" + action, {"data": {"type": "case"}}
    )
    assert missing.status_code == 404
    assert as_recorded(missing.json()["errors"][0]) == {
        "code": "resource_not_found",
        "title": "case not found",
        "detail": "case '67d80aa3-36ff-44b9-a694-c501a7591737' not found",
    }


def test_every_change_is_in_the_history(api: Api, project: dict) -> None:
    user = api.create_user()
    case = api.create_case(project["id"])
    api.case_action(case["id"], "status", {"status": "CLOSED"})
    api.case_action(case["id"], "priority", {"priority": "P2"})
    api.case_action(case["id"], "assign", {"assignee_id": user["id"]})
    api.case_action(case["id"], "unassign")
    api.case_action(case["id"], "unassign")  # no-op: no history
    api.case_action(case["id"], "archive")
    secret = load_secret(api.store, api.settings.secret_key)
    actor = Authenticator(api.store, secret).authenticate(api.keys.api_key, api.keys.app_key)
    history = cases_domain.case_history(api.store, "SEC-1", actor=actor)
    assert [(c.field, c.old, c.new) for _, _, c in history] == [
        ("created", None, "SEC-1"),
        ("watcher", None, actor.user_id),  # the creator watches the case
        ("status", "OPEN", "CLOSED"),
        ("priority", "NOT_DEFINED", "P2"),
        ("assignee", None, user["id"]),
        ("watcher", None, user["id"]),  # and so does its assignee
        ("assignee", user["id"], None),
        ("archived", "false", "true"),
    ]
    assert {who for _, who, _ in history} == {actor.user_id}
    times = [at for at, _, _ in history]
    assert times == sorted(times)


def test_a_key_reads_the_same_in_a_path_and_in_a_search(api: Api, project: dict) -> None:
    case = api.create_case(project["id"])
    for ref in ("SEC-1", "sec-1", "SEC-01", "Sec-0001"):
        r = api.get(f"/api/v2/cases/{ref}")
        assert r.status_code == 200, ref
        assert r.json()["data"]["id"] == case["id"]
        found = api.search(f"key:{ref}").json()["data"]
        assert [c["id"] for c in found] == [case["id"]], ref
    assert api.get("/api/v2/cases/SEC-0").status_code == 404
    assert api.search("key:SEC-0").status_code == 400
