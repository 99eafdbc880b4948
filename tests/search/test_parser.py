"""The filter language, text to tree: a table of what parses to what, and of what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from casebook.core.entities import STANDARD_CASE_TYPE_ID, Priority, Status
from casebook.core.errors import InvalidQueryError
from casebook.search import (
    MAX_DEPTH,
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    And,
    ArchivedIs,
    AttributeIs,
    CaseKeyIs,
    CaseTypeIs,
    CaseTypeNameIs,
    CountField,
    CountRange,
    CreationSourceIs,
    MatchAll,
    Not,
    NumberRange,
    Or,
    PriorityIs,
    ProjectIdIs,
    ProjectKeyIs,
    Query,
    ResolvedReasonIs,
    StatusIs,
    StatusNameIs,
    Text,
    TimeField,
    TimeRange,
    UserField,
    UserIs,
    UserMatch,
    mentions_archived,
    parse,
    with_default_scope,
)

NOW = 1_769_904_000_000_000  # 2026-02-01T00:00:00Z
SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
UUID = "3f2a6c1e-8b4d-4e5f-9a0b-1c2d3e4f5a6b"


def us(text: str) -> int:
    """Microseconds since the epoch of an ISO 8601 time (UTC unless it says otherwise)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


# Short names for the table.
OPEN, IN_PROGRESS, CLOSED = (StatusIs(s) for s in (Status.OPEN, Status.IN_PROGRESS, Status.CLOSED))
P1, P2, P3, P4, P5 = (
    PriorityIs(p) for p in (Priority.P1, Priority.P2, Priority.P3, Priority.P4, Priority.P5)
)
UNDEFINED = PriorityIs(Priority.NOT_DEFINED)
ASSIGNEE, CREATOR = UserField.ASSIGNEE, UserField.CREATED_BY
CREATED, MODIFIED, CLOSED_AT, ARCHIVED_AT = (
    TimeField.CREATED_AT,
    TimeField.MODIFIED_AT,
    TimeField.CLOSED_AT,
    TimeField.ARCHIVED_AT,
)
DUE, COMMENTS, WATCHER = TimeField.DUE_DATE, CountField.COMMENT_COUNT, UserField.WATCHER
D0101 = us("2026-01-01")
D0102 = us("2026-01-02")
D0201 = us("2026-02-01")
D0202 = us("2026-02-02")


def attr(key: str, value: str | None, prefix: bool = False) -> AttributeIs:
    return AttributeIs(key, value, prefix)


def all_(*terms: Query) -> And:
    return And(terms)


def any_(*terms: Query) -> Or:
    return Or(terms)


