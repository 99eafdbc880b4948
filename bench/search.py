"""Search at scale: seed N cases through the storage layer, then time a fixed mix
of searches through the HTTP API of one ``casebook serve`` process.

    python -m bench.search --backend sqlite --cases 10000
    python -m bench.search --backend postgres --cases 1000000

The data (seeded with one fixed random seed, so every run holds the same cases):
three organisations (``default``, which the benchmark searches, holds 90% of
the cases), 10 projects (one deleted), 60 users, statuses and priorities in
realistic proportions, 30% of cases unassigned, 10% of closed cases archived,
an ``attributes`` map on 90% of the cases (``service``, ``team``, ``env``,
sometimes ``region`` or a second service), and titles and descriptions drawn
from a Zipf-distributed vocabulary of about 2,300 words plus title templates
that make a few phrases common. Cases are written in creation-time order, as
they would be in production, in transactions of ``BATCH`` cases, each with its
comments (0 to 5, Zipf words as the descriptions, some opening with a phrase
of their own such as "root cause identified"; 5% deleted), its watchers (on
15% of cases; the searching admin watches about 3% of them) and, on 30% of
the cases, a due date. The default organisation has two case types of its own
with custom attributes (``CUSTOM_ATTRIBUTES``): "Security Incident" (20% of its
cases, with statuses of its own) and "Change Request" (10%), and its Standard
cases a ``customer_tier`` on 30% of them; these are drawn from a random stream
of their own, so the rest of the data is what it was without them.

The mix (``MIX``) runs round-robin, ``--rounds`` times per query after a warm-up,
one request at a time over one keep-alive connection; the table shows p50 and
p99 of the full HTTP round trip. ``--explain`` prints the query plan of every
query of the mix, as the store runs it. ``--keep`` leaves the database (and,
for PostgreSQL, the cluster) in place and prints how to reuse it
(``--database-url``, ``--no-seed``). Results: ``docs/benchmarks-search.md``.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import multiprocessing.queues
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench.stats import percentile
from casebook.core.clock import new_id, now_us
from casebook.core.entities import (
    RESOLVED_REASONS,
    STANDARD_CASE_TYPE_ID,
    Case,
    CaseStatusDef,
    CaseType,
    Comment,
    CustomAttributeConfig,
    CustomValue,
    Priority,
    Project,
    Status,
    User,
    UserRef,
    UserStatus,
    default_statuses,
)
from casebook.domain import users as users_domain
from casebook.domain.keys import user_ref
from casebook.search.parser import parse
from casebook.storage import Store, open_store
from casebook.storage.comments import COMMENTS
from casebook.storage.sql_search import bounded_total
from casebook.storage.urls import DatabaseUrl

REPO = Path(__file__).resolve().parents[1]
BATCH = 10_000
SEED = 20260201
DAY_US = 86_400_000_000
SPAN_DAYS = 730  # cases are created over the two years before now

console = Console(stderr=True)

# --- the data -------------------------------------------------------------------

ORGS = [("default", 0.90), ("acme", 0.06), ("globex", 0.04)]
PROJECTS = [  # key, share of the organisation's cases
    ("SEC", 0.30),
    ("NOC", 0.20),
    ("WEB", 0.12),
    ("DB", 0.10),
    ("NET", 0.08),
    ("APP", 0.07),
    ("OPS", 0.05),
    ("SUP", 0.04),
    ("OLD", 0.03),  # deleted once seeding is done: its cases must never be found
    ("LAB", 0.01),
]
DELETED_PROJECT = "OLD"
USERS_PER_ORG = {"default": 40, "acme": 12, "globex": 8}
STATUSES = [(Status.OPEN, 0.25), (Status.IN_PROGRESS, 0.15), (Status.CLOSED, 0.60)]
PRIORITIES = [
    (Priority.P1, 0.03),
    (Priority.P2, 0.10),
    (Priority.P3, 0.30),
    (Priority.P4, 0.25),
    (Priority.P5, 0.12),
    (Priority.NOT_DEFINED, 0.20),
]
SERVICES = [
    "web-store",
    "checkout",
    "payments",
    "auth",
    "web-gateway",
    "search",
    "inventory",
    "shipping",
    "billing",
    "notifications",
    "recommendations",
    "catalog",
    "ledger",
    "reporting",
    "mobile-api",
    "admin",
    "scheduler",
    "media",
    "cdn",
    "dns",
    "vault",
    "kafka",
    "postgres",
    "redis",
    "elastic",
    "identity",
    "fraud",
    "risk",
    "pricing",
    "email",
]
TEAMS = ["case-management", "event-management", "payments", "identity", "platform", "sre"]
TEAMS += ["security", "data"]
ENVS = [("prod", 0.6), ("staging", 0.3), ("dev", 0.1)]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"]

# Words of an ops and security vocabulary (the head of the Zipf curve, in this
# order), then generated host names and codes for the long tail.
WORDS = """
error the on in for failed alert high timeout service user login host disk latency
request from with cpu memory network database connection to is after at pod node
kubernetes deploy rollback certificate expired suspicious access denied token api
gateway queue backlog spike rate limit exceeded crash loop restart container image
pull dns resolution outage degraded partial region cluster replica lag lock wait
deadlock query slow index scan backup restore snapshot volume full quota storage
bucket permission policy role escalation phishing malware ransomware exfiltration
brute force password reset mfa bypass session hijack cookie xss injection sql
vulnerability cve patch upgrade version mismatch config drift secret leak key
rotation audit log missing alarm pager noise flapping threshold breach sla customer
complaint checkout payment declined refund invoice billing email bounce spam webhook
retry duplicate event ordering consumer producer kafka topic partition offset redis
cache eviction miss hit ratio cdn edge origin tls handshake ssl firewall rule port
blocked vpn tunnel bgp route packet loss jitter load balancer health check probe
readiness liveness oom killed throttled autoscaling capacity shard rebalance
migration schema job cron scheduler batch etl pipeline stuck stale report dashboard
metric gap trace sampling span agent ingestion delay
""".split()  # noqa: SIM905 -- a paragraph reads better than a list
TITLE_TEMPLATES = [
    "Disk full on {host}",
    "Suspicious login from {country}",
    "Crash loop in {service}",
    "High latency on {service}",
    "Certificate expired for {service}",
    "Database connection timeout in {service}",
    "Rate limit exceeded for {service} api",
    "Phishing email reported by {team}",
    "Kubernetes node not ready in {region}",
    "Replica lag on {host}",
    "Payment declined spike in {region}",
    "Access denied for service account in {service}",
    "Malware detected on {host}",
    "Packet loss between {region} and {region2}",
    "Memory leak in {service}",
    "Backup failed on {host}",
    "DNS resolution failure for {service}",
    "Queue backlog growing in {service}",
    "Error rate above threshold on {service}",
    "Unusual data exfiltration from {host}",
]
# Comments: how many a case has (0 to 5), and sentences that open some of them
# with words found nowhere else -- "runbook" is a word of comments only.
COMMENT_COUNTS = [(0, 0.35), (1, 0.25), (2, 0.17), (3, 0.11), (4, 0.07), (5, 0.05)]
COMMENT_OPENINGS = [
    "root cause identified",
    "escalated to on-call",
    "runbook followed",
    "waiting on customer",
    "fixed in the next release",
    "postmortem scheduled",
]
COMMENT_OPENING_SHARE = 0.25
DELETED_COMMENT_SHARE = 0.05
WATCHED_SHARE = 0.15  # cases with watchers; the admin is one of them a fifth of the time
DUE_DATE_SHARE = 0.30
COUNTRIES = ["brazil", "germany", "india", "nigeria", "russia", "vietnam", "canada", "france"]

# Case types and custom attributes of the default organisation. A case's type, its
# status name and its custom attribute values come from a random stream of their
# own (SEED + 1), so every other field is drawn as it was before case types.
SECURITY = "Security Incident"
CHANGE = "Change Request"
SECURITY_STATUSES = [  # name, group, share of the type's cases in that group
    ("New", Status.OPEN, 0.6),
    ("Triage", Status.OPEN, 0.4),
    ("Investigating", Status.IN_PROGRESS, 0.7),
    ("Containment", Status.IN_PROGRESS, 0.3),
    ("Resolved", Status.CLOSED, 0.75),
    ("False Positive", Status.CLOSED, 0.25),
]
# Security incidents are most of the SEC project's cases and a few elsewhere (20% of
# the organisation's); change requests 15% of the rest outside SEC (10%).
SECURITY_SHARE = {"SEC": 0.55}
SECURITY_SHARE_ELSEWHERE = 0.05
CHANGE_SHARE_OUTSIDE_SEC = 0.15
TAGS = [  # Zipf: the first are the commonest
    "phishing",
    "malware",
    "credential-stuffing",
    "misconfiguration",
    "vulnerability",
    "brute-force",
    "data-leak",
    "account-takeover",
    "insider",
    "ddos",
    "ransomware",
    "supply-chain",
]
DETECTIONS = [("SIEM", 0.40), ("EDR", 0.25), ("User report", 0.15), ("Threat intel", 0.10)]
DETECTIONS += [("Cloud audit", 0.10)]
RISKS = [("Low", 0.45), ("Medium", 0.35), ("High", 0.15), ("Critical", 0.05)]
TIERS = [("Platinum", 0.10), ("Gold", 0.20), ("Silver", 0.30), ("Bronze", 0.40)]
CUSTOMER_TIER_SHARE = 0.30  # of the Standard cases
# (type, key, display name, kind, is_multi, options); type None is Standard.
CUSTOM_ATTRIBUTES: list[tuple[str | None, str, str, str, bool, list[str]]] = [
    (SECURITY, "severity_score", "Severity score", "NUMBER", False, []),
    (SECURITY, "region", "Region", "TEXT", False, []),
    (SECURITY, "tags", "Tags", "TEXT", True, []),
    (SECURITY, "detection", "Detection", "SELECT", False, [d for d, _ in DETECTIONS]),
    (CHANGE, "risk", "Risk", "SELECT", False, [r for r, _ in RISKS]),
    (CHANGE, "ticket_url", "Ticket", "URL", False, []),
    (None, "customer_tier", "Customer tier", "SELECT", False, [t for t, _ in TIERS]),
]


def _cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


class Vocabulary:
    """Words with Zipf weights: word ``r`` (0-based) has weight 1 / (r + 2)."""

    def __init__(self, rng: random.Random) -> None:
        tail = [f"host-{i}" for i in range(500)] + [
            f"err{rng.randrange(16**5):05x}" for _ in range(1500)
        ]
        self.words = WORDS + tail
        self.cum = _cumulative([1 / (rank + 2) for rank in range(len(self.words))])

    def sample(self, rng: random.Random, k: int) -> str:
        return " ".join(rng.choices(self.words, cum_weights=self.cum, k=k))


@dataclass(frozen=True)
class CustomTypes:
    """The ids of the default organisation's own case types, and their statuses."""

    security_id: str
    change_id: str
    security_statuses: dict[Status, list[tuple[str, float]]]  # group -> (stored name, share)


