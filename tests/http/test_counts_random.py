"""Counts and aggregates against a brute-force count: a seeded random organisation of cases
made through the API, each filter's matches fetched back through search, and every
field's groups counted in Python from those cases -- on both back ends."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pytest

from casebook.domain.reports import fold_tallies
from tests.http.test_case_types import SECURITY_STATUSES, make_type
from tests.http.test_counts import AGGREGATE, aggregate_body
from tests.http.test_custom_attributes import make_config
from tests.support.api import Api

CASES = 110
SERVICES = ["Web", "web", "db", "API", "api-gateway", "cache"]  # "Web" and "web" are one value
TEAMS = ["sre", "secops"]
REGIONS = ["eu-west-1", "EU-West-1", "us-east-1", "ap-south-1"]
TAGS = ["phishing", "malware", "vip", "insider"]
PRIORITIES = ["P1", "P2", "P3", "P4", "P5", "NOT_DEFINED"]
REASONS = ["FALSE_POSITIVE", "TRUE_POSITIVE", "BENIGN_POSITIVE"]

# Fields that hold values of the case's maps: (field, where the case keeps it, key).
VALUE_FIELDS = {
    "service": ("attributes", "service"),
    "attributes.service": ("attributes", "service"),
    "team": ("attributes", "team"),
    "attributes.level": ("attributes", "level"),
    "region": ("custom", "region"),
    "custom_attributes.region": ("custom", "region"),
    "severity_score": ("custom", "severity_score"),
    "tags": ("custom", "tags"),
    "level": ("custom", "level"),  # TEXT on Standard, NUMBER on the other type
}
PLAIN_FIELDS = [
    "status",
    "status_group",
    "status_name",
    "priority",
    "project",
    "project.key",
    "assignee",
    "created_by",
    "type",
    "creation_source",
    "resolved_reason",
]
FILTERS = [
    "",
    "status:open",
    "-status:closed",
    "priority:(P1 OR P2)",
    "-assignee:*",
    "service:web*",
    "archived:*",
    "archived:true",
    "tags:(phishing OR vip)",
    "severity_score:>5",
    'type:"Incident" -status_name:New',
    "project:ALPHA region:eu*",
    "level:* OR team:sre",
    "-service:* priority:P3",
]
AGGREGATES = [
    ["status", "service"],
    ["priority", "tags"],
    ["assignee", "region", "project.key"],
    ["level", "status_name"],
]


def _text(value: str) -> dict[str, Any]:
    return {"type": "TEXT", "is_multi": False, "value": value}


def _populate(api: Api, rng: random.Random) -> None:
    incident = make_type(api, "Incident", statuses=SECURITY_STATUSES)["id"]
    make_config(api, "region", on=incident)
    make_config(api, "severity_score", "NUMBER", on=incident)
    make_config(api, "tags", "TEXT", is_multi=True, on=incident)
    make_config(api, "level", "NUMBER", on=incident)
    make_config(api, "region")
    make_config(api, "level")
    projects = [api.create_project(key)["id"] for key in ("ALPHA", "BETA", "GAMMA")]
    users = [api.create_user(f"u{i}@example.com")["id"] for i in range(3)]
    for n in range(CASES):
        on_incident = rng.random() < 0.4
        custom: dict[str, Any] = {}
        if rng.random() < 0.5:
            custom["region"] = _text(rng.choice(REGIONS))
        if on_incident and rng.random() < 0.6:
            number = rng.choice([1, 2.5, 5, 7, 9.75])
            custom["severity_score"] = {"type": "NUMBER", "is_multi": False, "value": number}
        if on_incident and rng.random() < 0.5:
            tags = rng.sample(TAGS, rng.randint(1, 3))
            custom["tags"] = {"type": "TEXT", "is_multi": True, "value": tags}
        if rng.random() < 0.4:
            level: Any = rng.choice([3, 10, 2.5]) if on_incident else rng.choice(["low", "High"])
            custom["level"] = {
                "type": "NUMBER" if on_incident else "TEXT",
                "is_multi": False,
                "value": level,
            }
        extra: dict[str, Any] = {"custom_attributes": custom} if custom else {}
        if on_incident:
            extra["type_id"] = incident
        case = api.create_case(
            rng.choice(projects),
            f"case {n}",
            priority=rng.choice(PRIORITIES),
            assignee_id=rng.choice([None, *users]),
            **extra,
        )
        ref = case["id"]
        if rng.random() < 0.6:
            name = rng.choice(SECURITY_STATUSES)["name"] if on_incident else None
            change = (
                {"status_name": name} if name else {"status": rng.choice(["IN_PROGRESS", "CLOSED"])}
            )
            assert api.case_action(ref, "status", change).status_code == 200
        if rng.random() < 0.7:
            attributes = {"service": rng.sample(SERVICES, rng.randint(0, 3))}
            if rng.random() < 0.3:
                attributes["team"] = [rng.choice(TEAMS)]
            assert api.case_action(ref, "attributes", {"attributes": attributes}).status_code == 200
        if rng.random() < 0.15:
            reason = {"security_resolved_reason": rng.choice(REASONS)}
            assert api.case_action(ref, "resolved_reason", reason).status_code == 200
        if rng.random() < 0.1:
            assert api.case_action(ref, "archive").status_code == 200
    # The last project goes, with its cases: no count may include them.
    assert api.delete(f"/api/v2/cases/projects/{projects[-1]}").status_code == 204


def _matches(api: Api, text: str) -> list[dict[str, Any]]:
    """Every case search finds for ``text``."""
    found: list[dict[str, Any]] = []
    for page in itertools.count(1):
        params: dict[str, Any] = {"page[size]": 100, "page[number]": page}
        r = api.search(text, **params)
        assert r.status_code == 200, r.text
        found += r.json()["data"]
        if len(r.json()["data"]) < 100:
            return found


def _number_text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


Value = tuple[str, int, float]  # as groups sort: text ("" for a number or none), number?, number


def _values(case: dict[str, Any], field: str) -> set[Value]:
    """What ``field`` holds for ``case``, each value as (text, 1 if a number, number)."""
    attrs, rels = case["attributes"], case["relationships"]
    if field in VALUE_FIELDS:
        where, key = VALUE_FIELDS[field]
        if where == "attributes":
            found = {(v.lower(), 0, 0.0) for v in attrs["attributes"].get(key, [])}
        else:
            held = attrs["custom_attributes"].get(key)
            raw = [] if held is None else held["value"]
            items = raw if isinstance(raw, list) else [raw]
            found = {
                ("", 1, float(v)) if isinstance(v, int | float) else (v.lower(), 0, 0.0)
                for v in items
            }
        return found or {("", 0, 0.0)}
    plain = {
        "status": attrs["status"],
        "status_group": attrs["status_group"],
        "status_name": attrs["status_name"],
        "priority": attrs["priority"],
        "project": rels["project"]["data"]["id"],
        "project.key": attrs["key"].split("-")[0],
        "assignee": (rels.get("assignee") or {"data": {"id": ""}})["data"]["id"],
        "created_by": rels["created_by"]["data"]["id"],
        "type": attrs["type_id"],
        "creation_source": attrs["creation_source"],
        "resolved_reason": attrs.get("resolved_reason", ""),
    }[field]
    return {(plain, 0, 0.0)}


def _shown(value: Value) -> str:
    text, is_number, number = value
    return _number_text(number) if is_number else text


def _expected(cases: Iterable[dict[str, Any]], fields: list[str]) -> list[tuple[list[str], int]]:
    """Every group of ``cases`` by ``fields`` together, largest first, then by value."""
    counts: Counter[tuple[Value, ...]] = Counter()
    for case in cases:
        for combination in itertools.product(*(sorted(_values(case, f)) for f in fields)):
            counts[combination] += 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [([_shown(v) for v in values], n) for values, n in ordered]


@pytest.fixture
def random_world(api: Api) -> Api:
    _populate(api, random.Random(20260207))
    return api


def test_counts_are_the_brute_force_counts(random_world: Api) -> None:
    api = random_world
    fields = PLAIN_FIELDS + list(VALUE_FIELDS)
    checked = 0
    for text in FILTERS:
        cases = _matches(api, text)
        for start in range(0, len(fields), 10):
            asked = fields[start : start + 10]
            _check_count(api, text, cases, asked)
            checked += len(asked)
        # A limit keeps the first groups of the same order.
        r = api.get("/api/v2/cases/count", query_filter=text, group_bys="service", limit=2)
        got = [
            ([v["value"]], v["count"])
            for v in r.json()["data"]["attributes"]["groups"][0]["group_values"]
        ]
        assert got == _expected(cases, ["service"])[:2], text
    assert checked == len(FILTERS) * len(fields)


def test_aggregates_are_the_brute_force_counts(random_world: Api) -> None:
    api = random_world
    for text in FILTERS:
        cases = _matches(api, text)
        for fields in AGGREGATES:
            _check_aggregate(api, text, cases, fields)


# What the case tallies hold (storage/tallies.py): counts by these fields, filtered by
# these filters, sum tally rows instead of reading cases.
TALLIED_FIELDS = [
    "status",
    "status_group",
    "status_name",
    "priority",
    "project",
    "project.key",
    "assignee",
    "type",
]
TALLIED_FILTERS = [
    "",
    "status:open",
    "-status:closed",
    "priority:(P1 OR P2)",
    "-assignee:*",
    "archived:*",
    "archived:true",
    'type:"Incident" -status_name:New',
    "project:ALPHA (assignee:* OR priority:P5)",
]
# And the value tallies: one value (or "any value") of a key, and facets but the assignee.
VALUE_TALLIED_FIELDS = [f for f in TALLIED_FIELDS if f != "assignee"]
VALUE_TALLIED_FILTERS = [
    "service:web",
    "service:* status:open",
    "team:sre -priority:P1",
    "region:eu-west-1",
    "custom_attributes.region:* archived:*",
    "tags:phishing -status_name:New",
    "attributes.level:*",
    "level:high",
]


# Groups by one key and facets the value tallies hold, filtered by facets but the assignee.
KEYED_FIELDS = ["service", "attributes.service", "team", "region", "severity_score", "tags"]
KEYED_FIELDS += ["level", "custom_attributes.region"]
KEYED_AGGREGATES = [["status", "service"], ["priority", "tags"], ["level", "status_name"]]
KEYED_AGGREGATES += [["region", "project.key", "type"]]


def _check_count(api: Api, text: str, cases: list[dict[str, Any]], fields: list[str]) -> None:
    """CountCases of ``text`` by ``fields``: the total, and each field's groups."""
    params: dict[str, Any] = {"group_bys": ",".join(fields), "limit": 1000}
    if text:
        params["query_filter"] = text
    r = api.get("/api/v2/cases/count", **params)
    assert r.status_code == 200, (text, r.text)
    attributes = r.json()["data"]["attributes"]
    assert attributes["total"] == len(cases), text
    for field, group in zip(fields, attributes["groups"], strict=True):
        assert group["group"] == field
        got = [([v["value"]], v["count"]) for v in group["group_values"]]
        assert got == _expected(cases, [field]), (text, field)


