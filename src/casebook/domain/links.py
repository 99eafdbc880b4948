"""Links between two cases of one organisation, with Datadog's relationship types.

A link is directed (parent BLOCKS child; RELATES_TO reads both ways) and unique
per (parent, child, relationship) — and, for RELATES_TO, per pair of cases in either
order. Datadog also links incidents, pages and agent
conversations; casebook has none of those, so both ends must be cases. Creating
or deleting a link writes a history row (``link``) on both cases. A case of
another organisation is the same 404 as a missing one; a link whose case is in
a deleted project is hidden with it.
"""

from __future__ import annotations

import json

from casebook.core.clock import new_id, now_us, parse_uuid
from casebook.core.entities import LINK_RELATIONSHIPS, Actor, CaseChange, CaseLink, Scope
from casebook.core.errors import (
    ConflictError,
    InvalidParameterError,
    InvalidRequestError,
    InvalidValueError,
    LinkNotFoundError,
)
from casebook.domain import limits
from casebook.domain.access import access_case, require_scope
from casebook.storage.base import Store, Transaction

ENTITY_CASE = "CASE"
SYMMETRIC = "RELATES_TO"  # reads both ways: A RELATES_TO B is B RELATES_TO A
_OTHER_ENTITIES = ("INCIDENT", "PAGE", "AGENT_CONVERSATION")


def _entity_type(value: str, member: str) -> None:
    if value.upper() == ENTITY_CASE:
        return
    if value.upper() in _OTHER_ENTITIES:
        raise InvalidValueError(
            f"{member} {value}: casebook links cases only (it has no incidents, pages"
            " or agent conversations)"
        )
    raise InvalidValueError(
        f"invalid {member} {value}. Must be one of {ENTITY_CASE}, {', '.join(_OTHER_ENTITIES)}"
    )


def _relationship(value: str) -> str:
    folded = value.upper()
    if folded not in LINK_RELATIONSHIPS:
        raise InvalidValueError(
            f"invalid relationship {value}. Must be one of {', '.join(LINK_RELATIONSHIPS)}"
        )
    return folded


def _history(link: CaseLink) -> str:
    return json.dumps(
        {
            "id": link.id,
            "relationship": link.relationship,
            "parent_id": link.parent_id,
            "child_id": link.child_id,
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def _record(tx: Transaction, actor: Actor, link: CaseLink, at: int, change: CaseChange) -> None:
    for case_id in dict.fromkeys((link.parent_id, link.child_id)):
        tx.history.record(actor.org_id, case_id, actor.user_id, at, [change], depth=actor.depth)


def create_link(
    store: Store,
    *,
    actor: Actor,
    parent_entity_type: str,
    parent_entity_id: str,
    child_entity_type: str,
    child_entity_id: str,
    relationship: str,
) -> CaseLink:
    """Link two cases (each a UUID or a key); ConflictError if they already have this link."""
    require_scope(actor, Scope.CASES_WRITE)
    _entity_type(parent_entity_type, "parent_entity_type")
    _entity_type(child_entity_type, "child_entity_type")
    kind = _relationship(relationship)
    at = now_us()
    with store.write() as tx:
        parent = access_case(tx, parent_entity_id, actor=actor)
        child = access_case(tx, child_entity_id, actor=actor)
        if parent.id == child.id:
            raise InvalidRequestError("a case cannot be linked to itself")
        if kind == SYMMETRIC and tx.links.between(actor.org_id, child.id, parent.id, kind):
            raise ConflictError(f"the cases already have a {kind} link")
        for case in (parent, child):
            if tx.links.count_for(actor.org_id, case.id) >= limits.MAX_LINKS:
                raise InvalidRequestError(
                    f"case {case.key} already has {limits.MAX_LINKS} links, the most a case may"
                )
        link = CaseLink(new_id(), parent.id, child.id, kind, at, actor.user_id)
        tx.links.insert(actor.org_id, link)
        _record(tx, actor, link, at, CaseChange("link", None, _history(link)))
    return link


def list_links(
    store: Store,
    *,
    actor: Actor,
    entity_type: str,
    entity_id: str,
    relationship: str | None = None,
) -> list[CaseLink]:
    """The links with the case at either end, oldest first, of one relationship if given."""
    require_scope(actor, Scope.CASES_READ)
    _entity_type(entity_type, "entity_type")
    kind = None if not relationship else _relationship(relationship)
    with store.read(snapshot=True) as tx:
        case = access_case(tx, entity_id, actor=actor)
        return tx.links.list_for(actor.org_id, case.id, kind)


def delete_link(store: Store, link_id: str, *, actor: Actor) -> None:
    require_scope(actor, Scope.CASES_WRITE)
    canonical = parse_uuid(link_id)
    if canonical is None:
        raise InvalidParameterError("LinkID")
    at = now_us()
    with store.write() as tx:
        link = tx.links.get(actor.org_id, canonical)
        if link is None:
            raise LinkNotFoundError(link_id)
        for case_id in (link.parent_id, link.child_id):
            access_case(tx, case_id, actor=actor)  # a deleted project hides its links
        tx.links.delete(actor.org_id, link.id)
        _record(tx, actor, link, at, CaseChange("link", _history(link), None))