@dataclass
class OrgData:
    name: str
    org_id: str
    admin: User
    users: list[User]
    user_cum: list[float]
    projects: list[Project]
    project_cum: list[float]
    types: CustomTypes | None = None


@dataclass
class SeedResult:
    cases: int
    seconds: float
    per_org: dict[str, int]


def _make_user(org_id: str, email: str, name: str, at: int, *, admin: bool = False) -> User:
    return User(
        id=new_id(),
        org_id=org_id,
        email=email,
        handle=email,
        name=name,
        title=None,
        status=UserStatus.ACTIVE,
        is_admin=admin,
        service_account=False,
        created_at=at,
        modified_at=at,
    )


def _stored_name(name: str, group: Status) -> str:
    return "" if name == group.display_name else name  # as Case.status_name holds it


def _add_custom_types(tx: Any, org_id: str, at: int) -> CustomTypes:
    """The Security Incident and Change Request types and every custom attribute config."""
    security = CaseType(
        id=new_id(),
        org_id=org_id,
        name=SECURITY,
        description="A security signal worth a look",
        emoji="🛡",
        statuses=[CaseStatusDef(new_id(), name, group) for name, group, _ in SECURITY_STATUSES],
        created_at=at - SPAN_DAYS * DAY_US,
    )
    change = CaseType(
        id=new_id(),
        org_id=org_id,
        name=CHANGE,
        description="A change to production, to approve and track",
        emoji="🔧",
        statuses=[CaseStatusDef(new_id(), s.name, s.group) for s in default_statuses()],
        created_at=at - SPAN_DAYS * DAY_US,
    )
    tx.case_types.insert(security)
    tx.case_types.insert(change)
    type_ids = {SECURITY: security.id, CHANGE: change.id, None: STANDARD_CASE_TYPE_ID}
    for type_name, key, display_name, kind, is_multi, options in CUSTOM_ATTRIBUTES:
        tx.custom_attributes.insert(
            CustomAttributeConfig(
                id=new_id(),
                org_id=org_id,
                type_id=type_ids[type_name],
                key=key,
                display_name=display_name,
                description="",
                type=kind,
                is_multi=is_multi,
                options=options,
                map_from=None,
                created_at=at - SPAN_DAYS * DAY_US,
            )
        )
    statuses: dict[Status, list[tuple[str, float]]] = {}
    for name, group, share in SECURITY_STATUSES:
        statuses.setdefault(group, []).append((_stored_name(name, group), share))
    return CustomTypes(security.id, change.id, statuses)


