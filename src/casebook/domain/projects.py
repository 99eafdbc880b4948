"""Projects: the containers whose keys prefix case keys (``SEC`` -> ``SEC-42``)."""

from __future__ import annotations

import re

from casebook.core.clock import new_id, now_us, parse_uuid
from casebook.core.entities import Actor, Project, Scope
from casebook.core.errors import (
    CaseTypeNotFoundError,
    ConflictError,
    InvalidValueError,
    ProjectNotFoundError,
)
from casebook.domain import case_types, limits
from casebook.domain.access import require_scope
from casebook.domain.users import get_org
from casebook.storage.base import Store, Transaction

PROJECT_KEY = re.compile(r"[A-Z][A-Z0-9]{0,9}")
RESERVED_KEYS = frozenset({"CASE"})


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
    """Create a project; its key is unique in the organisation, deleted projects included."""
    require_scope(actor, Scope.CASES_WRITE)
    validate_key(key)
    name = name.strip()
    if not name or len(name) > limits.MAX_PROJECT_NAME_CHARS:
        raise InvalidValueError(
            f"invalid project name: 1 to {limits.MAX_PROJECT_NAME_CHARS} characters"
        )
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
        held = tx.projects.by_key(actor.org_id, key, include_deleted=True)
        if held is not None:
            if held.deleted_at is not None:
                raise ConflictError(
                    f"project key {key} is held by a deleted project;"
                    f" restore it with `casebook projects restore {key}` or choose another key"
                )
            raise ConflictError(f"project key {key} is already in use")
        tx.projects.insert(project)
    return project


def list_projects(store: Store, *, actor: Actor) -> list[Project]:
    require_scope(actor, Scope.CASES_READ)
    with store.read() as tx:
        return tx.projects.list(actor.org_id)


def get_project(store: Store, project_id: str, *, actor: Actor) -> Project:
    require_scope(actor, Scope.CASES_READ)
    with store.read() as tx:
        return _access_project(tx, actor, project_id)


def delete_project(store: Store, project_id: str, *, actor: Actor) -> None:
    """Hide a project and its cases. Nothing is destroyed: ``restore_project`` undoes it."""
    require_scope(actor, Scope.CASES_WRITE)
    with store.write() as tx:
        project = _access_project(tx, actor, project_id)
        tx.projects.set_deleted(actor.org_id, project.id, now_us(), actor.user_id)


def restore_project(store: Store, *, org_name: str, key: str) -> Project:
    """Bring back a deleted project and its cases (CLI only)."""
    with store.write() as tx:
        org = get_org(tx, org_name)
        project = tx.projects.by_key(org.id, key.upper(), include_deleted=True)
        if project is None:
            raise ProjectNotFoundError(key)
        if project.deleted_at is None:
            raise InvalidValueError(f"project {project.key} is not deleted")
        tx.projects.set_deleted(org.id, project.id, None, None)
        project.deleted_at = None
        return project
