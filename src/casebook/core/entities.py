"""The objects casebook keeps, and the enums that hold their rules.

Times are integers: microseconds since the Unix epoch, UTC. They sort, compare
and index the same way on SQLite and PostgreSQL; the HTTP layer formats them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from casebook.core.errors import InvalidTransitionError, InvalidValueError

STANDARD_CASE_TYPE_ID = "00000000-0000-0000-0000-000000000001"
"""The built-in Standard case type, the one every organisation has."""
EVENT_MANAGEMENT_CASE_TYPE_ID = "00000000-0000-0000-0000-000000000002"
ERROR_TRACKING_CASE_TYPE_ID = "00000000-0000-0000-0000-000000000005"


class Status(enum.Enum):
    """A case's status; ``MOVES`` says which changes are allowed."""

    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    CLOSED = "CLOSED"

    @property
    def display_name(self) -> str:
        return _STATUS_NAMES[self]

    @property
    def group(self) -> str:
        return "SG_" + self.value

    @classmethod
    def of_group(cls, group: str) -> Status:
        """The status of a status group (``SG_OPEN`` -> OPEN), in any letter case."""
        folded = group.strip().upper()
        for status in cls:
            if folded in (status.group, status.value):
                return status
        raise InvalidValueError(
            f"invalid status group {group}. Must be one of SG_OPEN, SG_IN_PROGRESS, SG_CLOSED"
        )

    def require_move_to(self, target: Status) -> None:
        """Raise InvalidTransitionError unless the workflow allows self -> target."""
        if target not in MOVES[self]:
            raise InvalidTransitionError(f"cannot move a case from {self.value} to {target.value}")

    @classmethod
    def parse(cls, value: str) -> Status:
        """Accept the enum value (``IN_PROGRESS``) or the display name (``In Progress``)."""
        try:
            return cls(value)
        except ValueError:
            pass
        folded = value.strip().casefold()
        for status in cls:
            if folded in (status.value.casefold(), status.display_name.casefold()):
                return status
        raise InvalidValueError(
            f"invalid status {value}. Must be one of {', '.join(s.value for s in cls)}"
        )


_STATUS_NAMES = {
    Status.OPEN: "Open",
    Status.IN_PROGRESS: "In Progress",
    Status.CLOSED: "Closed",
}

# The Standard workflow lets a case move between any two statuses (reopening a
# closed case included), as Datadog's does; staying put is a no-op, not a move.
MOVES: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.IN_PROGRESS, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.OPEN, Status.IN_PROGRESS}),
}


class Priority(enum.Enum):
    NOT_DEFINED = "NOT_DEFINED"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"
    P5 = "P5"

    @classmethod
    def parse(cls, value: str) -> Priority:
        try:
            return cls(value)
        except ValueError:
            raise InvalidValueError(
                f"invalid priority {value}. Must be one of P1, P2, P3, P4, P5, NOT_DEFINED"
            ) from None

    @property
    def rank(self) -> int:
        """Higher is more urgent: sorting by rank descending puts P1 first, undefined last."""
        return PRIORITY_RANK[self]


PRIORITY_RANK = {
    Priority.P1: 5,
    Priority.P2: 4,
    Priority.P3: 3,
    Priority.P4: 2,
    Priority.P5: 1,
    Priority.NOT_DEFINED: 0,
}

CaseSort = Literal["created_at", "priority", "status"]
"""What a case search may be sorted by (newest first within each)."""
CASE_SORTS: tuple[CaseSort, ...] = get_args(CaseSort)


class UserStatus(enum.Enum):
    ACTIVE = "Active"
    PENDING = "Pending"
    DISABLED = "Disabled"


UserSort = Literal["name", "modified_at", "email"]
"""What a list of users may be sorted by."""
USER_SORTS: tuple[UserSort, ...] = get_args(UserSort)


class Scope(enum.Enum):
    """What an application key may do. An unscoped key may do what its user's role allows."""

    CASES_READ = "cases_read"
    CASES_WRITE = "cases_write"
    USER_ACCESS_READ = "user_access_read"
    USER_ACCESS_INVITE = "user_access_invite"
    USER_ACCESS_MANAGE = "user_access_manage"


