"""The timeline replays to the case: a property test over random ways of working a case.

Hypothesis draws a sequence of changes (status, by group or by name, priority,
title, description, attributes, custom attributes set and cleared, the case's
type, assignee, archive, due date, resolved reason, insights, watchers, comments
added, edited and deleted with @mentions, moves between two projects),
sent through HTTP to a fresh case. Then the timeline, read oldest first a page
at a time, is folded from the case as it was created: every activity cell's
``old_value`` must be the value the fold holds at that point, and the end of the
fold must be the case ``GetCase`` answers (and its watchers, ``ListCaseWatchers``).
A model of the steps must agree too, so a step the server silently dropped is
caught even when the timeline and the case agree with each other. Deleted
comments leave their cell but not their text.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.api import Api

STATUSES = ["OPEN", "IN_PROGRESS", "CLOSED"]
PRIORITIES = ["NOT_DEFINED", "P1", "P2", "P3", "P4", "P5"]
REASONS = ["FALSE_POSITIVE", "TRUE_POSITIVE", "BENIGN_POSITIVE"]
INSIGHT_TYPES = ["SECURITY_SIGNAL", "MONITOR", "INCIDENT"]
PEOPLE = 3  # the admin and two users made for each example
INITIAL_TITLE = "Replayed case"
# History fields whose old and new values are the case's value as the API shows it.
PLAIN_FIELDS = (
    "status",
    "priority",
    "title",
    "description",
    "assignee",
    "due_date",
    "resolved_reason",
)

STANDARD = "00000000-0000-0000-0000-000000000001"
GROUP_NAMES = {"OPEN": "Open", "IN_PROGRESS": "In Progress", "CLOSED": "Closed"}
# The second type's statuses (the first is Standard's: the groups' own names).
CUSTOM_STATUSES = [
    ("New", "OPEN"),
    ("Triage", "OPEN"),
    ("In Progress", "IN_PROGRESS"),
    ("Done", "CLOSED"),
    ("Dropped", "CLOSED"),
]
STATUS_NAMES = sorted({*GROUP_NAMES.values(), *(n for n, _ in CUSTOM_STATUSES)})
# Custom attributes: Standard has region; the second type region and score (NUMBER).
CUSTOM_VALUES = st.one_of(
    st.tuples(st.just("region"), st.sampled_from(["eu-west-1", "us-east-1"])),
    st.tuples(st.just("score"), st.integers(0, 10)),
)

_serial = itertools.count(1)

# Text as people type it, without NUL (refused on every back end, see http/endpoint.py).
TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=30)
TITLES = TEXT.filter(lambda s: s.strip())
ATTRIBUTES = st.dictionaries(
    st.text(st.characters(categories=["L", "N", "P"]), min_size=1, max_size=12),
    st.lists(TEXT, max_size=3),
    max_size=3,
)
INSIGHTS = st.lists(
    st.tuples(st.sampled_from(INSIGHT_TYPES), st.sampled_from(["1", "2", "3"]), st.integers(0, 9)),
    min_size=1,
    max_size=3,
)
# A mention by email, in the case the user typed it, perhaps ending a sentence.
MENTIONS = st.lists(
    st.tuples(st.integers(0, PEOPLE - 1), st.booleans(), st.sampled_from(["", ".", ","])),
    max_size=2,
)

STEPS = st.one_of(
    st.tuples(st.just("status"), st.sampled_from(STATUSES)),
    st.tuples(st.just("priority"), st.sampled_from(PRIORITIES)),
    st.tuples(st.just("title"), TITLES),
    st.tuples(st.just("description"), TEXT),
    st.tuples(st.just("attributes"), ATTRIBUTES),
    st.tuples(st.just("assign"), st.integers(0, PEOPLE - 1)),
    st.tuples(st.just("unassign"), st.none()),
    st.tuples(st.just("archive"), st.booleans()),
    st.tuples(st.just("due_date"), st.none() | st.dates()),
    st.tuples(
        st.just("resolved_reason"),
        st.sampled_from(["", " ", *REASONS, "false_positive", " True_Positive "]),
    ),
    st.tuples(st.just("add_insights"), INSIGHTS),
    st.tuples(st.just("remove_insights"), INSIGHTS),
    st.tuples(st.just("watch"), st.integers(0, PEOPLE - 1)),
    st.tuples(st.just("unwatch"), st.integers(0, PEOPLE - 1)),
    st.tuples(st.just("comment"), st.tuples(TEXT, MENTIONS)),
    st.tuples(st.just("edit"), st.tuples(st.integers(0, 20), TEXT, MENTIONS, st.booleans())),
    st.tuples(st.just("delete"), st.integers(0, 20)),
    st.tuples(st.just("move"), st.integers(0, 1)),
    st.tuples(st.just("status_name"), st.sampled_from(STATUS_NAMES)),
    st.tuples(st.just("custom_set"), CUSTOM_VALUES),
    st.tuples(st.just("custom_clear"), st.sampled_from(["region", "score"])),
    st.tuples(st.just("change_type"), st.integers(0, 1)),
)


@dataclass
class Comment:
    id: str
    body: str
    tokens: list[str]  # the unique word of every text it had, to look for once it is deleted
    deleted: bool = False


@dataclass
class State:
    """What a case shows: the model of the steps, the fold of the timeline and GetCase's answer."""

    key: str
    project: str
    title: str = INITIAL_TITLE
    status: str = "OPEN"
    status_name: str = "Open"
    type_id: str = STANDARD
    custom: dict[str, Any] = field(default_factory=dict)
    priority: str = "NOT_DEFINED"
    description: str = ""
    attributes: dict[str, list[str]] = field(default_factory=dict)
    assignee: str | None = None
    archived: bool = False
    due_date: str | None = None
    resolved_reason: str | None = None
    insights: list[dict[str, str]] = field(default_factory=list)
    comment_count: int = 0
    watchers: set[str] = field(default_factory=set)