VALID: list[tuple[str, Query]] = [
    # --- empty and match-all
    ("", MatchAll()),
    ("   ", MatchAll()),
    ("\t\n\r ", MatchAll()),
    ("*", MatchAll()),
    (" * ", MatchAll()),
    ("* status:open", all_(MatchAll(), OPEN)),
    ("-*", Not(MatchAll())),
    # --- bare words and phrases
    ("kubernetes", Text("kubernetes")),
    ("Kubernetes", Text("Kubernetes")),
    ("  kubernetes  ", Text("kubernetes")),
    ("kubernetes pods", all_(Text("kubernetes"), Text("pods"))),
    ('"kubernetes pods"', Text("kubernetes pods")),
    ('"Kubernetes  Pods"', Text("Kubernetes  Pods")),
    ('"say \\"hi\\""', Text('say "hi"')),
    ('"back\\\\slash"', Text("back\\slash")),
    ('"a\\b"', Text("ab")),
    ('"status:open"', Text("status:open")),
    ('"a OR b"', Text("a OR b")),
    ('"(x)"', Text("(x)")),
    ('"kube*"', Text("kube*")),
    ("kube*", Text("kube", prefix=True)),
    ("KUBE*", Text("KUBE", prefix=True)),
    ("k*", Text("k", prefix=True)),
    ("web-store", Text("web-store")),
    ("web-st*", Text("web-st", prefix=True)),
    ("under_score", Text("under_score")),
    ("it's", Text("it's")),
    ("c++", Text("c++")),
    ("100%", Text("100%")),
    ("naïve", Text("naïve")),
    ("日本語", Text("日本語")),
    ("emoji🙂ok", Text("emoji🙂ok")),
    ("a+b", Text("a+b")),
    ("x.y", Text("x.y")),
    ("bob@example.com", Text("bob@example.com")),
    ("[WIP]", Text("[WIP]")),
    ("a>b", Text("a>b")),
    ("<b>", Text("<b>")),
    ("{x}", Text("{x}")),
    ("and", Text("and")),
    ("or", Text("or")),
    ("not", Text("not")),
    ("And", Text("And")),
    ("TO", Text("TO")),
    ("ANDROID", Text("ANDROID")),
    ("ORACLE", Text("ORACLE")),
    ("NOTE", Text("NOTE")),
    ("a and b", all_(Text("a"), Text("and"), Text("b"))),
    ("a or b", all_(Text("a"), Text("or"), Text("b"))),
    ('"OR"', Text("OR")),
    ('"NOT"', Text("NOT")),
    ('"-x"', Text("-x")),
    ("x-", Text("x-")),
    ("a\u00a0b", all_(Text("a"), Text("b"))),
    ("a\tb\nc", all_(Text("a"), Text("b"), Text("c"))),
    ("foo(bar)", all_(Text("foo"), Text("bar"))),
    # --- boolean operators and precedence
    ("a b", all_(Text("a"), Text("b"))),
    ("a AND b", all_(Text("a"), Text("b"))),
    ("a AND b c", all_(Text("a"), Text("b"), Text("c"))),
    ("a OR b", any_(Text("a"), Text("b"))),
    ("a OR b OR c", any_(Text("a"), Text("b"), Text("c"))),
    ("a b OR c", any_(all_(Text("a"), Text("b")), Text("c"))),
    ("a OR b c", any_(Text("a"), all_(Text("b"), Text("c")))),
    ("a AND b OR c AND d", any_(all_(Text("a"), Text("b")), all_(Text("c"), Text("d")))),
    ("a OR b AND c", any_(Text("a"), all_(Text("b"), Text("c")))),
    ("NOT a", Not(Text("a"))),
    ("-a", Not(Text("a"))),
    ("NOT a b", all_(Not(Text("a")), Text("b"))),
    ("-a b", all_(Not(Text("a")), Text("b"))),
    ("NOT a OR b", any_(Not(Text("a")), Text("b"))),
    ("a -b", all_(Text("a"), Not(Text("b")))),
    ("a AND NOT b", all_(Text("a"), Not(Text("b")))),
    ("a AND -b", all_(Text("a"), Not(Text("b")))),
    ("a OR -b", any_(Text("a"), Not(Text("b")))),
    ("NOT NOT a", Text("a")),
    ("--a", Text("a")),
    ("---a", Not(Text("a"))),
    ("NOT -a", Text("a")),
    ('-"a b"', Not(Text("a b"))),
    ("-kube*", Not(Text("kube", prefix=True))),
    # --- grouping
    ("(a)", Text("a")),
    ("((a))", Text("a")),
    ("(a b)", all_(Text("a"), Text("b"))),
    ("(a OR b) c", all_(any_(Text("a"), Text("b")), Text("c"))),
    ("a (b OR c)", all_(Text("a"), any_(Text("b"), Text("c")))),
    ("(a OR b) AND (c OR d)", all_(any_(Text("a"), Text("b")), any_(Text("c"), Text("d")))),
    ("(a OR b)(c OR d)", all_(any_(Text("a"), Text("b")), any_(Text("c"), Text("d")))),
    ("-(a OR b)", Not(any_(Text("a"), Text("b")))),
    ("NOT (a OR b)", Not(any_(Text("a"), Text("b")))),
    ("-(-a)", Not(Not(Text("a")))),
    ("a AND (b AND c)", all_(Text("a"), all_(Text("b"), Text("c")))),
    ("( a )", Text("a")),
    ("(\ta\n)", Text("a")),
    ("(((((((((( a ))))))))))", Text("a")),
    # --- status
    ("status:open", OPEN),
    ("status:OPEN", OPEN),
    ("status:Open", OPEN),
    ("status:in_progress", IN_PROGRESS),
    ("status:IN_PROGRESS", IN_PROGRESS),
    ('status:"In Progress"', IN_PROGRESS),
    ('status:"in progress"', IN_PROGRESS),
    ("status:closed", CLOSED),
    ("status:SG_OPEN", OPEN),
    ("status:sg_closed", CLOSED),
    ("status:*", MatchAll()),
    ("-status:closed", Not(CLOSED)),
    ("NOT status:closed", Not(CLOSED)),
    ("status:(open OR in_progress)", any_(OPEN, IN_PROGRESS)),
    ("status:(open in_progress)", all_(OPEN, IN_PROGRESS)),
    ("status:(open AND closed)", all_(OPEN, CLOSED)),
    ("status:(-closed)", Not(CLOSED)),
    ("status:(NOT closed)", Not(CLOSED)),
    ("status:(open OR (closed))", any_(OPEN, CLOSED)),
    ("status:( open )", OPEN),
    ('status:("open" OR "In Progress")', any_(OPEN, IN_PROGRESS)),
    ("-status:(open OR closed)", Not(any_(OPEN, CLOSED))),
    # --- status_group
    ("status_group:SG_OPEN", OPEN),
    ("status_group:sg_in_progress", IN_PROGRESS),
    ("status_group:SG_CLOSED", CLOSED),
    ("status_group:closed", CLOSED),
    ("status_group:*", MatchAll()),
    # --- priority
    ("priority:P1", P1),
    ("priority:p1", P1),
    ("priority:P2", P2),
    ("priority:P3", P3),
    ("priority:P4", P4),
    ("priority:P5", P5),
    ("priority:NOT_DEFINED", UNDEFINED),
    ("priority:not_defined", UNDEFINED),
    ('priority:"P1"', P1),
    ("priority:*", MatchAll()),
    ("priority:(P2 OR P3)", any_(P2, P3)),
    ("priority:(P1 OR P2 OR P3)", any_(P1, P2, P3)),
    ("-priority:P5", Not(P5)),
    ("priority:(P1 OR P2) status:open", all_(any_(P1, P2), OPEN)),
    # --- project, project_id, key
    ("project:SEC", ProjectKeyIs("SEC")),
    ("project:sec", ProjectKeyIs("SEC")),
    ("project:Ab12", ProjectKeyIs("AB12")),
    ("project:ABCDEFGHIJ", ProjectKeyIs("ABCDEFGHIJ")),
    ("project.key:sec", ProjectKeyIs("SEC")),
    ("project:(SEC OR OPS)", any_(ProjectKeyIs("SEC"), ProjectKeyIs("OPS"))),
    ("project:*", MatchAll()),
    (f"project_id:{UUID}", ProjectIdIs(UUID)),
    (f"project_id:{UUID.upper()}", ProjectIdIs(UUID)),
    ("project_id:*", MatchAll()),
    ("key:SEC-12", CaseKeyIs("SEC-12")),
    ("key:sec-12", CaseKeyIs("SEC-12")),
    ("key:SEC-012", CaseKeyIs("SEC-12")),
    ("key:A1-1", CaseKeyIs("A1-1")),
    ("key:(SEC-1 OR SEC-2)", any_(CaseKeyIs("SEC-1"), CaseKeyIs("SEC-2"))),
    ("key:*", MatchAll()),
    # --- assignee, assignee_id, created_by
    ("assignee:me", UserIs(ASSIGNEE, UserMatch.ME)),
    ("assignee:ME", UserIs(ASSIGNEE, UserMatch.ME)),
    ('assignee:"me"', UserIs(ASSIGNEE, UserMatch.ME)),
    ("assignee:*", UserIs(ASSIGNEE, UserMatch.ANY)),
    ("-assignee:*", Not(UserIs(ASSIGNEE, UserMatch.ANY))),
    (f"assignee:{UUID}", UserIs(ASSIGNEE, UserMatch.ID, UUID)),
    (f"assignee:{UUID.upper()}", UserIs(ASSIGNEE, UserMatch.ID, UUID)),
    ("assignee:bob@example.com", UserIs(ASSIGNEE, UserMatch.NAME, "bob@example.com")),
    ("assignee:Bob@Example.COM", UserIs(ASSIGNEE, UserMatch.NAME, "bob@example.com")),
    ("assignee:bobby", UserIs(ASSIGNEE, UserMatch.NAME, "bobby")),
    ('assignee:"Bob Smith"', UserIs(ASSIGNEE, UserMatch.NAME, "bob smith")),
    (f"assignee_id:{UUID}", UserIs(ASSIGNEE, UserMatch.ID, UUID)),
    ("assignee_id:me", UserIs(ASSIGNEE, UserMatch.ME)),
    ("assignee_id:*", UserIs(ASSIGNEE, UserMatch.ANY)),
    (
        "assignee:(me OR bob@example.com)",
        any_(UserIs(ASSIGNEE, UserMatch.ME), UserIs(ASSIGNEE, UserMatch.NAME, "bob@example.com")),
    ),
    ("created_by:me", UserIs(CREATOR, UserMatch.ME)),
    ("created_by:*", UserIs(CREATOR, UserMatch.ANY)),
    (f"created_by:{UUID}", UserIs(CREATOR, UserMatch.ID, UUID)),
    ("created_by:alice@example.com", UserIs(CREATOR, UserMatch.NAME, "alice@example.com")),
    ("-created_by:me", Not(UserIs(CREATOR, UserMatch.ME))),
    # --- type, type_id, creation_source
    ("type:STANDARD", CaseTypeNameIs("STANDARD")),
    ("type:standard", CaseTypeNameIs("standard")),
    ('type:"Security Incident"', CaseTypeNameIs("Security Incident")),
    (f"type:{UUID.upper()}", CaseTypeIs(UUID)),
    ("status_name:Triage", StatusNameIs("Triage")),
    ('status_name:"In Progress"', StatusNameIs("In Progress")),
    ("status_name:*", MatchAll()),
    ("severity_score:>7", NumberRange("severity_score", 7.0, None, False, True)),
    ("severity_score:>=7", NumberRange("severity_score", 7.0, None, True, True)),
    ("score:<2.5", NumberRange("score", None, 2.5, True, False)),
    ("score:<=-1e3", NumberRange("score", None, -1000.0, True, True)),
    ("score:[1 TO 5}", NumberRange("score", 1.0, 5.0, True, False)),
    ("score:[* TO 5]", NumberRange("score", None, 5.0, True, True)),
    ("type:*", MatchAll()),
    (f"type_id:{STANDARD_CASE_TYPE_ID}", CaseTypeIs(STANDARD_CASE_TYPE_ID)),
    (f"type_id:{UUID}", CaseTypeIs(UUID)),
    ("creation_source:MANUAL", CreationSourceIs("MANUAL")),
    ("creation_source:manual", CreationSourceIs("MANUAL")),
    ('creation_source:"Event Management"', CreationSourceIs("EVENT_MANAGEMENT")),
    ("creation_source:event_management", CreationSourceIs("EVENT_MANAGEMENT")),
    ("creation_source:Event", CreationSourceIs("EVENT")),
    ("creation_source:*", MatchAll()),
    # --- archived
    ("archived:true", ArchivedIs(True)),
    ("archived:TRUE", ArchivedIs(True)),
    ("archived:false", ArchivedIs(False)),
    ("archived:False", ArchivedIs(False)),
    ("archived:*", ArchivedIs(None)),
    ("-archived:true", Not(ArchivedIs(True))),
    ("archived:(true OR false)", any_(ArchivedIs(True), ArchivedIs(False))),
    # --- attributes
    ("service:web-store", attr("service", "web-store")),
    ("service:Web-Store", attr("service", "web-store")),
    ('service:"web store"', attr("service", "web store")),
    ('service:"Web:Store"', attr("service", "web:store")),
    ("service:a:b", attr("service", "a:b")),
    ("service:http://x.example/a", attr("service", "http://x.example/a")),
    ("service:*", attr("service", None)),
    ("-service:*", Not(attr("service", None))),
    ("service:web*", attr("service", "web", prefix=True)),
    ("service:Web*", attr("service", "web", prefix=True)),
    ('service:"web*"', attr("service", "web*")),
    ("service:-x", attr("service", "-x")),
    ("service:OR", attr("service", "or")),
    ("service:NOT", attr("service", "not")),
    ("team:x[y]", attr("team", "x[y]")),
    ("service:100%", attr("service", "100%")),
    ("service:_", attr("service", "_")),
    ("service:'", attr("service", "'")),
    ("service:;", attr("service", ";")),
    ("team:case-management", attr("team", "case-management")),
    (
        "team:(case-management OR event-management)",
        any_(attr("team", "case-management"), attr("team", "event-management")),
    ),
    ("env:prod", attr("env", "prod")),
    ("dev:x", attr("dev", "x")),
    ("time:x", attr("time", "x")),
    ("team:x", attr("team", "x")),
    ("tier:x", attr("tier", "x")),
    ("a:x", attr("a", "x")),
    ("a.b.c:x", attr("a.b.c", "x")),
    ("a-b_c.d9:x", attr("a-b_c.d9", "x")),
    ("attributes.state:x", attr("state", "x")),
    ("attributes.status:x", attr("status", "x")),
    ("attributes.service:x", attr("service", "x")),
    ("region:us-east-1", attr("region", "us-east-1")),
    ("service:ÄÖ", attr("service", "äö")),
    # --- time: exact and comparisons
    ("created_at:2026-01-01", TimeRange(CREATED, D0101, D0102)),
    ("created_at:>2026-01-01", TimeRange(CREATED, D0102, None)),
    ("created_at:>=2026-01-01", TimeRange(CREATED, D0101, None)),
    ("created_at:<2026-01-01", TimeRange(CREATED, None, D0101)),
    ("created_at:<=2026-01-01", TimeRange(CREATED, None, D0102)),
    ('created_at:"2026-01-01"', TimeRange(CREATED, D0101, D0102)),
    ("created_at:*", TimeRange(CREATED, None, None)),
    ("modified_at:>2026-01-01", TimeRange(MODIFIED, D0102, None)),
    ("closed_at:*", TimeRange(CLOSED_AT, None, None)),
    # --- working a case: due dates, comment counts, resolved reasons, watchers
    ("due_date:2026-01-01", TimeRange(DUE, D0101, D0102)),
    ("due_date:<now+2d", TimeRange(DUE, None, NOW + 2 * DAY)),
    ("due_date:[2026-01-01 TO 2026-01-31]", TimeRange(DUE, D0101, D0201)),
    ("due_date:*", TimeRange(DUE, None, None)),
    ("-due_date:*", Not(TimeRange(DUE, None, None))),
    ("comment_count:0", CountRange(COMMENTS, 0, 1)),
    ("comment_count:>1", CountRange(COMMENTS, 2, None)),
    ("comment_count:>=1", CountRange(COMMENTS, 1, None)),
    ("comment_count:<3", CountRange(COMMENTS, None, 3)),
    ("comment_count:<=3", CountRange(COMMENTS, None, 4)),
    ("comment_count:[1 TO 5]", CountRange(COMMENTS, 1, 6)),
    ("comment_count:{1 TO 5}", CountRange(COMMENTS, 2, 5)),
    ("comment_count:[1 TO *]", CountRange(COMMENTS, 1, None)),
    ("comment_count:[* TO *]", CountRange(COMMENTS, None, None)),
    ("comment_count:007", CountRange(COMMENTS, 7, 8)),
    ("comment_count:*", MatchAll()),
    ("comment_count:<0", CountRange(COMMENTS, None, 0)),  # nothing: no case has fewer
    ("comment_count:(0 OR 2)", any_(CountRange(COMMENTS, 0, 1), CountRange(COMMENTS, 2, 3))),
    ("resolved_reason:false_positive", ResolvedReasonIs("FALSE_POSITIVE")),
    ("resolved_reason:TRUE_POSITIVE", ResolvedReasonIs("TRUE_POSITIVE")),
    ('resolved_reason:"Benign Positive"', ResolvedReasonIs("BENIGN_POSITIVE")),
    ("resolved_reason:*", ResolvedReasonIs(None)),
    ("-resolved_reason:*", Not(ResolvedReasonIs(None))),
    ("watcher:me", UserIs(WATCHER, UserMatch.ME)),
    ("watcher:ME", UserIs(WATCHER, UserMatch.ME)),
    ("watcher:*", UserIs(WATCHER, UserMatch.ANY)),
    (f"watcher:{UUID.upper()}", UserIs(WATCHER, UserMatch.ID, UUID)),
    ("watcher:Ann@Example.com", UserIs(WATCHER, UserMatch.NAME, "ann@example.com")),
    ("-closed_at:*", Not(TimeRange(CLOSED_AT, None, None))),
    ("closed_at:<2026-01-01", TimeRange(CLOSED_AT, None, D0101)),
    ("archived_at:>=2026-01-01", TimeRange(ARCHIVED_AT, D0101, None)),
    (
        "created_at:2026-01-01T10:00:00Z",
        TimeRange(CREATED, us("2026-01-01T10:00:00"), us("2026-01-01T10:00:00") + 1),
    ),
    ("created_at:>2026-01-01T10:00:00Z", TimeRange(CREATED, us("2026-01-01T10:00:00") + 1, None)),
    ("created_at:>=2026-01-01T10:00:00Z", TimeRange(CREATED, us("2026-01-01T10:00:00"), None)),
    ("created_at:<2026-01-01T10:00:00Z", TimeRange(CREATED, None, us("2026-01-01T10:00:00"))),
    ("created_at:<=2026-01-01T10:00:00Z", TimeRange(CREATED, None, us("2026-01-01T10:00:00") + 1)),
    ("created_at:>=2026-01-01t10:00:00z", TimeRange(CREATED, us("2026-01-01T10:00:00"), None)),
    (
        'created_at:"2026-01-01 10:00:00Z"',
        TimeRange(CREATED, us("2026-01-01T10:00:00"), us("2026-01-01T10:00:00") + 1),
    ),
    (
        "created_at:>=2026-01-01T10:00:00.5Z",
        TimeRange(CREATED, us("2026-01-01T10:00:00.500000"), None),
    ),
    (
        "created_at:>=2026-01-01T10:00:00.123456Z",
        TimeRange(CREATED, us("2026-01-01T10:00:00.123456"), None),
    ),
    (
        "created_at:>=2026-01-01T10:00:00.123456789Z",
        TimeRange(CREATED, us("2026-01-01T10:00:00.123456"), None),
    ),
    ("created_at:>=2026-01-01T10:00:00+02:00", TimeRange(CREATED, us("2026-01-01T08:00:00"), None)),
    ("created_at:>=2026-01-01T10:00:00-05:30", TimeRange(CREATED, us("2026-01-01T15:30:00"), None)),
    ("created_at:>=2026-01-01T00:00:00+00:00", TimeRange(CREATED, D0101, None)),
    ("created_at:>=2024-02-29", TimeRange(CREATED, us("2024-02-29"), None)),
    ("created_at:>=1970-01-01", TimeRange(CREATED, 0, None)),
    ("created_at:<1969-12-31", TimeRange(CREATED, None, -DAY)),
    ("created_at:>=0001-01-02", TimeRange(CREATED, us("0001-01-02"), None)),
    ("created_at:<=9999-12-30", TimeRange(CREATED, None, us("9999-12-31"))),
    # --- time: relative
    ("created_at:>now", TimeRange(CREATED, NOW + 1, None)),
    ("created_at:<now", TimeRange(CREATED, None, NOW)),
    ("created_at:>=now-7d", TimeRange(CREATED, NOW - 7 * DAY, None)),
    ("created_at:>now-7d", TimeRange(CREATED, NOW - 7 * DAY + 1, None)),
    ("created_at:>=now-12h", TimeRange(CREATED, NOW - 12 * HOUR, None)),
    ("created_at:>=now-30m", TimeRange(CREATED, NOW - 30 * MINUTE, None)),
    ("created_at:>=now-45s", TimeRange(CREATED, NOW - 45 * SECOND, None)),
    ("created_at:>=now-2w", TimeRange(CREATED, NOW - 2 * WEEK, None)),
    ("created_at:<=now+1d", TimeRange(CREATED, None, NOW + DAY + 1)),
    ("created_at:>=now-0d", TimeRange(CREATED, NOW, None)),
    ("modified_at:>now-1h", TimeRange(MODIFIED, NOW - HOUR + 1, None)),
    ("created_at:now", TimeRange(CREATED, NOW, NOW + 1)),
    # --- time: ranges
    ("created_at:[2026-01-01 TO 2026-02-01]", TimeRange(CREATED, D0101, D0202)),
    ("created_at:{2026-01-01 TO 2026-02-01}", TimeRange(CREATED, D0102, D0201)),
    ("created_at:[2026-01-01 TO 2026-02-01}", TimeRange(CREATED, D0101, D0201)),
    ("created_at:{2026-01-01 TO 2026-02-01]", TimeRange(CREATED, D0102, D0202)),
    ("created_at:[2026-01-01 TO *]", TimeRange(CREATED, D0101, None)),
    ("created_at:[* TO 2026-02-01]", TimeRange(CREATED, None, D0202)),
    ("created_at:[* TO *]", TimeRange(CREATED, None, None)),
    ("created_at:[ 2026-01-01  TO  2026-02-01 ]", TimeRange(CREATED, D0101, D0202)),
    ("created_at:[2026-01-01 TO 2026-01-01]", TimeRange(CREATED, D0101, D0102)),
    ("created_at:[now-7d TO now]", TimeRange(CREATED, NOW - WEEK, NOW + 1)),
    ("created_at:{now-7d TO now}", TimeRange(CREATED, NOW - WEEK + 1, NOW)),
    (
        "created_at:[2026-01-01T10:00:00Z TO 2026-01-01T11:00:00Z]",
        TimeRange(CREATED, us("2026-01-01T10:00:00"), us("2026-01-01T11:00:00") + 1),
    ),
    (
        "created_at:[2026-01-01 TO 2026-02-01] status:open",
        all_(TimeRange(CREATED, D0101, D0202), OPEN),
    ),
    (
        "created_at:([2026-01-01 TO 2026-01-01] OR >=now-1d)",
        any_(TimeRange(CREATED, D0101, D0102), TimeRange(CREATED, NOW - DAY, None)),
    ),
    (
        "created_at:(>=2026-01-01 <2026-02-01)",
        all_(TimeRange(CREATED, D0101, None), TimeRange(CREATED, None, D0201)),
    ),
    ("-created_at:[2026-01-01 TO 2026-02-01]", Not(TimeRange(CREATED, D0101, D0202))),
    ("(created_at:>now-1d)", TimeRange(CREATED, NOW - DAY + 1, None)),
    # --- combinations from the docs
    (
        "status:open (team:case-management OR team:event-management)",
        all_(OPEN, any_(attr("team", "case-management"), attr("team", "event-management"))),
    ),
    ("status:open priority:P1", all_(OPEN, P1)),
    ("service:case-api", attr("service", "case-api")),
    ("creation_source:Event", CreationSourceIs("EVENT")),
    (
        'priority:(P2 OR P3) "kubernetes pods" -assignee:*',
        all_(any_(P2, P3), Text("kubernetes pods"), Not(UserIs(ASSIGNEE, UserMatch.ANY))),
    ),
    (
        "assignee:me status:(open OR in_progress) -priority:P5 created_at:>now-7d",
        all_(
            UserIs(ASSIGNEE, UserMatch.ME),
            any_(OPEN, IN_PROGRESS),
            Not(P5),
            TimeRange(CREATED, NOW - WEEK + 1, None),
        ),
    ),
    (
        "(status:open OR status:in_progress) AND NOT (priority:P4 OR priority:P5)",
        all_(any_(OPEN, IN_PROGRESS), Not(any_(P4, P5))),
    ),
    ("kube* OR docker*", any_(Text("kube", prefix=True), Text("docker", prefix=True))),
    ('"disk full" -archived:true', all_(Text("disk full"), Not(ArchivedIs(True)))),
    ("project:SEC key:SEC-1", all_(ProjectKeyIs("SEC"), CaseKeyIs("SEC-1"))),
    # --- injection-looking input is just text or values
    ("'a'", Text("'a'")),
    ("a';", Text("a';")),
    ("x--", Text("x--")),
    ('"\'; DROP TABLE cases; --"', Text("'; DROP TABLE cases; --")),
    ("1=1", Text("1=1")),
    ("a%b", Text("a%b")),
    ("a_b", Text("a_b")),
    ("a?b", Text("a?b")),
    ("$1", Text("$1")),
    ("service:%s", attr("service", "%s")),
    ("service:?", attr("service", "?")),
    ("service:'--", attr("service", "'--")),
    ('service:"\'; DROP TABLE cases; --"', attr("service", "'; drop table cases; --")),
    ("robert'", Text("robert'")),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[repr(t) for t, _ in VALID])