def _check_aggregate(api: Api, text: str, cases: list[dict[str, Any]], fields: list[str]) -> None:
    """AggregateCases of ``text`` by ``fields``: the total, the groups, and a limit that keeps
    the first of them."""
    r = api.post(AGGREGATE, aggregate_body(fields, 1000, text))
    assert r.status_code == 200, (text, fields, r.text)
    attributes = r.json()["data"]["attributes"]
    assert attributes["total"] == len(cases), (text, fields)
    got = [([g["by"][f] for f in fields], g["value"][0]) for g in attributes["groups"]]
    expected = _expected(cases, fields)
    assert got == expected, (text, fields)
    assert [g["group"] for g in attributes["groups"]] == [",".join(v) for v, _ in expected]
    limited = api.post(AGGREGATE, aggregate_body(fields, 3, text)).json()["data"]
    assert [g["value"][0] for g in limited["attributes"]["groups"]] == [n for _, n in expected[:3]]


def _check_tallied(api: Api) -> None:
    for text in TALLIED_FILTERS:
        if "assignee" in text:
            continue
        cases = _matches(api, text)
        _check_count(api, text, cases, KEYED_FIELDS)
        for fields in KEYED_AGGREGATES:
            _check_aggregate(api, text, cases, fields)
    asked = [(text, TALLIED_FIELDS) for text in TALLIED_FILTERS]
    asked += [(text, VALUE_TALLIED_FIELDS) for text in VALUE_TALLIED_FILTERS]
    for text, group_bys in asked:
        cases = _matches(api, text)
        _check_count(api, text, cases, group_bys)
        _check_aggregate(api, text, cases, ["status_name", "priority", "project"])


