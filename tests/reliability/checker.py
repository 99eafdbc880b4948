"""Read the database after a run and hold it against the ledger of what clients saw.

The rules, per run:

- every acknowledged create is stored once, with the key and id it was
  acknowledged with (else ``lost`` / ``content``);
- no case is stored twice (``duplicate``), and every stored case comes from a
  create that was acknowledged or unknown (``phantom`` / ``failed-present``):
  an unknown create may turn up, but only once and in its own project;
- each project's numbers are exactly 1..max, keys are ``<project key>-<n>``
  and unique in the organisation (``gap`` / ``duplicate`` / ``key``), and the
  project's counter equals max (``counter``), so the next create cannot skip;
- each case's priority and status are the last acknowledged value set by its
  (only) writer, or the value of a later unknown update (``content``); an
  acknowledged change that must have changed something left a history row, and
  every case has exactly one ``created`` history row (``history``).

The database is read directly (``sqlite3`` / ``psycopg``), not through casebook.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tests.reliability.ledger import Write

_CASES = (
    "SELECT c.id, c.org_id, c.project_id, p.key, c.number, c.key, c.title, c.priority, c.status"
    " FROM cases c JOIN projects p ON p.id = c.project_id"
)
_PROJECTS = "SELECT id, key, last_case_number FROM projects"
_EVENTS = "SELECT case_id, field, new_value, count(*) FROM case_events GROUP BY 1, 2, 3"


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    org_id: str
    project_id: str
    project_key: str
    number: int
    key: str
    title: str
    priority: str
    status: str


@dataclass
class Snapshot:
    cases: list[CaseRow]
    counters: dict[str, int | None]
    """project id -> ``last_case_number`` (None: the table has no counter to check)."""
    events: Counter[tuple[str, str, str | None]] | None = None
    """(case id, field, new value) -> rows in ``case_events``; None: no history table."""


def _snapshot(rows: Iterable[tuple], projects: Iterable[tuple], events: Iterable[tuple] | None):
    cases = [
        CaseRow(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), *map(str, r[5:9]))
        for r in rows
    ]
    counters = {str(p[0]): None if p[2] is None else int(p[2]) for p in projects}
    counted = None
    if events is not None:
        counted = Counter({(str(e[0]), str(e[1]), e[2]): int(e[3]) for e in events})
    return Snapshot(cases, counters, counted)


def read_sqlite(path: str) -> Snapshot:
    conn = sqlite3.connect(path, timeout=30)
    try:
        has_events = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'case_events'"
        ).fetchone()
        conn.execute("BEGIN")  # one consistent read
        return _snapshot(
            conn.execute(_CASES).fetchall(),
            conn.execute(_PROJECTS).fetchall(),
            conn.execute(_EVENTS).fetchall() if has_events else None,
        )
    finally:
        conn.close()


def integrity_check(path: str) -> str:
    conn = sqlite3.connect(path, timeout=30)
    try:
        return ", ".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall())
    finally:
        conn.close()


def read_postgres(url: str) -> Snapshot:
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        has_events = conn.execute("SELECT to_regclass('case_events') IS NOT NULL").fetchone()
        return _snapshot(
            conn.execute(_CASES).fetchall(),
            conn.execute(_PROJECTS).fetchall(),
            conn.execute(_EVENTS).fetchall() if has_events and has_events[0] else None,
        )


@dataclass
class Report:
    violations: list[tuple[str, str]] = field(default_factory=list)
    """(kind, message) pairs."""
    cases: int = 0
    projects: int = 0

    @property
    def ok(self) -> bool:
        return not self.violations

    def kinds(self) -> Counter[str]:
        return Counter(kind for kind, _ in self.violations)

    def add(self, kind: str, message: str) -> None:
        self.violations.append((kind, message))

    def summary(self, limit: int = 15) -> str:
        lines = [f"{len(self.violations)} violations: {dict(self.kinds())}"]
        lines += [f"  {kind}: {message}" for kind, message in self.violations[:limit]]
        return "\n".join(lines)


def check(
    snapshot: Snapshot,
    writes: Iterable[Write],
    *,
    no_effect: Callable[[Write], bool] | None = None,
) -> Report:
    """Violations of the rules above. ``no_effect(write)`` marks unknown writes the
    server promised had no effect (a 503 refused before commit): they count as failed."""
    report = Report(cases=len(snapshot.cases), projects=len(snapshot.counters))

    def outcome(w: Write) -> str:
        if w.outcome == "unknown" and no_effect is not None and no_effect(w):
            return "failed"
        return w.outcome

    writes = sorted(writes, key=lambda w: w.seq)
    creates: dict[str, Write] = {}
    for w in writes:
        if w.op == "create":
            assert w.title not in creates, f"the ledger reuses the title {w.title!r}"
            creates[w.title] = w

    by_title: dict[str, list[CaseRow]] = defaultdict(list)
    by_project: dict[str, list[CaseRow]] = defaultdict(list)
    for row in snapshot.cases:
        by_title[row.title].append(row)
        by_project[row.project_id].append(row)

    # Every stored case comes from one create that may have happened.
    for title, rows in by_title.items():
        if len(rows) > 1:
            keys = ", ".join(sorted(r.key for r in rows))
            report.add("duplicate", f"case {title!r} stored {len(rows)} times: {keys}")
        w = creates.get(title)
        for row in rows:
            if w is None:
                report.add("phantom", f"{row.key} ({title!r}) matches no create")
            elif outcome(w) == "failed":
                report.add("failed-present", f"{row.key}: create {title!r} failed ({w.detail})")
            elif row.project_id != w.project_id:
                report.add("content", f"{row.key}: {title!r} stored in another project")

    # Every acknowledged create is there, as acknowledged.
    for w in creates.values():
        if outcome(w) != "ack":
            continue
        rows = by_title.get(w.title)
        if not rows:
            report.add("lost", f"acknowledged create {w.key} ({w.title!r}) is missing")
        elif (rows[0].key, rows[0].case_id) != (w.key, w.case_id):
            report.add(
                "content",
                f"acknowledged {w.key} {w.case_id} stored as {rows[0].key} {rows[0].case_id}",
            )

    # Numbers 1..max per project, keys that match, counters that agree.
    org_keys = Counter((row.org_id, row.key) for row in snapshot.cases)
    for (_, key), n in org_keys.items():
        if n > 1:
            report.add("duplicate", f"key {key} used by {n} cases of one organisation")
    for project_id in sorted(set(by_project) | set(snapshot.counters)):
        rows = by_project.get(project_id, [])
        numbers = Counter(row.number for row in rows)
        top = max(numbers, default=0)
        for number, n in sorted(numbers.items()):
            if n > 1:
                report.add("duplicate", f"project {project_id}: number {number} used {n} times")
        missing = sorted(set(range(1, top + 1)) - set(numbers))
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
            report.add(
                "gap", f"project {project_id}: {len(missing)} numbers of 1..{top} missing: {shown}"
            )
        for row in rows:
            if row.key != f"{row.project_key}-{row.number}":
                report.add("key", f"case {row.case_id}: key {row.key} but number {row.number}")
        counter = snapshot.counters.get(project_id)
        if counter is not None and counter != top:
            report.add("counter", f"project {project_id}: last_case_number {counter}, max {top}")

    # Updates: each case has one writer, so its updates are ordered by seq.
    by_id = {row.case_id: row for row in snapshot.cases}
    required: Counter[tuple[str, str, str | None]] = Counter()
    updates: dict[str, list[Write]] = defaultdict(list)
    for w in writes:
        if w.op != "create":
            updates[w.title].append(w)
    for title, changes in updates.items():
        created = creates.get(title)
        if created is None or created.outcome != "ack" or created.case_id is None:
            continue  # updates are only sent for acknowledged cases
        row = by_id.get(created.case_id)
        if row is None:
            continue  # reported as lost above
        for op, initial, stored in (
            ("priority", created.value, row.priority),
            ("status", "OPEN", row.status),
        ):
            possible = {initial}
            for w in changes:
                if w.op != op:
                    continue
                result = outcome(w)
                if result == "ack":
                    if w.value not in possible:
                        required[(row.case_id, op, w.value)] += 1
                    possible = {w.value}
                elif result == "unknown":
                    possible.add(w.value)
            if stored not in possible:
                report.add(
                    "content",
                    f"{row.key} {op} is {stored}, expected one of {sorted(possible)}",
                )
    if snapshot.events is not None:
        for (case_id, op, value), n in required.items():
            have = snapshot.events.get((case_id, op, value), 0)
            if have < n:
                report.add(
                    "history",
                    f"case {case_id}: {n} acknowledged {op} changes to {value}, {have} history rows",
                )
        for row in snapshot.cases:
            have = snapshot.events.get((row.case_id, "created", row.key), 0)
            if have != 1:
                report.add("history", f"{row.key}: {have} 'created' history rows")
    return report
