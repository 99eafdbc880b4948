"""Every operation the API serves, declared once.

An ``Operation`` names Datadog's operationId, the method and path of
``shared/spec/case-management.openapi.yaml``, the handler, the request and
response structs, the scope a key needs and the error style. Everything else is
built from ``OPERATIONS``: the router (``http/routing.py``), the OpenAPI
document and the docs' operation table (``http/openapi.py``), and the security
suites' list of operations (``tests/security/conftest.py``).
``tests/http/test_registry.py`` checks ``OPERATIONS`` against the spec in both
directions: every operation of the spec is served or listed in ``NOT_YET``.

A new case action is an attributes struct in ``http/schemas/cases.py``, a domain
command whose keyword arguments are that struct's fields, and one
``case_action(...)`` line below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from casebook.core.entities import CASE_SORTS, LINK_RELATIONSHIPS, Scope
from casebook.domain import cases, deliveries, limits
from casebook.http.endpoint import Endpoint, Handler, endpoint
from casebook.http.errors import Style
from casebook.http.routes import bulk as bulk_routes
from casebook.http.routes import case_types as type_routes
from casebook.http.routes import cases as case_routes
from casebook.http.routes import deliveries as delivery_routes
from casebook.http.routes import integrations as integration_routes
from casebook.http.routes import maintenance as window_routes
from casebook.http.routes import projects as project_routes
from casebook.http.routes import reports as report_routes
from casebook.http.routes import rules as rule_routes
from casebook.http.routes import users as user_routes
from casebook.http.routes import views as view_routes
from casebook.http.routes import webhooks as webhook_routes
from casebook.http.routes import working as working_routes
from casebook.http.schemas import bulk as bulk_schemas
from casebook.http.schemas import case_types as type_schemas
from casebook.http.schemas import cases as case_schemas
from casebook.http.schemas import deliveries as delivery_schemas
from casebook.http.schemas import integrations as integration_schemas
from casebook.http.schemas import maintenance as window_schemas
from casebook.http.schemas import projects as project_schemas
from casebook.http.schemas import reports as report_schemas
from casebook.http.schemas import rules as rule_schemas
from casebook.http.schemas import users as user_schemas
from casebook.http.schemas import views as view_schemas
from casebook.http.schemas import webhooks as webhook_schemas
from casebook.http.schemas import working as working_schemas
from casebook.search import MAX_QUERY_LENGTH


@dataclass(frozen=True, slots=True)
class QueryParam:
    name: str
    schema: dict[str, Any]
    description: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class PathParam:
    """A path parameter: its description, its router convertor (``caseref``: a case UUID or
    key), and the operation that makes the object it names, which answers its id as
    ``data.id`` (test suites make one this way when they need a fresh one)."""

    description: str
    made_by: str  # its answer's data.id (data[0].id when data is an array)
    convertor: str = "str"
    max_length: int = 64
    made_field: str = "id"  # "key": data.attributes.key instead; "name": the answer's name


PATH_PARAMS: dict[str, PathParam] = {
    "case_id": PathParam("Case's UUID or key", "CreateCase", convertor="caseref"),
    "project_id": PathParam("Project UUID.", "CreateProject"),
    "user_id": PathParam("The ID of the user.", "CreateUser"),
    "cell_id": PathParam("Timeline cell's UUID (a comment's)", "CommentCase"),
    "user_uuid": PathParam("The UUID of the user.", "CreateUser"),
    "link_id": PathParam("The case link's UUID.", "CreateCaseLink"),
    "case_type_id": PathParam("The UUID of the case type.", "CreateCaseType"),
    "custom_attribute_id": PathParam("Case Custom attribute's UUID", "CreateCustomAttributeConfig"),
    "custom_attribute_key": PathParam(
        "Case Custom attribute's key", "CreateCustomAttributeConfig", made_field="key"
    ),
    "view_id": PathParam("The UUID of the case view.", "CreateCaseView"),
    "webhook_name": PathParam(
        "The name of the webhook.", "CreateWebhooksIntegration", made_field="name"
    ),
    "notification_rule_id": PathParam("Notification Rule UUID", "CreateProjectNotificationRule"),
    "rule_id": PathParam("The UUID of the automation rule.", "CreateCaseAutomationRule"),
    "maintenance_window_id": PathParam(
        "The UUID of the maintenance window.", "CreateMaintenanceWindow"
    ),
}
"""Every path parameter any operation uses; a path naming another one fails at import."""

_PATH_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the API. ``path`` is the spec's path (``{case_id}``, no convertor)."""

    operation_id: str
    method: str
    path: str
    handler: Handler
    summary: str
    scope: Scope
    success: int
    response: Any | None  # the success body's struct; None: no body (204)
    request: Any | None = None  # the body's struct; None: no body
    errors: tuple[int, ...] = (400, 403, 404, 429)
    style: Style = "jsonapi"  # "legacy": the Users API's string-array errors, application/json
    query: tuple[QueryParam, ...] = ()
    example: dict[str, Any] | None = None  # valid body attributes, for docs and test suites
    extension: bool = False  # casebook's own, not in Datadog's spec (x-casebook-extension)
    admin: bool = False  # for admins only (the user's role), besides the scope (x-casebook-admin)
    source: str = "cases"  # "webhooks": Datadog's Webhooks integration API (its v1 client)

    def __post_init__(self) -> None:
        assert self.method == self.method.upper(), self.operation_id
        for name in self.path_params:
            assert name in PATH_PARAMS, f"{self.operation_id}: undeclared path parameter {name}"

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PATH_PARAM.findall(self.path))

    def endpoint(self) -> Endpoint:
        """The handler wrapped for the API mount: keys, rate limit, scope, error style."""
        return endpoint(self.handler, style=self.style, scope=self.scope, admin=self.admin)