def _prepare_orgs(store: Store, at: int) -> list[OrgData]:
    """Organisations, users and projects (the default organisation exists after bootstrap)."""
    orgs: list[OrgData] = []
    with store.write() as tx:
        for name, _share in ORGS:
            org = users_domain.ensure_org(tx, name)
            admin_email = (
                users_domain.BOOTSTRAP_ADMIN_EMAIL if name == "default" else f"admin@{name}.example"
            )
            admin = tx.users.by_email(org.id, admin_email)
            if admin is None:
                admin = _make_user(org.id, admin_email, f"{name} admin", at, admin=True)
                tx.users.insert(admin)
            users = []
            for i in range(USERS_PER_ORG[name]):
                user = _make_user(org.id, f"user{i}@{name}.example", f"User {i}", at)
                tx.users.insert(user)
                users.append(user)
            projects = []
            for key, _ in PROJECTS:
                project = Project(
                    id=new_id(),
                    org_id=org.id,
                    key=key,
                    name=f"Project {key}",
                    enabled_custom_case_types=[],
                    team_uuid=None,
                    created_at=at - SPAN_DAYS * DAY_US,
                    created_by=admin.id,
                )
                tx.projects.insert(project)
                projects.append(project)
            orgs.append(
                OrgData(
                    name=name,
                    org_id=org.id,
                    admin=admin,
                    users=users,
                    # Zipf over assignees: a few people hold most cases.
                    user_cum=_cumulative([1 / (i + 1) for i in range(len(users))]),
                    projects=projects,
                    project_cum=_cumulative([share for _, share in PROJECTS]),
                    types=_add_custom_types(tx, org.id, at) if name == "default" else None,
                )
            )
    return orgs


def _attributes(rng: random.Random) -> dict[str, list[str]]:
    if rng.random() < 0.10:
        return {}
    services = [SERVICES[min(int(rng.paretovariate(1.2)) - 1, len(SERVICES) - 1)]]
    if rng.random() < 0.15:
        services.append(rng.choice(SERVICES))
    attributes = {
        "service": services,
        "team": [rng.choice(TEAMS)],
        "env": [rng.choices(ENVS, cum_weights=_ENV_CUM, k=1)[0][0]],
    }
    if rng.random() < 0.3:
        attributes["region"] = [rng.choice(REGIONS)]
    return attributes


