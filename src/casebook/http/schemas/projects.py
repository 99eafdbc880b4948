"""Project shapes: ``/api/v2/cases/projects``, favourites."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from casebook.core.entities import Project
from casebook.domain import limits
from casebook.domain.projects import settings_of
from casebook.http.schemas.common import Short

Name = Annotated[str, msgspec.Meta(max_length=limits.MAX_PROJECT_NAME_CHARS)]
Query = Annotated[str, msgspec.Meta(max_length=limits.MAX_SETTINGS_QUERY_CHARS)]
Mapping = Annotated[dict[Short, Short], msgspec.Meta(max_length=100)]
Seconds = Annotated[int, msgspec.Meta(ge=0, le=limits.MAX_INACTIVE_SECONDS)]


class ProjectCreateAttributes(msgspec.Struct):
    key: Short
    name: Name
    enabled_custom_case_types: Annotated[list[Short], msgspec.Meta(max_length=100)] | None = None
    team_uuid: Short | None = None


class ProjectCreate(msgspec.Struct):
    type: str
    attributes: ProjectCreateAttributes | None = None  # checked after type, as Datadog does


class ProjectCreateRequest(msgspec.Struct):
    data: ProjectCreate


# --- settings, as the spec's ProjectSettings declares them --------------------------------
# Every member may be absent (UNSET: left as it is), null (back to its default) or a value:
# a PATCH merges what it sends into what is stored (JSON merge patch, RFC 7386).
class _Patch(msgspec.Struct, omit_defaults=True):
    pass


class AutoCloseInactiveCases(_Patch):
    enabled: bool | UnsetType | None = UNSET
    max_inactive_time_in_secs: Seconds | UnsetType | None = UNSET


class AutoTransitionAssignedCases(_Patch):
    auto_transition_assigned_cases_on_self_assigned: bool | UnsetType | None = UNSET


class IncidentFieldMapping(_Patch):
    case_field: Short | UnsetType | None = UNSET
    incident_user_defined_field_id: Short | UnsetType | None = UNSET


class IncidentSeverityConfig(_Patch):
    priority_mapping: Mapping | UnsetType | None = UNSET


class IntegrationIncident(_Patch):
    auto_escalation_query: Query | UnsetType | None = UNSET
    default_incident_commander: Short | UnsetType | None = UNSET
    enabled: bool | UnsetType | None = UNSET
    field_mappings: (
        Annotated[list[IncidentFieldMapping], msgspec.Meta(max_length=100)] | UnsetType | None
    ) = UNSET
    incident_type: Short | UnsetType | None = UNSET
    severity_config: IncidentSeverityConfig | UnsetType | None = UNSET


class Enabled(_Patch):
    enabled: bool | UnsetType | None = UNSET


class JiraMetadata(_Patch):
    account_id: Short | UnsetType | None = UNSET
    issue_type_id: Short | UnsetType | None = UNSET
    project_id: Short | UnsetType | None = UNSET


class SyncProperty(_Patch):
    sync_type: Short | UnsetType | None = UNSET


class SyncPropertyWithMapping(_Patch):
    mapping: Mapping | UnsetType | None = UNSET
    name_mapping: Mapping | UnsetType | None = UNSET
    sync_type: Short | UnsetType | None = UNSET


class JiraCustomField(_Patch):
    sync_type: Short | UnsetType | None = UNSET
    value: str | float | bool | list[Any] | dict[str, Any] | UnsetType | None = UNSET


class JiraDueDate(_Patch):
    jira_field_id: Short | UnsetType | None = UNSET
    sync_type: Short | UnsetType | None = UNSET


class JiraSyncProperties(_Patch):
    assignee: SyncProperty | UnsetType | None = UNSET
    comments: SyncProperty | UnsetType | None = UNSET
    custom_fields: (
        Annotated[dict[Short, JiraCustomField], msgspec.Meta(max_length=100)] | UnsetType | None
    ) = UNSET
    description: SyncProperty | UnsetType | None = UNSET
    due_date: JiraDueDate | UnsetType | None = UNSET
    priority: SyncPropertyWithMapping | UnsetType | None = UNSET
    status: SyncPropertyWithMapping | UnsetType | None = UNSET
    title: SyncProperty | UnsetType | None = UNSET


class JiraSync(_Patch):
    enabled: bool | UnsetType | None = UNSET
    properties: JiraSyncProperties | UnsetType | None = UNSET


class IntegrationJira(_Patch):
    auto_creation: Enabled | UnsetType | None = UNSET
    enabled: bool | UnsetType | None = UNSET
    metadata: JiraMetadata | UnsetType | None = UNSET
    sync: JiraSync | UnsetType | None = UNSET


class IntegrationMonitor(_Patch):
    auto_resolve_enabled: bool | UnsetType | None = UNSET
    case_type_id: Short | UnsetType | None = UNSET
    enabled: bool | UnsetType | None = UNSET
    handle: Short | UnsetType | None = UNSET


class EscalationTarget(_Patch):
    dynamic_team_paging: bool | UnsetType | None = UNSET
    team_id: Short | UnsetType | None = UNSET
    user_id: Short | UnsetType | None = UNSET


class EscalationQuery(_Patch):
    enabled: bool | UnsetType | None = UNSET
    id: Short | UnsetType | None = UNSET
    query: Query | UnsetType | None = UNSET
    target: EscalationTarget | UnsetType | None = UNSET


class IntegrationOnCall(_Patch):
    auto_assign_on_call: bool | UnsetType | None = UNSET
    enabled: bool | UnsetType | None = UNSET
    escalation_queries: (
        Annotated[list[EscalationQuery], msgspec.Meta(max_length=100)] | UnsetType | None
    ) = UNSET


class ServiceNowPriority(_Patch):
    impact_mapping: Mapping | UnsetType | None = UNSET
    sync_type: Short | UnsetType | None = UNSET
    urgency_mapping: Mapping | UnsetType | None = UNSET


class ServiceNowSyncProperties(_Patch):
    comments: SyncProperty | UnsetType | None = UNSET
    priority: ServiceNowPriority | UnsetType | None = UNSET
    status: SyncPropertyWithMapping | UnsetType | None = UNSET


class ServiceNowSync(_Patch):
    enabled: bool | UnsetType | None = UNSET
    properties: ServiceNowSyncProperties | UnsetType | None = UNSET


class IntegrationServiceNow(_Patch):
    assignment_group: Short | UnsetType | None = UNSET
    auto_creation: Enabled | UnsetType | None = UNSET
    enabled: bool | UnsetType | None = UNSET
    instance_name: Short | UnsetType | None = UNSET
    sync_config: ServiceNowSync | UnsetType | None = UNSET


class NotificationSettings(_Patch):
    destinations: (
        Annotated[list[Literal[1, 2, 3]], msgspec.Meta(max_length=3)] | UnsetType | None
    ) = UNSET
    enabled: bool | UnsetType | None = UNSET
    notify_on_case_assignment: bool | UnsetType | None = UNSET
    notify_on_case_closed: bool | UnsetType | None = UNSET
    notify_on_case_comment: bool | UnsetType | None = UNSET
    notify_on_case_comment_mention: bool | UnsetType | None = UNSET
    notify_on_case_priority_change: bool | UnsetType | None = UNSET
    notify_on_case_status_change: bool | UnsetType | None = UNSET
    notify_on_case_unassignment: bool | UnsetType | None = UNSET


class ProjectSettings(_Patch):
    auto_close_inactive_cases: AutoCloseInactiveCases | UnsetType | None = UNSET
    auto_transition_assigned_cases: AutoTransitionAssignedCases | UnsetType | None = UNSET
    integration_incident: IntegrationIncident | UnsetType | None = UNSET
    integration_jira: IntegrationJira | UnsetType | None = UNSET
    integration_monitor: IntegrationMonitor | UnsetType | None = UNSET
    integration_on_call: IntegrationOnCall | UnsetType | None = UNSET
    integration_service_now: IntegrationServiceNow | UnsetType | None = UNSET
    notification: NotificationSettings | UnsetType | None = UNSET


class ColumnSort(_Patch):
    ascending: bool | UnsetType | None = UNSET
    priority: Annotated[int, msgspec.Meta(ge=0, le=1000)] | UnsetType | None = UNSET


class BoardColumn(_Patch):
    sort: ColumnSort | UnsetType | None = UNSET
    sort_field: Short | UnsetType | None = UNSET
    type: Short | UnsetType | None = UNSET


class ColumnsConfig(_Patch):
    columns: Annotated[list[BoardColumn], msgspec.Meta(max_length=50)] | UnsetType | None = UNSET


class ProjectUpdateAttributes(msgspec.Struct):
    columns_config: ColumnsConfig | None = None
    enabled_custom_case_types: Annotated[list[Short], msgspec.Meta(max_length=100)] | None = None
    name: Name | None = None
    settings: ProjectSettings | None = None
    team_uuid: Short | None = None


class ProjectUpdate(msgspec.Struct):
    type: str
    attributes: ProjectUpdateAttributes | None = None


class ProjectUpdateRequest(msgspec.Struct):
    data: ProjectUpdate


def patch_of(struct: msgspec.Struct | None) -> dict[str, Any] | None:
    """A settings struct as the JSON merge patch it stands for (absent members left out)."""
    return None if struct is None else msgspec.to_builtins(struct)


# --- answers ---------------------------------------------------------------------------
class ProjectAttributesPublic(msgspec.Struct, omit_defaults=True):
    enabled_custom_case_types: list[str]
    key: str
    name: str
    restricted: bool
    settings: dict[str, Any]
    columns_config: dict[str, Any] | None = None


class ProjectPublic(msgspec.Struct):
    id: str
    type: Literal["project"]
    attributes: ProjectAttributesPublic


class ProjectDocument(msgspec.Struct):
    data: ProjectPublic


class ProjectList(msgspec.Struct):
    data: list[ProjectPublic]


def project_public(project: Project) -> ProjectPublic:
    return ProjectPublic(
        id=project.id,
        type="project",
        attributes=ProjectAttributesPublic(
            enabled_custom_case_types=project.enabled_custom_case_types,
            key=project.key,
            name=project.name,
            restricted=False,
            settings=settings_of(project),
            columns_config=project.columns_config,
        ),
    )


def project_document(project: Project) -> ProjectDocument:
    return ProjectDocument(project_public(project))


class FavoritePublic(msgspec.Struct):
    id: str
    type: Literal["project_favorite"]


class FavoriteList(msgspec.Struct):
    data: list[FavoritePublic]


def favorite_list(project_ids: list[str]) -> FavoriteList:
    return FavoriteList([FavoritePublic(id=p, type="project_favorite") for p in project_ids])
