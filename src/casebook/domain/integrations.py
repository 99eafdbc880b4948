"""A case's Jira issue, ServiceNow ticket, investigation notebook and incidents, and each
organisation's connections to Jira and ServiceNow.

Making a Jira issue or a ServiceNow incident calls that system: the domain states
what it needs as a Protocol (``JiraConnector``, ``ServiceNowConnector``), which the
HTTP layer fills with the clients of ``casebook.egress``, and does no network I/O
itself. A command reads what it needs (the case, its project's settings, the
connection) in a read transaction, calls the system with no transaction open, then
stores the result in one write transaction with its history row, through
``cases._change_case``. A failed call stores nothing.

Linking an existing Jira issue by its URL, unlinking it, linking an incident and
making a notebook call nothing and need no connection.

casebook has no notebooks and no incidents of its own: a notebook is a Markdown
comment on the case, made from the case, that the team edits as any comment; an
incident is an ``INCIDENT`` insight naming the incident's id (docs/api.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from casebook.core.clock import new_id, now_us
from casebook.core.entities import (
    COMMENT_ADDED,
    Actor,
    Case,
    CaseChange,
    Comment,
    Connection,
    Insight,
    JiraIssueRef,
    Project,
    Scope,
    ServiceNowTicketRef,
    TimelineEntry,
)
from casebook.core.errors import (
    ConflictError,
    ConnectionNotFoundError,
    InvalidRequestError,
    InvalidValueError,
    NotConfiguredError,
)
from casebook.domain import limits
from casebook.domain.access import access_case, require_match, require_scope
from casebook.domain.cases import (
    Change,
    IfMatch,
    _change_case,
    decide_insights_added,
    store_change,
    watch,
    writing_case,
)
from casebook.domain.projects import settings_of
from casebook.domain.sealed import seal, unseal
from casebook.domain.users import get_org
from casebook.storage.base import CaseUpdate, Store, Transaction

JIRA, SERVICENOW = "jira", "servicenow"
MAX_URL_CHARS = 2_048
MAX_CREDENTIAL_CHARS = 1_024
MAX_JIRA_SUMMARY_CHARS = 255  # Jira refuses longer summaries
INCIDENT_INSIGHT = "INCIDENT"
_INCIDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_JIRA_KEY = re.compile(r"([A-Z][A-Z0-9_]*)-([1-9][0-9]*)")
_INSTANCE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")

# --- what the domain needs of Jira and ServiceNow -----------------------------------------


@dataclass(frozen=True, slots=True)
class JiraCredentials:
    """An organisation's Jira, unsealed for one call; never logged (``repr`` hides the token)."""

    url: str  # https://acme.atlassian.net, no trailing slash
    email: str
    token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class JiraIssueDraft:
    """The issue to make. ``project`` and ``issue_type`` are Jira's ids (digits) or, as Jira
    also takes them, a project key and an issue type name; ``fields`` are more of Jira's
    fields, as given."""

    project: str
    issue_type: str
    summary: str
    description: str
    fields: dict[str, Any]


class JiraConnector(Protocol):
    def create_issue(self, credentials: JiraCredentials, draft: JiraIssueDraft) -> JiraIssueRef:
        """Make the issue in Jira; raise ExternalServiceError (ExternalTimeoutError) if Jira
        cannot be reached, refuses or does not answer in time."""
        ...


@dataclass(frozen=True, slots=True)
class ServiceNowCredentials:
    """An organisation's ServiceNow instance, unsealed for one call."""

    url: str  # https://acme.service-now.com, no trailing slash
    user: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ServiceNowTicketDraft:
    short_description: str
    description: str
    assignment_group: str  # "": none


class ServiceNowConnector(Protocol):
    def create_incident(
        self, credentials: ServiceNowCredentials, draft: ServiceNowTicketDraft
    ) -> ServiceNowTicketRef:
        """Make an incident in ServiceNow; raise ExternalServiceError (ExternalTimeoutError)
        as ``JiraConnector.create_issue`` does."""
        ...


# --- connections (the CLI's) ----------------------------------------------------------------