def test_parse(text: str, expected: Query) -> None:
    assert parse(text, now_us=NOW) == expected


ERRORS: list[tuple[str, str, int]] = [
    # --- facet names
    ("stauts:open", 'unknown facet "stauts" at 0; did you mean "status"?', 0),
    ("x stauts:open", 'unknown facet "stauts" at 2; did you mean "status"?', 2),
    ("statu:open", 'unknown facet "statu" at 0; did you mean "status"?', 0),
    ("statuss:open", 'did you mean "status"?', 0),
    ("state:open", 'did you mean "status"?', 0),
    ("priorty:P1", 'unknown facet "priorty" at 0; did you mean "priority"?', 0),
    ("prority:P1", 'did you mean "priority"?', 0),
    ("projet:SEC", 'did you mean "project"?', 0),
    ("projects:SEC", 'did you mean "project"?', 0),
    ("asignee:me", 'did you mean "assignee"?', 0),
    ("assigne:me", 'did you mean "assignee"?', 0),
    ("assigned:me", 'did you mean "assignee"?', 0),
    ("created_by_:me", 'did you mean "created_by"?', 0),
    ("createdat:>now", 'did you mean "created_at"?', 0),
    ("closedat:*", 'did you mean "closed_at"?', 0),
    ("archive:true", 'did you mean "archived"?', 0),
    ("archved:true", 'did you mean "archived"?', 0),
    ("keys:SEC-1", 'did you mean "key"?', 0),
    ("kye:SEC-1", 'did you mean "key"?', 0),
    ("tpye:standard", 'did you mean "type"?', 0),
    ("types:standard", 'did you mean "type"?', 0),
    ("creation_sorce:MANUAL", 'did you mean "creation_source"?', 0),
    ("status_grup:SG_OPEN", 'did you mean "status_group"?', 0),
    ("Status:open", 'invalid facet name "Status" at 0; facet names are lower case', 0),
    ("Status:open", 'did you mean "status"?', 0),
    ("STATUS:open", 'did you mean "status"?', 0),
    ("STAUTS:open", 'did you mean "status"?', 0),
    ("Service:x", 'invalid facet name "Service" at 0', 0),
    ("12:30", 'invalid facet name "12" at 0', 0),
    (":x", 'invalid facet name "" at 0', 0),
    ("a b:c:d e@f:x", 'invalid facet name "e@f" at 8', 8),
    ("_x:y", 'invalid facet name "_x" at 0', 0),
    ("attributes.:x", 'invalid attribute key "" at 0', 0),
    ("attributes.Foo:x", 'invalid facet name "attributes.Foo" at 0', 0),
    # --- missing values
    ("status:", 'missing value after "status:" at 0', 0),
    ("status: open", 'missing value after "status:" at 0', 0),
    ("a status:", 'missing value after "status:" at 2', 2),
    ("(status:)", 'missing value after "status:" at 1', 1),
    ("service:\t", 'missing value after "service:" at 0', 0),
    ('status:""', 'empty value for "status" at 7', 7),
    ('service:""', 'empty value for "service" at 8', 8),
    ("created_at:>", 'missing value after ">" at 11', 11),
    ("created_at:>= 2026-01-01", 'missing value after ">=" at 11', 11),
    ("created_at:<", 'missing value after "<" at 11', 11),
    # --- status / priority / archived / type values
    ("status:opened", 'invalid status "opened" at 7; must be one of OPEN, IN_PROGRESS, CLOSED', 7),
    ("status:in-progress", 'invalid status "in-progress" at 7', 7),
    ('status:"open "', 'invalid status "open " at 7', 7),
    ("status:(open OR nope)", 'invalid status "nope" at 16', 16),
    ("status:open*", 'wildcard in "open*" at 7', 7),
    ("status_group:SG_NOPE", 'invalid status_group "SG_NOPE" at 13; must be one of SG_OPEN', 13),
    (
        "priority:P9",
        'invalid priority "P9" at 9; must be one of P1, P2, P3, P4, P5, NOT_DEFINED',
        9,
    ),
    ("priority:P0", 'invalid priority "P0" at 9', 9),
    ("priority:1", 'invalid priority "1" at 9', 9),
    ("priority:high", 'invalid priority "high" at 9', 9),
    ("priority:P1234", 'invalid priority "P1234" at 9', 9),
    ("priority:(P2 OR P9)", 'invalid priority "P9" at 16', 16),
    ("priority:P*", 'wildcard in "P*" at 9', 9),
    ("priority:>P1", '"priority" takes no ranges or comparisons: ">P1" at 9', 9),
    ("priority:[P1 TO P3]", '"priority" takes no ranges or comparisons', 9),
    ("archived:maybe", 'invalid archived "maybe" at 9; must be true, false or *', 9),
    ("archived:yes", 'invalid archived "yes" at 9', 9),
    ("archived:1", 'invalid archived "1" at 9', 9),
    ("score:>high", 'invalid score "high" at 7; a comparison takes a number such as 7 or 2.5', 7),
    ("score:[5 TO 1]", 'empty range "[5 TO 1]" at 6', 6),
    ("attributes.score:>7", '"attributes.score" takes no ranges or comparisons: ">7" at 17', 17),
    ("type_id:standard", 'invalid type_id "standard" at 8; must be a UUID', 8),
    ("creation_source:MAN*", 'wildcard in "MAN*" at 16', 16),
    # --- project, key, ids
    ("project:S-E", 'invalid project "S-E" at 8; a project key is 1 to 10 letters and digits', 8),
    ("project:1SEC", 'invalid project "1SEC" at 8', 8),
    ("project:ABCDEFGHIJK", 'invalid project "ABCDEFGHIJK" at 8', 8),
    ('project:"Security Ops"', 'invalid project "Security Ops" at 8', 8),
    ("project:SÉC", 'invalid project "SÉC" at 8', 8),
    ("project_id:123", 'invalid project_id "123" at 11; must be a UUID', 11),
    (f"project_id:{UUID}x", f'invalid project_id "{UUID}x" at 11', 11),
    ("key:SEC", 'invalid key "SEC" at 4; a case key is a project key and a number', 4),
    ("key:SEC-", 'invalid key "SEC-" at 4', 4),
    ("key:-12", 'invalid key "-12" at 4', 4),
    ("key:SEC-1a", 'invalid key "SEC-1a" at 4', 4),
    ("key:SEC-١٢", 'invalid key "SEC-١٢" at 4', 4),
    ("key:SEC-1*", 'wildcard in "SEC-1*" at 4', 4),
    # --- users
    ("assignee:bob*", 'wildcard in "bob*" at 9', 9),
    ('assignee:""', 'empty value for "assignee" at 9', 9),
    ("assignee:>x", '"assignee" takes no ranges or comparisons', 9),
    # --- attributes
    ("service:*web", 'wildcard in "*web" at 8; only a trailing * is supported', 8),
    ("service:w*b", 'wildcard in "w*b" at 8', 8),
    ("service:web**", 'wildcard in "web**" at 8', 8),
    # A key that is no facet takes numbers only (a NUMBER custom attribute's).
    ("service:>x", 'invalid service "x" at 9; a comparison takes a number', 9),
    ("service:[a TO b]", 'invalid service "a" at 9; a comparison takes a number', 9),
    # --- times
    ("created_at:yesterday", 'invalid time "yesterday" at 11; use YYYY-MM-DD', 11),
    ("created_at:>2026-13-01", 'invalid time "2026-13-01" at 12', 12),
    ("created_at:>2026-02-30", 'invalid time "2026-02-30" at 12', 12),
    ("created_at:>2025-02-29", 'invalid time "2025-02-29" at 12', 12),
    ("created_at:>2026-1-1", 'invalid time "2026-1-1" at 12', 12),
    ("created_at:>26-01-01", 'invalid time "26-01-01" at 12', 12),
    ("created_at:>2026/01/01", 'invalid time "2026/01/01" at 12', 12),
    ("created_at:>0000-01-01", 'invalid time "0000-01-01" at 12', 12),
    ("created_at:>0001-01-01", 'time "0001-01-01" at 12 is out of range', 12),
    ("created_at:>2026-01-01T10:00:00", 'invalid time "2026-01-01T10:00:00" at 12', 12),
    ("created_at:>2026-01-01T10:00Z", 'invalid time "2026-01-01T10:00Z" at 12', 12),
    ("created_at:>2026-01-01T25:00:00Z", 'invalid time "2026-01-01T25:00:00Z" at 12', 12),
    ("created_at:>2026-01-01T10:60:00Z", 'invalid time "2026-01-01T10:60:00Z" at 12', 12),
    ("created_at:>2026-01-01T10:00:60Z", 'invalid time "2026-01-01T10:00:60Z" at 12', 12),
    ("created_at:>2026-01-01T10:00:00+24:00", 'invalid time "2026-01-01T10:00:00+24:00"', 12),
    ("created_at:>2026-01-01T10:00:00+0200", 'invalid time "2026-01-01T10:00:00+0200"', 12),
    ("created_at:>2026-01-01T10:00:00.Z", 'invalid time "2026-01-01T10:00:00.Z" at 12', 12),
    ("created_at:>2026-01-01T10:00:00.1234567890Z", "invalid time", 12),
    ("created_at:>２０２６-01-01", 'invalid time "２０２６-01-01" at 12', 12),
    ("created_at:>now-", 'invalid time "now-" at 12', 12),
    ("created_at:>now-7", 'invalid time "now-7" at 12', 12),
    ("created_at:>now-d", 'invalid time "now-d" at 12', 12),
    ("created_at:>now-7y", 'invalid time "now-7y" at 12', 12),
    ("created_at:>now-7M", 'invalid time "now-7M" at 12', 12),
    ("created_at:>now-7D", 'invalid time "now-7D" at 12', 12),
    ("created_at:>NOW-7d", 'invalid time "NOW-7d" at 12', 12),
    ("created_at:>now-7d-1h", 'invalid time "now-7d-1h" at 12', 12),
    ("created_at:>now - 7d", 'lone "-" at 16', 16),
    ("created_at:>now/d", 'invalid time "now/d" at 12', 12),
    ("created_at:>now-1000000000w", 'time "now-1000000000w" at 12 is out of range', 12),
    ("created_at:>now+999999999999w", "is out of range", 12),
    ("created_at:>now-9999999999999d", 'invalid time "now-9999999999999d"', 12),
    ("created_at:>*", 'invalid time "*" at 12', 12),
    ("created_at:2026-01-01*", 'invalid time "2026-01-01*" at 11', 11),
    ('created_at:""', 'empty value for "created_at" at 11', 11),
    ("created_at:[2026-01-01 TO 2025-01-01]", 'empty time range "[2026-01-01 TO 2025-01-01]"', 11),
    ("created_at:{2026-01-01 TO 2026-01-02}", "empty time range", 11),
    ("created_at:{now TO now}", "empty time range", 11),
    ("created_at:[2026-01-01 TO nope]", 'invalid time "nope" at 26', 26),
    ("created_at:[nope TO 2026-01-01]", 'invalid time "nope" at 12', 12),
    ("created_at:[2026-01-01 2026-02-01]", 'malformed range "[2026-01-01 2026-02-01]" at 11', 11),
    ("created_at:[2026-01-01 to 2026-02-01]", "malformed range", 11),
    ("created_at:[2026-01-01 TO]", "malformed range", 11),
    ("created_at:[TO 2026-01-01]", "malformed range", 11),
    ("created_at:[]", 'malformed range "[]" at 11', 11),
    ("created_at:[a TO b TO c]", "malformed range", 11),
    ("created_at:[2026-01-01 TO 2026-02-01", 'unclosed range "[" at 11', 11),
    ("created_at:[2026-01-01 TO 2026-02-01]x", "expected a space after the range at 37", 37),
    # --- text
    ('"!!!"', 'nothing to search for in ""!!!"" at 0', 0),
    ("'", 'nothing to search for in "\'" at 0', 0),
    (";", 'nothing to search for in ";" at 0', 0),
    ("robert');DROP", 'unexpected ")" at 7', 7),
    (
        "status:open score:>x",
        'invalid score "x" at 19; a comparison takes a number such as 7 or 2.5',
        19,
    ),
    ("!!!", 'nothing to search for in "!!!" at 0', 0),
    ("a -!", 'nothing to search for in "!" at 3', 3),
    ('""', 'nothing to search for in """" at 0', 0),
    ('" "', "nothing to search for", 0),
    ("x *y", 'wildcard in "*y" at 2; only a trailing * is supported', 2),
    ("ku*be", 'wildcard in "ku*be" at 0', 0),
    ("kube**", 'wildcard in "kube**" at 0', 0),
    ("**", 'wildcard in "**" at 0', 0),
    ("-* *x", 'wildcard in "*x" at 3', 3),
    ("_*", 'nothing to search for in "_*" at 0', 0),
    # --- quotes
    ('"kubernetes', "unclosed quote at 0", 0),
    ('a "b', "unclosed quote at 2", 2),
    ('"a\\"', "unclosed quote at 0", 0),
    ('"a\\', "unclosed quote at 0", 0),
    ('service:"web', "unclosed quote at 8", 8),
    ('"a"b', "expected a space after the closing quote at 3", 3),
    ('"a""b"', "expected a space after the closing quote at 3", 3),
    ('"a"(b)', "expected a space after the closing quote at 3", 3),
    ('a"b"', "unexpected quote at 1; put a space before it", 1),
    ('service:web"x"', "unexpected quote at 11", 11),
    ('created_at:>2026"', "unexpected quote at 16", 16),
    # --- operators
    ("OR", 'unexpected "OR" at 0; expected a term', 0),
    ("AND", 'unexpected "AND" at 0; expected a term', 0),
    ("NOT", 'expected a term after "NOT" at 0', 0),
    ("OR a", 'unexpected "OR" at 0; expected a term', 0),
    ("AND a", 'unexpected "AND" at 0; expected a term', 0),
    ("a OR", 'expected a term after "OR" at 2', 2),
    ("a AND", 'expected a term after "AND" at 2', 2),
    ("a NOT", 'expected a term after "NOT" at 2', 2),
    ("a OR OR b", 'expected a term after "OR" at 2', 2),
    ("a AND OR b", 'expected a term after "AND" at 2', 2),
    ("a OR AND b", 'expected a term after "OR" at 2', 2),
    ("a AND AND b", 'expected a term after "AND" at 2', 2),
    ("NOT OR a", 'expected a term after "NOT" at 0', 0),
    ("NOT AND", 'expected a term after "NOT" at 0', 0),
    ("NOT NOT", 'expected a term after "NOT" at 4', 4),
    ("a NOT)", 'expected a term after "NOT" at 2', 2),
    ("(a OR)", 'expected a term after "OR" at 3', 3),
    ("-", 'lone "-" at 0; write -term, without a space', 0),
    ("a -", 'lone "-" at 2', 2),
    ("a - b", 'lone "-" at 2', 2),
    ("--", 'lone "-" at 1', 1),
    ("(a -)", 'lone "-" at 3', 3),
    ("-OR", 'expected a term after "-" at 0', 0),
    ("-AND", 'expected a term after "-" at 0', 0),
    ("-)", 'lone "-" at 0', 0),
    ("-(", 'unclosed "(" at 1', 1),
    ("status:(open OR)", 'expected a term after "OR" at 13', 13),
    ("status:(OR open)", 'unexpected "OR" at 8; expected a term', 8),
    ("status:(open -)", 'lone "-" at 13', 13),
    # --- parentheses
    ("(", 'unclosed "(" at 0', 0),
    ("(a", 'unclosed "(" at 0', 0),
    ("((a)", 'unclosed "(" at 0', 0),
    ("a (b (c)", 'unclosed "(" at 2', 2),
    (")", 'unexpected ")" at 0; expected a term', 0),
    ("a)", 'unexpected ")" at 1', 1),
    ("(a))", 'unexpected ")" at 3', 3),
    ("a) (b", 'unexpected ")" at 1', 1),
    ("()", 'empty group "()" at 0', 0),
    ("a ()", 'empty group "()" at 2', 2),
    ("( )", 'empty group "()" at 0', 0),
    ("(())", 'empty group "()" at 1', 1),
    ("status:()", 'empty group "()" at 7', 7),
    ("status:(", 'unclosed "(" at 7', 7),
    ("status:(open", 'unclosed "(" at 7', 7),
    ("priority:(P1 OR P2", 'unclosed "(" at 9', 9),
    ("status:)", 'missing value after "status:" at 0', 0),
    # --- working a case
    (
        "comment_count:x",
        'invalid comment_count "x" at 14; must be a whole number such as 0 or 3',
        14,
    ),
    (
        "comment_count:<=1.5",
        'invalid comment_count "1.5" at 16; must be a whole number such as 0 or 3',
        16,
    ),
    (
        "comment_count:1234567890",
        'invalid comment_count "1234567890" at 14; must be a whole number such as 0 or 3',
        14,
    ),
    (
        "a comment_count:[2 TO *x]",
        'invalid comment_count "*x" at 22; must be a whole number such as 0 or 3',
        22,
    ),
    ("comment_count:{1 TO 2}", 'empty range "{1 TO 2}" at 14', 14),
    (
        "resolved_reason:fp",
        'invalid resolved_reason "fp" at 16; must be one of FALSE_POSITIVE, TRUE_POSITIVE, '
        "BENIGN_POSITIVE",
        16,
    ),
    (
        "resolved_reason:false*",
        'wildcard in "false*" at 16; only text and attribute values take a trailing *',
        16,
    ),
    (
        "due_date:>soon",
        'invalid time "soon" at 10; use YYYY-MM-DD, an RFC 3339 timestamp such as '
        "2026-01-31T09:30:00Z, now, or now-N with a unit s, m, h, d or w (now-7d)",
        10,
    ),
    ("watcher:", 'missing value after "watcher:" at 0', 0),
    (
        "watcher:>me",
        '"watcher" takes no ranges or comparisons: ">me" at 8',
        8,
    ),
    # --- control characters and odd input
    ("\x00", "invalid character U+0000 at 0", 0),
    ("status:open\x00", "invalid character U+0000 at 11", 11),
    ('"a\x00b"', "invalid character U+0000 at 2", 2),
    ("a\x01", "invalid character U+0001 at 1", 1),
    ("a\x1b[31m", "invalid character U+001B at 1", 1),
    ("a\x7f", "invalid character U+007F at 1", 1),
    ("a\x85", "invalid character U+0085 at 1", 1),
    ("a\x0b", "invalid character U+000B at 1", 1),
    ("a\x0c", "invalid character U+000C at 1", 1),
    ("a\ud800", "invalid character U+D800 at 1", 1),
]