def _query(
    name: str, schema: dict[str, Any], description: str, *, required: bool = False
) -> QueryParam:
    return QueryParam(name, schema, description, required)


_SEARCH_QUERY = (
    _query(
        "page[size]",
        {
            "type": "integer",
            "format": "int64",
            "default": 10,
            "minimum": 1,
            "maximum": limits.MAX_PAGE_SIZE,
        },
        "Number of items to return per page. The maximum allowed value is 100.",
    ),
    _query(
        "page[number]",
        {"type": "integer", "format": "int64", "default": 1, "minimum": 0},
        "Specific page number to return (1-based; 0 also means the first page).",
    ),
    _query(
        "sort[field]", {"type": "string", "enum": list(CASE_SORTS)}, "Specify which field to sort"
    ),
    _query(
        "filter",
        {"type": "string", "maxLength": MAX_QUERY_LENGTH},
        "Search query (see docs/search.md)",
    ),
    _query(
        "sort[asc]", {"type": "boolean", "default": False}, "Specify if order is ascending or not"
    ),
)

_USERS_QUERY = (
    _query(
        "page[size]",
        {
            "type": "integer",
            "format": "int64",
            "default": 10,
            "minimum": 1,
            "maximum": limits.MAX_USERS_PAGE_SIZE,
        },
        "Number of items to return per page.",
    ),
    _query(
        "page[number]",
        {"type": "integer", "format": "int64", "default": 0, "minimum": 0},
        "Specific page number to return (0-based).",
    ),
    _query(
        "sort",
        {
            "type": "string",
            "default": "name",
            "enum": ["name", "-name", "email", "-email", "modified_at", "-modified_at"],
        },
        "User attribute to order results by; prefix with - for descending.",
    ),
    _query("sort_dir", {"type": "string", "enum": ["asc", "desc"]}, "Direction of sort."),
    _query(
        "filter", {"type": "string", "maxLength": 2000}, "Filter all users by the given string."
    ),
    _query(
        "filter[status]",
        {"type": "string", "maxLength": 100},
        "Comma separated list of Active, Pending and Disabled.",
    ),
)

_TIMELINE_QUERY = (
    _query(
        "page[size]",
        {
            "type": "integer",
            "format": "int64",
            "default": 10,
            "minimum": 1,
            "maximum": limits.MAX_TIMELINE_PAGE_SIZE,
        },
        "Number of cells per page.",
    ),
    _query(
        "page[number]",
        {"type": "integer", "format": "int64", "default": 1, "minimum": 0},
        "Page number (1-based; 0 also means the first page).",
    ),
    _query(
        "sort[ascending]",
        {"type": "boolean", "default": False},
        "Oldest first when true; newest first by default.",
    ),
)

_COUNT_QUERY = (
    _query(
        "query_filter",
        {"type": "string", "maxLength": MAX_QUERY_LENGTH},
        "Search query, as SearchCases' filter (see docs/search.md).",
    ),
    _query(
        "group_bys",
        {"type": "string", "maxLength": 1000},
        "Comma-separated fields to group by, each on its own (status, priority, assignee...).",
    ),
    _query(
        "limit",
        {
            "type": "integer",
            "format": "int64",
            "default": limits.DEFAULT_FACET_VALUES,
            "minimum": 1,
            "maximum": limits.MAX_FACET_VALUES,
        },
        "Values of each field to return, most cases first.",
    ),
)