def _value_tallies(api: Api) -> list[tuple[Any, ...]]:
    """The value tallies' sums, and what the side tables hold now (as migration 0011 fills
    them), side by side: every combination where they differ."""
    facets = "org_id, project_id, type_id, status, status_name, priority_rank"
    archived = "CASE WHEN c.archived_at IS NULL THEN NULL ELSE 1 END"
    no_number, no_text = "CAST(NULL AS DOUBLE PRECISION)", "CAST(NULL AS TEXT)"
    recount = " UNION ALL ".join(
        f"SELECT {', '.join('c.' + f for f in facets.split(', '))}, {archived}, {source},"
        f" count(DISTINCT c.seq) FROM {table} s JOIN cases c ON c.seq = s.case_seq"
        f" GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11"
        for table, source in [
            ("case_attributes", f"'a', s.key, coalesce(s.value, ''), {no_number}"),
            ("case_attributes", f"'A', s.key, {no_text}, {no_number}"),
            ("case_custom_values", "'c', s.key, coalesce(s.value, ''), s.num"),
            ("case_custom_values", f"'C', s.key, {no_text}, {no_number}"),
        ]
    )
    columns = f"{facets}, archived_at, source, key, value, num"
    tallied = (
        f"SELECT {columns}, sum(n) FROM (SELECT {columns}, n FROM case_value_tallies"
        f" UNION ALL SELECT {columns}, n FROM case_value_deltas) t GROUP BY {columns}"
        " HAVING sum(n) <> 0"
    )
    with api.store.read() as tx:
        one = {tuple(row) for row in tx.sql.all(tallied)}  # type: ignore[attr-defined]
        other = {tuple(row) for row in tx.sql.all(recount)}  # type: ignore[attr-defined]
    return sorted(one ^ other, key=repr)