ADMIN_ONLY_SCOPES = frozenset({Scope.USER_ACCESS_INVITE, Scope.USER_ACCESS_MANAGE})
ALL_SCOPES = frozenset(Scope)


@dataclass(slots=True)
class Org:
    id: str
    name: str
    created_at: int


@dataclass(slots=True)
class User:
    id: str
    org_id: str
    email: str
    handle: str
    name: str | None
    title: str | None
    status: UserStatus
    is_admin: bool
    service_account: bool
    created_at: int
    modified_at: int

    @property
    def disabled(self) -> bool:
        return self.status is UserStatus.DISABLED


@dataclass(slots=True, frozen=True)
class UserRef:
    """What a case response says of a user it mentions (created_by, assignee, modified_by)."""

    id: str
    email: str
    handle: str
    name: str | None
    active: bool


@dataclass(slots=True)
class Project:
    id: str
    org_id: str
    key: str
    name: str
    enabled_custom_case_types: list[str]
    team_uuid: str | None
    created_at: int
    created_by: str | None
    deleted_at: int | None = None
    # The project's settings and board columns, as Datadog's PATCH takes them (JSON objects
    # whose shapes http/schemas/projects.py declares); None: never set, the defaults apply.
    settings: dict[str, Any] | None = None
    columns_config: dict[str, Any] | None = None
    modified_at: int | None = None
    modified_by: str | None = None


@dataclass(slots=True)
class CaseView:
    """A saved search on a project: a named query in the search language, shared by the
    organisation. Its cases are the search ``project_id:<project_id> (<query>)``."""

    id: str
    org_id: str
    project_id: str
    name: str
    query: str
    np_rule_id: str | None
    created_at: int
    created_by: str | None
    modified_at: int | None = None
    modified_by: str | None = None


@dataclass(slots=True, frozen=True)
class RuleTrigger:
    """When a rule acts: a case event (``CASE_CREATED``, ``STATUS_TRANSITIONED``,
    ``ATTRIBUTE_VALUE_CHANGED``, ``COMMENT_ADDED``) and the members of its ``data`` that
    narrow it (``field``, ``change_type``, ``from_status_name``...), as strings."""

    type: str
    data: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class RuleRecipient:
    """Whom a notification rule tells: ``EMAIL``, ``HTTP`` (a webhook by name),
    ``SLACK_CHANNEL``, ``MS_TEAMS_CHANNEL`` or ``PAGERDUTY_SERVICE``, with its ``data``."""

    type: str
    data: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class RuleAction:
    """What an automation rule does: ``EXECUTE_WORKFLOW`` (a webhook by ``handle``) or one
    of casebook's own changes of the case (``ASSIGN_USER``, ``SET_PRIORITY``,
    ``SET_STATUS``, ``ADD_COMMENT``), with the members of ``data`` its type uses."""

    type: str
    data: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class NotificationRule:
    """Tell ``recipients`` when one of ``triggers`` fires on a case of the project that
    matches ``query`` (search language; empty: every case)."""

    id: str
    org_id: str
    project_id: str
    is_enabled: bool
    query: str
    triggers: list[RuleTrigger]
    recipients: list[RuleRecipient]
    created_at: int
    created_by: str | None
    modified_at: int | None = None
    modified_by: str | None = None


@dataclass(slots=True)
class AutomationRule:
    """Do ``action`` when ``trigger`` fires on a case of the project (enabled or not: its
    ``state`` is ``is_enabled``)."""

    id: str
    org_id: str
    project_id: str
    name: str
    is_enabled: bool
    trigger: RuleTrigger
    action: RuleAction
    created_at: int
    created_by: str | None
    modified_at: int | None = None
    modified_by: str | None = None


@dataclass(slots=True)
class MaintenanceWindow:
    """From ``start_at`` (included) to ``end_at`` (excluded), the organisation's cases that
    match ``query`` notify no one and trigger no automation."""

    id: str
    org_id: str
    name: str
    query: str
    start_at: int
    end_at: int
    created_at: int
    created_by: str | None
    modified_at: int | None = None
    modified_by: str | None = None


