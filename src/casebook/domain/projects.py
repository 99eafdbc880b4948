"""Projects: the containers whose keys prefix case keys (``SEC`` -> ``SEC-42``)."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

from casebook.core.clock import new_id, now_us, parse_uuid
from casebook.core.entities import Actor, Project, Scope
from casebook.core.errors import (
    CaseTypeNotFoundError,
    ConflictError,
    InvalidQueryError,
    InvalidValueError,
    ProjectNotFoundError,
)
from casebook.domain import case_types, limits
from casebook.domain.access import require_scope
from casebook.domain.users import get_org
from casebook.search.parser import parse
from casebook.storage.base import Store, Transaction

PROJECT_KEY = re.compile(r"[A-Z][A-Z0-9]{0,9}")
RESERVED_KEYS = frozenset({"CASE"})

DEFAULT_SETTINGS: dict[str, Any] = {
    "notification": {
        "enabled": True,
        "destinations": [1],
        "notify_on_case_assignment": True,
        "notify_on_case_unassignment": True,
        "notify_on_case_closed": True,
        "notify_on_case_priority_change": True,
        "notify_on_case_comment": True,
        "notify_on_case_comment_mention": True,
        "notify_on_case_status_change": True,
    }
}
"""What a project's ``settings`` answer before any PATCH (as Datadog's recorded PATCH answer
shows a fixture project's); stored settings are merged over them."""


def merge_patch(target: Any, patch: Any) -> Any:
    """JSON merge patch (RFC 7386): objects merge member by member, null removes a member,
    anything else replaces what was there."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def settings_of(project: Project) -> dict[str, Any]:
    """The project's settings as answered: the defaults with its own merged over them."""
    merged = merge_patch(DEFAULT_SETTINGS, project.settings or {})
    assert isinstance(merged, dict)
    return merged


def auto_transitions_self_assigned(project: Project) -> bool:
    """Whether a case that its assignee assigns to themselves moves to In Progress."""
    auto = settings_of(project).get("auto_transition_assigned_cases") or {}
    return bool(auto.get("auto_transition_assigned_cases_on_self_assigned"))