_ENV_CUM = _cumulative([w for _, w in ENVS])
_STATUS_CUM = _cumulative([w for _, w in STATUSES])
_PRIORITY_CUM = _cumulative([w for _, w in PRIORITIES])
_ORG_CUM = _cumulative([w for _, w in ORGS])


def _title(rng: random.Random, vocabulary: Vocabulary) -> str:
    if rng.random() < 0.6:
        template = rng.choice(TITLE_TEMPLATES)
        return template.format(
            host=f"host-{rng.randrange(500)}",
            country=rng.choice(COUNTRIES),
            service=rng.choice(SERVICES),
            team=rng.choice(TEAMS),
            region=rng.choice(REGIONS),
            region2=rng.choice(REGIONS),
        )
    return vocabulary.sample(rng, rng.randint(3, 8)).capitalize()


@dataclass(frozen=True)
class _OrgSpec:
    """What the generator needs of an organisation (picklable)."""

    name: str
    org_id: str
    creator: UserRef
    users: list[UserRef]
    user_cum: list[float]
    projects: list[tuple[str, str]]  # (id, key)
    project_cum: list[float]
    types: CustomTypes | None


@dataclass
class _Seeded:
    """One case and what is written with it once it has its seq."""

    case: Case
    comments: list[Comment]
    watchers: list[str]  # user ids


_COMMENT_COUNT_CUM = _cumulative([w for _, w in COMMENT_COUNTS])
_TAG_CUM = _cumulative([1 / (rank + 1) for rank in range(len(TAGS))])
_DETECTION_CUM = _cumulative([w for _, w in DETECTIONS])
_RISK_CUM = _cumulative([w for _, w in RISKS])
_TIER_CUM = _cumulative([w for _, w in TIERS])


def _one(kind: str, value: str | float) -> CustomValue:
    return {"is_multi": False, "type": kind, "value": value}


def _pick(rng: random.Random, weighted: list[tuple[str, float]], cum: list[float]) -> str:
    return rng.choices(weighted, cum_weights=cum, k=1)[0][0]


def _security_values(
    rng: random.Random, attributes: dict[str, list[str]]
) -> dict[str, CustomValue]:
    values: dict[str, CustomValue] = {}
    if rng.random() < 0.90:
        # 0 to 10, most incidents minor: mean 3.3, one in twenty above 7.
        values["severity_score"] = _one("NUMBER", round(10 * rng.betavariate(2, 4), 1))
    region = rng.choice(REGIONS)
    if rng.random() < 0.80:
        # The attributes map's region where the case has one: the same fact, typed.
        values["region"] = _one("TEXT", attributes.get("region", [region])[0])
    if rng.random() < 0.70:
        tags = rng.choices(TAGS, cum_weights=_TAG_CUM, k=rng.randint(1, 3))
        values["tags"] = {"is_multi": True, "type": "TEXT", "value": list(dict.fromkeys(tags))}
    if rng.random() < 0.85:
        values["detection"] = _one("SELECT", _pick(rng, DETECTIONS, _DETECTION_CUM))
    return values


def _change_values(rng: random.Random, number: int) -> dict[str, CustomValue]:
    values: dict[str, CustomValue] = {}
    if rng.random() < 0.95:
        values["risk"] = _one("SELECT", _pick(rng, RISKS, _RISK_CUM))
    if rng.random() < 0.60:
        values["ticket_url"] = _one("URL", f"https://tickets.example.com/browse/CHG-{number}")
    return values


def _set_type(rng: random.Random, types: CustomTypes, project_key: str, case: Case) -> None:
    """Make the case a security incident, a change request or a Standard case, with
    its status name and custom attribute values."""
    if rng.random() < SECURITY_SHARE.get(project_key, SECURITY_SHARE_ELSEWHERE):
        case.type_id = types.security_id
        names = types.security_statuses[case.status]
        case.status_name = rng.choices(names, weights=[w for _, w in names], k=1)[0][0]
        case.custom_attributes = _security_values(rng, case.attributes)
    elif project_key not in SECURITY_SHARE and rng.random() < CHANGE_SHARE_OUTSIDE_SEC:
        case.type_id = types.change_id  # Open, In Progress, Closed: no status name
        case.custom_attributes = _change_values(rng, case.number)
    elif rng.random() < CUSTOMER_TIER_SHARE:
        case.custom_attributes = {"customer_tier": _one("SELECT", _pick(rng, TIERS, _TIER_CUM))}


