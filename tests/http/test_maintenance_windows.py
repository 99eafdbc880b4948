"""Maintenance windows: ``/api/v2/maintenance_windows``, the organisation's muted time ranges."""

from __future__ import annotations

from typing import Any

import pytest

from casebook.domain import limits
from casebook.domain.users import BOOTSTRAP_ADMIN_EMAIL
from tests.support.api import Api

WINDOWS = "/api/v2/maintenance_windows"


def window_body(
    name: str = "Database upgrade",
    query: str = "project:SEC priority:P3",
    start_at: str = "2030-01-01T22:00:00Z",
    end_at: str = "2030-01-02T02:00:00Z",
) -> Any:
    attributes = {"name": name, "query": query, "start_at": start_at, "end_at": end_at}
    return {"data": {"type": "maintenance_window", "attributes": attributes}}


def make_window(api: Api, **kw: Any) -> dict[str, Any]:
    r = api.post(WINDOWS, window_body(**kw))
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


def update(api: Api, window_id: str, **attributes: Any) -> Any:
    body = {"data": {"type": "maintenance_window", "attributes": attributes}}
    return api.put(f"{WINDOWS}/{window_id}", body)


def test_create_list_update_delete(api: Api) -> None:
    admin = api.user_id(BOOTSTRAP_ADMIN_EMAIL)
    assert api.get(WINDOWS).json() == {"data": []}
    window = make_window(
        api, start_at="2030-01-01T23:00:00+01:00", end_at="2030-01-02T02:00:00.5-05:00"
    )
    assert window["type"] == "maintenance_window"
    # Times in UTC, to the microsecond; updated_by only once updated.
    assert window["attributes"] == {
        "name": "Database upgrade",
        "query": "project:SEC priority:P3",
        "start_at": "2030-01-01T22:00:00.000000Z",
        "end_at": "2030-01-02T07:00:00.500000Z",
        "created_by": admin,
    }
    later = make_window(
        api, name="Later", start_at="2031-01-01T00:00:00Z", end_at="2031-01-02T00:00:00Z"
    )
    earlier = make_window(
        api, name="Past", start_at="2020-01-01T00:00:00Z", end_at="2020-01-02T00:00:00Z"
    )
    listed = api.get(WINDOWS)
    assert listed.status_code == 200
    assert listed.headers["content-type"] == "application/vnd.api+json"
    # By start time, past windows included.
    assert [w["id"] for w in listed.json()["data"]] == [earlier["id"], window["id"], later["id"]]

    # PUT changes what it sends.
    r = update(api, window["id"], name="Database upgrade, take two", query="")
    assert r.status_code == 200, r.text
    attributes = r.json()["data"]["attributes"]
    assert attributes["name"] == "Database upgrade, take two"
    assert attributes["query"] == ""
    assert (attributes["start_at"], attributes["end_at"]) == (
        "2030-01-01T22:00:00.000000Z",
        "2030-01-02T07:00:00.500000Z",
    )
    assert attributes["updated_by"] == admin
    r = update(api, window["id"], end_at="2030-01-01T23:30:00Z")
    assert r.json()["data"]["attributes"]["end_at"] == "2030-01-01T23:30:00.000000Z"
    assert r.json()["data"] in api.get(WINDOWS).json()["data"]
    assert update(api, window["id"]).status_code == 200

    assert api.delete(f"{WINDOWS}/{window['id']}").status_code == 204
    assert api.delete(f"{WINDOWS}/{window['id']}").status_code == 404
    assert update(api, window["id"], name="gone").status_code == 404
    assert [w["id"] for w in api.get(WINDOWS).json()["data"]] == [earlier["id"], later["id"]]


@pytest.mark.parametrize(
    ("attributes", "fragment"),
    [
        ({"name": " "}, "invalid maintenance window name"),
        ({"query": "stauts:open"}, '"stauts"'),
        ({"start_at": "2030-01-02T02:00:00Z"}, "start_at must be before end_at"),
        ({"end_at": "2030-01-01T22:00:00Z"}, "start_at must be before end_at"),
        ({"start_at": "2030-01-01T22:00:00"}, "with a time zone"),
        ({"start_at": "2030-01-01"}, "invalid start_at"),
        ({"start_at": "tomorrow"}, "invalid start_at"),
        ({"end_at": "2030-02-30T00:00:00Z"}, "invalid end_at"),
        ({"end_at": "2030-01-01T25:00:00Z"}, "invalid end_at"),
        ({"start_at": "1969-12-31T23:59:59Z"}, "between 1970 and 9999"),
        ({"start_at": 1893535200}, "Expected `str`"),
    ],
)
def test_refused_windows(api: Api, attributes: dict[str, Any], fragment: str) -> None:
    body = window_body()
    body["data"]["attributes"].update(attributes)
    r = api.post(WINDOWS, body)
    assert r.status_code == 400, r.text
    assert fragment in r.json()["errors"][0]["detail"], r.text
    # An update is checked the same way, against what the window keeps.
    window = make_window(api)
    r = update(api, window["id"], **attributes)
    assert r.status_code == 400, r.text
    assert api.get(WINDOWS).json()["data"] == [window]


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"type": "maintenance_windows", "attributes": {}}},
        {"data": {"type": "maintenance_window"}},
        {"data": {"type": "maintenance_window", "attributes": {"name": "x", "query": ""}}},
    ],
)
def test_bad_bodies(api: Api, body: Any) -> None:
    assert api.post(WINDOWS, body).status_code == 400


def test_unknown_windows_are_404(api: Api) -> None:
    for window_id in ("7c0f4f0e-0000-4000-8000-000000000000", "not-a-uuid"):
        r = update(api, window_id, name="x")
        assert r.status_code == 404
        assert r.json()["errors"][0]["title"] == "maintenance window not found"
        assert api.delete(f"{WINDOWS}/{window_id}").status_code == 404


def test_windows_never_cross_organisations(api: Api) -> None:
    other = api.new_org_admin("acme")
    theirs = make_window(other, name="Theirs")
    make_window(api, name="Mine")
    assert [w["attributes"]["name"] for w in api.get(WINDOWS).json()["data"]] == ["Mine"]
    assert update(api, theirs["id"], name="Stolen").status_code == 404
    assert api.delete(f"{WINDOWS}/{theirs['id']}").status_code == 404
    assert other.get(WINDOWS).json()["data"] == [theirs]


def test_an_organisation_holds_at_most_1000_windows(api: Api) -> None:
    assert limits.MAX_MAINTENANCE_WINDOWS == 1000
    for i in range(1000):
        assert api.post(WINDOWS, window_body(name=f"w{i}")).status_code == 201
    r = api.post(WINDOWS, window_body())
    assert r.status_code == 409 and "1000 maintenance windows" in r.text, r.text
