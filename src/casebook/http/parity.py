"""``docs/parity.md``: every Datadog case operation, whether casebook serves it, and each
known difference from the real service -- built from the operation registry.

``python -m casebook.http.parity docs/parity.md`` rewrites the page; ``tests/http/test_parity.py``
fails when the page and the registry disagree, and when a difference names an operation the
registry does not hold. A difference is written here, beside the others, when it is decided
(the behaviour itself is described in ``docs/api.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from casebook.http.registry import NOT_YET, OPERATIONS, Operation

DIFFERENCES: dict[str, tuple[str, ...]] = {
    "GetCase": (
        "`comment_count` counts the live comments (Datadog's GET always answers 0).",
        "Also takes a moved case's old key (`SEC-7` after a move to `NET`).",
        "Answers an `ETag` (extension).",
    ),
    "SearchCases": (
        "`meta.total_cases` is exact up to `max(1000, offset + page size)` matches, then that "
        "bound + 1.",
        "Text matching follows the back end's full-text index (docs/search.md, "
        '"What differs from Datadog").',
    ),
    "CreateCase": (
        "Accepts `type: STANDARD` (the seed's) as well as `type_id`, and answers both.",
        "`public_id` is unique in the installation, not in Datadog's organisation.",
    ),
    "CountCases": ("Nothing was recorded from the real service: the shape is casebook's choice.",),
    "AggregateCases": (
        "Nothing was recorded from the real service: the shape is casebook's choice.",
    ),
    "UpdateCaseDueDate": ("`due_date` is answered among the case's attributes (extension).",),
    "UpdateCaseResolvedReason": (
        "`resolved_reason` is answered among the case's attributes (extension).",
    ),
    "MoveCaseToProject": ("The old key keeps naming the case (Datadog forgets it).",),
    "BulkUpdateCases": (
        "`jira`, `servicenow` and `linear` actions are 400.",
        "All or nothing: one error naming the first case that cannot change.",
    ),
    "CreateCaseJiraIssue": (
        "Answers 202 once Jira has answered and the issue is stored (Datadog makes it in the "
        "background); a failure is answered (502/504) instead of a `FAILED` issue.",
        "Uses the organisation's one Jira connection, set with the CLI; `jira_account_id` is "
        "accepted and not used.",
    ),
    "CreateCaseServiceNowTicket": (
        "Answers 202 once ServiceNow has answered; a failure is answered (502/504).",
    ),
    "CreateCaseNotebook": (
        "casebook has no notebooks: the notebook is a Markdown comment in the case, made from it.",
    ),
    "LinkIncident": (
        "casebook has no incidents: the incident is an `INCIDENT` insight of the case.",
    ),
    "UpdateCaseComment": ("Answers 200 with the edited cell (the spec declares no body).",),
    "ListCaseTimeline": (
        "Every change is an activity cell (`type: ACTIVITY`, extension) beside the comments.",
        "`meta` with `total_cells` (extension).",
    ),
    "ListCaseWatchers": ("The watching users are in `included` (extension).",),
    "CreateCaseLink": (
        "Both ends must be cases: casebook has no incidents, pages or agent conversations.",
    ),
    "CreateCaseType": (
        "A type's `statuses` (extension): 3 to 20 statuses in the three status groups.",
    ),
    "UpdateCaseType": ("Takes `statuses` (extension).",),
    "CreateCustomAttributeConfig": ("Also takes a SELECT's options (extension).",),
    "DeleteProject": (
        "The project and its cases are hidden, not destroyed: `casebook projects restore` "
        "brings them back (Datadog deletes the cases).",
    ),
    "CreateProjectNotificationRule": (
        "Slack and Teams recipients take the channel's incoming-webhook `url`, PagerDuty a "
        "`routing_key` (casebook's members); answers mask them.",
        "`EVENT_CORRELATION_SIGNAL_CORRELATED` and `CASE_REVIEW_APPROVED` triggers are 400: "
        "nothing in casebook fires them.",
    ),
    "CreateCaseAutomationRule": (
        "`EXECUTE_WORKFLOW` calls a named webhook (casebook has no workflows); `ASSIGN_AGENT` is "
        "400; casebook adds `ASSIGN_USER`, `SET_PRIORITY`, `SET_STATUS` and `ADD_COMMENT`.",
    ),
    "CreateMaintenanceWindow": (
        "`start_at` and `end_at` need a time zone (a time without one is 400, not guessed).",
    ),
}
"""Per operation id: what casebook does differently from Datadog's real service."""

