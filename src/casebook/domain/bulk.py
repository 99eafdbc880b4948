"""Bulk updates: one action on up to ``limits.MAX_BULK_CASES`` cases, all or nothing.

``bulk_update_cases`` changes every case it names in one transaction, each exactly as the
single-case command would: the same ``decide_*`` rule of ``domain/cases.py``, so the same
history rows (timeline cells) and the same no-ops. The payload is checked before any case
is read (a bad priority, an unknown or disabled assignee, an unknown project); then the
cases are locked in the order of their ids; then each is changed in the order given. The
first case that cannot be changed (missing, another organisation's, a status its type
lacks...) stops the bulk with one error naming it as the caller gave it, in its message and
in ``meta.case_id``, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from casebook.core.clock import now_us
from casebook.core.entities import Actor, Case, Priority, Scope
from casebook.core.errors import (
    CasebookError,
    CaseNotFoundError,
    InvalidRequestError,
    InvalidValueError,
    ProjectNotFoundError,
)
from casebook.domain import cases, limits
from casebook.domain.access import access_cases, require_scope
from casebook.domain.cases import Decide
from casebook.storage.base import Store, Transaction

ACTIONS = ("priority", "status", "assign", "unassign", "archive", "unarchive", "update_project")
"""The actions casebook applies in bulk; each takes the payload keys of its single-case
operation (``status`` also takes ``status_name``)."""
EXTERNAL_ACTIONS = ("jira", "servicenow", "linear")
"""Datadog's actions that open tickets in another system: they come with the integrations."""


def bulk_update_cases(
    store: Store,
    *,
    actor: Actor,
    case_ids: Sequence[str],
    action: str,
    payload: Mapping[str, str] | None = None,
) -> list[Case]:
    """Apply ``action`` to every case ``case_ids`` names (UUIDs or keys; a case named twice,
    by any of its ids, is changed once), in one transaction; the cases as they are now, in
    the order given."""
    require_scope(actor, Scope.CASES_WRITE)
    if not case_ids:
        raise InvalidRequestError("case_ids must hold at least one case id")
    if len(case_ids) > limits.MAX_BULK_CASES:
        raise InvalidRequestError(
            f"case_ids holds {len(case_ids)} ids; a bulk update takes at most"
            f" {limits.MAX_BULK_CASES}"
        )
    given = payload or {}
    at = now_us()
    with store.write() as tx:
        decide = _decision(tx, actor, action, given)
        try:
            found = access_cases(tx, case_ids, actor=actor, for_update=True)
        except CaseNotFoundError as exc:
            exc.meta = {"case_id": exc.ref}
            raise
        changed: list[tuple[Case, cases.Change]] = []
        for ref, case in found:
            try:
                decided = decide(tx, case, at)
            except CasebookError as exc:
                raise _of_case(exc, ref) from None
            if decided is not None:
                changed.append((case, decided))
        cases.store_changes(tx, actor, at, changed)
    return [case for _, case in found]


def _of_case(exc: CasebookError, ref: str) -> CasebookError:
    """``exc``, said of the bulk's case ``ref``."""
    exc.message = f"case {ref}: {exc.message}"
    exc.args = (exc.message,)
    exc.meta = {**(exc.meta or {}), "case_id": ref}
    return exc


def _member(payload: Mapping[str, str], action: str, name: str) -> str:
    value = payload.get(name)
    if value is None:
        raise InvalidRequestError(f"the {action} action needs payload.{name}")
    return value


def _decision(tx: Transaction, actor: Actor, action: str, payload: Mapping[str, str]) -> Decide:
    """What ``action`` does to each case, once its payload has passed every check that
    does not depend on the case."""
    match action:
        case "priority":
            level = Priority.parse(_member(payload, action, "priority"))
            return lambda tx, case, at: cases.decide_priority(case, level)
        case "status":
            status, status_name = payload.get("status"), payload.get("status_name")
            if status is None and status_name is None:
                raise InvalidRequestError(
                    "the status action needs payload.status or payload.status_name"
                )
            cases.check_status(status, status_name)
            return lambda tx, case, at: cases.decide_status(
                tx, actor, case, at, status, status_name
            )
        case "assign":
            assignee_id = _member(payload, action, "assignee_id")
            cases.check_assignee_id(assignee_id)
            assignee = cases.assignable(tx, actor, assignee_id)
            return lambda tx, case, at: cases.decide_assign(tx, actor, case, at, assignee)
        case "unassign":
            return lambda tx, case, at: cases.decide_unassign(case)
        case "archive":
            return lambda tx, case, at: cases.decide_archive(case, at)
        case "unarchive":
            return lambda tx, case, at: cases.decide_unarchive(case)
        case "update_project":
            project_id = _member(payload, action, "project_id")
            project_uuid = cases.check_project_id(project_id)
            if tx.projects.get(actor.org_id, project_uuid) is None:
                raise ProjectNotFoundError(project_id)
            return lambda tx, case, at: cases.decide_move(
                tx, actor, case, at, project_uuid, project_id
            )
    if action in EXTERNAL_ACTIONS:
        raise InvalidRequestError(
            f"the {action} action opens tickets in another system, which casebook does not"
            " do yet: it comes with the integrations"
        )
    raise InvalidValueError(
        f"invalid bulk action {action}. Must be one of {', '.join(ACTIONS + EXTERNAL_ACTIONS)}"
    )