@pytest.mark.parametrize(
    ("text", "message", "position"), ERRORS, ids=[repr(t)[:60] for t, _, _ in ERRORS]
)
def test_parse_error(text: str, message: str, position: int) -> None:
    with pytest.raises(InvalidQueryError) as caught:
        parse(text, now_us=NOW)
    assert message in caught.value.message
    assert caught.value.position == position
    assert f" at {position}" in caught.value.message
    assert caught.value.code == "invalid_query"


def test_error_names_the_term() -> None:
    with pytest.raises(InvalidQueryError) as caught:
        parse("status:open stauts:closed", now_us=NOW)
    assert caught.value.term == "stauts"
    assert caught.value.position == 12
    assert str(caught.value) == (
        'unknown facet "stauts" at 12; did you mean "status"? '
        '(write "attributes.stauts:" for an attribute of that name)'
    )


def test_priority_error_matches_the_issue() -> None:
    with pytest.raises(InvalidQueryError) as caught:
        parse("priority:P9", now_us=NOW)
    assert str(caught.value) == (
        'invalid priority "P9" at 9; must be one of P1, P2, P3, P4, P5, NOT_DEFINED'
    )
    assert caught.value.term == "P9"


# --- limits -------------------------------------------------------------------


def test_length_limit() -> None:
    text = "a" * MAX_QUERY_LENGTH
    assert parse(text, now_us=NOW) == Text(text)
    with pytest.raises(InvalidQueryError) as caught:
        parse(text + "a", now_us=NOW)
    assert caught.value.position == MAX_QUERY_LENGTH
    assert f"query too long at {MAX_QUERY_LENGTH}" in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "a" * 100_000,
        "(" * 10_000,
        "(" * 10_000 + "a" + ")" * 10_000,
        "-" * 100_000 + "a",
        "NOT " * 25_000 + "a",
        '"' * 100_000,
        "\x00" * 100_000,
        "a " * 50_000,
    ],
    ids=[
        "100k-word",
        "10k-open",
        "10k-nested",
        "100k-minus",
        "25k-not",
        "100k-quotes",
        "100k-nul",
        "50k-terms",
    ],
)
def test_huge_input_is_refused_cleanly(text: str) -> None:
    with pytest.raises(InvalidQueryError) as caught:
        parse(text, now_us=NOW)
    assert caught.value.position == MAX_QUERY_LENGTH
    assert "query too long" in caught.value.message