_LINKS_QUERY = (
    _query("entity_type", {"type": "string", "enum": ["CASE"]}, "The entity's type (only CASE)."),
    _query("entity_id", {"type": "string", "maxLength": 256}, "The case's UUID or key."),
    _query(
        "relationship",
        {"type": "string", "enum": list(LINK_RELATIONSHIPS)},
        "Only links of this relationship.",
    ),
)

_DELIVERIES_QUERY = (
    _query(
        "page[size]",
        {
            "type": "integer",
            "format": "int64",
            "default": 10,
            "minimum": 1,
            "maximum": limits.MAX_PAGE_SIZE,
        },
        "Number of deliveries per page.",
    ),
    _query(
        "page[number]",
        {"type": "integer", "format": "int64", "default": 1, "minimum": 0},
        "Page number (1-based; 0 also means the first page).",
    ),
    _query(
        "filter[state]",
        {"type": "string", "enum": list(deliveries.STATES)},
        "Only deliveries in this state.",
    ),
)

_VIEWS_QUERY = (
    _query(
        "project_id",
        {"type": "string", "maxLength": 64},
        "Filter views by project identifier.",
        required=True,
    ),
)

# 412: a stale If-Match (optimistic concurrency on the case).
_CASE_CHANGE = (400, 403, 404, 412, 413, 429)
# A call to Jira or ServiceNow: 409 without a connection (or with one already made),
# 502 when the system fails or refuses, 504 when it does not answer in time.
_EGRESS = (400, 403, 404, 409, 412, 413, 429, 502, 504)
R, W = Scope.CASES_READ, Scope.CASES_WRITE


def case_action(
    operation_id: str,
    action: str,
    summary: str,
    command: case_routes.CaseCommand,
    attributes: type | None = None,
    *,
    example: dict[str, Any] | None = None,
    extension: bool = False,
) -> Operation:
    """``POST /api/v2/cases/{case_id}/<action>``: the generic case action, answering the case."""
    return Operation(
        operation_id,
        "POST",
        f"/api/v2/cases/{{case_id}}/{action}",
        case_routes.case_action(command, attributes),
        summary,
        W,
        200,
        case_schemas.CaseDocument,
        case_routes.action_request(attributes),
        errors=_CASE_CHANGE,
        example=example,
        extension=extension,
    )