def _comments(
    rng: random.Random, vocabulary: Vocabulary, spec: _OrgSpec, case: Case
) -> list[Comment]:
    count = rng.choices(COMMENT_COUNTS, cum_weights=_COMMENT_COUNT_CUM, k=1)[0][0]
    at = case.created_at
    comments = []
    for _ in range(count):
        at += rng.randrange(1, DAY_US)
        body = vocabulary.sample(rng, rng.randint(4, 20))
        if rng.random() < COMMENT_OPENING_SHARE:
            body = f"{rng.choice(COMMENT_OPENINGS)}: {body}"
        author = rng.choices(spec.users, cum_weights=spec.user_cum, k=1)[0]
        comment = Comment(
            id=new_id(), case_id=case.id, author_id=author.id, body=body, created_at=at
        )
        if rng.random() < DELETED_COMMENT_SHARE:
            comment.body, comment.deleted_at = None, at + 1
        comments.append(comment)
    case.comment_count = sum(1 for c in comments if c.deleted_at is None)
    return comments


def _watchers(rng: random.Random, spec: _OrgSpec) -> list[str]:
    if rng.random() >= WATCHED_SHARE:
        return []
    people = {u.id for u in rng.choices(spec.users, cum_weights=spec.user_cum, k=rng.randint(1, 3))}
    if rng.random() < 0.2:
        people.add(spec.creator.id)
    return sorted(people)


def _generate(
    specs: list[_OrgSpec],
    cases: int,
    now: int,
    out: multiprocessing.queues.Queue[Any],
    writers: int,
    stats: multiprocessing.queues.Queue[Any],
) -> None:
    """Make the cases, in creation-time order, and send them in batches to ``out``.

    Runs in its own process while the parent writes, so both cores work.
    Sends lists of cases, then one None per writer; and to ``stats`` the
    last number of each project and the number of cases per organisation.
    """
    rng = random.Random(SEED)
    types_rng = random.Random(SEED + 1)  # case types: a stream of their own
    vocabulary = Vocabulary(rng)
    step = SPAN_DAYS * DAY_US // max(cases, 1)
    first_at = now - SPAN_DAYS * DAY_US
    numbers: dict[str, int] = {}
    per_org = {spec.name: 0 for spec in specs}
    org_indexes = range(len(specs))
    batch: list[_Seeded] = []
    for i in range(cases):
        spec = specs[rng.choices(org_indexes, cum_weights=_ORG_CUM, k=1)[0]]
        project_id, project_key = rng.choices(spec.projects, cum_weights=spec.project_cum, k=1)[0]
        number = numbers.get(project_id, 0) + 1
        numbers[project_id] = number
        status = rng.choices(STATUSES, cum_weights=_STATUS_CUM, k=1)[0][0]
        priority = rng.choices(PRIORITIES, cum_weights=_PRIORITY_CUM, k=1)[0][0]
        assignee = None
        if rng.random() >= 0.30:
            assignee = rng.choices(spec.users, cum_weights=spec.user_cum, k=1)[0]
        created = first_at + i * step + rng.randrange(step or 1)
        case = Case(
            id=new_id(),
            seq=0,
            org_id=spec.org_id,
            project_id=project_id,
            number=number,
            key=f"{project_key}-{number}",
            title=_title(rng, vocabulary),
            description=vocabulary.sample(rng, rng.randint(8, 40)),
            priority=priority,
            status=status,
            type_id=STANDARD_CASE_TYPE_ID,
            attributes=_attributes(rng),
            custom_attributes={},
            creation_source="MANUAL",
            created_at=created,
            created_by=spec.creator,
            assignee=assignee,
        )
        per_org[spec.name] += 1
        if status is not Status.OPEN:
            case.modified_at = created + rng.randrange(1, 14 * DAY_US)
            case.modified_by = spec.creator
            if status is Status.CLOSED:
                case.closed_at = case.modified_at
                if rng.random() < 0.10:
                    case.archived_at = case.modified_at + DAY_US
                if rng.random() < 0.5:
                    case.resolved_reason = rng.choice(RESOLVED_REASONS)
        if rng.random() < DUE_DATE_SHARE:
            due = created + rng.randrange(1, 60) * DAY_US
            case.due_date = due - due % DAY_US
        if spec.types is not None:
            _set_type(types_rng, spec.types, project_key, case)
        batch.append(_Seeded(case, _comments(rng, vocabulary, spec, case), _watchers(rng, spec)))
        if len(batch) == BATCH:
            out.put(batch)
            batch = []
    if batch:
        out.put(batch)
    for _ in range(writers):
        out.put(None)
    stats.put((numbers, per_org))


ROWS_PER_INSERT = 500
_WATCHER_MARKS = "(?, ?, ?, ?, ?)"


def _watchers_insert(count: int) -> str:
    return (
        "INSERT INTO case_watchers (case_id, org_id, case_seq, user_id, created_at) VALUES "
        + ", ".join([_WATCHER_MARKS] * count)
    )


def _insert_rows(tx: Any, statement: Any, rows: list[Any]) -> None:
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[start : start + ROWS_PER_INSERT]
        tx.sql.execute(statement(len(chunk)), [value for row in chunk for value in row])


def _write(store: Store, batches: multiprocessing.queues.Queue[Any], done: Any) -> None:
    """Write batches from the generator until its None, counting cases in ``done``."""
    while True:
        batch = batches.get(timeout=600)
        if batch is None:
            return
        with store.write() as tx:
            comments: list[Any] = []
            watchers: list[Any] = []
            for item in batch:
                case = item.case
                seq = tx.cases.insert(case)
                comments += [
                    COMMENTS.row(c, org_id=case.org_id, case_seq=seq) for c in item.comments
                ]
                watchers += [
                    (case.id, case.org_id, seq, user_id, case.created_at)
                    for user_id in item.watchers
                ]
            # Multi-row INSERTs: one statement (and, on PostgreSQL, one round trip) per
            # ROWS_PER_INSERT comments or watchers, not one each.
            _insert_rows(tx, COMMENTS.insert_many, comments)
            _insert_rows(tx, _watchers_insert, watchers)
        with done.get_lock():
            done.value += len(batch)


