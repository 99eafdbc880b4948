"""Dumps and their import (storage/dump.py), on both back ends.

The round trip seeds two organisations through the API (every kind of entity, a few
hundred cases with history, comments, custom attributes and links), dumps one back end,
imports into the other, and dumps again: the dumps are identical, the tables the triggers
keep are rebuilt alike, and the same keys read the same answers (a case by key and UUID,
counts, full-text search) from both. Then the ways an import must refuse, each leaving
the database empty.
"""

from __future__ import annotations

import io
import random
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from starlette.testclient import TestClient

from casebook.config import load_settings
from casebook.http.app import create_app
from casebook.storage import Store, open_store, schema
from casebook.storage import dump as dump_module
from casebook.storage.dump import DumpError, export_dump, import_dump
from casebook.storage.urls import DatabaseUrl
from tests.conftest import TEMPLATE, TEST_ENV
from tests.security.conftest import OrgWorld, build_org
from tests.support.api import Api, case_body
from tests.support.dump import dump_database
from tests.support.errors import as_recorded
from tests.support.postgres import PostgresCluster
from tests.support.tracker import FakeTracker

CASES = 200


def dumped(store: Store, **options: Any) -> bytes:
    out = io.BytesIO()
    export_dump(store, out, **options)
    return out.getvalue()


def load(store: Store, data: bytes) -> dump_module.Imported:
    return import_dump(store, io.BytesIO(data), size=len(data))


