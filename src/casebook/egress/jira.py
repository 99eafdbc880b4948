"""Jira's REST API (version 2, Cloud and Data Center alike): making an issue.

``POST {site}/rest/api/2/issue`` with basic authentication (an Atlassian account's email
and API token; a Data Center user name and password), answered ``201`` with the issue's
``id`` and ``key``. The issue's page is ``{site}/browse/{key}``.
"""

from __future__ import annotations

from typing import Any

from casebook.core.entities import JiraIssueRef
from casebook.core.errors import ExternalServiceError
from casebook.domain.integrations import JiraCredentials, JiraIssueDraft
from casebook.egress.http import excerpt, post_json

SYSTEM = "Jira"


def _id_or(value: str, other: str) -> dict[str, str]:
    """Jira takes a project or issue type by ``id`` (digits) or by key/name."""
    return {"id": value} if value.isdigit() else {other: value}


def issue_fields(draft: JiraIssueDraft) -> dict[str, Any]:
    """The ``fields`` of the issue: the draft's own, then its extra fields over them."""
    return {
        "project": _id_or(draft.project, "key"),
        "issuetype": _id_or(draft.issue_type, "name"),
        "summary": draft.summary,
        "description": draft.description,
        **draft.fields,
    }


def _jira_errors(data: Any, text: str) -> str:
    """What Jira said was wrong (``errorMessages`` and ``errors``), else its answer."""
    if isinstance(data, dict):
        said = [str(m) for m in data.get("errorMessages") or []]
        errors = data.get("errors")
        if isinstance(errors, dict):
            said += [f"{name}: {message}" for name, message in errors.items()]
        if said:
            return excerpt("; ".join(said))
    return excerpt(text) or "no details"


class JiraClient:
    """Implements ``domain.integrations.JiraConnector`` over HTTP."""

    def __init__(self, *, timeout: float, allow_private: bool) -> None:
        self._timeout = timeout
        self._allow_private = allow_private

    def create_issue(self, credentials: JiraCredentials, draft: JiraIssueDraft) -> JiraIssueRef:
        status, data, text = post_json(
            SYSTEM,
            f"{credentials.url}/rest/api/2/issue",
            {"fields": issue_fields(draft)},
            auth=(credentials.email, credentials.token),
            timeout=self._timeout,
            allow_private=self._allow_private,
        )
        if status in (401, 403):
            raise ExternalServiceError(
                SYSTEM,
                f"refused the connection's credentials ({status}): check the email and API"
                " token (`casebook integrations jira set`)",
            )
        if status != 201:
            raise ExternalServiceError(SYSTEM, f"answered {status}: {_jira_errors(data, text)}")
        if not (
            isinstance(data, dict)
            and isinstance(data.get("key"), str)
            and isinstance(data.get("id"), str | int)
        ):
            raise ExternalServiceError(SYSTEM, f"answered 201 without an issue: {excerpt(text)}")
        key = data["key"]
        return JiraIssueRef(
            issue_id=str(data["id"]),
            issue_key=key,
            issue_url=f"{credentials.url}/browse/{key}",
            project_key=key.rsplit("-", 1)[0],
        )