def test_depth_limit() -> None:
    deepest = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert parse(deepest, now_us=NOW) == Text("a")
    with pytest.raises(InvalidQueryError) as caught:
        parse("(" + deepest + ")", now_us=NOW)
    assert caught.value.position == MAX_DEPTH
    assert f'too deeply nested "(" at {MAX_DEPTH}; the limit is {MAX_DEPTH} levels' in str(
        caught.value
    )


def test_depth_limit_counts_value_groups() -> None:
    deepest = "(" * (MAX_DEPTH - 1) + "status:(open)" + ")" * (MAX_DEPTH - 1)
    assert parse(deepest, now_us=NOW) == OPEN
    too_deep = "(" * MAX_DEPTH + "status:(open)" + ")" * MAX_DEPTH
    with pytest.raises(InvalidQueryError) as caught:
        parse(too_deep, now_us=NOW)
    assert caught.value.position == MAX_DEPTH + len("status:")


@pytest.mark.parametrize("count", [999, 1_000, 1_999])
def test_deep_nesting_within_the_length_limit(count: int) -> None:
    half = count // 2
    with pytest.raises(InvalidQueryError) as caught:
        parse("(" * half + "a" + ")" * half, now_us=NOW)
    assert caught.value.position == MAX_DEPTH
    assert "too deeply nested" in caught.value.message


