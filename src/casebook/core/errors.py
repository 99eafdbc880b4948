"""Every exception casebook raises on purpose.

Domain and storage code raise these; they know nothing of HTTP. The HTTP layer
maps each class to a status code in one table (``casebook.http.errors``),
looked up along the class hierarchy, and the CLI maps them to one-line messages.

    CasebookError
    ├── InvalidRequestError          the request is malformed (400 Bad Request)
    │   ├── InvalidValueError        a well-formed value the domain refuses (400 Generic Error)
    │   │   └── InvalidTransitionError
    │   ├── InvalidQueryError        a filter that does not parse (400, names term and position)
    │   ├── InvalidParameterError    a path parameter of the wrong type (400 Invalid Parameter)
    │   ├── UnsafeUrlError           an outbound URL refused: scheme, or a private address (400)
    │   └── IdMismatchError          the body's id is not the path's (422)
    ├── NotFoundError                no such object *visible to the caller* (404)
    │   ├── CaseNotFoundError
    │   ├── ProjectNotFoundError
    │   ├── UserNotFoundError
    │   ├── CaseTypeNotFoundError
    │   ├── CustomAttributeNotFoundError (names the key in ``meta``)
    │   ├── TimelineCellNotFoundError
    │   ├── LinkNotFoundError
    │   ├── ViewNotFoundError
    │   ├── WebhookNotFoundError
    │   ├── ConnectionNotFoundError  (an organisation's Jira or ServiceNow connection)
    │   ├── NotificationRuleNotFoundError
    │   ├── AutomationRuleNotFoundError
    │   ├── MaintenanceWindowNotFoundError
    │   └── OrgNotFoundError
    ├── ConflictError                a uniqueness rule would break (409)
    │   └── NotConfiguredError       an integration the organisation has not set up (409)
    ├── AuthenticationError          missing, unknown or revoked keys (403 Forbidden)
    ├── PermissionDeniedError        valid keys without the needed scope (403 Forbidden)
    ├── PreconditionFailedError      If-Match names a version the case no longer has (412)
    ├── PayloadTooLargeError         request body over the cap (413)
    ├── RateLimitedError             too many requests for one key (429)
    ├── UnavailableError             the database is unreachable or busy (503)
    └── ExternalServiceError         Jira or ServiceNow failed or refused (502)
        └── ExternalTimeoutError     ... or did not answer in time (504)
"""

from __future__ import annotations


class CasebookError(Exception):
    """Base for every error we raise on purpose."""

    code = "error"
    meta: dict[str, str] | None = None
    """The ids the error concerns, for machines (the JSON:API error's ``meta``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequestError(CasebookError):
    """The request body, path or query is malformed; ``message`` names the field."""

    code = "bad_request"


class InvalidValueError(InvalidRequestError):
    """A well-formed value that the domain refuses, such as an unknown priority."""

    code = "invalid_value"


class InvalidTransitionError(InvalidValueError):
    """A status move the case's workflow does not allow."""

    code = "invalid_transition"


class InvalidQueryError(InvalidRequestError):
    """A search filter that does not parse or breaks a limit.

    ``position`` is the 0-based character offset of the offending term.
    """

    code = "invalid_query"

    def __init__(self, message: str, *, position: int, term: str = "") -> None:
        super().__init__(message)
        self.position = position
        self.term = term


class InvalidParameterError(InvalidRequestError):
    """A path parameter that is not of its type (``CommentID`` not a UUID), worded as
    Datadog words it."""

    code = "invalid_parameter"

    def __init__(self, name: str, expected: str = "uuid") -> None:
        super().__init__(f'invalid parameter "{name}" in "path"; expected type "{expected}"')
        self.name = name


class UnsafeUrlError(InvalidRequestError):
    """An outbound URL casebook will not call: not http(s), no host, a host that does not
    resolve, or one that resolves to a loopback, private, link-local, multicast or reserved
    address (``casebook.egress.guard``)."""

    code = "unsafe_url"


class IdMismatchError(InvalidRequestError):
    """The id in the request body names another object than the path does."""

    code = "id_mismatch"


