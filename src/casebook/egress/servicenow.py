"""ServiceNow's Table API: making an incident.

``POST {instance}/api/now/table/incident`` with basic authentication, answered ``201``
with ``{"result": {"sys_id": ..., "number": "INC0010001", ...}}``. The incident's page is
``{instance}/nav_to.do?uri=incident.do?sys_id={sys_id}``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from casebook.core.entities import ServiceNowTicketRef
from casebook.core.errors import ExternalServiceError
from casebook.domain.integrations import ServiceNowCredentials, ServiceNowTicketDraft
from casebook.egress.http import excerpt, post_json

SYSTEM = "ServiceNow"


def incident_record(draft: ServiceNowTicketDraft) -> dict[str, str]:
    record = {"short_description": draft.short_description, "description": draft.description}
    if draft.assignment_group:
        record["assignment_group"] = draft.assignment_group
    return record


def _error(data: Any, text: str) -> str:
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        said = [str(error[k]) for k in ("message", "detail") if error.get(k)]
        if said:
            return excerpt(": ".join(said))
    return excerpt(text) or "no details"


class ServiceNowClient:
    """Implements ``domain.integrations.ServiceNowConnector`` over HTTP."""

    def __init__(self, *, timeout: float, allow_private: bool) -> None:
        self._timeout = timeout
        self._allow_private = allow_private

    def create_incident(
        self, credentials: ServiceNowCredentials, draft: ServiceNowTicketDraft
    ) -> ServiceNowTicketRef:
        status, data, text = post_json(
            SYSTEM,
            f"{credentials.url}/api/now/table/incident",
            incident_record(draft),
            auth=(credentials.user, credentials.password),
            timeout=self._timeout,
            allow_private=self._allow_private,
        )
        if status in (401, 403):
            raise ExternalServiceError(
                SYSTEM,
                f"refused the connection's credentials ({status}): check the user and"
                " password (`casebook integrations servicenow set`)",
            )
        if status != 201:
            raise ExternalServiceError(SYSTEM, f"answered {status}: {_error(data, text)}")
        result = data.get("result") if isinstance(data, dict) else None
        sys_id = result.get("sys_id") if isinstance(result, dict) else None
        if not isinstance(sys_id, str) or not sys_id:
            raise ExternalServiceError(SYSTEM, f"answered 201 without an incident: {excerpt(text)}")
        number = result.get("number") if isinstance(result, dict) else None
        return ServiceNowTicketRef(
            sys_target_link=f"{credentials.url}/nav_to.do?uri=incident.do?sys_id={quote(sys_id)}",
            sys_id=sys_id,
            number=number if isinstance(number, str) else "",
        )