def _helper_writer(url: str, batches: multiprocessing.queues.Queue[Any], done: Any) -> None:
    store = open_store(DatabaseUrl.parse(url))
    try:
        _write(store, batches, done)
    finally:
        store.close()


def seed(store: Store, cases: int) -> SeedResult:
    """Migrate, then write ``cases`` cases in creation-time order through the store
    (``tx.cases.insert``), in transactions of ``BATCH`` cases."""
    started = time.perf_counter()
    store.migrate()
    if store.dialect == "sqlite":
        with store.read() as tx:
            # This connection only (a bulk load of throwaway data): a cache that
            # holds the indexes being filled, and no flushes to disk.
            tx.sql.execute("PRAGMA cache_size = -1000000")  # type: ignore[attr-defined]
            tx.sql.execute("PRAGMA synchronous = OFF")  # type: ignore[attr-defined]
    now = now_us()
    orgs = _prepare_orgs(store, now)
    specs = [
        _OrgSpec(
            name=org.name,
            org_id=org.org_id,
            creator=user_ref(org.admin),
            users=[user_ref(u) for u in org.users],
            user_cum=org.user_cum,
            projects=[(p.id, p.key) for p in org.projects],
            project_cum=org.project_cum,
            types=org.types,
        )
        for org in orgs
    ]
    # SQLite has one writer at a time; PostgreSQL spends most of an insert in
    # its own process (indexes, trigger), so a second connection fills the
    # other core while the first waits.
    writers = 2 if store.dialect == "postgres" else 1
    context = multiprocessing.get_context("fork")
    batches: multiprocessing.queues.Queue[Any] = context.Queue(maxsize=4)
    stats: multiprocessing.queues.Queue[Any] = context.Queue()
    done = context.Value("q", 0)
    generator = context.Process(
        target=_generate, args=(specs, cases, now, batches, writers, stats), daemon=True
    )
    generator.start()
    helpers = []
    if writers > 1:
        url = str(store.url.raw)  # type: ignore[attr-defined]
        helpers = [
            context.Process(target=_helper_writer, args=(url, batches, done), daemon=True)
            for _ in range(writers - 1)
        ]
        for helper in helpers:
            helper.start()
    columns = [
        TextColumn("seeding"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} cases/s"),
        TimeElapsedColumn(),
    ]
    try:
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("seed", total=cases, rate="-")

            class _Progress:
                """``done`` that also moves the bar."""

                def get_lock(self) -> Any:
                    return done.get_lock()

                @property
                def value(self) -> int:
                    return int(done.value)

                @value.setter
                def value(self, count: int) -> None:
                    done.value = count
                    rate = count / (time.perf_counter() - started)
                    bar.update(task, completed=count, rate=f"{rate:,.0f}")

            _write(store, batches, _Progress())
            for helper in helpers:
                helper.join(timeout=600)
                if helper.exitcode != 0:
                    raise RuntimeError(f"a writer process failed ({helper.exitcode})")
            numbers, per_org = stats.get(timeout=600)
            bar.update(task, completed=int(done.value))
    finally:
        generator.join(timeout=60)
        for process in [generator, *helpers]:
            if process.is_alive():
                process.kill()
    with store.write() as tx:
        for org in orgs:
            for project in org.projects:
                # The project's counter, as allocate_case_number would have left it.
                tx.sql.execute(  # type: ignore[attr-defined]
                    "UPDATE projects SET last_case_number = ? WHERE org_id = ? AND id = ?",
                    (numbers.get(project.id, 0), org.org_id, project.id),
                )
                if project.key == DELETED_PROJECT:
                    tx.projects.set_deleted(org.org_id, project.id, now, org.admin.id)
    if store.dialect == "postgres":
        # What autovacuum does soon after a bulk load: planner statistics and
        # the visibility map (for index-only scans).
        vacuum_analyze(store)
    return SeedResult(cases, time.perf_counter() - started, per_org)