def _base_url(url: str, what: str) -> str:
    """An http(s) base URL with a host and nothing after its path, without a trailing slash."""
    url = url.strip()
    if not url or len(url) > MAX_URL_CHARS:
        raise InvalidValueError(f"invalid {what}: 1 to {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError as exc:
        raise InvalidValueError(f"invalid {what} {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidValueError(f"invalid {what} {url!r}: expected http(s)://host[/path]")
    if parts.username is not None or parts.password is not None:
        raise InvalidValueError(
            f"invalid {what}: credentials go in their own options, not in the URL"
        )
    if parts.query or parts.fragment:
        raise InvalidValueError(f"invalid {what} {url!r}: no query string or fragment")
    return url.rstrip("/")


def _credential(value: str, what: str) -> str:
    if not value or len(value) > MAX_CREDENTIAL_CHARS or not value.isprintable():
        raise InvalidValueError(f"invalid {what}: 1 to {MAX_CREDENTIAL_CHARS} printable characters")
    return value


def _context(org_id: str, system: str) -> str:
    return f"{org_id}/{system}"


def _store_connection(
    store: Store,
    org_name: str,
    system: str,
    *,
    server_secret: bytes,
    url: str,
    instance: str,
    username: str,
    secret: str,
) -> Connection:
    at = now_us()
    with store.write() as tx:
        org = get_org(tx, org_name)
        previous = tx.connections.get(org.id, system)
        connection = Connection(
            org_id=org.id,
            system=system,
            url=url,
            instance=instance,
            username=username,
            secret=seal(server_secret, secret, _context(org.id, system)),
            created_at=at if previous is None else previous.created_at,
            modified_at=at,
        )
        tx.connections.put(connection)
    return connection


def set_jira_connection(
    store: Store,
    org_name: str,
    *,
    server_secret: bytes,
    check_url: Callable[[str], None],
    url: str,
    email: str,
    token: str,
) -> Connection:
    """Connect an organisation to its Jira (replacing any connection it had): the site's base
    URL (``https://acme.atlassian.net``), which ``check_url`` (the SSRF guard) must accept,
    and the email and API token of the account issues are made as. The token is sealed."""
    base = _base_url(url, "Jira URL")
    check_url(base)
    return _store_connection(
        store,
        org_name,
        JIRA,
        server_secret=server_secret,
        url=base,
        instance="",
        username=_credential(email.strip(), "Jira email"),
        secret=_credential(token, "Jira API token"),
    )


def service_now_url(instance: str) -> str:
    """The base URL of a ServiceNow instance hosted by ServiceNow."""
    return f"https://{instance}.service-now.com"


def set_service_now_connection(
    store: Store,
    org_name: str,
    *,
    server_secret: bytes,
    check_url: Callable[[str], None],
    instance: str,
    user: str,
    password: str,
    url: str | None = None,
) -> Connection:
    """Connect an organisation to its ServiceNow instance (``acme``: at
    ``https://acme.service-now.com`` unless ``url`` says where), which ``check_url`` must
    accept, as a user allowed to make incidents. The password is sealed."""
    name = instance.strip().lower()
    if not _INSTANCE.fullmatch(name):
        raise InvalidValueError(
            f"invalid ServiceNow instance {instance!r}: its name, as in"
            " https://NAME.service-now.com (letters, digits and hyphens)"
        )
    base = _base_url(url if url is not None else service_now_url(name), "ServiceNow URL")
    check_url(base)
    return _store_connection(
        store,
        org_name,
        SERVICENOW,
        server_secret=server_secret,
        url=base,
        instance=name,
        username=_credential(user.strip(), "ServiceNow user"),
        secret=_credential(password, "ServiceNow password"),
    )


def list_connections(store: Store, org_name: str) -> list[Connection]:
    """The organisation's connections (their secrets still sealed)."""
    with store.read() as tx:
        return tx.connections.list(get_org(tx, org_name).id)


def remove_connection(store: Store, org_name: str, system: str) -> None:
    """Forget the organisation's connection to ``system``; NotFoundError if it has none.
    Issues and tickets already on cases stay."""
    with store.write() as tx:
        if not tx.connections.delete(get_org(tx, org_name).id, system):
            raise ConnectionNotFoundError(system)


# --- reading before a call ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Before:
    """What a command read before calling out: the case, its project's settings of the
    system, and the organisation's connection to it."""

    case: Case
    settings: dict[str, Any]
    connection: Connection | None


def _read_before(
    store: Store, ref: str, actor: Actor, system: str, setting: str, if_match: IfMatch
) -> _Before:
    require_scope(actor, Scope.CASES_WRITE)
    with store.read() as tx:
        case = access_case(tx, ref, actor=actor)
        require_match(case, if_match)
        project = tx.projects.get(actor.org_id, case.project_id)
        connection = tx.connections.get(actor.org_id, system)
    settings = _project_settings(project, setting)
    return _Before(case, settings, connection)


def _project_settings(project: Project | None, setting: str) -> dict[str, Any]:
    found = {} if project is None else settings_of(project).get(setting)
    return found if isinstance(found, dict) else {}


def _text(settings: dict[str, Any], *path: str) -> str:
    node: Any = settings
    for name in path:
        node = node.get(name) if isinstance(node, dict) else None
    return node.strip() if isinstance(node, str) else ""


def _require_enabled(settings: dict[str, Any], system: str, setting: str) -> None:
    if settings.get("enabled") is False:
        raise NotConfiguredError(
            f"{system} is turned off for this case's project (settings.{setting}.enabled)"
        )


def _description(case: Case) -> str:
    note = f"From casebook case {case.key}."
    return f"{case.description}\n\n{note}" if case.description.strip() else note


# --- Jira -----------------------------------------------------------------------------------


def create_jira_issue(
    store: Store,
    ref: str,
    *,
    actor: Actor,
    connector: JiraConnector,
    server_secret: bytes,
    project_id: str = "",
    issue_type_id: str = "",
    jira_account_id: str = "",
    fields: dict[str, Any] | None = None,
    if_match: IfMatch = None,
) -> Case:
    """Make a Jira issue from a case (summary: its title; description: its description)
    and tie it to the case. The Jira project and issue type are the request's, else the
    project's ``settings.integration_jira.metadata``; ``fields`` go to Jira as given.

    ``jira_account_id`` names one of the Datadog Jira integration's accounts; casebook
    has one Jira connection per organisation, so it is accepted and not used.
    NotConfiguredError without a connection (or with Jira turned off for the project),
    ConflictError if the case already has an issue; the connector's errors as it raises
    them, with nothing stored.
    """
    del jira_account_id
    before = _read_before(store, ref, actor, JIRA, "integration_jira", if_match)
    case, settings = before.case, before.settings
    _require_enabled(settings, "Jira", "integration_jira")
    _require_no_issue(case)
    if before.connection is None:
        raise NotConfiguredError(
            "this organisation has no Jira connection: an operator sets one with"
            " `casebook integrations jira set --org ORG --url URL --email EMAIL --token-stdin`"
        )
    project = project_id.strip() or _text(settings, "metadata", "project_id")
    issue_type = issue_type_id.strip() or _text(settings, "metadata", "issue_type_id")
    if not project or not issue_type:
        raise InvalidRequestError(
            "a Jira project and issue type are needed: send project_id and issue_type_id,"
            " or set the project's settings.integration_jira.metadata"
        )
    connection = before.connection
    credentials = JiraCredentials(
        url=connection.url,
        email=connection.username,
        token=unseal(server_secret, connection.secret, _context(actor.org_id, JIRA)),
    )
    draft = JiraIssueDraft(
        project=project,
        issue_type=issue_type,
        summary=case.title[:MAX_JIRA_SUMMARY_CHARS],
        description=_description(case),
        fields=dict(fields or {}),
    )
    issue = connector.create_issue(credentials, draft)  # no transaction is open

    def decide(tx: Transaction, locked: Case, at: int) -> Change | None:
        if locked.jira_issue is not None:  # linked while Jira was making ours
            raise ConflictError(
                f"the case was tied to Jira issue {locked.jira_issue.issue_key} meanwhile;"
                f" {issue.issue_key} was made in Jira but not tied to the case"
            )
        return _set_jira_issue(locked, issue)

    return _change_case(store, ref, actor, decide, if_match)


def _require_no_issue(case: Case) -> None:
    if case.jira_issue is not None:
        raise ConflictError(
            f"the case already has Jira issue {case.jira_issue.issue_key}: unlink it first"
        )


def _set_jira_issue(case: Case, issue: JiraIssueRef | None) -> Change:
    old = case.jira_issue
    case.jira_issue = issue
    return CaseUpdate(jira_issue=issue), [
        CaseChange(
            "jira_issue",
            None if old is None else old.issue_url,
            None if issue is None else issue.issue_url,
        )
    ]


def jira_issue_of_url(url: str) -> JiraIssueRef:
    """The issue a Jira URL shows: ``https://acme.atlassian.net/browse/SEC-12``, or a board
    or search URL naming it (``.../issues/SEC-12``, ``?selectedIssue=SEC-12``)."""
    url = url.strip()
    if not url or len(url) > MAX_URL_CHARS:
        raise InvalidValueError(f"invalid jira_issue_url: 1 to {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidValueError(
            f"invalid jira_issue_url {url!r}: expected https://SITE/browse/KEY-123"
        )
    if "@" in parts.netloc:  # a link everyone reads must not carry credentials
        raise InvalidValueError("invalid jira_issue_url: it must not hold credentials")
    candidates = [*reversed(parts.path.split("/"))]
    candidates += parse_qs(parts.query).get("selectedIssue", [])
    for candidate in candidates:
        match = _JIRA_KEY.fullmatch(candidate)
        if match is not None:
            base = f"{parts.scheme}://{parts.netloc}"
            # The site's path prefix (Jira Server under /jira) stays; the issue's page is
            # always <site>/browse/<KEY>.
            prefix = parts.path.split("/browse/")[0] if "/browse/" in parts.path else ""
            return JiraIssueRef(
                issue_id="",
                issue_key=match[0],
                issue_url=f"{base}{prefix}/browse/{match[0]}",
                project_key=match[1],
            )
    raise InvalidValueError(
        f"invalid jira_issue_url {url!r}: it names no issue key (expected"
        " https://SITE/browse/KEY-123)"
    )


def link_jira_issue(
    store: Store, ref: str, *, actor: Actor, jira_issue_url: str, if_match: IfMatch = None
) -> Case:
    """Tie an existing Jira issue to a case by its URL; no connection is needed and Jira is
    not called. Linking the issue the case has is a no-op; ConflictError if it has another."""
    issue = jira_issue_of_url(jira_issue_url)

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        if case.jira_issue is not None and case.jira_issue.issue_url == issue.issue_url:
            return None
        _require_no_issue(case)
        return _set_jira_issue(case, issue)

    return _change_case(store, ref, actor, decide, if_match)


def unlink_jira_issue(store: Store, ref: str, *, actor: Actor, if_match: IfMatch = None) -> Case:
    """Untie a case from its Jira issue (which stays in Jira); a no-op if it has none."""

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return None if case.jira_issue is None else _set_jira_issue(case, None)

    return _change_case(store, ref, actor, decide, if_match)


# --- ServiceNow -----------------------------------------------------------------------------


def create_service_now_ticket(
    store: Store,
    ref: str,
    *,
    actor: Actor,
    connector: ServiceNowConnector,
    server_secret: bytes,
    instance_name: str = "",
    assignment_group: str = "",
    if_match: IfMatch = None,
) -> Case:
    """Make a ServiceNow incident from a case and tie it to the case.

    The instance is the request's ``instance_name``, else the project's
    ``settings.integration_service_now.instance_name``, and must be the one the
    organisation is connected to; the assignment group is the request's, else the
    project's. NotConfiguredError without a connection to that instance,
    ConflictError if the case already has a ticket; nothing is stored on failure.
    """
    setting = "integration_service_now"
    before = _read_before(store, ref, actor, SERVICENOW, setting, if_match)
    case, settings, connection = before.case, before.settings, before.connection
    _require_enabled(settings, "ServiceNow", setting)
    _require_no_ticket(case)
    instance = (instance_name.strip() or _text(settings, "instance_name")).lower()
    if connection is None or (instance and instance != connection.instance):
        named = f" to instance {instance!r}" if instance else ""
        raise NotConfiguredError(
            f"this organisation has no ServiceNow connection{named}: an operator sets one"
            " with `casebook integrations servicenow set --org ORG --instance NAME --user USER"
            " --password-stdin`"
        )
    credentials = ServiceNowCredentials(
        url=connection.url,
        user=connection.username,
        password=unseal(server_secret, connection.secret, _context(actor.org_id, SERVICENOW)),
    )
    draft = ServiceNowTicketDraft(
        short_description=f"[{case.key}] {case.title}"[:160],
        description=_description(case),
        assignment_group=assignment_group.strip() or _text(settings, "assignment_group"),
    )
    ticket = connector.create_incident(credentials, draft)  # no transaction is open

    def decide(tx: Transaction, locked: Case, at: int) -> Change | None:
        if locked.service_now_ticket is not None:
            raise ConflictError(
                "the case got a ServiceNow ticket meanwhile; incident"
                f" {ticket.number or ticket.sys_id} was made but not tied to the case"
            )
        locked.service_now_ticket = ticket
        return CaseUpdate(service_now_ticket=ticket), [
            CaseChange("service_now_ticket", None, ticket.sys_target_link)
        ]

    return _change_case(store, ref, actor, decide, if_match)


def _require_no_ticket(case: Case) -> None:
    if case.service_now_ticket is not None:
        raise ConflictError(
            "the case already has a ServiceNow ticket: " + case.service_now_ticket.sys_target_link
        )


# --- notebooks and incidents ----------------------------------------------------------------


def notebook_text(case: Case) -> str:
    """An investigation notebook made from a case: Markdown, with its facts, its
    description, its evidence and empty sections to fill in."""
    lines = [
        f"# Investigation notebook: {case.key} {case.title}",
        "",
        f"- Priority: {case.priority.value}",
        f"- Status: {case.status_name or case.status.display_name}",
    ]
    if case.jira_issue is not None:
        lines.append(f"- Jira: [{case.jira_issue.issue_key}]({case.jira_issue.issue_url})")
    if case.service_now_ticket is not None:
        lines.append(f"- ServiceNow: {case.service_now_ticket.sys_target_link}")
    lines += ["", "## Summary", "", case.description.strip() or "_To be written._", ""]
    lines += ["## Evidence", ""]
    lines += [f"- {i.type}: {i.ref}" for i in case.insights] or ["_None yet._"]
    lines += ["", "## Timeline", "", "## Findings", "", "## Next steps", ""]
    return "\n".join(lines)[: limits.MAX_COMMENT_CHARS]


def create_notebook(
    store: Store, ref: str, *, actor: Actor, if_match: IfMatch = None
) -> TimelineEntry:
    """Start an investigation notebook on a case: a comment by the actor holding
    ``notebook_text`` of the case, which the team then edits as any comment. Mentions in
    the case's description are not acted on again (no new watchers but the actor)."""
    with writing_case(store, ref, actor, if_match) as (tx, case, at):
        added = Comment(new_id(), case.id, actor.user_id, notebook_text(case), at)
        tx.comments.insert(actor.org_id, case.seq, added)
        changes = [
            CaseChange(COMMENT_ADDED, None, added.id),
            *watch(tx, actor, case, [actor.user_id], at),
        ]
        case.comment_count += 1
        store_change(
            tx, actor, case, at, CaseUpdate(comment_count=case.comment_count), changes,
            modifies=False,
        )  # fmt: skip
    return TimelineEntry(0, at, actor.user, changes[0], added)


def incident_insight(incident_id: str) -> Insight:
    """The insight that ties a case to an incident: its id, and its page's path."""
    incident_id = incident_id.strip()
    if not _INCIDENT_ID.fullmatch(incident_id):
        raise InvalidValueError(
            f"invalid incident id {incident_id!r}: 1 to 128 letters, digits, '.', '_', ':' or '-'"
        )
    return Insight(INCIDENT_INSIGHT, f"/incidents/{incident_id}", incident_id)


def link_incident(
    store: Store, ref: str, *, actor: Actor, incident_id: str, if_match: IfMatch = None
) -> Case:
    """Tie an incident (by its id) to a case, as an ``INCIDENT`` insight; linking it again is
    a no-op, and RemoveCaseInsights unties it."""
    insight = incident_insight(incident_id)

    def decide(tx: Transaction, case: Case, at: int) -> Change | None:
        return decide_insights_added(case, [insight])

    return _change_case(store, ref, actor, decide, if_match)