def test_long_operator_chains_never_recurse() -> None:
    assert parse("-" * 1_999 + "a", now_us=NOW) == Not(Text("a"))
    assert parse("NOT " * 499 + "a", now_us=NOW) == Not(Text("a"))
    with pytest.raises(InvalidQueryError, match='lone "-" at 0'):
        parse("- " * 999 + "a", now_us=NOW)
    with pytest.raises(InvalidQueryError, match="too deeply nested"):
        parse("-(" * 600, now_us=NOW)


def test_long_negation_chain_cancels_in_pairs() -> None:
    assert parse("-" * 1_998 + "a", now_us=NOW) == Text("a")
    assert parse("-" * 1_999 + "a", now_us=NOW) == Not(Text("a"))
    assert parse("NOT " * 400 + "a", now_us=NOW) == Text("a")


def test_term_limit() -> None:
    words = [f"w{i}" for i in range(MAX_TERMS)]
    assert parse(" ".join(words), now_us=NOW) == And(tuple(Text(w) for w in words))
    text = " ".join([*words, "extra"])
    with pytest.raises(InvalidQueryError) as caught:
        parse(text, now_us=NOW)
    assert caught.value.position == text.index("extra")
    assert f'too many terms at {caught.value.position} ("extra"); the limit is {MAX_TERMS}' in (
        caught.value.message
    )


