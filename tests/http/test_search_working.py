"""GET /api/v2/cases?filter=...: what working a case adds to search, through HTTP, on both databases.

Comment text in free text (kept in step with edits and deletes), and the facets
``comment_count``, ``due_date``, ``resolved_reason`` and ``watcher``. Comments,
watchers and the new fields are written through the store (the repositories
the domain uses), so each search meets the rows as the domain leaves them. Each
filter also runs with SQLite's planner forced into each of its ways of reading
full-text terms, which must not change any answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from casebook.core.clock import new_id, now_us
from casebook.core.entities import Comment
from casebook.domain.users import BOOTSTRAP_ADMIN_EMAIL as ADMIN
from casebook.search.parser import parse
from casebook.storage import sql_search
from casebook.storage.base import CaseUpdate
from tests.http.test_search_facets import PLANS, filter_mismatches
from tests.support.api import Api, keys

TODAY = datetime.now(UTC).date()


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def midnight_us(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) * 1_000_000


@dataclass
class World:
    api: Api
    org_id: str
    ids: dict[str, str]  # case key -> case UUID
    comments: dict[str, str]  # label -> comment UUID
    users: dict[str, str]  # name -> user id


def add_comment(api: Api, org_id: str, case_id: str, body: str) -> str:
    """A live comment, written as the domain writes one (with the case's count)."""
    comment = Comment(id=new_id(), case_id=case_id, author_id=None, body=body, created_at=now_us())
    with api.store.write() as tx:
        case = tx.cases.get(org_id, case_id)
        assert case is not None
        tx.comments.insert(org_id, case.seq, comment)
        tx.cases.update(org_id, case_id, CaseUpdate(comment_count=case.comment_count + 1))
    return comment.id


def edit_comment(api: Api, org_id: str, comment_id: str, body: str) -> None:
    with api.store.write() as tx:
        tx.comments.edit(org_id, comment_id, body, now_us())


def delete_comment(api: Api, org_id: str, case_id: str, comment_id: str) -> None:
    with api.store.write() as tx:
        case = tx.cases.get(org_id, case_id)
        assert case is not None
        tx.comments.delete(org_id, comment_id, now_us())
        tx.cases.update(org_id, case_id, CaseUpdate(comment_count=case.comment_count - 1))


def watch(api: Api, org_id: str, case_id: str, user_id: str) -> None:
    with api.store.write() as tx:
        case = tx.cases.get(org_id, case_id)
        assert case is not None
        assert tx.watchers.add(org_id, case_id, case.seq, user_id, now_us())


def unwatch_all(api: Api, org_id: str) -> None:
    with api.store.write() as tx:
        tx.sql.execute("DELETE FROM case_watchers WHERE org_id = ?", (org_id,))  # type: ignore[attr-defined]


def update(api: Api, org_id: str, case_id: str, **fields: object) -> None:
    with api.store.write() as tx:
        tx.cases.update(org_id, case_id, CaseUpdate(**fields))  # type: ignore[arg-type]


@pytest.fixture
def world(api: Api) -> World:
    """Four cases of SEC, newest first SEC-4, SEC-3, SEC-2, SEC-1, and one elsewhere.

    SEC-1 "Router down": comments "the runbook says reboot", "kubernetes pods
    restarted", "zanzibar secret" (deleted) and, last of all comments, "late
    wombat"; watched by the admin and ann; due in 10 days; a false positive.
    SEC-2 "Disk full": one comment "quokka old text", edited to "wombat new
    text"; watched by ann; due in 40 days; a true positive.
    SEC-3 "Runbook missing for login": no comments, no watchers, overdue by a day.
    SEC-4 "Pager noise": comments "alpha beta", "gamma delta", "noise floor";
    watched by bob; no due date; a benign positive.
    """
    sec = api.create_project("SEC", "Security")
    ann = api.create_user("ann@example.com")["id"]
    bob = api.create_user("bob@example.com")["id"]
    admin = api.user_id(ADMIN)
    with api.store.read() as tx:
        org = tx.orgs.by_name("default")
        assert org is not None
    o = org.id
    ids = {
        "SEC-1": api.create_case(sec["id"], "Router down", description="switch failed")["id"],
        "SEC-2": api.create_case(sec["id"], "Disk full", description="host-7 volume")["id"],
        "SEC-3": api.create_case(sec["id"], "Runbook missing for login")["id"],
        "SEC-4": api.create_case(sec["id"], "Pager noise", description="nothing")["id"],
    }
    comments = {
        "runbook": add_comment(api, o, ids["SEC-1"], "the runbook says reboot"),
        "kubernetes": add_comment(api, o, ids["SEC-1"], "kubernetes pods restarted"),
        "zanzibar": add_comment(api, o, ids["SEC-1"], "zanzibar secret"),
        "quokka": add_comment(api, o, ids["SEC-2"], "quokka old text"),
        "alpha": add_comment(api, o, ids["SEC-4"], "alpha beta"),
        "gamma": add_comment(api, o, ids["SEC-4"], "gamma delta"),
        "noise": add_comment(api, o, ids["SEC-4"], "noise floor"),
    }
    delete_comment(api, o, ids["SEC-1"], comments["zanzibar"])
    edit_comment(api, o, comments["quokka"], "wombat new text")
    comments["late"] = add_comment(api, o, ids["SEC-1"], "late wombat")
    unwatch_all(api, o)  # creating a case made the admin a watcher: start from none
    for key, people in {"SEC-1": [admin, ann], "SEC-2": [ann], "SEC-4": [bob]}.items():
        for person in people:
            watch(api, o, ids[key], person)
    update(api, o, ids["SEC-1"], due_date=midnight_us(day(10)), resolved_reason="FALSE_POSITIVE")
    update(api, o, ids["SEC-2"], due_date=midnight_us(day(40)), resolved_reason="TRUE_POSITIVE")
    update(api, o, ids["SEC-3"], due_date=midnight_us(day(-1)))
    update(api, o, ids["SEC-4"], resolved_reason="BENIGN_POSITIVE")
    # Another organisation, with the same words in its comments, watched by its admin.
    other = api.new_org_admin("acme")
    elsewhere = other.create_case(other.create_project("SEC")["id"], "Elsewhere")
    with api.store.read() as tx:
        acme = tx.orgs.by_name("acme")
        assert acme is not None
        acme_admin = tx.users.by_email(acme.id, "admin@acme.example")
        assert acme_admin is not None
    add_comment(api, acme.id, elsewhere["id"], "zanzibar runbook wombat alpha beta gamma")
    unwatch_all(api, acme.id)
    watch(api, acme.id, elsewhere["id"], acme_admin.id)
    update(api, acme.id, elsewhere["id"], due_date=midnight_us(day(10)))
    return World(api, o, ids, comments, {"ann": ann, "bob": bob, "admin": admin})


ALL = ["SEC-4", "SEC-3", "SEC-2", "SEC-1"]

# (filter, keys in the default order). {bob} is replaced by an id, {dN} by the date N days on.
FILTERS: list[tuple[str, list[str]]] = [
    # --- comment text
    ("runbook", ["SEC-3", "SEC-1"]),
    ("RUNBOOK", ["SEC-3", "SEC-1"]),
    ('"runbook says"', ["SEC-1"]),
    ("kubernetes", ["SEC-1"]),
    ('"kubernetes pods"', ["SEC-1"]),
    ("kube*", ["SEC-1"]),
    ("zanzibar", []),  # deleted
    ("quokka", []),  # edited away
    ("wombat", ["SEC-2", "SEC-1"]),
    ("wom*", ["SEC-2", "SEC-1"]),
    ('"alpha beta"', ["SEC-4"]),
    ('"beta gamma"', []),  # a phrase stays within one comment
    ('"pager noise floor"', []),  # ... and does not run from the title into a comment
    ('"noise floor"', ["SEC-4"]),
    ("noise floor", ["SEC-4"]),
    ("router kubernetes", ["SEC-1"]),  # one word in the title, one in a comment
    ("alpha delta", ["SEC-4"]),  # words of two comments
    ("-runbook", ["SEC-4", "SEC-2"]),
    ("-wombat -alpha", ["SEC-3"]),
    ("wombat OR alpha", ["SEC-4", "SEC-2", "SEC-1"]),
    ("(wombat OR alpha) -late", ["SEC-4", "SEC-2"]),
    ("runbook status:open", ["SEC-3", "SEC-1"]),
    ("elsewhere", []),
    # --- comment_count
    ("comment_count:0", ["SEC-3"]),
    ("comment_count:3", ["SEC-4", "SEC-1"]),
    ("comment_count:>1", ["SEC-4", "SEC-1"]),
    ("comment_count:>=1", ["SEC-4", "SEC-2", "SEC-1"]),
    ("comment_count:<1", ["SEC-3"]),
    ("comment_count:<=1", ["SEC-3", "SEC-2"]),
    ("comment_count:[1 TO 2]", ["SEC-2"]),
    ("comment_count:[1 TO 3]", ["SEC-4", "SEC-2", "SEC-1"]),
    ("comment_count:{1 TO 3]", ["SEC-4", "SEC-1"]),
    ("comment_count:[2 TO *]", ["SEC-4", "SEC-1"]),
    ("comment_count:*", ALL),
    ("-comment_count:0", ["SEC-4", "SEC-2", "SEC-1"]),
    ("comment_count:>1 runbook", ["SEC-1"]),
    ("comment_count:(0 OR 1)", ["SEC-3", "SEC-2"]),
    # --- due_date
    ("due_date:*", ["SEC-3", "SEC-2", "SEC-1"]),
    ("-due_date:*", ["SEC-4"]),
    ("due_date:{d10}", ["SEC-1"]),
    ("due_date:<now", ["SEC-3"]),
    ("due_date:<now+2d", ["SEC-3"]),
    ("due_date:<now+20d", ["SEC-3", "SEC-1"]),
    ("due_date:>now", ["SEC-2", "SEC-1"]),
    ("due_date:[{d0} TO {d40}]", ["SEC-2", "SEC-1"]),
    ("due_date:[{d0} TO {d40}}", ["SEC-1"]),
    ("due_date:<now+20d -status:closed", ["SEC-3", "SEC-1"]),
    ("-due_date:>now", ["SEC-4", "SEC-3"]),
    # --- resolved_reason
    ("resolved_reason:false_positive", ["SEC-1"]),
    ("resolved_reason:FALSE_POSITIVE", ["SEC-1"]),
    ('resolved_reason:"true positive"', ["SEC-2"]),
    ("resolved_reason:benign_positive", ["SEC-4"]),
    ("resolved_reason:*", ["SEC-4", "SEC-2", "SEC-1"]),
    ("-resolved_reason:*", ["SEC-3"]),
    ("-resolved_reason:false_positive", ["SEC-4", "SEC-3", "SEC-2"]),
    ("resolved_reason:(false_positive OR true_positive)", ["SEC-2", "SEC-1"]),
    # --- watcher
    ("watcher:me", ["SEC-1"]),
    ("watcher:ann@example.com", ["SEC-2", "SEC-1"]),
    ("watcher:ANN@example.com", ["SEC-2", "SEC-1"]),
    ("watcher:{bob}", ["SEC-4"]),
    ("watcher:*", ["SEC-4", "SEC-2", "SEC-1"]),
    ("-watcher:*", ["SEC-3"]),
    ("-watcher:me", ["SEC-4", "SEC-3", "SEC-2"]),
    ("watcher:nobody@example.com", []),
    ("-watcher:nobody@example.com", ALL),
    ("watcher:(ann@example.com OR {bob})", ["SEC-4", "SEC-2", "SEC-1"]),
    ("watcher:me wombat", ["SEC-1"]),
    ("watcher:me OR comment_count:0", ["SEC-3", "SEC-1"]),
]


def _mismatches(world: World) -> list[str]:
    names = {"bob": world.users["bob"], **{f"d{n}": day(n).isoformat() for n in (0, 10, 40)}}
    return filter_mismatches(world.api, FILTERS, names)


def test_every_filter(world: World) -> None:
    assert _mismatches(world) == []


@pytest.mark.parametrize("plan", sorted(PLANS))
def test_every_filter_whatever_the_plan(
    world: World, plan: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in PLANS[plan].items():
        monkeypatch.setattr(sql_search, name, value)
    assert _mismatches(world) == []


def test_other_organisations_see_their_own(world: World) -> None:
    other = world.api.new_org_admin("globex")
    assert keys(other.search("runbook")) == []
    acme = world.api.as_keys(world.api.keys_for("acme", "admin@acme.example"))
    assert keys(acme.search("zanzibar")) == ["SEC-1"]
    assert keys(acme.search('"beta gamma"')) == ["SEC-1"]
    assert keys(acme.search("watcher:me")) == ["SEC-1"]
    assert keys(acme.search("watcher:ann@example.com")) == []
    assert keys(acme.search("comment_count:1 due_date:*")) == ["SEC-1"]


def test_comment_edits_and_deletes_are_searched_at_once(world: World) -> None:
    api, o = world.api, world.org_id
    edit_comment(api, o, world.comments["alpha"], "omega")
    assert keys(api.search("alpha")) == []
    assert keys(api.search("omega")) == ["SEC-4"]
    delete_comment(api, o, world.ids["SEC-4"], world.comments["alpha"])
    assert keys(api.search("omega")) == []
    assert keys(api.search("comment_count:2")) == ["SEC-4"]
    # A comment row removed outright (as with its case) leaves the index too.
    with api.store.write() as tx:
        tx.sql.execute(  # type: ignore[attr-defined]
            "DELETE FROM case_comments WHERE id = ?", (world.comments["gamma"],)
        )
    assert keys(api.search("gamma")) == []
    assert keys(api.search('"noise floor"')) == ["SEC-4"]


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        (
            "comment_count:many",
            'invalid comment_count "many" at 14; must be a whole number such as 0 or 3',
        ),
        (
            "comment_count:>-1",
            'invalid comment_count "-1" at 15; must be a whole number such as 0 or 3',
        ),
        (
            "x comment_count:[1 TO two]",
            'invalid comment_count "two" at 22; must be a whole number such as 0 or 3',
        ),
        ("comment_count:[3 TO 1]", 'empty range "[3 TO 1]" at 14'),
        (
            "comment_count:1*",
            'invalid comment_count "1*" at 14; must be a whole number such as 0 or 3',
        ),
        (
            "resolved_reason:maybe",
            'invalid resolved_reason "maybe" at 16; must be one of FALSE_POSITIVE, '
            "TRUE_POSITIVE, BENIGN_POSITIVE",
        ),
        (
            "resolved_reason:>FALSE_POSITIVE",
            '"resolved_reason" takes no ranges or comparisons: ">FALSE_POSITIVE" at 16',
        ),
        (
            "due_date:<tomorrow",
            'invalid time "tomorrow" at 10; use YYYY-MM-DD, an RFC 3339 timestamp such as '
            "2026-01-31T09:30:00Z, now, or now-N with a unit s, m, h, d or w (now-7d)",
        ),
        ("watcher: me", 'missing value after "watcher:" at 0'),
        (
            "watcher:[a TO b]",
            '"watcher" takes no ranges or comparisons: "[a TO b]" at 8',
        ),
        (
            "watchers:me",
            'unknown facet "watchers" at 0; did you mean "watcher"? '
            '(write "attributes.watchers:" for an attribute of that name)',
        ),
    ],
)
def test_bad_values_are_400_with_the_position(api: Api, text: str, detail: str) -> None:
    r = api.search(text)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["detail"] == detail