# --- sending the steps ---------------------------------------------------------------------
class Driver:
    """Sends the steps to one case and keeps the model of what they should do."""

    def __init__(
        self,
        api: Api,
        people: list[dict[str, str]],
        projects: list[dict[str, str]],
        types: list[str],
    ):
        self.api = api
        self.types = types  # Standard, then a type with CUSTOM_STATUSES
        self.people = people  # id, email
        self.projects = projects  # id, key
        self.numbers = {p["id"]: 0 for p in projects}
        case = api.create_case(projects[0]["id"], INITIAL_TITLE)
        self.case_id: str = case["id"]
        self.numbers[projects[0]["id"]] = 1
        self.model = State(key=case["attributes"]["key"], project=projects[0]["id"])
        self.model.watchers.add(people[0]["id"])  # the creator
        self.old_keys: list[str] = []
        self.comments: list[Comment] = []
        self.turn = 0

    def ref(self) -> str:
        """The case's id, its key or an old key, in turn: each must name it."""
        refs = [self.case_id, self.model.key, *self.old_keys]
        self.turn += 1
        return refs[self.turn % len(refs)]

    def ok(self, r: Any, status: int = 200) -> Any:
        assert r.status_code == status, (r.request.method, r.request.url, r.text)
        return r

    def send(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        r = self.api.client.request(method, path, json=body, headers=self.api.headers)
        return self.ok(r, status)

    def action(self, ref: str, name: str, attributes: dict[str, Any] | None) -> None:
        self.ok(self.api.case_action(ref, name, attributes))

    def comment_text(self, text: str, mentions: list[tuple[int, bool, str]]) -> tuple[str, str]:
        """A comment body with a word found nowhere else, and that word."""
        token = f"zqx{next(_serial)}qz"
        names = [
            "@" + (self.people[i]["email"].upper() if upper else self.people[i]["email"]) + end
            for i, upper, end in mentions
        ]
        return " ".join([token, text, *names]), token

    def mentioned(self, mentions: list[tuple[int, bool, str]]) -> set[str]:
        return {self.people[i]["id"] for i, _, _ in mentions}

    def live(self, index: int) -> Comment | None:
        live = [c for c in self.comments if not c.deleted]
        return live[index % len(live)] if live else None

    def apply(self, kind: str, arg: Any) -> None:
        m, ref = self.model, self.ref()
        base = f"/api/v2/cases/{ref}"
        custom_type = m.type_id != STANDARD
        statuses = CUSTOM_STATUSES if custom_type else [(n, g) for g, n in GROUP_NAMES.items()]
        if kind == "status":
            self.action(ref, "status", {"status": arg})
            if m.status != arg:  # within its group a case stays put
                m.status, m.status_name = arg, next(n for n, g in statuses if g == arg)
        elif kind == "status_name":
            found = [(n, g) for n, g in statuses if n == arg]
            r = self.api.case_action(ref, "status", {"status_name": arg.lower()})
            self.ok(r, 200 if found else 400)
            if found:
                m.status_name, m.status = found[0]
        elif kind == "custom_set":
            key, value = arg
            known = key == "region" or custom_type
            kind_of = "NUMBER" if key == "score" else "TEXT"
            r = self.api.post(
                f"{base}/custom_attributes/{key}",
                {
                    "data": {
                        "type": "case",
                        "attributes": {"type": kind_of, "is_multi": False, "value": value},
                    }
                },
            )
            self.ok(r, 200 if known else 404)
            if known:
                m.custom[key] = {"type": kind_of, "is_multi": False, "value": value}
        elif kind == "custom_clear":
            known = arg == "region" or custom_type
            self.send("DELETE", f"{base}/custom_attributes/{arg}", status=200 if known else 404)
            m.custom.pop(arg, None)
        elif kind == "change_type":
            target = self.types[arg]
            self.action(ref, "type", {"type_id": target})
            if target != m.type_id:
                m.type_id = target
                if target == STANDARD:
                    m.custom.pop("score", None)
                    m.status_name = GROUP_NAMES[m.status]
                elif m.status_name not in [n for n, _ in CUSTOM_STATUSES]:
                    m.status_name = next(n for n, g in CUSTOM_STATUSES if g == m.status)
        elif kind == "priority":
            self.action(ref, "priority", {"priority": arg})
            m.priority = arg
        elif kind == "title":
            self.action(ref, "title", {"title": arg})
            m.title = arg.strip()
        elif kind == "description":
            self.action(ref, "description", {"description": arg})
            m.description = arg
        elif kind == "attributes":
            self.action(ref, "attributes", {"attributes": arg})
            m.attributes = arg
        elif kind == "assign":
            user = self.people[arg]["id"]
            self.action(ref, "assign", {"assignee_id": user})
            if m.assignee != user:  # assigning the assignee again is a no-op: no new watcher
                m.assignee = user
                m.watchers.add(user)
        elif kind == "unassign":
            self.action(ref, "unassign", None)
            m.assignee = None
        elif kind == "archive":
            self.action(ref, "archive" if arg else "unarchive", None)
            m.archived = arg
        elif kind == "due_date":
            day = None if arg is None else arg.isoformat()
            self.action(ref, "due_date", {"due_date": day})
            m.due_date = day
        elif kind == "resolved_reason":
            self.action(ref, "resolved_reason", {"security_resolved_reason": arg})
            m.resolved_reason = arg.strip().upper() or None
        elif kind in ("add_insights", "remove_insights"):
            given = [
                {"type": t, "resource_id": rid, "ref": f"/{t.lower()}/{rid}?v={v}"}
                for t, rid, v in arg
            ]
            request = {"data": {"type": "case", "attributes": {"insights": given}}}
            self.send("PUT" if kind == "add_insights" else "DELETE", f"{base}/insights", request)
            if kind == "add_insights":
                merged = {(i["type"], i["resource_id"]): i for i in m.insights}
                merged.update({(i["type"], i["resource_id"]): i for i in given})
                m.insights = list(merged.values())
            else:
                gone = {(i["type"], i["resource_id"]) for i in given}
                m.insights = [i for i in m.insights if (i["type"], i["resource_id"]) not in gone]
        elif kind == "watch":
            self.send("POST", f"{base}/watchers/{self.people[arg]['id']}", status=201)
            m.watchers.add(self.people[arg]["id"])
        elif kind == "unwatch":
            self.send("DELETE", f"{base}/watchers/{self.people[arg]['id']}", status=204)
            m.watchers.discard(self.people[arg]["id"])
        elif kind == "comment":
            text, mentions = arg
            body, token = self.comment_text(text, mentions)
            r = self.send("POST", f"{base}/comment", comment(body))
            cells = r.json()["data"]
            assert len(cells) == 1 and cells[0]["attributes"]["cell_content"] == {"message": body}
            self.comments.append(Comment(cells[0]["id"], body, [token]))
            m.comment_count += 1
            m.watchers |= {self.people[0]["id"]} | self.mentioned(mentions)
        elif kind == "edit":
            index, text, mentions, same = arg
            found = self.live(index)
            if found is None:
                return
            # The same text is a no-op; an edit's mentions make nobody a watcher.
            body, token = (
                (found.body, found.tokens[-1]) if same else self.comment_text(text, mentions)
            )
            r = self.send("PUT", f"{base}/comment/{found.id}", comment(body))
            assert r.json()["data"][0]["attributes"]["cell_content"] == {"message": body}
            found.body = body
            found.tokens.append(token)
        elif kind == "delete":
            found = self.live(arg)
            if found is None:
                return
            self.send("DELETE", f"{base}/comment/{found.id}", status=204)
            found.deleted = True
            m.comment_count -= 1
        elif kind == "move":
            target = self.projects[arg]
            self.send(
                "PATCH",
                f"{base}/relationships/project",
                {"data": {"type": "project", "id": target["id"]}},
            )
            if target["id"] != m.project:
                self.numbers[target["id"]] += 1
                self.old_keys.append(m.key)
                m.key, m.project = f"{target['key']}-{self.numbers[target['id']]}", target["id"]
        else:
            raise AssertionError(kind)


def comment(body: str) -> dict[str, Any]:
    return {"data": {"type": "case", "attributes": {"comment": body}}}


# --- reading the case back -------------------------------------------------------------------
def read_timeline(api: Api, case_id: str, size: int) -> list[dict[str, Any]]:
    """Every cell, oldest first, ``size`` at a time; the pages must add up to ``meta``."""
    cells: list[dict[str, Any]] = []
    number = 1
    while True:
        r = api.get(
            f"/api/v2/cases/{case_id}/timelines",
            **{"page[size]": size, "page[number]": number, "sort[ascending]": "true"},
        )
        assert r.status_code == 200, r.text
        page = r.json()
        cells += page["data"]
        total = page["meta"]["total_cells"]
        assert page["meta"]["page"]["total"] == -(-total // size)
        if len(page["data"]) < size:
            assert len(cells) == total
            assert len({c["id"] for c in cells}) == total
            return cells
        number += 1


def replay(cells: list[dict[str, Any]], created: State) -> tuple[State, dict[str, dict[str, Any]]]:
    """Fold the cells into the case they describe, from the case as created (its title and
    project; its key comes from the ``created`` cell); the comment cells by id."""
    s = State(key="", project=created.project, title=created.title)
    comments: dict[str, dict[str, Any]] = {}
    deleted: set[str] = set()
    name_before: str | None = None  # after a status cell: the name the case had
    for cell in cells:
        attributes = cell["attributes"]
        assert cell["type"] == "timeline_cell"
        if attributes["type"] == "COMMENT":
            assert cell["id"] not in comments
            comments[cell["id"]] = attributes
            s.comment_count += 1
            continue
        assert attributes["type"] == "ACTIVITY", cell
        content = attributes["cell_content"]
        what, old, new = content["field"], content.get("old_value"), content.get("new_value")
        assert set(content) <= {"field", "old_value", "new_value"}, cell
        if what == "status":
            # The group; its own name, unless a status_name cell follows.
            assert s.status == old, (old, s.status)
            name_before, s.status, s.status_name = s.status_name, new, GROUP_NAMES[new]
            continue
        if what == "status_name":
            assert (name_before or s.status_name) == old, (old, name_before, s.status_name)
            s.status_name = new
        name_before = None
        if what == "status_name":
            continue
        if what == "created":
            assert not s.key and old is None
            s.key = new
        elif what == "type":
            assert s.type_id == old
            s.type_id = new
        elif what.startswith("custom_attributes."):
            key = what.removeprefix("custom_attributes.")
            held = s.custom.get(key)
            assert (None if held is None else held["value"]) == (old and json.loads(old)), cell
            if new is None:
                s.custom.pop(key)
            else:
                value = json.loads(new)
                kind = "NUMBER" if isinstance(value, float | int) else "TEXT"
                s.custom[key] = {"type": kind, "is_multi": False, "value": value}
        elif what in PLAIN_FIELDS:
            assert getattr(s, what) == old, (what, old, getattr(s, what))
            setattr(s, what, new)
        elif what in ("attributes", "insights"):
            assert getattr(s, what) == json.loads(old), (what, old, getattr(s, what))
            setattr(s, what, json.loads(new))
        elif what == "archived":
            assert (old, new) == (("false", "true") if not s.archived else ("true", "false"))
            s.archived = new == "true"
        elif what == "project":
            assert s.project == old
            s.project = new
        elif what == "key":
            assert s.key == old
            s.key = new
        elif what == "watcher":
            if new is not None:
                assert old is None and new not in s.watchers, cell
                s.watchers.add(new)
            else:
                assert old in s.watchers, cell
                s.watchers.discard(old)
        elif what == "comment_edited":
            assert old is None and new in comments and new not in deleted, cell
        elif what == "comment_deleted":
            assert new is None and old in comments and old not in deleted, cell
            deleted.add(old)
            s.comment_count -= 1
        else:
            raise AssertionError(f"unexpected activity {cell}")
    for cell_id, attributes in comments.items():
        gone = cell_id in deleted
        assert ("deleted_at" in attributes) == gone, attributes
        assert ("message" in attributes["cell_content"]) != gone, attributes
    return s, comments


def shown(api: Api, case_id: str) -> State:
    """The case as GetCase and ListCaseWatchers answer it."""
    r = api.get(f"/api/v2/cases/{case_id}")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    a, rels = data["attributes"], data["relationships"]
    r = api.get(f"/api/v2/cases/{case_id}/watchers")
    assert r.status_code == 200, r.text
    return State(
        key=a["key"],
        project=rels["project"]["data"]["id"],
        title=a["title"],
        status=a["status"],
        status_name=a["status_name"],
        type_id=a["type_id"],
        custom=a["custom_attributes"],
        priority=a["priority"],
        description=a["description"],
        attributes=a["attributes"],
        assignee=rels["assignee"]["data"]["id"] if "assignee" in rels else None,
        archived="archived_at" in a,
        due_date=a.get("due_date"),
        resolved_reason=a.get("resolved_reason"),
        insights=a["insights"],
        comment_count=a["comment_count"],
        watchers={w["id"] for w in r.json()["data"]},
    )


def replay_type(api: Api, n: int) -> str:
    """A case type with CUSTOM_STATUSES, region and score; Standard gets region (once)."""
    statuses = [{"name": name, "group": f"SG_{group}"} for name, group in CUSTOM_STATUSES]
    body = {
        "data": {"type": "case_type", "attributes": {"name": f"Replay {n}", "statuses": statuses}}
    }
    r = api.post("/api/v2/cases/types", body)
    assert r.status_code == 201, r.text
    type_id = r.json()["data"]["id"]
    for on, key, kind in (
        (STANDARD, "region", "TEXT"),
        (type_id, "region", "TEXT"),
        (type_id, "score", "NUMBER"),
    ):
        config = {"display_name": key, "key": key, "type": kind, "is_multi": False}
        r = api.post(
            f"/api/v2/cases/types/{on}/custom_attributes",
            {"data": {"type": "custom_attribute", "attributes": config}},
        )
        assert r.status_code in (201, 409), r.text  # Standard's region: made by the first example
    return type_id


# --- the property ------------------------------------------------------------------------
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEPS, min_size=1, max_size=25), page_size=st.integers(1, 7))
def test_the_timeline_replays_to_the_case(
    api: Api, steps: list[tuple[str, Any]], page_size: int
) -> None:
    n = next(_serial)
    admin = api.get("/api/v2/users", filter="admin@").json()["data"][0]
    users = [admin] + [api.create_user(f"{who}{n}@example.com") for who in ("ann", "bob")]
    people = [{"id": u["id"], "email": u["attributes"]["email"]} for u in users]
    projects = [api.create_project(f"{k}{n}", f"project {k}") for k in ("A", "B")]
    driver = Driver(
        api,
        people,
        [{"id": p["id"], "key": p["attributes"]["key"]} for p in projects],
        [STANDARD, replay_type(api, n)],
    )
    created = State(key=driver.model.key, project=driver.model.project)
    for kind, arg in steps:
        driver.apply(kind, arg)

    now = shown(api, driver.case_id)
    assert now == driver.model, steps
    cells = read_timeline(api, driver.case_id, page_size)
    folded, comment_cells = replay(cells, created)
    assert folded == now, steps
    assert folded.key and created.key == cells[0]["attributes"]["cell_content"]["new_value"]

    # Each comment's cell holds its text as it now is; a deleted one's text is gone for good.
    assert list(comment_cells) == [c.id for c in driver.comments]
    everything = json.dumps(cells, ensure_ascii=False)
    for c in driver.comments:
        if c.deleted:
            for token in c.tokens:
                assert token not in everything, (token, c)
        else:
            assert comment_cells[c.id]["cell_content"]["message"] == c.body

    # Newest first is the same timeline, reversed; every old key still names the case.
    r = api.get(f"/api/v2/cases/{driver.case_id}/timelines", **{"page[size]": 100})
    assert [c["id"] for c in r.json()["data"]] == [c["id"] for c in reversed(cells)][:100]
    for key in driver.old_keys:
        assert api.get(f"/api/v2/cases/{key}").json()["data"]["id"] == driver.case_id
