"""Saved views: a named query in the search language on a project, shared by the
organisation ("P1s assigned to me", "open security cases older than 3 days").

A view's query is parsed when it is saved, so a broken one is refused with the
position of the error as a search would be; a view's cases are the search
``project_id:<its project> (<its query>)`` (``view_filter``). Anyone who may write
cases may change or delete any view of their organisation (views are the team's).
"""

from __future__ import annotations

from casebook.core.clock import new_id, now_us, parse_uuid
from casebook.core.entities import Actor, CaseView, Project, Scope
from casebook.core.errors import (
    ConflictError,
    InvalidRequestError,
    InvalidValueError,
    ProjectNotFoundError,
    ViewNotFoundError,
)
from casebook.domain import limits
from casebook.domain.access import require_scope
from casebook.search import MAX_QUERY_LENGTH
from casebook.search.parser import parse
from casebook.storage.base import Store, Transaction


def view_filter(view: CaseView) -> str:
    """The search filter that lists the view's cases (``GET /api/v2/cases?filter=``)."""
    query = view.query.strip()
    scope = f"project_id:{view.project_id}"
    return f"{scope} ({query})" if query else scope


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > limits.MAX_VIEW_NAME_CHARS:
        raise InvalidValueError(f"invalid view name: 1 to {limits.MAX_VIEW_NAME_CHARS} characters")
    return name


def _check_query(query: str) -> str:
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidRequestError(f"query is longer than {MAX_QUERY_LENGTH} characters")
    parse(query, now_us=now_us())  # raises InvalidQueryError with the position
    return query


def _check_rule_id(np_rule_id: str | None) -> str | None:
    """A notification rule's id, kept as given (rules arrive with the rules issue; a view
    naming one that does not exist then notifies no one)."""
    if np_rule_id is None or np_rule_id == "":
        return None
    canonical = parse_uuid(np_rule_id)
    if canonical is None:
        raise InvalidRequestError(f"invalid np_rule_id {np_rule_id!r}: expected a UUID")
    return canonical


def _project(tx: Transaction, actor: Actor, project_id: str) -> Project:
    canonical = parse_uuid(project_id)
    project = None if canonical is None else tx.projects.get(actor.org_id, canonical)
    if project is None:
        raise ProjectNotFoundError(project_id)
    return project


def _view(tx: Transaction, actor: Actor, view_id: str) -> CaseView:
    canonical = parse_uuid(view_id)
    view = None if canonical is None else tx.views.get(actor.org_id, canonical)
    if view is None:
        raise ViewNotFoundError(view_id)
    return view


def create_view(
    store: Store,
    *,
    actor: Actor,
    project_id: str,
    name: str,
    query: str,
    np_rule_id: str | None = None,
) -> CaseView:
    require_scope(actor, Scope.CASES_WRITE)
    name = _check_name(name)
    query = _check_query(query)
    rule = _check_rule_id(np_rule_id)
    with store.write() as tx:
        project = _project(tx, actor, project_id)
        if tx.views.count(actor.org_id, project.id) >= limits.MAX_VIEWS_PER_PROJECT:
            raise ConflictError(
                f"project {project.key} has {limits.MAX_VIEWS_PER_PROJECT} views already,"
                " the most one project may have"
            )
        view = CaseView(
            id=new_id(),
            org_id=actor.org_id,
            project_id=project.id,
            name=name,
            query=query,
            np_rule_id=rule,
            created_at=now_us(),
            created_by=actor.user_id,
        )
        tx.views.insert(view)
    return view


def list_views(store: Store, *, actor: Actor, project_id: str) -> list[CaseView]:
    """The project's views, oldest first."""
    require_scope(actor, Scope.CASES_READ)
    with store.read() as tx:
        project = _project(tx, actor, project_id)
        return tx.views.list(actor.org_id, project.id)


def get_view(store: Store, view_id: str, *, actor: Actor) -> CaseView:
    require_scope(actor, Scope.CASES_READ)
    with store.read() as tx:
        return _view(tx, actor, view_id)


def update_view(
    store: Store,
    view_id: str,
    *,
    actor: Actor,
    name: str | None = None,
    query: str | None = None,
    np_rule_id: str | None = None,
) -> CaseView:
    """Change what is sent; an empty ``np_rule_id`` unlinks the notification rule."""
    require_scope(actor, Scope.CASES_WRITE)
    new_name = None if name is None else _check_name(name)
    new_query = None if query is None else _check_query(query)
    rule = None if np_rule_id is None else _check_rule_id(np_rule_id)
    with store.write() as tx:
        view = _view(tx, actor, view_id)
        if new_name is not None:
            view.name = new_name
        if new_query is not None:
            view.query = new_query
        if np_rule_id is not None:
            view.np_rule_id = rule
        view.modified_at = now_us()
        view.modified_by = actor.user_id
        tx.views.update(view)
    return view


def delete_view(store: Store, view_id: str, *, actor: Actor) -> None:
    require_scope(actor, Scope.CASES_WRITE)
    with store.write() as tx:
        view = _view(tx, actor, view_id)
        tx.views.delete(actor.org_id, view.id)