def test_what_the_working_endpoints_write_is_searched_at_once(api: Api) -> None:
    """The same, written through the endpoints of working a case rather than the store."""
    sec = api.create_project("SEC", "Security")
    api.create_case(sec["id"], "Router down")
    api.create_case(sec["id"], "Disk full")
    ann = api.create_user("ann@example.com")["id"]
    r = api.comment("SEC-1", "the runbook says reboot")
    assert r.status_code == 200, r.text
    cell = r.json()["data"][0]["id"]
    assert keys(api.search("runbook")) == ["SEC-1"]
    assert keys(api.search('"runbook says"')) == ["SEC-1"]
    assert keys(api.search("comment_count:1")) == ["SEC-1"]
    body = {"data": {"type": "case", "attributes": {"comment": "a wombat reboot"}}}
    assert api.put(f"/api/v2/cases/SEC-1/comment/{cell}", body).status_code < 300
    assert keys(api.search("runbook")) == []
    assert keys(api.search("wombat")) == ["SEC-1"]
    assert api.delete(f"/api/v2/cases/SEC-1/comment/{cell}").status_code < 300
    assert keys(api.search("wombat")) == []
    assert keys(api.search("comment_count:0")) == ["SEC-2", "SEC-1"]
    # The creator watches the case (and so does whoever comments).
    assert keys(api.search("watcher:me")) == ["SEC-2", "SEC-1"]
    assert keys(api.search(f"watcher:{ann}")) == []
    assert api.post(f"/api/v2/cases/SEC-2/watchers/{ann}", None).status_code < 300
    assert keys(api.search(f"watcher:{ann}")) == ["SEC-2"]
    assert keys(api.search("watcher:ann@example.com watcher:me")) == ["SEC-2"]
    admin = api.user_id(ADMIN)
    assert api.delete(f"/api/v2/cases/SEC-1/watchers/{admin}").status_code < 300
    assert keys(api.search("watcher:me")) == ["SEC-2"]
    assert keys(api.search("-watcher:*")) == ["SEC-1"]
    due = {"due_date": day(1).isoformat()}
    assert api.case_action("SEC-2", "due_date", due).status_code == 200
    assert keys(api.search("due_date:<now+2d")) == ["SEC-2"]
    assert keys(api.search(f"due_date:{day(1).isoformat()}")) == ["SEC-2"]
    reason = {"security_resolved_reason": "FALSE_POSITIVE"}
    assert api.case_action("SEC-1", "resolved_reason", reason).status_code == 200
    assert keys(api.search("resolved_reason:false_positive")) == ["SEC-1"]
    assert keys(api.search("-resolved_reason:*")) == ["SEC-2"]


