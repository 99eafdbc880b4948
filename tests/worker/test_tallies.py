"""The delivery worker folds the case tallies' waiting changes (storage/tallies.py), and
counts stay exact before, during and after."""

from __future__ import annotations

import asyncio
import time

from casebook.worker.runner import running
from tests.support.api import Api


def _waiting(api: Api) -> int:
    with api.store.read() as tx:
        return tx.cases.tally_deltas(10_000)


def _counts(api: Api) -> dict[str, object]:
    r = api.get("/api/v2/cases/count", group_bys="status,priority,project,assignee")
    assert r.status_code == 200, r.text
    return dict(r.json()["data"]["attributes"])


def test_the_worker_folds_the_tallies_and_counts_stay_exact(api: Api) -> None:
    project = api.create_project("SEC")["id"]
    cases = [api.create_case(project, f"case {i}", priority="P2")["id"] for i in range(12)]
    for ref in cases[:5]:
        assert api.case_action(ref, "priority", {"priority": "P1"}).status_code == 200
    assert _waiting(api) == 12 + 2 * 5  # one per case made, two per change of a facet
    before = _counts(api)
    assert before["total"] == 12

    async def work() -> None:
        async with running(api.store, fold_at=10):
            deadline = time.monotonic() + 10
            while _waiting(api) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)

    asyncio.run(work())
    assert _waiting(api) == 0
    assert _counts(api) == before
    with api.store.read() as tx:
        rows = tx.sql.all(  # type: ignore[attr-defined]
            "SELECT priority_rank, n FROM case_tallies ORDER BY priority_rank"
        )
    assert [(int(rank), int(n)) for rank, n in rows] == [(4, 7), (5, 5)]  # P2, P1: folded, summed
