"""The official Python client pages through searches and gets each matching case exactly once.

``search_cases_with_pagination`` asks for page 1, 2, ... and stops at the first
short page; it never reads ``meta.total_cases``, which casebook counts only up
to ``sql_search.COUNT_LIMIT`` (1,000) -- the 1,200-case filter pages past it.
The cases are written straight into the server's database through the store
(no HTTP), many with equal creation times and priorities, so the order's
tie-breaker decides where pages split.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from datadog_api_client.v2.api.case_management_api import CaseManagementApi
from datadog_api_client.v2.model.case_sortable_field import CaseSortableField

from casebook.core.clock import new_id, now_us
from casebook.core.entities import STANDARD_CASE_TYPE_ID, Case, Priority, Project, Status
from casebook.domain import users as users_domain
from casebook.domain.keys import user_ref
from casebook.storage import open_store
from casebook.storage.sql_search import COUNT_LIMIT
from casebook.storage.urls import DatabaseUrl
from tests.e2e.conftest import make_client
from tests.support.server import Keys, running_server

pytestmark = pytest.mark.slow

# project key -> number of cases; "HUN" cases also carry attribute service:hundred.
GROUPS = {"ONE": 1, "HUN": 100, "TWO": 250, "BIG": 1_200}


def seed(database_url: str, keys: Keys) -> dict[str, set[str]]:
    """The cases of each project, written in one transaction per project."""
    store = open_store(DatabaseUrl.parse(database_url))
    rng = random.Random(7)
    made: dict[str, set[str]] = {}
    try:
        store.migrate()
        users_domain.bootstrap(store, "", api_key=keys.api_key, app_key=keys.app_key)
        with store.read() as tx:
            org = tx.orgs.by_name(users_domain.DEFAULT_ORG)
            assert org is not None
            admin = tx.users.by_email(org.id, users_domain.BOOTSTRAP_ADMIN_EMAIL)
            assert admin is not None
        at = now_us()
        for key, count in GROUPS.items():
            project = Project(
                id=new_id(),
                org_id=org.id,
                key=key,
                name=key,
                enabled_custom_case_types=[],
                team_uuid=None,
                created_at=at,
                created_by=admin.id,
            )
            made[key] = set()
            with store.write() as tx:
                tx.projects.insert(project)
                for i in range(count):
                    allocated = tx.projects.allocate_case_number(org.id, project.id)
                    assert allocated is not None
                    number, _ = allocated
                    case = Case(
                        id=new_id(),
                        seq=0,
                        org_id=org.id,
                        project_id=project.id,
                        number=number,
                        key=f"{key}-{number}",
                        title=f"case {i} of {key}",
                        description="",
                        priority=rng.choice([Priority.P1, Priority.P3]),
                        status=rng.choice([Status.OPEN, Status.IN_PROGRESS]),
                        type_id=STANDARD_CASE_TYPE_ID,
                        attributes={"service": ["hundred"]} if key == "HUN" else {},
                        custom_attributes={},
                        creation_source="MANUAL",
                        # Runs of 25 cases created in the same microsecond.
                        created_at=at - (i // 25) * 1_000_000,
                        created_by=user_ref(admin),
                    )
                    tx.cases.insert(case)
                    made[key].add(case.id)
    finally:
        store.close()
    return made


@pytest.fixture
def cases_api(
    database_url: str, keys: Keys
) -> Iterator[tuple[CaseManagementApi, dict[str, set[str]]]]:
    made = seed(database_url, keys)
    with running_server(database_url, keys) as server, make_client(server, keys) as client:
        yield CaseManagementApi(client), made


def test_each_matching_case_exactly_once(
    cases_api: tuple[CaseManagementApi, dict[str, set[str]]],
) -> None:
    cases, made = cases_api
    searches = [
        ("kubernetes", set(), 10, {}),
        ("project:ONE", made["ONE"], 10, {}),
        ("service:hundred", made["HUN"], 10, {}),
        ("service:hundred", made["HUN"], 100, {"sort_asc": True}),
        ("project:TWO", made["TWO"], 100, {}),
        ("project:TWO", made["TWO"], 7, {"sort_field": CaseSortableField.PRIORITY}),
        (
            "project:TWO",
            made["TWO"],
            25,
            {"sort_field": CaseSortableField.STATUS, "sort_asc": True},
        ),
        (
            "project:TWO -project:ONE",
            made["TWO"],
            50,
            {"sort_field": CaseSortableField.PRIORITY, "sort_asc": True},
        ),
        (
            "project:BIG OR project:ONE",
            made["BIG"] | made["ONE"],
            100,
            {"sort_field": CaseSortableField.STATUS},
        ),
    ]
    for text, expected, size, options in searches:
        kwargs = {"page_size": size, **options}
        if text:
            kwargs["filter"] = text
        seen = [case.id for case in cases.search_cases_with_pagination(**kwargs)]
        assert len(seen) == len(set(seen)), (text, size, options, "a case came twice")
        assert set(seen) == expected, (text, size, options, len(seen), len(expected))

    # total_cases, which the paginator ignores, is exact up to COUNT_LIMIT.
    assert cases.search_cases(filter="project:TWO", page_size=10).meta.total_cases == 250
    big = cases.search_cases(filter="project:BIG", page_size=100)
    assert big.meta.total_cases == COUNT_LIMIT + 1  # "more than 1,000"
    assert big.meta.page.total == 11
    # Near the end the count reaches the last match: exact again.
    last = cases.search_cases(filter="project:BIG", page_size=100, page_number=12)
    assert (len(last.data), last.meta.total_cases, last.meta.page.total) == (100, 1_200, 12)
    past = cases.search_cases(filter="project:BIG", page_size=100, page_number=13)
    assert (len(past.data), past.meta.total_cases) == (0, 1_200)
