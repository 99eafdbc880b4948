"""The permission gates: every read and write of a case goes through ``access_case``."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from casebook.core.clock import parse_case_key, parse_uuid
from casebook.core.entities import Actor, Case, Scope
from casebook.core.errors import (
    CaseNotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
)
from casebook.storage.base import Transaction


def require_scope(actor: Actor, scope: Scope) -> None:
    """Raise PermissionDeniedError unless the actor's key and role allow ``scope``."""
    if scope not in actor.scopes:
        raise PermissionDeniedError(f"the application key lacks the {scope.value} scope")


ADMINS_ONLY = "only an admin of the organisation may do this"


def require_admin(actor: Actor) -> None:
    """Raise PermissionDeniedError unless the key's user is an admin (the role, whatever the
    key's scopes: ``require_scope`` checks those)."""
    if not actor.is_admin:
        raise PermissionDeniedError(ADMINS_ONLY)


def access_case(tx: Transaction, ref: str, *, actor: Actor, for_update: bool = False) -> Case:
    """The case ``ref`` (UUID or key such as ``SEC-12``) if the actor may see it.

    A case of another organisation, or of a deleted project, is reported exactly
    like a case that does not exist (CaseNotFoundError).
    """
    case: Case | None = None
    key = parse_case_key(ref)
    if key is not None:
        case = tx.cases.by_key(actor.org_id, key, for_update=for_update)
    else:
        case_id = parse_uuid(ref)
        if case_id is not None:
            case = tx.cases.get(actor.org_id, case_id, for_update=for_update)
    if case is None:
        raise CaseNotFoundError(ref)
    return case


def access_cases(
    tx: Transaction, refs: Sequence[str], *, actor: Actor, for_update: bool = False
) -> list[tuple[str, Case]]:
    """The cases ``refs`` name (UUIDs or keys, as ``access_case`` takes them), each once,
    with the first ref naming it, in the order given; if one is not a case the actor may
    see, CaseNotFoundError naming the first such ref, exactly as ``access_case`` reports it.

    ``for_update`` locks them until commit in the order of their ids, whatever the order of
    ``refs``, so that two writers locking overlapping sets cannot deadlock.
    """
    ids: dict[str, str | None] = {}
    keys: dict[str, str] = {}
    for ref in refs:
        key = parse_case_key(ref)
        if key is not None:
            keys[ref] = key
        else:
            ids[ref] = parse_uuid(ref)
    by_key = tx.cases.ids_by_key(actor.org_id, set(keys.values()))
    for ref, key in keys.items():
        ids[ref] = by_key.get(key)
    wanted = {case_id for case_id in ids.values() if case_id is not None}
    found = {c.id: c for c in tx.cases.get_many(actor.org_id, wanted, for_update=for_update)}
    cases: dict[str, tuple[str, Case]] = {}
    for ref in refs:
        case = found.get(ids[ref] or "")
        if case is None:
            raise CaseNotFoundError(ref)
        cases.setdefault(case.id, (ref, case))
    return list(cases.values())


def require_match(case: Case, if_match: Collection[int] | None) -> None:
    """Raise PreconditionFailedError unless the case's version is one ``if_match`` accepts
    (None: any)."""
    if if_match is not None and case.version not in if_match:
        raise PreconditionFailedError(
            f'the case has changed: its ETag is now "{case.version}"; nothing was changed'
        )
