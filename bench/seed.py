"""Seed a benchmark database through casebook's own storage layer (no HTTP).

One project ``BENCH`` holds the cases (statuses and priorities spread evenly
at random, so ``status:open priority:P2`` matches about one case in fifteen),
and ``projects`` more empty projects (``M0``, ``M1``...) take creates spread
over many projects. Everything is written in a few large transactions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.ceiling import DESCRIPTION
from casebook.core.clock import new_id, now_us
from casebook.core.entities import (
    STANDARD_CASE_TYPE_ID,
    Case,
    CaseChange,
    Priority,
    Project,
    Status,
)
from casebook.domain import users as users_domain
from casebook.domain.keys import user_ref
from casebook.storage import open_store
from casebook.storage.urls import DatabaseUrl

PROJECT_KEY = "BENCH"
BATCH = 2000
_PRIORITIES = [p for p in Priority if p is not Priority.NOT_DEFINED]
_WORDS = ["login", "malware", "phishing", "exfiltration", "token", "kubernetes", "disk", "alert"]


@dataclass
class Seeded:
    project_id: str
    many_project_ids: list[str]
    cases: list[tuple[str, str, str]]  # (uuid, key, status)


def seed(
    database_url: str,
    *,
    api_key: str,
    app_key: str,
    cases: int,
    projects: int = 64,
    sqlite_synchronous: str = "FULL",
    rng: random.Random | None = None,
) -> Seeded:
    """Migrate, make the bootstrap admin own the keys, and write the cases."""
    rng = rng or random.Random(42)
    store = open_store(DatabaseUrl.parse(database_url), sqlite_synchronous=sqlite_synchronous)
    try:
        store.migrate()
        users_domain.bootstrap(store, "", api_key=api_key, app_key=app_key)
        with store.read() as tx:
            org = tx.orgs.by_name(users_domain.DEFAULT_ORG)
            assert org is not None
            admin = tx.users.by_email(org.id, users_domain.BOOTSTRAP_ADMIN_EMAIL)
            assert admin is not None
        creator = user_ref(admin)
        at = now_us()
        keys = [PROJECT_KEY] + [f"M{i}" for i in range(projects)]
        project_ids = []
        with store.write() as tx:
            for key in keys:
                project = Project(
                    id=new_id(),
                    org_id=org.id,
                    key=key,
                    name=f"Bench {key}",
                    enabled_custom_case_types=[],
                    team_uuid=None,
                    created_at=at,
                    created_by=admin.id,
                )
                tx.projects.insert(project)
                project_ids.append(project.id)
        seeded: list[tuple[str, str, str]] = []
        start = at - cases * 1000
        for first in range(0, cases, BATCH):
            with store.write() as tx:
                for i in range(first, min(first + BATCH, cases)):
                    allocated = tx.projects.allocate_case_number(org.id, project_ids[0])
                    assert allocated is not None
                    number, project_key = allocated
                    status = rng.choice(list(Status))
                    created = start + i * 1000
                    case = Case(
                        id=new_id(),
                        seq=0,
                        org_id=org.id,
                        project_id=project_ids[0],
                        number=number,
                        key=f"{project_key}-{number}",
                        title=f"Suspicious {rng.choice(_WORDS)} on host-{i % 97} (case {number})",
                        description=DESCRIPTION,
                        priority=rng.choice(_PRIORITIES),
                        status=status,
                        type_id=STANDARD_CASE_TYPE_ID,
                        attributes={},
                        custom_attributes={},
                        creation_source="MANUAL",
                        created_at=created,
                        created_by=creator,
                        closed_at=created if status is Status.CLOSED else None,
                    )
                    case.seq = tx.cases.insert(case)
                    tx.history.record(
                        org.id, case.id, admin.id, created, [CaseChange("created", None, case.key)]
                    )
                    seeded.append((case.id, case.key, status.value))
        if store.dialect == "postgres":
            # What autovacuum does within a minute of a bulk insert (PostgreSQL 13+
            # vacuums after inserts too): without statistics the planner guesses
            # one row per table, and without the visibility map an index-only
            # scan (the search's count) still reads the table's pages.
            import psycopg

            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
        return Seeded(project_ids[0], project_ids[1:], seeded)
    finally:
        store.close()
