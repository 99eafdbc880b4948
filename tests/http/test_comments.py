"""Comments and the timeline: CommentCase, UpdateCaseComment, DeleteCaseComment, ListCaseTimeline."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.errors import as_recorded


@pytest.fixture
def case(api: Api) -> dict[str, Any]:
    project = api.create_project("SEC", "Security")
    return api.create_case(project["id"], "Suspicious login")


def _count(api: Api, ref: str) -> int:
    return int(api.get(f"/api/v2/cases/{ref}").json()["data"]["attributes"]["comment_count"])


def test_a_comment_answers_one_cell_and_counts_everywhere(api: Api, case: dict) -> None:
    r = api.comment(case["id"], "Looking into it")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.api+json"
    [cell] = r.json()["data"]
    assert uuid.UUID(cell["id"]).version == 4
    assert cell["type"] == "timeline_cell"
    attrs = cell["attributes"]
    assert attrs["type"] == "COMMENT"
    assert attrs["cell_content"] == {"message": "Looking into it"}
    assert attrs["author"]["type"] == "USER"
    assert attrs["author"]["content"]["id"] == api.user_id("admin@")
    assert attrs["created_at"].endswith("Z")
    assert "deleted_at" not in attrs and "modified_at" not in attrs
    # comment_count on every case response: GET, search, and the answer to a change.
    assert _count(api, "SEC-1") == 1
    assert api.search("").json()["data"][0]["attributes"]["comment_count"] == 1
    # A comment is not a change of the case's fields: modified_at stays unset.
    assert "modified_at" not in api.get(f"/api/v2/cases/{case['id']}").json()["data"]["attributes"]
    changed = api.case_action("SEC-1", "priority", {"priority": "P2"})
    assert changed.json()["data"]["attributes"]["comment_count"] == 1


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_an_empty_comment_is_400(api: Api, case: dict, text: str) -> None:
    r = api.comment(case["id"], text)
    assert r.status_code == 400
    error = r.json()["errors"][0]
    assert error["status"] == "400" and error["title"] == "Bad Request"
    assert error["detail"] == "comment must not be empty"
    assert _count(api, "SEC-1") == 0


def test_comment_errors(api: Api, case: dict) -> None:
    too_long = api.comment(case["id"], "x" * 50_001)
    assert too_long.status_code == 400
    assert "length <= 50000" in too_long.json()["errors"][0]["detail"]
    wrong_type = api.post(f"/api/v2/cases/{case['id']}/comment", {"data": {"type": "project"}})
    assert wrong_type.json()["errors"][0]["detail"] == 'got type "project" expected one of "case"'
    missing = api.comment("67d80aa3-36ff-44b9-a694-c501a7591737", "Hello world !")
    assert missing.status_code == 404
    assert as_recorded(missing.json()) == {
        "errors": [
            {
                "code": "resource_not_found",
                "title": "case not found",
                "detail": "case '67d80aa3-36ff-44b9-a694-c501a7591737' not found",
            }
        ]
    }


def test_edit_and_delete_a_comment(api: Api, case: dict) -> None:
    cell_id = api.comment("SEC-1", "Frist draft").json()["data"][0]["id"]
    path = f"/api/v2/cases/SEC-1/comment/{cell_id}"
    r = api.put(path, {"data": {"type": "case", "attributes": {"comment": "First draft"}}})
    assert r.status_code == 200, r.text
    [edited] = r.json()["data"]
    assert edited["id"] == cell_id
    assert edited["attributes"]["cell_content"] == {"message": "First draft"}
    assert "modified_at" in edited["attributes"]
    assert api.delete(path).status_code == 204
    assert _count(api, "SEC-1") == 0
    cells = api.timeline("SEC-1")
    comment = next(c for c in cells if c["id"] == cell_id)
    assert comment["attributes"]["type"] == "COMMENT"
    assert "deleted_at" in comment["attributes"]
    assert comment["attributes"]["cell_content"] == {}
    # The deleted text is gone from every answer, and from the database.
    assert "First draft" not in api.get("/api/v2/cases/SEC-1/timelines").text
    assert "Frist draft" not in str(cells)
    with api.store.read() as tx:
        assert tx.sql.all("SELECT body FROM case_comments") == [(None,)]
    activity = [
        c["attributes"]["cell_content"] for c in cells if c["attributes"]["type"] == "ACTIVITY"
    ]
    assert {"field": "comment_edited", "new_value": cell_id} in activity
    assert {"field": "comment_deleted", "old_value": cell_id} in activity
    # Gone: editing or deleting it again is the recorded 404.
    again = api.delete(path)
    assert again.status_code == 404
    assert (
        again.json()["errors"][0]["title"] == "failed to get timeline cell: timeline cell not found"
    )
    r = api.put(path, {"data": {"type": "case", "attributes": {"comment": "back"}}})
    assert r.status_code == 404


def test_cell_id_errors_as_recorded(api: Api, case: dict) -> None:
    r = api.delete("/api/v2/cases/SEC-1/comment/not-a-uuid")
    assert r.status_code == 400
    assert as_recorded(r.json()) == {
        "errors": [
            {
                "status": "400",
                "title": "Invalid Parameter",
                "detail": 'invalid parameter "CommentID" in "path"; expected type "uuid"',
            }
        ]
    }
    r = api.delete(f"/api/v2/cases/{case['id']}/comment/23fca2aa-4967-4936-bdd7-9157d9e456d7")
    assert r.status_code == 404
    assert as_recorded(r.json()["errors"][0]) == {
        "code": "resource_not_found",
        "title": "failed to get timeline cell: timeline cell not found",
        "detail": "timeline cell '23fca2aa-4967-4936-bdd7-9157d9e456d7' not found",
    }
    # An activity cell's id is not a comment's.
    activity = api.timeline("SEC-1")[0]["id"]
    assert api.delete(f"/api/v2/cases/SEC-1/comment/{activity}").status_code == 404
    # A comment of another case of the organisation is not this case's.
    other = api.create_case(case["relationships"]["project"]["data"]["id"], "Other")
    cell_id = api.comment(other["id"], "mine").json()["data"][0]["id"]
    assert api.delete(f"/api/v2/cases/SEC-1/comment/{cell_id}").status_code == 404
    assert _count(api, "SEC-2") == 1


def test_only_the_author_or_an_admin_changes_a_comment(api: Api, case: dict) -> None:
    member = api.create_user("ann@example.com", name="Ann")
    ann = api.as_keys(api.keys_for("default", member["attributes"]["email"]))
    mine = api.comment("SEC-1", "admin's note").json()["data"][0]["id"]
    body = {"data": {"type": "case", "attributes": {"comment": "vandalised"}}}
    r = ann.put(f"/api/v2/cases/SEC-1/comment/{mine}", body)
    assert r.status_code == 403, r.text
    assert "author or an admin" in r.text
    assert ann.delete(f"/api/v2/cases/SEC-1/comment/{mine}").status_code == 403
    theirs = ann.comment("SEC-1", "ann's note").json()["data"][0]["id"]
    assert ann.put(f"/api/v2/cases/SEC-1/comment/{theirs}", body).status_code == 200
    # An admin may remove anyone's comment (moderation).
    assert api.delete(f"/api/v2/cases/SEC-1/comment/{theirs}").status_code == 204
    messages = [c["attributes"]["cell_content"].get("message") for c in api.timeline("SEC-1")]
    assert "admin's note" in messages and "vandalised" not in messages


def test_the_timeline_lists_every_change_with_old_and_new_values(api: Api, case: dict) -> None:
    user = api.create_user("bob@example.com")
    api.case_action("SEC-1", "status", {"status": "IN_PROGRESS"})
    api.case_action("SEC-1", "assign", {"assignee_id": user["id"]})
    api.comment("SEC-1", "on it")
    api.case_action("SEC-1", "due_date", {"due_date": "2026-12-31"})
    cells = api.timeline("SEC-1")
    seen = [(c["attributes"]["type"], c["attributes"]["cell_content"]) for c in cells]
    admin = api.user_id("admin@")
    assert seen == [
        ("ACTIVITY", {"field": "created", "new_value": "SEC-1"}),
        ("ACTIVITY", {"field": "watcher", "new_value": admin}),
        ("ACTIVITY", {"field": "status", "old_value": "OPEN", "new_value": "IN_PROGRESS"}),
        ("ACTIVITY", {"field": "assignee", "new_value": user["id"]}),
        ("ACTIVITY", {"field": "watcher", "new_value": user["id"]}),
        ("COMMENT", {"message": "on it"}),
        ("ACTIVITY", {"field": "due_date", "new_value": "2026-12-31"}),
    ]
    assert all(c["attributes"]["author"]["content"]["id"] == admin for c in cells)
    assert len({c["id"] for c in cells}) == len(cells)
    # The same cells, newest first by default, in pages with a meta block.
    r = api.get("/api/v2/cases/SEC-1/timelines", **{"page[size]": 3})
    body = r.json()
    assert [c["id"] for c in body["data"]] == [c["id"] for c in reversed(cells)][:3]
    assert body["meta"] == {"page": {"current": 1, "size": 3, "total": 3}, "total_cells": 7}
    last = api.get("/api/v2/cases/SEC-1/timelines", **{"page[size]": 3, "page[number]": 3})
    assert [c["id"] for c in last.json()["data"]] == [cells[0]["id"]]
    # Ids of activity cells are stable from one read to the next.
    assert [c["id"] for c in api.timeline("SEC-1")] == [c["id"] for c in cells]


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"page[size]": 0}, "page[size] must be between 1 and 100"),
        ({"page[size]": 101}, "page[size] must be between 1 and 100"),
        ({"page[number]": -1}, "page[number] must not be negative"),
        ({"page[size]": "ten"}, "page[size]"),
        ({"sort[ascending]": "maybe"}, "sort[ascending]"),
    ],
)
def test_timeline_parameters_are_checked(api: Api, case: dict, params: dict, detail: str) -> None:
    r = api.get("/api/v2/cases/SEC-1/timelines", **params)
    assert r.status_code == 400
    assert detail in r.json()["errors"][0]["detail"]


def test_mentions_make_watchers(api: Api, case: dict) -> None:
    ann = api.create_user("ann@example.com", name="Ann")
    bob = api.create_user("bob@example.com", name="Bob")
    off = api.create_user("off@example.com")
    api.patch(
        f"/api/v2/users/{off['id']}",
        {"data": {"id": off["id"], "type": "users", "attributes": {"disabled": True}}},
    )
    api.comment(
        "SEC-1",
        "@ann@example.com and @BOB@example.com, see x@nobody.example; @off@example.com, @ghost",
    )
    watching = {w["id"] for w in api.get("/api/v2/cases/SEC-1/watchers").json()["data"]}
    assert watching == {api.user_id("admin@"), ann["id"], bob["id"]}