@dataclass(slots=True)
class Case:
    id: str
    seq: int
    org_id: str
    project_id: str
    number: int
    key: str
    title: str
    description: str
    priority: Priority
    status: Status  # the status group of ``status_name``: what ``status`` and ``status_group`` say
    type_id: str
    attributes: dict[str, list[str]]
    custom_attributes: dict[str, CustomValue]
    creation_source: str
    created_at: int
    created_by: UserRef | None
    modified_at: int | None = None
    modified_by: UserRef | None = None
    closed_at: int | None = None
    archived_at: int | None = None
    assignee: UserRef | None = None
    due_date: int | None = None  # 00:00 UTC of the day it is due
    resolved_reason: str | None = None
    comment_count: int = 0  # live comments
    insights: list[Insight] = field(default_factory=list)
    version: int = 1  # one more at each change to what the case shows: its ETag
    status_name: str = ""  # one of its type's statuses; "" means the group's built-in name
    jira_issue: JiraIssueRef | None = None
    service_now_ticket: ServiceNowTicketRef | None = None

    @property
    def public_id(self) -> str:
        return str(self.seq)


@dataclass(slots=True, frozen=True)
class JiraIssueRef:
    """The Jira issue a case is tied to: made from the case (``issue_id`` as Jira numbers it),
    or linked by its URL (``issue_id`` then unknown, "")."""

    issue_id: str
    issue_key: str  # SEC-12
    issue_url: str  # https://acme.atlassian.net/browse/SEC-12
    project_key: str  # SEC


@dataclass(slots=True, frozen=True)
class ServiceNowTicketRef:
    """The ServiceNow incident made from a case."""

    sys_target_link: str  # the incident's page
    sys_id: str = ""
    number: str = ""  # INC0010001


IntegrationSystem = Literal["jira", "servicenow"]
INTEGRATION_SYSTEMS: tuple[IntegrationSystem, ...] = get_args(IntegrationSystem)


@dataclass(slots=True)
class Connection:
    """How an organisation reaches its Jira or ServiceNow: a base URL, a user, and the user's
    secret (a Jira API token, a ServiceNow password), kept sealed (``domain/sealed.py``):
    ``secret`` is the sealed text, never the secret itself."""

    org_id: str
    system: str  # one of INTEGRATION_SYSTEMS
    url: str  # https://acme.atlassian.net, https://acme.service-now.com
    instance: str  # ServiceNow's instance name (acme); "" for Jira
    username: str  # Jira: the account's email; ServiceNow: the user name
    secret: str
    created_at: int
    modified_at: int


CustomAttributeType = Literal["URL", "TEXT", "NUMBER", "SELECT"]
CUSTOM_ATTRIBUTE_TYPES: tuple[CustomAttributeType, ...] = get_args(CustomAttributeType)

CustomScalar = str | float
CustomValue = dict[str, object]
"""A custom attribute's value on a case, as the wire has it:
``{"type": "NUMBER", "is_multi": false, "value": 7.0}``; ``value`` is a string or a
number, or a list of them when ``is_multi``."""


@dataclass(slots=True, frozen=True)
class CaseStatusDef:
    """One status of a case type: its name, unique in the type, and its status group."""

    id: str
    name: str
    group: Status


@dataclass(slots=True)
class CaseType:
    """A kind of case (Standard, a team's Security Incident) with its ordered statuses.

    The built-in types (``BUILTIN_CASE_TYPES``) exist in every organisation with
    fixed ids; they cannot be changed or deleted. ``org_id`` is "" for them.
    """

    id: str
    org_id: str
    name: str
    description: str
    emoji: str
    statuses: list[CaseStatusDef]
    created_at: int
    modified_at: int | None = None
    deleted_at: int | None = None

    @property
    def builtin(self) -> bool:
        return self.id in BUILTIN_CASE_TYPES

    def status_named(self, name: str) -> CaseStatusDef | None:
        """The type's status of that name, in any letter case."""
        folded = name.strip().casefold()
        for status in self.statuses:
            if status.name.casefold() == folded:
                return status
        return None

    def first_of(self, group: Status) -> CaseStatusDef:
        """The type's first status in ``group`` (every type has one in each group)."""
        return next(s for s in self.statuses if s.group is group)