def vacuum_analyze(store: Store) -> None:
    import psycopg

    url: DatabaseUrl = store.url  # type: ignore[attr-defined]
    with psycopg.connect(url.postgres_dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


# --- the query mix ----------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    kind: str  # facet, facet+sort, text, phrase, comments, working, or-group, deep page, custom
    filter: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        extra = " ".join(f"{k}={v}" for k, v in self.params)
        return f"{self.filter or '(empty)'} {extra}".strip()

    def query_string(self) -> str:
        pairs = [("filter", self.filter)] if self.filter else []
        return urllib.parse.urlencode([*pairs, *self.params])


def _sort(field_: str, ascending: bool = False) -> tuple[tuple[str, str], ...]:
    return (("sort[field]", field_), ("sort[asc]", "true" if ascending else "false"))


MIX: list[Query] = [
    Query("facet", "status:open"),
    Query("facet", "priority:P1"),
    Query("facet", "assignee:user3@default.example"),
    Query("facet", "project:NET status:in_progress"),
    Query("facet", "service:payments"),
    Query("facet", "-assignee:* status:open"),
    Query("facet", "created_at:>now-30d"),
    Query("facet", "archived:true"),
    Query("facet+sort", "status:open", _sort("priority")),
    Query("facet+sort", "project:SEC", _sort("status", ascending=True)),
    Query("facet+sort", "team:payments", _sort("created_at", ascending=True)),
    Query("text", "kubernetes"),
    Query("text", "timeout"),
    Query("text", "cert*"),
    Query("text", "replica status:open"),
    Query("phrase", '"disk full"'),
    Query("phrase", '"rate limit exceeded"'),
    Query("comments", "runbook"),
    Query("comments", '"root cause identified"'),
    Query("comments", "comment_count:>2"),
    Query("working", "due_date:<now+7d -status:closed"),
    Query("working", "watcher:me"),
    Query("or-group", "priority:(P1 OR P2) status:(open OR in_progress)"),
    Query("or-group", "(team:payments OR team:identity) -status:closed"),
    Query("or-group", "(service:checkout OR service:payments) (timeout OR latency)"),
    Query("deep page", "", (("page[size]", "100"), ("page[number]", "50"))),
    Query("deep page", "status:closed", (("page[size]", "10"), ("page[number]", "500"))),
    # Case types, custom attributes and custom statuses (the default organisation's).
    Query("custom", "region:eu-west-1"),
    Query("custom", "severity_score:>7"),
    Query("custom", "severity_score:[3 TO 5] status:open"),
    Query("custom", "tags:(phishing OR malware)"),
    Query("custom", 'type:"Security Incident" status:open'),
    Query("custom", "status_name:Triage"),
    Query("custom", "customer_tier:gold priority:P1"),
    Query("custom", 'type:"Change Request" -status:closed'),
]


# --- the server and the measurement ----------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(database_url: str, api_key: str, app_key: str) -> Iterator[int]:
    """One ``casebook serve`` process (one worker) on a free loopback port."""
    port = free_port()
    env = {
        **os.environ,
        "CASEBOOK_DATABASE_URL": database_url,
        "CASEBOOK_API_KEY": api_key,
        "CASEBOOK_APP_KEY": app_key,
        "CASEBOOK_RATE_LIMIT": "off",
    }
    cmd = [sys.executable, "-m", "casebook", "serve", "--host", "127.0.0.1", "--port", str(port)]
    # Standard error to a file, not a pipe: the server logs a line per request there, and a
    # pipe nobody reads would fill up and stall it.
    errors = tempfile.TemporaryFile()  # noqa: SIM115 -- closed below
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=errors,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                errors.seek(0)
                err = errors.read().decode(errors="replace")
                raise RuntimeError(f"casebook serve exited:\n{err}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("casebook serve did not become healthy")
            time.sleep(0.1)
        yield port
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=20)
        errors.close()


@dataclass
class Timing:
    query: Query
    samples: list[float] = field(default_factory=list)  # seconds
    total_cases: int = 0
    returned: int = 0

    def percentile(self, p: float) -> float:
        return percentile(self.samples, p)


def measure(
    port: int, api_key: str, app_key: str, mix: Sequence[Query], rounds: int
) -> list[Timing]:
    """Each query ``rounds`` times, round-robin, after two warm-up rounds."""
    headers = {"DD-API-KEY": api_key, "DD-APPLICATION-KEY": app_key}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    timings = [Timing(q) for q in mix]
    paths = [f"/api/v2/cases?{q.query_string()}" for q in mix]
    with Progress(
        TextColumn("searching"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("rounds", total=rounds + 2)
        for round_ in range(rounds + 2):
            for timing, path in zip(timings, paths, strict=True):
                start = time.perf_counter()
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                elapsed = time.perf_counter() - start
                if response.status != 200:
                    raise RuntimeError(f"{timing.query.label}: {response.status} {body[:300]!r}")
                if round_ >= 2:
                    timing.samples.append(elapsed)
                else:
                    document = json.loads(body)
                    timing.total_cases = document["meta"]["total_cases"]
                    timing.returned = len(document["data"])
            bar.update(task, advance=1)
    conn.close()
    return timings


# --- query plans -----------------------------------------------------------------


def explain(store: Store, org_name: str, actor_email: str, mix: Sequence[Query]) -> str:
    """The plan of each statement the store runs for each query of the mix (Markdown)."""
    with store.read(snapshot=True) as tx:
        org = tx.orgs.by_name(org_name)
        assert org is not None
        actor = tx.users.by_email(org.id, actor_email)
        assert actor is not None
        run = tx.sql.all  # type: ignore[attr-defined]
        out: list[str] = []
        for query in mix:
            params = dict(query.params)
            size = int(params.get("page[size]", "10"))
            offset = (int(params.get("page[number]", "1")) - 1) * size
            sort = params.get("sort[field]", "created_at")
            ascending = params.get("sort[asc]") == "true"
            planner = tx.cases.search_planner(
                org.id,
                parse(query.filter, now_us=now_us()),
                actor_user_id=actor.id,
                sort=sort,
                ascending=ascending,
            )
            statements = [
                ("page", planner.page_statement(size, offset)),
                (
                    "count (when the page is full)",
                    planner.count_statement(bounded_total(offset, size)),
                ),
            ]
            out.append(f"#### {query.kind}: `{query.label}`\n")
            for name, statement in statements:
                if store.dialect == "sqlite":
                    rows = run("EXPLAIN QUERY PLAN " + statement.sql, statement.params)
                    lines = _sqlite_plan(rows)
                else:
                    prefix = "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) "
                    lines = [str(r[0]) for r in run(prefix + statement.sql, statement.params)]
                out.append(f"{name}:\n```\n{statement.sql}\n\n" + "\n".join(lines) + "\n```\n")
        return "\n".join(out)


def _sqlite_plan(rows: Sequence[Sequence[object]]) -> list[str]:
    depth: dict[object, int] = {0: -1}
    lines = []
    for node_id, parent, _unused, detail in rows:
        depth[node_id] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node_id] + str(detail))
    return lines


# --- the command -------------------------------------------------------------------


def _fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def report(timings: Sequence[Timing], title: str) -> Table:
    table = Table(title=title)
    for name in ("kind", "query", "matches", "p50 ms", "p99 ms"):
        table.add_column(
            name, justify="right" if name.endswith("ms") or name == "matches" else "left"
        )
    for t in timings:
        table.add_row(
            t.query.kind,
            escape(t.query.label),
            f"{t.total_cases:,}",
            _fmt_ms(t.percentile(50)),
            _fmt_ms(t.percentile(99)),
        )
    return table


def markdown(passes: Sequence[Sequence[Timing]]) -> str:
    """One row per query: p50 and p99 of each pass."""
    heads = " | ".join("p50 ms | p99 ms" for _ in passes)
    lines = [
        f"| kind | query | total_cases | {heads} |",
        "|---|---|---:|" + "---:|---:|" * len(passes),
    ]
    for row in zip(*passes, strict=True):
        t = row[0]
        label = t.query.label.replace("|", "\\|")
        cells = " | ".join(
            f"{_fmt_ms(p.percentile(50))} | {_fmt_ms(p.percentile(99))}" for p in row
        )
        lines.append(f"| {t.query.kind} | `{label}` | {t.total_cases:,} | {cells} |")
    return "\n".join(lines)


@contextmanager
def database(backend: str, url: str | None, keep: bool) -> Iterator[str]:
    if url is not None:
        yield url
        return
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="casebook-bench-search-"))
        try:
            yield f"sqlite:///{folder / 'bench.db'}"
        finally:
            if keep:
                print(f"kept: --database-url sqlite:///{folder / 'bench.db'}", file=sys.stderr)
            else:
                shutil.rmtree(folder, ignore_errors=True)
        return
    sys.path.insert(0, str(REPO))
    from tests.support.postgres import PostgresCluster

    cluster = PostgresCluster().start()
    try:
        yield cluster.create_database("bench")
    finally:
        if keep:
            print(
                f"kept: --database-url {cluster.url_for('bench')} (cluster in {cluster.root})",
                file=sys.stderr,
            )
        else:
            cluster.stop()


