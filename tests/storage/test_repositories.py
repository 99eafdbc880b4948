"""The repositories of a transaction, through a real store on both back ends: typed case
updates write exactly the fields given, and rows map back to the same entities."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from casebook.core.clock import new_id, now_us
from casebook.core.entities import (
    STANDARD_CASE_TYPE_ID,
    Case,
    Org,
    Priority,
    Project,
    Status,
    User,
    UserStatus,
)
from casebook.domain.keys import user_ref
from casebook.search.parser import parse
from casebook.storage.base import CaseUpdate, Store


@dataclass
class World:
    store: Store
    org_id: str
    ann: User
    bob: User
    case: Case


def _user(org_id: str, email: str, at: int) -> User:
    return User(new_id(), org_id, email, email, None, None, UserStatus.ACTIVE, False, False, at, at)


def _case(org_id: str, project: Project, number: int, creator: User, at: int) -> Case:
    return Case(
        id=new_id(),
        seq=0,
        org_id=org_id,
        project_id=project.id,
        number=number,
        key=f"{project.key}-{number}",
        title="Disk full",
        description="on host-7",
        priority=Priority.P3,
        status=Status.OPEN,
        type_id=STANDARD_CASE_TYPE_ID,
        attributes={"service": ["web"]},
        custom_attributes={},
        creation_source="MANUAL",
        created_at=at,
        created_by=user_ref(creator),
    )


@pytest.fixture
def world(store: Store) -> World:
    """An organisation with two users and one project holding one case."""
    at = now_us()
    org = Org(new_id(), "acme", at)
    ann, bob = _user(org.id, "ann@example.com", at), _user(org.id, "bob@example.com", at)
    project = Project(new_id(), org.id, "SEC", "Security", [], None, at, ann.id)
    with store.write() as tx:
        tx.orgs.insert(org)
        tx.users.insert(ann)
        tx.users.insert(bob)
        tx.projects.insert(project)
        allocated = tx.projects.allocate_case_number(org.id, project.id)
        assert allocated == (1, "SEC")
        case = _case(org.id, project, 1, ann, at)
        case.seq = tx.cases.insert(case)
    return World(store, org.id, ann, bob, case)


def _update(world: World, change: CaseUpdate) -> Case:
    with world.store.write() as tx:
        tx.cases.update(world.org_id, world.case.id, change)
    with world.store.read() as tx:
        stored = tx.cases.get(world.org_id, world.case.id)
    assert stored is not None
    return stored


def test_a_case_reads_back_as_it_was_inserted(world: World) -> None:
    with world.store.read() as tx:
        assert tx.cases.get(world.org_id, world.case.id) == world.case
        assert tx.cases.by_key(world.org_id, "SEC-1") == world.case
        assert tx.cases.get("another-org", world.case.id) is None


def test_an_update_writes_only_the_fields_given(world: World) -> None:
    stored = _update(world, CaseUpdate(title="Disk full again", status=Status.IN_PROGRESS))
    assert stored == dataclasses.replace(
        world.case, title="Disk full again", status=Status.IN_PROGRESS
    )
    assert _update(world, CaseUpdate()) == stored


def test_none_clears_and_users_are_given_by_id(world: World) -> None:
    at = now_us()
    ann, bob = user_ref(world.ann), user_ref(world.bob)
    stored = _update(
        world,
        CaseUpdate(
            closed_at=at, archived_at=at, assignee_id=bob.id, modified_at=at, modified_by=ann.id
        ),
    )
    expected = dataclasses.replace(
        world.case, closed_at=at, archived_at=at, assignee=bob, modified_at=at, modified_by=ann
    )
    assert stored == expected
    stored = _update(world, CaseUpdate(closed_at=None, archived_at=None, assignee_id=None))
    assert stored == dataclasses.replace(expected, closed_at=None, archived_at=None, assignee=None)


def test_the_priority_rank_follows_the_priority(world: World) -> None:
    for priority in (Priority.P1, Priority.NOT_DEFINED, Priority.P5):
        assert _update(world, CaseUpdate(priority=priority)).priority is priority
        with world.store.read() as tx:
            row = tx.sql.one(  # type: ignore[attr-defined]
                "SELECT priority, priority_rank FROM cases WHERE id = ?", (world.case.id,)
            )
        assert tuple(row) == (priority.value, priority.rank)


def test_attributes_are_stored_as_json_and_searched(world: World) -> None:
    stored = _update(world, CaseUpdate(attributes={"service": ["db", "api"], "team": []}))
    assert stored.attributes == {"service": ["db", "api"], "team": []}

    def found(text: str) -> list[str]:
        with world.store.read(snapshot=True) as tx:
            cases, _ = tx.cases.search(
                world.org_id,
                parse(text, now_us=now_us()),
                actor_user_id=world.ann.id,
                sort="created_at",
                ascending=False,
                limit=10,
                offset=0,
            )
        return [c.key for c in cases]

    assert found("service:api") == ["SEC-1"]
    assert found("service:web") == []


def test_a_search_page_has_one_user_ref_per_user(world: World) -> None:
    with world.store.write() as tx:
        project = tx.projects.get(world.org_id, world.case.project_id)
        assert project is not None
        for _ in range(3):
            allocated = tx.projects.allocate_case_number(world.org_id, project.id)
            assert allocated is not None
            tx.cases.insert(_case(world.org_id, project, allocated[0], world.ann, now_us()))
    with world.store.read(snapshot=True) as tx:
        cases, total = tx.cases.search(
            world.org_id,
            parse("", now_us=now_us()),
            actor_user_id=world.ann.id,
            sort="created_at",
            ascending=False,
            limit=10,
            offset=0,
        )
    assert total == 4
    assert len({id(c.created_by) for c in cases}) == 1


def _more_cases(world: World, count: int) -> list[Case]:
    """``count`` more cases in the world's project (SEC-2, SEC-3...)."""
    made = []
    with world.store.write() as tx:
        project = tx.projects.get(world.org_id, world.case.project_id)
        assert project is not None
        for _ in range(count):
            allocated = tx.projects.allocate_case_number(world.org_id, project.id)
            assert allocated is not None
            case = _case(world.org_id, project, allocated[0], world.ann, now_us())
            case.seq = tx.cases.insert(case)
            made.append(case)
    return made