@pytest.fixture
def other_url(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated, empty database of the other back end."""
    if database_url.startswith("postgresql"):
        url = f"sqlite:///{tmp_path / 'other.db'}"
        store = open_store(DatabaseUrl.parse(url))
        store.migrate()
        store.close()
        yield url
        return
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    name = f"other_{secrets.token_hex(4)}"
    yield cluster.create_database(name, template=TEMPLATE)
    cluster.drop_database(name)


def _seed_cases(world: OrgWorld, rng: random.Random) -> None:
    """Cases with history: custom values, attributes, status moves, assignments, comments
    (one edited, one deleted), links, a move to another project, an archived case."""
    api = world.admin
    other = api.create_project("OPS", "Operations")
    made = []
    for i in range(CASES):
        body = case_body(
            world.project["id"],
            f"Suspicious login {i} from host-{i % 17} ünïcødé",
            priority=rng.choice(["P1", "P2", "P3", "P4"]),
            description=f'line one\nline two {i}\t"quoted"',
        )
        body["data"]["attributes"]["custom_attributes"] = {
            world.field: {"type": "TEXT", "is_multi": False, "value": f"note {i % 5}"}
        }
        r = api.post("/api/v2/cases", body)
        assert r.status_code == 201, r.text
        made.append(r.json()["data"])
    for case in made[::3]:
        assert api.case_action(case["id"], "status", {"status": "IN_PROGRESS"}).status_code == 200
    for case in made[::5]:
        r = api.case_action(case["id"], "assign", {"assignee_id": world.member["id"]})
        assert r.status_code == 200, r.text
    for case in made[::7]:
        r = api.comment(case["id"], f"Looking into {case['attributes']['key']}")
        assert r.status_code == 200, r.text
    cell = api.comment(made[0]["id"], "to edit").json()["data"][0]["id"]
    edit = {"data": {"type": "case", "attributes": {"comment": "edited"}}}
    assert api.put(f"/api/v2/cases/{made[0]['id']}/comment/{cell}", edit).status_code == 200
    cell = api.comment(made[1]["id"], "to delete").json()["data"][0]["id"]
    assert api.delete(f"/api/v2/cases/{made[1]['id']}/comment/{cell}").status_code == 204
    for parent, child in zip(made[:20:2], made[1:20:2], strict=True):
        link = {
            "data": {
                "type": "link",
                "attributes": {
                    "parent_entity_type": "CASE",
                    "parent_entity_id": parent["id"],
                    "child_entity_type": "CASE",
                    "child_entity_id": child["id"],
                    "relationship": "BLOCKS",
                },
            }
        }
        assert api.post("/api/v2/cases/link", link).status_code == 201
    move = {"data": {"type": "project", "id": other["id"]}}
    r = api.patch(f"/api/v2/cases/{made[2]['id']}/relationships/project", move)
    assert r.status_code == 200, r.text
    assert api.case_action(made[3]["id"], "archive").status_code == 200
    favorite = f"/api/v2/cases/projects/{world.project['id']}/favorites"
    assert api.post(favorite, None).status_code == 204
    # No endpoint writes a case's attributes (Datadog's integrations do): the store does.
    with api.store.write() as tx:
        tx.sql.execute(  # type: ignore[attr-defined]
            "UPDATE cases SET attributes = ? WHERE org_id = ? AND number % 3 = 0",
            ('{"env": ["prod"], "service": ["web-store", "Auth"]}', world.org_id),
        )


@pytest.fixture
def seeded(api: Api, tracker: FakeTracker) -> tuple[OrgWorld, OrgWorld]:
    a = build_org(api, "default", tracker)
    b = build_org(api.new_org_admin("orgb"), "orgb", tracker)
    _seed_cases(a, random.Random(7))
    return a, b


def _answers(client: TestClient, api: Api, world: OrgWorld) -> dict[str, Any]:
    """What the API says of the seeded data, read with the world's keys."""
    get = lambda path, **params: client.get(path, params=params or None, headers=api.headers)  # noqa: E731
    found: dict[str, Any] = {}
    for path, params in (
        ("/api/v2/cases/count", {"group_bys": "priority,status"}),
        ("/api/v2/cases/count", {"filter": "project:SEC", "group_bys": "assignee"}),
        ("/api/v2/cases", {"filter": "login host-3", "page[size]": 100}),
        ("/api/v2/cases", {"filter": "Looking", "page[size]": 100}),
        (f"/api/v2/cases/{world.case['id']}", {}),
        ("/api/v2/cases/SEC-5", {}),
        ("/api/v2/cases/SEC-3", {}),  # the moved case, by its old key
        ("/api/v2/cases/SEC-1/timelines", {"sort[ascending]": "true"}),
        ("/api/v2/cases/views", {"project_id": world.project["id"]}),
        (f"/api/v2/cases/projects/{world.project['id']}/rules", {}),
        ("/api/v2/maintenance_windows", {}),
        ("/api/v2/users", {}),
    ):
        r = get(path, **params)
        found[f"{path}?{params}"] = (r.status_code, as_recorded(r.json()))  # no request ids
    return found


def test_round_trip_to_the_other_back_end(
    seeded: tuple[OrgWorld, OrgWorld],
    store: Store,
    database_url: str,
    other_url: str,
    tmp_path: Path,
) -> None:
    a, b = seeded
    first = dumped(store)
    target = open_store(DatabaseUrl.parse(other_url))
    try:
        done = load(target, first)
        assert done.cases == CASES + 2 and sorted(done.orgs) == ["default", "orgb"]
        assert dumped(target) == first
        # The tables the triggers keep: rebuilt alike.
        source_rows, target_rows = dump_database(database_url), dump_database(other_url)
        for table in ("case_attributes", "case_custom_values"):
            assert target_rows[table] == source_rows[table] and source_rows[table], table
        # The same keys read the same answers (counts read the tallies, search the index).
        settings = load_settings({"CASEBOOK_DATABASE_URL": other_url, **TEST_ENV})
        with TestClient(create_app(settings, target)) as client:
            for world in (a, b):
                before = _answers(world.admin.client, world.admin, world)
                assert _answers(client, world.admin, world) == before
                if world is a:
                    assert {k: v for k, v in before.items() if v[0] != 200} == {}
            # New rows get new ids after the move (PostgreSQL's sequences were moved on).
            r = client.post(
                "/api/v2/cases", json=case_body(a.project["id"], "after"), headers=a.admin.headers
            )
            assert r.status_code == 201, r.text
            assert r.json()["data"]["attributes"]["key"] == f"SEC-{CASES + 2}"
    finally:
        target.close()
    # One organisation, into an empty database: the other organisation stays behind.
    with store.read() as tx:
        org = tx.orgs.by_name("orgb")
        assert org is not None
    data = dumped(store, org=(org.id, org.name))
    assert b"default standing case" not in data and b"orgb standing case" in data
    fresh = open_store(DatabaseUrl.parse(f"sqlite:///{tmp_path / 'orgb.db'}"))
    try:
        fresh.migrate()
        assert load(fresh, data).orgs == ["orgb"]
        assert dumped(fresh, org=(org.id, org.name)) == data
    finally:
        fresh.close()


def test_every_table_is_dumped_or_excluded_and_scoped() -> None:
    """A new table is dumped unless excluded here on purpose; with --org, each dumped table
    must reach its organisation (org_id, or a foreign key to a table with one) or be
    server-wide on purpose."""
    names = {t.name for t in schema.metadata.sorted_tables}
    dumped_names = {t.name for t in dump_module.dumped_tables()}
    assert names >= dump_module.DERIVED | dump_module.RUNTIME
    assert dumped_names == names - dump_module.DERIVED - dump_module.RUNTIME
    unscoped = {t.name for t in dump_module.dumped_tables() if dump_module._org_scope(t) is None}
    assert unscoped == dump_module.SERVER_WIDE


def test_two_dumps_of_the_same_data_are_identical(api: Api, store: Store) -> None:
    api.create_case(api.create_project()["id"], "one")
    assert dumped(store) == dumped(store)
    header = msgspec.json.decode(dumped(store).splitlines()[0])
    assert set(header) == {"format", "version", "schema", "org"}


# --- refusals: each leaves the target empty -------------------------------------------
@pytest.fixture
def small_dump(api: Api, store: Store) -> bytes:
    project = api.create_project()
    for i in range(3):
        api.create_case(project["id"], f"case {i}")
    return dumped(store)


def _refused(url: str, data: bytes) -> str:
    target = open_store(DatabaseUrl.parse(url))
    try:
        with pytest.raises(DumpError) as caught:
            load(target, data)
        assert dump_module.is_empty(target) is None
    finally:
        target.close()
    return caught.value.message


def _line_of(data: bytes, needle: bytes) -> int:
    return next(i for i, line in enumerate(data.splitlines(), 1) if needle in line)


def test_bad_dumps_are_refused_by_line(small_dump: bytes, other_url: str) -> None:
    lines = small_dump.splitlines(keepends=True)
    at = _line_of(small_dump, b'"case 1"')

    def swapped(row: list[Any]) -> bytes:
        return b"".join([*lines[: at - 1], msgspec.json.encode(row) + b"\n", *lines[at:]])

    # Truncated inside a line, then at a line's end: the line is named either way.
    partial = b"".join(lines[: at - 1]) + lines[at - 1][:20]
    assert _refused(other_url, partial).startswith(f"line {at}: not valid JSON")
    assert _refused(other_url, b"".join(lines[:at])) == (
        f"line {at + 1}: the dump ends before its end line (truncated?)"
    )
    # A value of the wrong type; a row the database refuses (a project that is not there).
    row = msgspec.json.decode(lines[at - 1])
    assert _refused(other_url, swapped([*row[:4], "seven", *row[5:]])) == (
        f"line {at}: cases.number must be int, not 'seven'"
    )
    refused = _refused(other_url, swapped([*row[:3], "no-such-project", *row[4:]]))
    assert refused.startswith(f"lines {at - 1}-{at + 1}: the database refused a row"), refused
    # A newer format; not a dump at all.
    header = msgspec.json.decode(lines[0])
    header["version"] = dump_module.FORMAT_VERSION + 1
    newer = msgspec.json.encode(header) + b"\n" + b"".join(lines[1:])
    assert _refused(other_url, newer).startswith(
        f"line 1: the dump is format {dump_module.FORMAT_VERSION + 1}, newer than"
    )
    assert _refused(other_url, b"hello\n").startswith("line 1: not valid JSON")
    assert _refused(other_url, b"[1]\n").startswith("line 1: not a casebook dump")


def test_a_database_with_data_is_refused(small_dump: bytes, store: Store) -> None:
    with pytest.raises(DumpError, match="the database is not empty"):
        load(store, small_dump)