def _queries(settings: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """The search queries a settings patch holds, with where: each is parsed when saved."""
    incident = settings.get("integration_incident") or {}
    if isinstance(incident.get("auto_escalation_query"), str):
        yield "integration_incident.auto_escalation_query", incident["auto_escalation_query"]
    on_call = settings.get("integration_on_call") or {}
    for i, item in enumerate(on_call.get("escalation_queries") or []):
        if isinstance(item, dict) and isinstance(item.get("query"), str):
            yield f"integration_on_call.escalation_queries[{i}].query", item["query"]


def _check_settings(tx: Transaction, actor: Actor, patch: dict[str, Any]) -> None:
    for where, query in _queries(patch):
        try:
            parse(query, now_us=now_us())
        except InvalidQueryError as exc:
            raise InvalidQueryError(
                f"settings.{where}: {exc.message}", position=exc.position, term=exc.term
            ) from None
    monitor = patch.get("integration_monitor") or {}
    type_id = monitor.get("case_type_id")
    if isinstance(type_id, str):
        canonical = parse_uuid(type_id)
        if canonical is None or case_types.type_of(tx, actor.org_id, canonical) is None:
            raise CaseTypeNotFoundError(type_id)


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > limits.MAX_PROJECT_NAME_CHARS:
        raise InvalidValueError(
            f"invalid project name: 1 to {limits.MAX_PROJECT_NAME_CHARS} characters"
        )
    return name


def validate_key(key: str) -> str:
    if not PROJECT_KEY.fullmatch(key):
        raise InvalidValueError(
            f"invalid project key {key!r}: 1 to 10 upper-case letters or digits,"
            " starting with a letter"
        )
    if key in RESERVED_KEYS:
        raise InvalidValueError(f'invalid project key {key!r}: cannot be "CASE"')
    return key


def _access_project(tx: Transaction, actor: Actor, project_id: str) -> Project:
    canonical = parse_uuid(project_id)
    project = None if canonical is None else tx.projects.get(actor.org_id, canonical)
    if project is None:
        raise ProjectNotFoundError(project_id)
    return project


def _custom_types(tx: Transaction, actor: Actor, type_ids: list[str]) -> list[str]:
    """The organisation's own live case types ``type_ids`` names, as canonical UUIDs, once
    each; a project that lists some takes cases of those custom types only."""
    found: list[str] = []
    for type_id in type_ids:
        canonical = parse_uuid(type_id)
        case_type = None if canonical is None else case_types.type_of(tx, actor.org_id, canonical)
        if case_type is None or case_type.builtin:
            raise CaseTypeNotFoundError(type_id)
        if case_type.id not in found:
            found.append(case_type.id)
    return found


def create_project(
    store: Store,
    *,
    actor: Actor,
    key: str,
    name: str,
    enabled_custom_case_types: list[str] | None = None,
    team_uuid: str | None = None,
) -> Project:
    """Create a project; its key is unique among the organisation's live projects. A key a
    deleted project had is free again, and the new project numbers its cases after the
    deleted one's (``SEC-41`` follows ``SEC-40``), so no case key ever names two cases."""
    require_scope(actor, Scope.CASES_WRITE)
    validate_key(key)
    name = _check_name(name)
    if team_uuid is not None and parse_uuid(team_uuid) is None:
        raise InvalidValueError(f"invalid team_uuid {team_uuid!r}: expected a UUID")
    project = Project(
        id=new_id(),
        org_id=actor.org_id,
        key=key,
        name=name,
        enabled_custom_case_types=[],  # checked against the organisation's types below
        team_uuid=team_uuid,
        created_at=now_us(),
        created_by=actor.user_id,
    )
    with store.write() as tx:
        project.enabled_custom_case_types = _custom_types(
            tx, actor, enabled_custom_case_types or []
        )
        if tx.projects.by_key(actor.org_id, key) is not None:
            raise ConflictError(f"project key {key} is already in use")
        last = tx.projects.last_case_number(actor.org_id, key)
        tx.projects.insert(project, last_case_number=last)
    return project


def list_projects(store: Store, *, actor: Actor) -> list[Project]:
    require_scope(actor, Scope.CASES_READ)
    with store.read() as tx:
        return tx.projects.list(actor.org_id)


def get_project(store: Store, project_id: str, *, actor: Actor) -> Project:
    require_scope(actor, Scope.CASES_READ)
    with store.read() as tx:
        return _access_project(tx, actor, project_id)


def update_project(
    store: Store,
    project_id: str,
    *,
    actor: Actor,
    name: str | None = None,
    settings: dict[str, Any] | None = None,
    columns_config: dict[str, Any] | None = None,
    enabled_custom_case_types: list[str] | None = None,
    team_uuid: str | None = None,
) -> Project:
    """Change what a PATCH sends: ``settings`` is a JSON merge patch over the stored
    settings, ``columns_config`` one over the stored columns (its ``columns`` list is
    replaced whole). The key never changes (a ``key`` sent is ignored, as every member the
    request does not declare is)."""
    require_scope(actor, Scope.CASES_WRITE)
    if name is not None:
        name = _check_name(name)
    if team_uuid is not None and team_uuid != "" and parse_uuid(team_uuid) is None:
        raise InvalidValueError(f"invalid team_uuid {team_uuid!r}: expected a UUID")
    canonical = parse_uuid(project_id)
    with store.write() as tx:
        project = None if canonical is None else tx.projects.get(actor.org_id, canonical)
        if project is None:
            raise ProjectNotFoundError(project_id, doing="failed to get project")
        if name is not None:
            project.name = name
        if settings is not None:
            _check_settings(tx, actor, settings)
            project.settings = merge_patch(project.settings or {}, settings) or None
        if columns_config is not None:
            project.columns_config = merge_patch(project.columns_config or {}, columns_config)
        if enabled_custom_case_types is not None:
            project.enabled_custom_case_types = _custom_types(tx, actor, enabled_custom_case_types)
        if team_uuid is not None:
            project.team_uuid = parse_uuid(team_uuid) if team_uuid else None
        project.modified_at = now_us()
        project.modified_by = actor.user_id
        tx.projects.update(project)
    return project


def delete_project(store: Store, project_id: str, *, actor: Actor) -> None:
    """Hide a project and its cases. Nothing is destroyed: ``restore_project`` undoes it."""
    require_scope(actor, Scope.CASES_WRITE)
    with store.write() as tx:
        project = _access_project(tx, actor, project_id)
        tx.projects.set_deleted(actor.org_id, project.id, now_us(), actor.user_id)


class KeyTakenError(ConflictError):
    """A deleted project's key belongs to a live project again: restoring it needs a new key."""


def restore_project(
    store: Store, *, org_name: str, key: str, new_key: str | None = None
) -> Project:
    """Bring back a deleted project and its cases (CLI only): the most recently deleted
    project of ``key``. When a live project has taken the key since, ``new_key`` names the
    key it comes back with (one no project of the organisation ever had); its cases take
    keys to match, and their old keys keep resolving to them."""
    with store.write() as tx:
        org = get_org(tx, org_name)
        key = key.upper()
        deleted = tx.projects.deleted_by_key(org.id, key)
        if not deleted:
            if tx.projects.by_key(org.id, key) is not None:
                raise InvalidValueError(f"project {key} is not deleted")
            raise ProjectNotFoundError(key)
        project = deleted[0]
        taken = tx.projects.by_key(org.id, key) is not None
        if new_key is None or new_key.upper() == key:
            if taken:
                raise KeyTakenError(
                    f"the key {key} belongs to another project now:"
                    f" restore this one with a new key (--key NEW)"
                )
        else:
            new_key = validate_key(new_key.upper())
            if tx.projects.last_case_number(org.id, new_key) or tx.projects.by_key(
                org.id, new_key, include_deleted=True
            ):
                raise ConflictError(
                    f"the key {new_key} was used by another project: choose a key never used"
                )
            tx.projects.rekey(org.id, project.id, new_key)
            project.key = new_key
        tx.projects.set_deleted(org.id, project.id, None, None)
        project.deleted_at = None
        return project


def list_favorites(store: Store, *, actor: Actor) -> list[str]:
    """The ids of the caller's favourite projects, in the order they were marked."""
    require_scope(actor, Scope.CASES_READ)
    with store.read() as tx:
        return tx.favorites.list(actor.org_id, actor.user_id)


def favorite_project(store: Store, project_id: str, *, actor: Actor) -> None:
    """Mark a project as one of the caller's favourites (again: nothing changes)."""
    require_scope(actor, Scope.CASES_WRITE)
    with store.write() as tx:
        project = _access_project(tx, actor, project_id)
        tx.favorites.add(actor.org_id, actor.user_id, project.id, now_us())


def unfavorite_project(store: Store, project_id: str, *, actor: Actor) -> None:
    """Unmark a favourite project (one that is not marked: nothing changes)."""
    require_scope(actor, Scope.CASES_WRITE)
    with store.write() as tx:
        project = _access_project(tx, actor, project_id)
        tx.favorites.remove(actor.org_id, actor.user_id, project.id)