def test_term_limit_counts_group_values() -> None:
    values = " OR ".join(["P1"] * MAX_TERMS)
    parse(f"priority:({values})", now_us=NOW)
    with pytest.raises(InvalidQueryError) as caught:
        parse(f"priority:({values} OR P2)", now_us=NOW)
    assert caught.value.message.startswith("too many terms at ")


# --- properties that hold for any input --------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        chr(c) + "x"
        for c in (*range(0x20, 0x7F), 0xA0, 0x2028, 0x200B, 0xFEFF, 0x202E, 0x1F600, 0xE000)
    ],
)
def test_every_printable_prefix_parses_or_fails_cleanly(text: str) -> None:
    try:
        parse(text, now_us=NOW)
    except InvalidQueryError as exc:
        assert 0 <= exc.position <= len(text)


def test_parsing_is_deterministic_and_uses_only_now_us() -> None:
    text = "created_at:>now-1d modified_at:[now-2w TO now]"
    assert parse(text, now_us=NOW) == parse(text, now_us=NOW)
    later = parse(text, now_us=NOW + DAY)
    assert later != parse(text, now_us=NOW)
    assert later == And(
        (
            TimeRange(CREATED, NOW + 1, None),
            TimeRange(MODIFIED, NOW + DAY - 2 * WEEK, NOW + DAY + 1),
        )
    )


