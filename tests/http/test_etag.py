"""Optimistic concurrency: every case response carries an ETag; If-Match with a stale one is 412."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api


@pytest.fixture
def case(api: Api) -> dict[str, Any]:
    project = api.create_project("SEC", "Security")
    return api.create_case(project["id"], "Suspicious login")


def _with(api: Api, method: str, path: str, body: Any, tag: str) -> Any:
    return api.client.request(method, path, json=body, headers={**api.headers, "If-Match": tag})


def _description(text: str) -> dict[str, Any]:
    return {"data": {"type": "case", "attributes": {"description": text}}}


def test_two_editors_one_description(api: Api, case: dict) -> None:
    first = api.get("/api/v2/cases/SEC-1")
    tag = first.headers["etag"]
    assert tag == '"1"'
    path = "/api/v2/cases/SEC-1/description"
    ann = _with(api, "POST", path, _description("Ann's version"), tag)
    assert ann.status_code == 200
    assert ann.headers["etag"] == '"2"'
    bob = _with(api, "POST", path, _description("Bob's version"), tag)
    assert bob.status_code == 412
    assert bob.json()["errors"][0]["status"] == "412"
    assert bob.json()["errors"][0]["title"] == "Precondition Failed"
    assert '"2"' in bob.json()["errors"][0]["detail"]
    assert api.get("/api/v2/cases/SEC-1").json()["data"]["attributes"]["description"] == (
        "Ann's version"
    )
    # Without If-Match, the last writer wins, as in Datadog.
    assert api.post(path, _description("Bob's version")).status_code == 200


def test_every_change_moves_the_tag_and_reads_do_not(api: Api, case: dict) -> None:
    tags = [api.get("/api/v2/cases/SEC-1").headers["etag"]]
    assert api.get("/api/v2/cases/SEC-1").headers["etag"] == tags[0]
    tags.append(api.case_action("SEC-1", "priority", {"priority": "P1"}).headers["etag"])
    api.comment("SEC-1", "hello")  # changes comment_count: a new tag too
    tags.append(api.get("/api/v2/cases/SEC-1").headers["etag"])
    tags.append(api.case_action("SEC-1", "priority", {"priority": "P1"}).headers["etag"])
    assert tags == ['"1"', '"2"', '"3"', '"3"']  # the no-op changed nothing


@pytest.mark.parametrize("tag", ['"1"', '"7", "1"', "*"])
def test_matching_tags(api: Api, case: dict, tag: str) -> None:
    r = _with(
        api,
        "POST",
        "/api/v2/cases/SEC-1/title",
        {"data": {"type": "case", "attributes": {"title": "x"}}},
        tag,
    )
    assert r.status_code == 200


@pytest.mark.parametrize("tag", ['"7"', 'W/"1"', "1", "", '"' + "9" * 40 + '"', "garbage"])
def test_stale_or_malformed_tags_change_nothing(api: Api, case: dict, tag: str) -> None:
    before = api.history("SEC-1")
    calls = [
        (
            "POST",
            "/api/v2/cases/SEC-1/title",
            {"data": {"type": "case", "attributes": {"title": "x"}}},
        ),
        ("POST", "/api/v2/cases/SEC-1/archive", {"data": {"type": "case"}}),
        (
            "POST",
            "/api/v2/cases/SEC-1/comment",
            {"data": {"type": "case", "attributes": {"comment": "x"}}},
        ),
        (
            "PUT",
            "/api/v2/cases/SEC-1/insights",
            {
                "data": {
                    "type": "case",
                    "attributes": {
                        "insights": [{"type": "MONITOR", "ref": "/m/1", "resource_id": "1"}]
                    },
                }
            },
        ),
        ("POST", f"/api/v2/cases/SEC-1/watchers/{api.user_id('admin@')}", None),
    ]
    for method, path, body in calls:
        r = _with(api, method, path, body, tag)
        assert r.status_code == 412, (path, r.text)
    assert api.history("SEC-1") == before
    assert api.get("/api/v2/cases/SEC-1").headers["etag"] == '"1"'


def test_create_and_search_answers(api: Api, case: dict) -> None:
    project_id = case["relationships"]["project"]["data"]["id"]
    r = api.post(
        "/api/v2/cases",
        {
            "data": {
                "type": "case",
                "attributes": {"title": "t", "type_id": "00000000-0000-0000-0000-000000000001"},
                "relationships": {"project": {"data": {"id": project_id, "type": "project"}}},
            }
        },
    )
    assert r.status_code == 201 and r.headers["etag"] == '"1"'
    assert "etag" not in api.search("").headers  # a list has no one version