EVERYWHERE = (
    "Every error body is a JSON:API error with a `detail` naming the field or value (the real "
    'service sometimes sends `{"status", "title"}` alone); the Users API keeps Datadog\'s '
    "string arrays.",
    "Timestamps are RFC 3339 UTC with exactly six fractional digits (the real service trims "
    "trailing zeros and sometimes sends nanoseconds).",
    "Every write on a case takes `If-Match` and answers 412 on a stale version (extension); "
    "without it the last writer wins, as in Datadog.",
    "Rate limits answer 429 with Datadog's `X-RateLimit-*` headers, counted per application key.",
    "Case keys and UUIDs are accepted wherever a case id is (`sec-012` is `SEC-12`).",
)
"""Differences that hold for every operation."""


def _served(op: Operation) -> str:
    return "admins only" if op.admin else "yes"


def _row(op: Operation) -> str:
    notes = " ".join(DIFFERENCES.get(op.operation_id, ())) or "—"
    return f"| {op.operation_id} | `{op.method} {op.path}` | {_served(op)} | {notes} |"


def page() -> str:
    """The whole of ``docs/parity.md``."""
    datadog = [op for op in OPERATIONS if not op.extension and op.source == "cases"]
    webhooks = [op for op in OPERATIONS if not op.extension and op.source != "cases"]
    own = [op for op in OPERATIONS if op.extension]
    lines = [
        "# Parity with Datadog's Case Management API",
        "",
        "<!-- generated by `python -m casebook.http.parity docs/parity.md` from the operation",
        "     registry (src/casebook/http/registry.py and src/casebook/http/parity.py);",
        "     tests/http/test_parity.py fails when this page and the registry disagree -->",
        "",
        f"casebook serves **{len(datadog)} of the {len(datadog) + len(NOT_YET)}** operations "
        "of Datadog's case API (`shared/spec/case-management.openapi.yaml`: the official "
        "clients' case management APIs and the part of the Users API they need), and the "
        f"{len(webhooks)} of the Webhooks integration API that notification and automation rules "
        "name. The behaviour of each is described in "
        "[api.md](api.md); this page lists only where it differs from the real service, as "
        "recorded in the official clients' cassettes or documented by Datadog.",
        "",
        "## Everywhere",
        "",
        *(f"- {line}" for line in EVERYWHERE),
        "",
        "## Datadog's operations",
        "",
        "| Operation | Method and path | casebook | Known differences |",
        "|---|---|---|---|",
        *(_row(op) for op in datadog),
        *(f"| {op_id} | — | not yet ({work}) | — |" for op_id, work in NOT_YET.items()),
        "",
        "## Datadog's Webhooks integration API",
        "",
        "| Operation | Method and path | casebook | Known differences |",
        "|---|---|---|---|",
        *(_row(op) for op in webhooks),
        "",
        "## casebook's own operations",
        "",
        "Marked `x-casebook-extension` in the OpenAPI document; the official clients do not "
        "know them.",
        "",
        "| Operation | Method and path | Who |",
        "|---|---|---|",
        *(
            f"| {op.operation_id} | `{op.method} {op.path}` | "
            f"{'admins' if op.admin else op.scope.value} |"
            for op in own
        ),
        "",
    ]
    return "\n".join(lines)


def unknown_differences() -> set[str]:
    """Operation ids named in ``DIFFERENCES`` that the registry does not hold."""
    return set(DIFFERENCES) - {op.operation_id for op in OPERATIONS}


def write(path: Path) -> bool:
    """Rewrite ``path``; True if it changed."""
    text = page()
    if path.exists() and path.read_text() == text:
        return False
    path.write_text(text)
    return True


if __name__ == "__main__":  # python -m casebook.http.parity docs/parity.md
    for name in sys.argv[1:]:
        print(f"{name}: {'rewritten' if write(Path(name)) else 'up to date'}")