def test_counts_that_titles_alone_fill_still_count_comments_below_the_bound(api: Api) -> None:
    """PostgreSQL counts text matches from titles and descriptions first, then with some
    of the matching comments, and reads them all only when both fall short of the
    bound; the count is the same either way."""
    project = api.create_project("CNT", "Counting")
    for title in ("alpha one", "alpha two", "beta three", "beta four"):
        api.create_case(project["id"], title)
    assert api.comment("CNT-3", "alpha in a comment").status_code == 200
    admin = api.user_id(ADMIN)
    with api.store.read() as tx:
        org = tx.sql.one("SELECT org_id FROM projects WHERE key = 'CNT'")
        assert org is not None
        for text, bound, expected in [
            ("alpha", 2, 2),  # the titles reach the bound: no need to read comments
            ("alpha", 3, 3),  # they do not, some of the comments do (PostgreSQL)
            ("alpha", 10, 3),  # nor do those: the comment's case counts too
            ("alpha status:open", 10, 3),
            ("alpha OR beta", 10, 4),
            ("-alpha", 10, 1),  # negated text: comments take cases away
            ("beta -alpha", 10, 1),
        ]:
            planner = tx.cases.search_planner(
                org[0], parse(text, now_us=now_us()), actor_user_id=admin,
                sort="created_at", ascending=False,
            )  # fmt: skip
            assert planner.count(bound) == expected, text