OPERATIONS: tuple[Operation, ...] = (
    # Cases. GetCase comes first: the router tries paths in this order, and it is the hottest.
    Operation("GetCase", "GET", "/api/v2/cases/{case_id}", case_routes.get_case, "Get the details of a case", R, 200, case_schemas.CaseDocument),
    Operation("SearchCases", "GET", "/api/v2/cases", case_routes.search_cases, "Search cases", R, 200, case_schemas.CaseList, query=_SEARCH_QUERY, errors=(400, 403, 429)),
    Operation("CreateCase", "POST", "/api/v2/cases", case_routes.create_case, "Create a case", W, 201, case_schemas.CaseDocument, case_schemas.CaseCreateRequest, errors=_CASE_CHANGE),
    # Counts, aggregates and durations over the cases a search finds.
    Operation("CountCases", "GET", "/api/v2/cases/count", report_routes.count_cases, "Count cases", R, 200, report_schemas.CountResponse, query=_COUNT_QUERY, errors=(400, 403, 429)),
    Operation("AggregateCases", "POST", "/api/v2/cases/aggregate", report_routes.aggregate_cases, "Aggregate cases", R, 200, report_schemas.AggregateResponse, report_schemas.AggregateRequest, errors=(400, 403, 413, 429)),
    Operation("AggregateCaseDurations", "POST", "/api/v2/cases/aggregate/durations", report_routes.case_durations, "Time to assign, to close and in each status (casebook extension)", R, 200, report_schemas.DurationsResponse, report_schemas.DurationsRequest, errors=(400, 403, 413, 429), extension=True),
    case_action("UpdateStatus", "status", "Update case status", cases.update_status, case_schemas.StatusAttributes, example={"status": "IN_PROGRESS"}),
    case_action("UpdatePriority", "priority", "Update case priority", cases.update_priority, case_schemas.PriorityAttributes, example={"priority": "P2"}),
    case_action("UpdateCaseTitle", "title", "Update case title", cases.update_title, case_schemas.TitleAttributes, example={"title": "Renamed case"}),
    case_action("UpdateCaseDescription", "description", "Update case description", cases.update_description, case_schemas.DescriptionAttributes, example={"description": "What we know so far"}),
    case_action("UpdateAttributes", "attributes", "Update case attributes", cases.update_attributes, case_schemas.AttributesAttributes, example={"attributes": {"team": ["security"]}}),
    case_action("UpdateCaseDueDate", "due_date", "Update case due date", cases.update_due_date, case_schemas.DueDateAttributes, example={"due_date": "2026-12-31"}),
    case_action("UpdateCaseResolvedReason", "resolved_reason", "Update case resolved reason", cases.update_resolved_reason, case_schemas.ResolvedReasonAttributes, example={"security_resolved_reason": "FALSE_POSITIVE"}),
    case_action("AssignCase", "assign", "Assign case", cases.assign_case, case_schemas.AssignAttributes),
    case_action("UnassignCase", "unassign", "Unassign case", cases.unassign_case),
    case_action("ArchiveCase", "archive", "Archive case", cases.archive_case),
    case_action("UnarchiveCase", "unarchive", "Unarchive case", cases.unarchive_case),
    Operation("AddCaseInsights", "PUT", "/api/v2/cases/{case_id}/insights", working_routes.add_insights, "Add insights to a case", W, 200, case_schemas.CaseDocument, working_routes.InsightsRequest, errors=_CASE_CHANGE, example={"insights": [{"type": "SECURITY_SIGNAL", "ref": "/security/signals/AAAA", "resource_id": "AAAA"}]}),
    Operation("RemoveCaseInsights", "DELETE", "/api/v2/cases/{case_id}/insights", working_routes.remove_insights, "Remove insights from a case", W, 200, case_schemas.CaseDocument, working_routes.InsightsRequest, errors=_CASE_CHANGE, example={"insights": [{"type": "SECURITY_SIGNAL", "ref": "/security/signals/AAAA", "resource_id": "AAAA"}]}),
    case_action("UpdateCaseCustomAttribute", "custom_attributes/{custom_attribute_key}", "Update case custom attribute", cases.update_custom_attribute, type_schemas.CustomValueAttributes, example={"type": "TEXT", "is_multi": False, "value": "eu-west-1"}),
    Operation("DeleteCaseCustomAttribute", "DELETE", "/api/v2/cases/{case_id}/custom_attributes/{custom_attribute_key}", type_routes.delete_case_custom_attribute, "Delete custom attribute from case", W, 200, case_schemas.CaseDocument, errors=(400, 403, 404, 412, 429)),
    case_action("ChangeCaseType", "type", "Move a case to another case type (casebook extension)", cases.change_type, type_schemas.CaseTypeIdAttributes, example={"type_id": "00000000-0000-0000-0000-000000000002"}, extension=True),
    Operation("MoveCaseToProject", "PATCH", "/api/v2/cases/{case_id}/relationships/project", working_routes.move_case, "Move a case to another project", W, 200, case_schemas.CaseDocument, case_schemas.MoveRequest, errors=_CASE_CHANGE),
    Operation("BulkUpdateCases", "POST", "/api/v2/cases/bulk", bulk_routes.bulk_update_cases, "Bulk update cases", W, 200, None, bulk_schemas.CaseBulkUpdateRequest, errors=(400, 403, 404, 413, 429), example={"case_ids": ["SEC-1"], "type": "priority", "payload": {"priority": "P2"}}),
    # Integrations: Jira issues, ServiceNow tickets, notebooks and incidents (domain/integrations.py).
    Operation("CreateCaseJiraIssue", "POST", "/api/v2/cases/{case_id}/relationships/jira_issues", integration_routes.create_jira_issue, "Create Jira issue for case", W, 202, None, integration_schemas.JiraIssueCreateRequest, errors=_EGRESS, example={"project_id": "10000", "issue_type_id": "10001", "jira_account_id": "1"}),
    Operation("LinkJiraIssueToCase", "PATCH", "/api/v2/cases/{case_id}/relationships/jira_issues", integration_routes.link_jira_issue, "Link existing Jira issue to case", W, 204, None, integration_schemas.JiraIssueLinkRequest, errors=(400, 403, 404, 409, 412, 413, 429), example={"jira_issue_url": "https://acme.atlassian.net/browse/SEC-12"}),
    Operation("UnlinkJiraIssue", "DELETE", "/api/v2/cases/{case_id}/relationships/jira_issues", integration_routes.unlink_jira_issue, "Remove Jira issue link from case", W, 204, None, errors=(400, 403, 404, 412, 429)),
    Operation("CreateCaseServiceNowTicket", "POST", "/api/v2/cases/{case_id}/relationships/servicenow_tickets", integration_routes.create_service_now_ticket, "Create ServiceNow ticket for case", W, 202, None, integration_schemas.ServiceNowTicketCreateRequest, errors=_EGRESS, example={"instance_name": "acme", "assignment_group": "Security"}),
    Operation("CreateCaseNotebook", "POST", "/api/v2/cases/{case_id}/relationships/notebook", integration_routes.create_notebook, "Create investigation notebook for case", W, 204, None, integration_schemas.NotebookCreateRequest, errors=(400, 403, 404, 412, 413, 429)),
    Operation("LinkIncident", "POST", "/api/v2/cases/{case_id}/relationships/incidents", integration_routes.link_incident, "Link incident to case", W, 201, case_schemas.CaseDocument, integration_schemas.RelationshipToIncidentRequest, errors=_CASE_CHANGE),
    # Comments and the timeline.
    Operation("CommentCase", "POST", "/api/v2/cases/{case_id}/comment", working_routes.comment_case, "Comment a case", W, 200, working_schemas.Cells, working_routes.CommentRequest, errors=_CASE_CHANGE, example={"comment": "Looking into it, @admin"}),
    Operation("UpdateCaseComment", "PUT", "/api/v2/cases/{case_id}/comment/{cell_id}", working_routes.update_comment, "Update a case comment", W, 200, working_schemas.Cells, working_routes.CommentRequest, errors=_CASE_CHANGE, example={"comment": "Fixed by rotating the key"}),
    Operation("DeleteCaseComment", "DELETE", "/api/v2/cases/{case_id}/comment/{cell_id}", working_routes.delete_comment, "Delete a case comment", W, 204, None, errors=(400, 403, 404, 412, 429)),
    Operation("ListCaseTimeline", "GET", "/api/v2/cases/{case_id}/timelines", working_routes.list_timeline, "Get the timeline of a case", R, 200, working_schemas.TimelineList, query=_TIMELINE_QUERY),
    # Watchers.
    Operation("ListCaseWatchers", "GET", "/api/v2/cases/{case_id}/watchers", working_routes.list_watchers, "List the watchers of a case", R, 200, working_schemas.WatcherList),
    Operation("WatchCase", "POST", "/api/v2/cases/{case_id}/watchers/{user_uuid}", working_routes.watch_case, "Add a watcher to a case", W, 201, None, errors=(400, 403, 404, 412, 429)),
    Operation("UnwatchCase", "DELETE", "/api/v2/cases/{case_id}/watchers/{user_uuid}", working_routes.unwatch_case, "Remove a watcher from a case", W, 204, None, errors=(400, 403, 404, 412, 429)),
    # Links between cases.
    Operation("ListCaseLinks", "GET", "/api/v2/cases/link", working_routes.list_links, "List the links of a case", R, 200, working_schemas.LinkList, query=_LINKS_QUERY),
    Operation("CreateCaseLink", "POST", "/api/v2/cases/link", working_routes.create_link, "Link two cases", W, 201, working_schemas.LinkDocument, working_schemas.LinkCreateRequest, errors=(400, 403, 404, 409, 413, 429)),
    Operation("DeleteCaseLink", "DELETE", "/api/v2/cases/link/{link_id}", working_routes.delete_link, "Delete a link between cases", W, 204, None),
    # Case types and their custom attributes.
    Operation("GetAllCaseTypes", "GET", "/api/v2/cases/types", type_routes.list_types, "Get all case types", R, 200, type_schemas.CaseTypeList, errors=(403, 429)),
    Operation("CreateCaseType", "POST", "/api/v2/cases/types", type_routes.create_type, "Create a case type", W, 201, type_schemas.CaseTypeDocument, type_schemas.CaseTypeRequest, errors=(400, 403, 409, 413, 429), example={"name": "Investigation", "emoji": "🔍", "description": "Investigations done in case management"}),
    Operation("GetAllCustomAttributes", "GET", "/api/v2/cases/types/custom_attributes", type_routes.list_all_configs, "Get all custom attributes", R, 200, type_schemas.ConfigList, errors=(403, 429)),
    Operation("UpdateCaseType", "PUT", "/api/v2/cases/types/{case_type_id}", type_routes.update_type, "Update a case type", W, 200, type_schemas.CaseTypeDocument, type_schemas.CaseTypeRequest, errors=(400, 403, 404, 409, 413, 429), example={"name": "Renamed type", "emoji": "🛡️"}),
    Operation("DeleteCaseType", "DELETE", "/api/v2/cases/types/{case_type_id}", type_routes.delete_type, "Delete a case type", W, 204, None, errors=(400, 403, 404, 409, 429)),
    Operation("GetAllCustomAttributeConfigsByCaseType", "GET", "/api/v2/cases/types/{case_type_id}/custom_attributes", type_routes.list_configs, "Get all custom attributes config of case type", R, 200, type_schemas.ConfigList),
    Operation("CreateCustomAttributeConfig", "POST", "/api/v2/cases/types/{case_type_id}/custom_attributes", type_routes.create_config, "Create custom attribute config for a case type", W, 201, type_schemas.ConfigDocument, type_schemas.ConfigCreateRequest, errors=(400, 403, 404, 409, 413, 429), example={"display_name": "AWS region", "key": "region", "type": "TEXT", "is_multi": False}),
    Operation("UpdateCustomAttributeConfig", "PUT", "/api/v2/cases/types/{case_type_id}/custom_attributes/{custom_attribute_id}", type_routes.update_config, "Update custom attribute config", W, 200, type_schemas.ConfigDocument, type_schemas.ConfigUpdateRequest, errors=(400, 403, 404, 409, 413, 429), example={"display_name": "Region"}),
    Operation("DeleteCustomAttributeConfig", "DELETE", "/api/v2/cases/types/{case_type_id}/custom_attributes/{custom_attribute_id}", type_routes.delete_config, "Delete custom attributes config", W, 204, None),
    # Projects.
    Operation("GetProjects", "GET", "/api/v2/cases/projects", project_routes.list_projects, "Get all projects", R, 200, project_schemas.ProjectList, errors=(400, 403, 429)),
    Operation("CreateProject", "POST", "/api/v2/cases/projects", project_routes.create_project, "Create a project", W, 201, project_schemas.ProjectDocument, project_schemas.ProjectCreateRequest, errors=(400, 403, 404, 409, 413, 429)),
    Operation("ListUserCaseProjectFavorites", "GET", "/api/v2/cases/projects/favorites", project_routes.list_favorites, "List project favorites", R, 200, project_schemas.FavoriteList, errors=(403, 429)),
    Operation("GetProject", "GET", "/api/v2/cases/projects/{project_id}", project_routes.get_project, "Get the details of a project", R, 200, project_schemas.ProjectDocument),
    Operation("UpdateProject", "PATCH", "/api/v2/cases/projects/{project_id}", project_routes.update_project, "Update a project", W, 200, project_schemas.ProjectDocument, project_schemas.ProjectUpdateRequest, errors=(400, 403, 404, 413, 429)),
    Operation("DeleteProject", "DELETE", "/api/v2/cases/projects/{project_id}", project_routes.delete_project, "Remove a project", W, 204, None, errors=(403, 404, 429)),
    Operation("FavoriteCaseProject", "POST", "/api/v2/cases/projects/{project_id}/favorites", project_routes.favorite_project, "Favorite a project", W, 204, None, errors=(400, 403, 404, 429)),
    Operation("UnfavoriteCaseProject", "DELETE", "/api/v2/cases/projects/{project_id}/favorites", project_routes.unfavorite_project, "Unfavorite a project", W, 204, None, errors=(400, 403, 404, 429)),
    # Saved views.
    Operation("ListCaseViews", "GET", "/api/v2/cases/views", view_routes.list_views, "List case views", R, 200, view_schemas.ViewList, query=_VIEWS_QUERY),
    Operation("CreateCaseView", "POST", "/api/v2/cases/views", view_routes.create_view, "Create a case view", W, 201, view_schemas.ViewDocument, view_schemas.ViewCreateRequest, errors=(400, 403, 404, 409, 413, 429)),
    Operation("GetCaseView", "GET", "/api/v2/cases/views/{view_id}", view_routes.get_view, "Get a case view", R, 200, view_schemas.ViewDocument),
    Operation("UpdateCaseView", "PUT", "/api/v2/cases/views/{view_id}", view_routes.update_view, "Update a case view", W, 200, view_schemas.ViewDocument, view_schemas.ViewUpdateRequest, errors=(400, 403, 404, 413, 429)),
    Operation("DeleteCaseView", "DELETE", "/api/v2/cases/views/{view_id}", view_routes.delete_view, "Delete a case view", W, 204, None),
    # Named webhooks (Datadog's Webhooks integration API), which rules deliver to.
    Operation("CreateWebhooksIntegration", "POST", "/api/v1/integration/webhooks/configuration/webhooks", webhook_routes.create_webhook, "Create a webhooks integration", W, 201, webhook_schemas.WebhookPublic, webhook_schemas.WebhookCreate, errors=(400, 403, 409, 413, 429), style="legacy", source="webhooks"),
    Operation("GetWebhooksIntegration", "GET", "/api/v1/integration/webhooks/configuration/webhooks/{webhook_name}", webhook_routes.get_webhook, "Get a webhook integration", R, 200, webhook_schemas.WebhookPublic, errors=(400, 403, 404, 429), style="legacy", source="webhooks"),
    Operation("UpdateWebhooksIntegration", "PUT", "/api/v1/integration/webhooks/configuration/webhooks/{webhook_name}", webhook_routes.update_webhook, "Update a webhook", W, 200, webhook_schemas.WebhookPublic, webhook_schemas.WebhookUpdate, errors=(400, 403, 404, 409, 413, 429), style="legacy", source="webhooks"),
    Operation("DeleteWebhooksIntegration", "DELETE", "/api/v1/integration/webhooks/configuration/webhooks/{webhook_name}", webhook_routes.delete_webhook, "Delete a webhook", W, 204, None, errors=(400, 403, 404, 429), style="legacy", source="webhooks"),
    # Notification rules, automation rules and maintenance windows.
    Operation("GetProjectNotificationRules", "GET", "/api/v2/cases/projects/{project_id}/notification_rules", rule_routes.list_notification_rules, "Get notification rules", R, 200, rule_schemas.NotificationRuleList),
    Operation("CreateProjectNotificationRule", "POST", "/api/v2/cases/projects/{project_id}/notification_rules", rule_routes.create_notification_rule, "Create a notification rule", W, 201, rule_schemas.NotificationRuleDocument, rule_schemas.NotificationRuleCreateRequest, errors=(400, 403, 404, 409, 413, 429)),
    Operation("UpdateProjectNotificationRule", "PUT", "/api/v2/cases/projects/{project_id}/notification_rules/{notification_rule_id}", rule_routes.update_notification_rule, "Update a notification rule", W, 204, None, rule_schemas.NotificationRuleUpdateRequest, errors=(400, 403, 404, 413, 429)),
    Operation("DeleteProjectNotificationRule", "DELETE", "/api/v2/cases/projects/{project_id}/notification_rules/{notification_rule_id}", rule_routes.delete_notification_rule, "Delete a notification rule", W, 204, None, errors=(403, 404, 429)),
    Operation("ListCaseAutomationRules", "GET", "/api/v2/cases/projects/{project_id}/rules", rule_routes.list_automation_rules, "List automation rules", R, 200, rule_schemas.AutomationRuleList),
    Operation("CreateCaseAutomationRule", "POST", "/api/v2/cases/projects/{project_id}/rules", rule_routes.create_automation_rule, "Create an automation rule", W, 201, rule_schemas.AutomationRuleDocument, rule_schemas.AutomationRuleRequest, errors=(400, 403, 404, 409, 413, 429)),
    Operation("GetCaseAutomationRule", "GET", "/api/v2/cases/projects/{project_id}/rules/{rule_id}", rule_routes.get_automation_rule, "Get an automation rule", R, 200, rule_schemas.AutomationRuleDocument, errors=(403, 404, 429)),
    Operation("UpdateCaseAutomationRule", "PUT", "/api/v2/cases/projects/{project_id}/rules/{rule_id}", rule_routes.update_automation_rule, "Update an automation rule", W, 200, rule_schemas.AutomationRuleDocument, rule_schemas.AutomationRuleRequest, errors=(400, 403, 404, 413, 429)),
    Operation("DeleteCaseAutomationRule", "DELETE", "/api/v2/cases/projects/{project_id}/rules/{rule_id}", rule_routes.delete_automation_rule, "Delete an automation rule", W, 204, None, errors=(403, 404, 429)),
    Operation("EnableCaseAutomationRule", "POST", "/api/v2/cases/projects/{project_id}/rules/{rule_id}/enable", rule_routes.enable_automation_rule, "Enable an automation rule", W, 200, rule_schemas.AutomationRuleDocument, errors=(403, 404, 429)),
    Operation("DisableCaseAutomationRule", "POST", "/api/v2/cases/projects/{project_id}/rules/{rule_id}/disable", rule_routes.disable_automation_rule, "Disable an automation rule", W, 200, rule_schemas.AutomationRuleDocument, errors=(403, 404, 429)),
    # What the rules sent (casebook's own, for an admin debugging a destination).
    Operation("ListProjectDeliveries", "GET", "/api/v2/cases/projects/{project_id}/deliveries", delivery_routes.list_deliveries, "List a project's recent deliveries and their attempts (casebook extension, admins only)", R, 200, delivery_schemas.DeliveryList, query=_DELIVERIES_QUERY, extension=True, admin=True),
    Operation("ListMaintenanceWindows", "GET", "/api/v2/maintenance_windows", window_routes.list_windows, "List maintenance windows", R, 200, window_schemas.MaintenanceWindowList, errors=(403, 429)),
    Operation("CreateMaintenanceWindow", "POST", "/api/v2/maintenance_windows", window_routes.create_window, "Create a maintenance window", W, 201, window_schemas.MaintenanceWindowDocument, window_schemas.MaintenanceWindowCreateRequest, errors=(400, 403, 409, 413, 429)),
    Operation("UpdateMaintenanceWindow", "PUT", "/api/v2/maintenance_windows/{maintenance_window_id}", window_routes.update_window, "Update a maintenance window", W, 200, window_schemas.MaintenanceWindowDocument, window_schemas.MaintenanceWindowUpdateRequest, errors=(400, 403, 404, 413, 429)),
    Operation("DeleteMaintenanceWindow", "DELETE", "/api/v2/maintenance_windows/{maintenance_window_id}", window_routes.delete_window, "Delete a maintenance window", W, 204, None, errors=(403, 404, 429)),
    # Users (Datadog's Users API, which the case API's clients rely on).
    Operation("ListUsers", "GET", "/api/v2/users", user_routes.list_users, "List all users", Scope.USER_ACCESS_READ, 200, user_schemas.UserList, query=_USERS_QUERY, errors=(400, 403, 429), style="legacy"),
    Operation("CreateUser", "POST", "/api/v2/users", user_routes.create_user, "Create a user", Scope.USER_ACCESS_INVITE, 201, user_schemas.UserDocument, user_schemas.UserCreateRequest, errors=(400, 403, 409, 413, 429), style="legacy"),
    Operation("GetUser", "GET", "/api/v2/users/{user_id}", user_routes.get_user, "Get user details", Scope.USER_ACCESS_READ, 200, user_schemas.UserDocument, errors=(403, 404, 429), style="legacy"),
    Operation("UpdateUser", "PATCH", "/api/v2/users/{user_id}", user_routes.update_user, "Update a user", Scope.USER_ACCESS_MANAGE, 200, user_schemas.UserDocument, user_schemas.UserUpdateRequest, errors=(400, 403, 404, 409, 413, 422, 429), style="legacy"),
    Operation("DisableUser", "DELETE", "/api/v2/users/{user_id}", user_routes.disable_user, "Disable a user", Scope.USER_ACCESS_MANAGE, 204, None, errors=(400, 403, 404, 429), style="legacy"),
)  # fmt: skip

CASE_SIBLINGS: frozenset[str] = frozenset(
    op.path.split("/")[4]
    for op in OPERATIONS
    if op.path.startswith("/api/v2/cases/") and not op.path.split("/")[4].startswith("{")
)
"""The fixed names beside case ids under ``/api/v2/cases/`` (``projects``, ``types``,
``link``, ...): no case id is one of them (ids are UUIDs or keys such as ``SEC-12``), so
``/api/v2/cases/link/...`` is always the links' route."""


def case_id_pattern() -> str:
    """The ``case_id`` path parameter as a regular expression: anything but a sibling."""
    names = "|".join(re.escape(name) for name in sorted(CASE_SIBLINGS))
    return f"(?!(?:{names})(?:/|$))[^/]+"


NOT_YET: dict[str, str] = {}
"""The spec's operations casebook does not serve yet, with the work that brings each."""

assert len({op.operation_id for op in OPERATIONS}) == len(OPERATIONS)
assert not {op.operation_id for op in OPERATIONS} & set(NOT_YET)
assert len({(op.method, op.path) for op in OPERATIONS}) == len(OPERATIONS)
assert {p.made_by for p in PATH_PARAMS.values()} <= {op.operation_id for op in OPERATIONS}