class NotFoundError(CasebookError):
    """No such object among those the caller may see.

    Objects of another organisation raise this too, with the same message, so a
    caller cannot learn whether an id exists elsewhere.
    """

    code = "resource_not_found"
    resource = "resource"

    def __init__(self, ref: str, *, doing: str = "") -> None:
        # ``doing``: what failed, as Datadog prefixes some ("failed to get project").
        message = f"{self.resource} not found"
        super().__init__(f"{doing}: {message}" if doing else message)
        self.ref = ref


class CaseNotFoundError(NotFoundError):
    resource = "case"


class ProjectNotFoundError(NotFoundError):
    resource = "project"


class UserNotFoundError(NotFoundError):
    resource = "user"


class CaseTypeNotFoundError(NotFoundError):
    resource = "case_type"


class CustomAttributeNotFoundError(NotFoundError):
    """No custom attribute config of that key (or id) for the case's type; ``meta`` names the
    key, as Datadog's 404 does."""

    resource = "custom attribute"

    def __init__(self, ref: str, *, key: str | None = None, command: str = "") -> None:
        super().__init__(ref)
        if key is not None:
            self.meta = {"key": key}
        if command:
            # Datadog's title for a case's unknown key (command: UpdateCustomAttribute or
            # RemoveCustomAttribute), word for word.
            self.message = (
                f"failed to update batch: failed to apply command: failed to apply domain.{command}"
                " command: custom attribute configuration not found"
            )


class ViewNotFoundError(NotFoundError):
    resource = "view"


class WebhookNotFoundError(NotFoundError):
    resource = "webhook"


class ConnectionNotFoundError(NotFoundError):
    resource = "connection"


class NotificationRuleNotFoundError(NotFoundError):
    resource = "notification rule"


class AutomationRuleNotFoundError(NotFoundError):
    resource = "rule"


class MaintenanceWindowNotFoundError(NotFoundError):
    resource = "maintenance window"


class OrgNotFoundError(NotFoundError):
    resource = "organization"


class TimelineCellNotFoundError(NotFoundError):
    resource = "timeline cell"

    def __init__(self, ref: str) -> None:
        super().__init__(ref)
        self.message = "failed to get timeline cell: timeline cell not found"  # as recorded


class LinkNotFoundError(NotFoundError):
    resource = "link"


class PreconditionFailedError(CasebookError):
    """A write's ``If-Match`` names a version the case no longer has; nothing changed."""

    code = "precondition_failed"


class ConflictError(CasebookError):
    """Creating or changing an object would break a uniqueness rule."""

    code = "conflict"


class NotConfiguredError(ConflictError):
    """The operation needs an integration (Jira, ServiceNow) the organisation has not set up;
    the message says what to configure."""

    code = "integration_not_configured"


class AuthenticationError(CasebookError):
    """Missing, malformed, unknown, revoked or mismatched keys.

    The message is for logs only: every cause answers the same body.
    """

    code = "forbidden"


class PermissionDeniedError(CasebookError):
    """Valid keys that lack the scope or role an operation needs."""

    code = "forbidden"


class PayloadTooLargeError(CasebookError):
    code = "payload_too_large"


class RateLimitedError(CasebookError):
    """Too many requests; ``reset_after`` is whole seconds until the window resets."""

    code = "rate_limited"

    def __init__(self, message: str, *, limit: int, period: int, reset_after: int, name: str):
        super().__init__(message)
        self.limit = limit
        self.period = period
        self.reset_after = reset_after
        self.name = name


class UnavailableError(CasebookError):
    """The database cannot be reached or stayed locked past the timeout; nothing was written."""

    code = "unavailable"


class ExternalServiceError(CasebookError):
    """An external system casebook called on the caller's behalf (``system``: "Jira",
    "ServiceNow") could not be reached, refused, or answered an error; nothing was stored.
    The message names the system and what it said, never a credential."""

    code = "external_service_error"

    def __init__(self, system: str, message: str) -> None:
        super().__init__(f"{system}: {message}")
        self.system = system


class ExternalTimeoutError(ExternalServiceError):
    """The external system did not answer within the timeout; nothing was stored."""

    code = "external_service_timeout"