def test_many_cases_come_in_the_order_of_their_ids_and_only_the_orgs(world: World) -> None:
    cases = [world.case, *_more_cases(world, 4)]
    ids = [c.id for c in reversed(cases)] + [new_id()]
    with world.store.write() as tx:
        assert tx.cases.get_many(world.org_id, ids, for_update=True) == sorted(
            cases, key=lambda c: c.id
        )
        assert tx.cases.get_many("another-org", ids) == []
        assert tx.cases.get_many(world.org_id, []) == []


def test_ids_by_key_reads_keys_and_the_keys_cases_had(world: World) -> None:
    (second,) = _more_cases(world, 1)
    with world.store.write() as tx:
        tx.cases.add_alias(world.org_id, "OLD-7", second.id, now_us())
    with world.store.read() as tx:
        found = tx.cases.ids_by_key(world.org_id, ["SEC-1", "OLD-7", "SEC-99"])
        assert found == {"SEC-1": world.case.id, "OLD-7": second.id}
        assert tx.cases.ids_by_key("another-org", ["SEC-1", "OLD-7"]) == {}


def test_update_many_writes_each_case_as_update_would(world: World) -> None:
    cases = [world.case, *_more_cases(world, 4)]
    at = now_us()
    changes = [
        # Alike but for their versions (one statement), then one of a kind, then one whose
        # values differ (a key), then one without a version.
        CaseUpdate(priority=Priority.P1, modified_at=at, version=5),
        CaseUpdate(priority=Priority.P1, modified_at=at, version=9),
        CaseUpdate(priority=Priority.P2, modified_at=at, version=2),
        CaseUpdate(key="NET-4", number=4, version=3),
        CaseUpdate(archived_at=at),
    ]
    with world.store.write() as tx:
        tx.cases.update_many(world.org_id, [(c.id, u) for c, u in zip(cases, changes, strict=True)])
        tx.cases.update_many(world.org_id, [])
    with world.store.read() as tx:
        stored = tx.cases.get_many(world.org_id, [c.id for c in cases])
    by_id = {c.id: c for c in stored}
    expected = [
        dataclasses.replace(cases[0], priority=Priority.P1, modified_at=at, version=5),
        dataclasses.replace(cases[1], priority=Priority.P1, modified_at=at, version=9),
        dataclasses.replace(cases[2], priority=Priority.P2, modified_at=at, version=2),
        dataclasses.replace(cases[3], key="NET-4", number=4, version=3),
        dataclasses.replace(cases[4], archived_at=at),
    ]
    assert [by_id[c.id] for c in cases] == expected