def default_statuses() -> list[CaseStatusDef]:
    """Open, In Progress and Closed: the Standard statuses, which a new type starts with."""
    return [
        CaseStatusDef(f"00000000-0000-0000-0000-00000000000{i}", status.display_name, status)
        for i, status in enumerate(Status, start=1)
    ]


def _builtin(type_id: str, name: str, description: str, emoji: str) -> CaseType:
    return CaseType(type_id, "", name, description, emoji, default_statuses(), 0)


BUILTIN_CASE_TYPES: dict[str, CaseType] = {
    t.id: t
    for t in (
        _builtin(STANDARD_CASE_TYPE_ID, "Standard", "The default case type", "📁"),
        _builtin(
            EVENT_MANAGEMENT_CASE_TYPE_ID,
            "Event Management",
            "Cases opened from Event Management correlations",
            "🔔",
        ),
        _builtin(
            ERROR_TRACKING_CASE_TYPE_ID, "Error Tracking", "Cases of Error Tracking issues", "🐞"
        ),
    )
}
"""The case types every organisation has, by their fixed ids (Datadog's)."""


@dataclass(slots=True)
class CustomAttributeConfig:
    """A typed field the cases of one type may hold, under ``key`` (``severity_score``)."""

    id: str
    org_id: str
    type_id: str
    key: str
    display_name: str
    description: str
    type: str  # one of CUSTOM_ATTRIBUTE_TYPES
    is_multi: bool
    options: list[str]  # SELECT: the values allowed
    map_from: str | None
    created_at: int
    modified_at: int | None = None


InsightType = Literal[
    "SECURITY_SIGNAL",
    "MONITOR",
    "EVENT_CORRELATION",
    "ERROR_TRACKING",
    "CLOUD_COST_RECOMMENDATION",
    "INCIDENT",
    "SENSITIVE_DATA_SCANNER_ISSUE",
    "EVENT",
    "WATCHDOG_STORY",
    "WIDGET",
    "SECURITY_FINDING",
    "INSIGHT_SCORECARD_CAMPAIGN",
    "RESOURCE_POLICY",
    "APM_RECOMMENDATION",
    "SCM_URL",
    "PROFILING_DOWNSIZING_EXPERIMENT",
]
INSIGHT_TYPES: tuple[InsightType, ...] = get_args(InsightType)


@dataclass(slots=True, frozen=True)
class Insight:
    """A Datadog resource a case points to as evidence (a signal, a monitor, ...)."""

    type: str
    ref: str
    resource_id: str


ResolvedReason = Literal["FALSE_POSITIVE", "TRUE_POSITIVE", "BENIGN_POSITIVE"]
RESOLVED_REASONS: tuple[ResolvedReason, ...] = get_args(ResolvedReason)

LinkRelationship = Literal[
    "RELATES_TO", "CAUSES", "BLOCKS", "DUPLICATES", "PARENT_OF", "SUCCESSOR_OF", "ESCALATES_TO"
]
LINK_RELATIONSHIPS: tuple[LinkRelationship, ...] = get_args(LinkRelationship)


@dataclass(slots=True)
class CaseLink:
    """A directed relationship between two cases of one organisation (parent BLOCKS child)."""

    id: str
    parent_id: str
    child_id: str
    relationship: str
    created_at: int
    created_by: str | None


@dataclass(slots=True)
class Comment:
    """A comment on a case. Once deleted it keeps its place but not its text (``body`` None)."""

    id: str
    case_id: str
    author_id: str | None
    body: str | None
    created_at: int
    modified_at: int | None = None
    deleted_at: int | None = None