def test_trees_are_frozen_and_hashable() -> None:
    tree = parse("status:open (a OR -b)", now_us=NOW)
    assert hash(tree) == hash(parse("status:open (a OR -b)", now_us=NOW))
    with pytest.raises(AttributeError):
        tree.terms = ()  # type: ignore[union-attr, misc]


# --- default scope ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("", False),
        ("status:open", False),
        ("archived", False),
        ('"archived:true"', False),
        ("attributes.archived:true", False),
        ("archived:true", True),
        ("archived:false", True),
        ("archived:*", True),
        ("-archived:true", True),
        ("a OR (b -archived:true)", True),
        ("archived_at:*", True),
        ("archived_at:>now-1d", True),
        ("closed_at:*", False),
    ],
)
def test_mentions_archived(text: str, mentions: bool) -> None:
    assert mentions_archived(parse(text, now_us=NOW)) is mentions


@pytest.mark.parametrize(
    ("text", "scoped"),
    [
        ("", ArchivedIs(False)),
        ("*", ArchivedIs(False)),
        ("a", And((Text("a"), ArchivedIs(False)))),
        ("a b", And((Text("a"), Text("b"), ArchivedIs(False)))),
        ("a OR b", And((Or((Text("a"), Text("b"))), ArchivedIs(False)))),
        ("-a", And((Not(Text("a")), ArchivedIs(False)))),
        ("archived:true", ArchivedIs(True)),
        ("archived:*", ArchivedIs(None)),
        ("a archived:*", And((Text("a"), ArchivedIs(None)))),
    ],
)
def test_with_default_scope(text: str, scoped: Query) -> None:
    assert with_default_scope(parse(text, now_us=NOW)) == scoped


# --- the examples in docs/search.md -------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "search.md"


def _doc_examples() -> list[tuple[str, str | None]]:
    """(filter, error message or None) for each row of the doc's "| Filter | ..." tables."""
    examples: list[tuple[str, str | None]] = []
    kind = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("| Filter |"):
            kind = line.split("|")[2].strip()
        elif not line.startswith("|"):
            kind = None
        elif kind is not None and not line.startswith("|---"):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            text = cells[0].strip("`")
            examples.append((text, cells[1].strip("`") if kind == "Error" else None))
    return examples


DOC_EXAMPLES = _doc_examples()


def test_docs_have_examples() -> None:
    assert len([e for e in DOC_EXAMPLES if e[1] is None]) >= 25
    assert len([e for e in DOC_EXAMPLES if e[1] is not None]) >= 5


@pytest.mark.parametrize(("text", "error"), DOC_EXAMPLES, ids=[t for t, _ in DOC_EXAMPLES])
def test_docs_examples(text: str, error: str | None) -> None:
    if error is None:
        parse(text, now_us=NOW)
    else:
        with pytest.raises(InvalidQueryError) as caught:
            parse(text, now_us=NOW)
        assert str(caught.value) == error