def mix_arguments(prog: str, description: str, *, rounds: int) -> argparse.ArgumentParser:
    """The options every bench over ``seed``'s data takes (this one, bench/reports.py)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=rounds, help="timed requests per query")
    parser.add_argument("--passes", type=int, default=1, help="measure the mix this many times")
    parser.add_argument("--database-url", help="use this database instead of a fresh one")
    parser.add_argument("--no-seed", action="store_true", help="use an already seeded database")
    parser.add_argument("--keep", action="store_true", help="keep the database (and cluster)")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--only", help="run only the queries whose label contains this text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = mix_arguments("python -m bench.search", __doc__.split("\n\n")[0], rounds=200)
    parser.add_argument("--kind", help="run only the queries of this kind (custom, text ...)")
    args = parser.parse_args(argv)
    api_key, app_key = secrets.token_hex(16), secrets.token_hex(20)
    mix = [
        q
        for q in MIX
        if (args.only is None or args.only in q.label) and (args.kind in (None, q.kind))
    ]
    with database(args.backend, args.database_url, args.keep) as url:
        store = open_store(DatabaseUrl.parse(url), sqlite_synchronous="NORMAL")
        try:
            if not args.no_seed:
                result = seed(store, args.cases)
                console.print(
                    f"seeded {result.cases:,} cases in {result.seconds:.1f} s"
                    f" ({result.cases / result.seconds:,.0f}/s): "
                    + ", ".join(f"{k} {v:,}" for k, v in result.per_org.items())
                )
            store.migrate()
            if args.explain:
                print(explain(store, "default", users_domain.BOOTSTRAP_ADMIN_EMAIL, mix))
        finally:
            store.close()
        with running_server(url, api_key, app_key) as port:
            passes = [measure(port, api_key, app_key, mix, args.rounds) for _ in range(args.passes)]
    title = f"{args.backend}, {args.cases:,} cases, {args.rounds} requests per query"
    if args.markdown:
        print(f"\n{title}, {args.passes} passes\n\n{markdown(passes)}")
    else:
        for number, timings in enumerate(passes, 1):
            Console().print(report(timings, f"{title} (pass {number} of {args.passes})"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