def test_tallied_counts_are_exact_folded_or_not(random_world: Api) -> None:
    """Counts over the tallies, as their changes wait, once folded, and after more changes."""
    api = random_world
    _check_tallied(api)
    assert _value_tallies(api) == []
    assert fold_tallies(api.store)
    assert _value_tallies(api) == []
    assert not fold_tallies(api.store)  # nothing waits any more
    _check_tallied(api)
    rng = random.Random(7)
    for case in rng.sample(_matches(api, ""), 15):
        ref = case["id"]
        changed = api.case_action(ref, "priority", {"priority": rng.choice(PRIORITIES)})
        assert changed.status_code == 200, changed.text
        changed = api.case_action(ref, "status", {"status": "CLOSED"})
        assert changed.status_code == 200, changed.text
        if rng.random() < 0.3:
            assert api.case_action(ref, "archive").status_code == 200
        attributes = {"attributes": {"service": rng.sample(SERVICES, rng.randint(0, 3))}}
        assert api.case_action(ref, "attributes", attributes).status_code == 200
    _check_tallied(api)
    assert _value_tallies(api) == []


def test_counts_by_the_case_facets_read_the_tallies(api: Api) -> None:
    """A count whose filter and groups the tallies hold sums them; one with a term they do
    not hold reads the cases (a row slipped into the tallies shows which was read)."""
    project = api.create_project("TALLY")["id"]
    case = api.create_case(project, "one open case")
    service = {"attributes": {"service": ["Web"]}}
    assert api.case_action(case["id"], "attributes", service).status_code == 200

    def total(query: str, group_by: str = "priority") -> int:
        r = api.get("/api/v2/cases/count", query_filter=query, group_bys=group_by)
        assert r.status_code == 200, r.text
        return int(r.json()["data"]["attributes"]["total"])

    assert total("status:open") == total("status:open -zzqq") == 1
    with api.store.write() as tx:
        added = tx.sql.execute(  # type: ignore[attr-defined]
            "INSERT INTO case_tally_deltas (org_id, project_id, type_id, status, status_name,"
            " priority_rank, assignee_id, archived_at, n) SELECT org_id, project_id, type_id,"
            " status, status_name, priority_rank, assignee_id, NULL, 1000 FROM cases"
            " WHERE project_id = ?",
            (project,),
        )
    assert added == 1
    assert total("status:open") == 1001  # the tallies
    assert total("status:open", "creation_source") == 1  # a field they do not hold
    assert total("status:open -zzqq") == 1  # a term they do not hold (text)

    assert total("service:web", "status") == 1
    with api.store.write() as tx:
        tx.sql.execute(  # type: ignore[attr-defined]
            "INSERT INTO case_value_deltas (org_id, project_id, type_id, status, status_name,"
            " priority_rank, archived_at, source, key, value, num, n) SELECT org_id,"
            " project_id, type_id, status, status_name, priority_rank, NULL, 'a', 'service',"
            " 'web', NULL, 1000 FROM cases WHERE project_id = ?",
            (project,),
        )
    assert total("service:web", "status") == 1001  # the value tallies
    assert total("service:web status:open", "priority") == 1001
    assert total("service:web", "assignee") == 1  # the value tallies hold no assignee
    assert total("service:web*", "status") == 1  # nor prefixes