COMMENT_ADDED = "comment"
"""The history field of a new comment: its new value is the comment's id, and its
timeline cell shows the comment."""
COMMENT_EDITED = "comment_edited"
COMMENT_DELETED = "comment_deleted"


AUTOMATION_ACTOR = "automation:"
"""How casebook's automation names itself where a user's id would go (the history's and
the outbox's ``actor_id``, a case's ``modified_by``, a comment's author): ``automation:``
and an automation rule's id, or ``AUTO_CLOSE_ACTOR``. Never a user's id (those are UUIDs),
so the timeline can tell who acted."""
AUTO_CLOSE_ACTOR = AUTOMATION_ACTOR + "auto-close"
"""The actor of a project's ``auto_close_inactive_cases`` setting closing a case."""


@dataclass(slots=True, frozen=True)
class AutomationRef:
    """What acted when automation changed a case: an automation rule (``rule_id``, and its
    ``rule_name`` while the rule exists) or the auto-close of inactive cases (no rule)."""

    rule_id: str | None
    rule_name: str | None = None

    @classmethod
    def of(cls, actor_id: str | None, rule_name: str | None = None) -> AutomationRef | None:
        """The automation an ``actor_id`` names, or None for a user (or no one)."""
        if actor_id is None or not actor_id.startswith(AUTOMATION_ACTOR):
            return None
        if actor_id == AUTO_CLOSE_ACTOR:
            return cls(None)
        return cls(actor_id.removeprefix(AUTOMATION_ACTOR), rule_name)


@dataclass(slots=True)
class TimelineEntry:
    """One cell of a case's timeline: a history row, with its comment when it adds one.
    ``actor`` is the user who made the change; ``automation`` what did, when no user did."""

    seq: int
    at: int
    actor: UserRef | None
    change: CaseChange
    comment: Comment | None = None
    automation: AutomationRef | None = None


@dataclass(slots=True)
class Watcher:
    user: UserRef
    since: int


@dataclass(slots=True)
class CaseChange:
    """One field of one case changed by one actor: a row of the case's history."""

    field: str
    old: str | None
    new: str | None


@dataclass(slots=True)
class OutboxEvent:
    """One command's changes to one case, as the outbox holds them until the delivery
    worker has turned them into deliveries (and automation)."""

    seq: int
    org_id: str
    case_id: str
    actor_id: str | None
    at: int
    changes: list[CaseChange]
    depth: int = 0


@dataclass(slots=True)
class Actor:
    """Who is calling: the owner of the application key, in the API key's organisation.

    ``depth`` is 0 for a person; an automation rule acting on a change made at depth n
    acts at depth n + 1, and rules do not act on changes past ``limits.MAX_RULE_DEPTH``.
    """

    user: UserRef
    org_id: str
    is_admin: bool
    key_id: str = ""  # the application key's id: what rate limits count against
    scopes: frozenset[Scope] = field(default_factory=lambda: ALL_SCOPES)
    depth: int = 0

    @property
    def user_id(self) -> str:
        return self.user.id

    @property
    def is_automation(self) -> bool:
        """casebook's automation acting (``AUTOMATION_ACTOR``), not a person: it watches
        nothing by acting."""
        return self.user.id.startswith(AUTOMATION_ACTOR)


@dataclass(slots=True)
class KeyInfo:
    """An API or application key as listed: never the secret, only a hint of it."""

    id: str
    kind: str  # "api" or "app"
    org_id: str
    user_id: str | None
    hint: str
    scopes: frozenset[Scope] | None
    created_at: int
    revoked_at: int | None


@dataclass(slots=True)
class Page:
    """One page of search results, with the total number of matches."""

    items: list[Case]
    total: int


@dataclass(slots=True)
class Webhook:
    """A named HTTP destination (Datadog's Webhooks integration) that notification rules
    (``HTTP`` recipients) and automation rules (``execute_workflow``) point at by name."""

    org_id: str
    name: str
    url: str
    payload: str | None  # a JSON template with $VARIABLES; None: casebook's event document
    custom_headers: str | None  # a JSON object of header names and values
    encode_as: str  # json or form
    created_at: int
    modified_at: int | None = None
