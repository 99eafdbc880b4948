"""The fields counts and aggregates group cases by, named as searches name them.

``parse_group_by("priority")`` is ``GroupBy(GroupField.PRIORITY)``. Names follow the
search language (``docs/search.md``): ``status``, ``priority``, ``project``,
``assignee``, ``type``..., ``attributes.<key>`` for a key of the case's ``attributes``
map, ``custom_attributes.<key>`` for a custom attribute, and a bare key that is no
facet for whichever of the two a search would read (``GroupField.KEY``; the store
resolves it as ``sql_search.resolve`` resolves ``region:eu-west-1``). A facet that
holds no groupable value (``created_at``, ``key``, ``watcher``) or a misspelt one
(``stauts``) is an ``InvalidRequestError`` naming it. No database, as the parser.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from casebook.core.errors import InvalidRequestError
from casebook.search.parser import facet_clash

_ATTRIBUTES = "attributes."
_CUSTOM = "custom_attributes."
_KEY = re.compile(r"[a-z][a-z0-9_.-]*\Z")


class GroupField(enum.Enum):
    """What a group's value is."""

    STATUS = "status"  # OPEN, IN_PROGRESS, CLOSED
    STATUS_GROUP = "status_group"  # SG_OPEN, SG_IN_PROGRESS, SG_CLOSED
    STATUS_NAME = "status_name"  # the status's name ("Triage", "Open")
    PRIORITY = "priority"
    PROJECT = "project"  # the project's id
    PROJECT_KEY = "project.key"  # the project's key
    ASSIGNEE = "assignee"  # a user id; "" unassigned
    CREATED_BY = "created_by"  # a user id
    TYPE = "type"  # the case type's id
    CREATION_SOURCE = "creation_source"
    RESOLVED_REASON = "resolved_reason"  # "" none
    ATTRIBUTE = "attributes"  # each value of a key of the attributes map, lower-cased
    CUSTOM = "custom_attributes"  # each value of a custom attribute, as a search compares it
    KEY = "key"  # a bare key: CUSTOM when a case type has it, else ATTRIBUTE


_NAMES: dict[str, GroupField] = {
    "status": GroupField.STATUS,
    "status_group": GroupField.STATUS_GROUP,
    "status_name": GroupField.STATUS_NAME,
    "priority": GroupField.PRIORITY,
    "project": GroupField.PROJECT,
    "project_id": GroupField.PROJECT,
    "project.key": GroupField.PROJECT_KEY,
    "assignee": GroupField.ASSIGNEE,
    "assignee_id": GroupField.ASSIGNEE,
    "created_by": GroupField.CREATED_BY,
    "type": GroupField.TYPE,
    "type_id": GroupField.TYPE,
    "creation_source": GroupField.CREATION_SOURCE,
    "resolved_reason": GroupField.RESOLVED_REASON,
}
GROUP_NAMES = tuple(_NAMES)
"""Every field name besides attribute and custom attribute keys."""


@dataclass(frozen=True, slots=True)
class GroupBy:
    """One field to group by; ``key`` for the attribute fields. ``name`` is as written."""

    field: GroupField
    key: str = ""
    name: str = ""


def parse_group_by(name: str) -> GroupBy:
    """The field ``name`` names, or InvalidRequestError naming it."""
    field = _NAMES.get(name)
    if field is not None:
        return GroupBy(field, name=name)
    for prefix, kind in ((_ATTRIBUTES, GroupField.ATTRIBUTE), (_CUSTOM, GroupField.CUSTOM)):
        if name.startswith(prefix):
            key = name.removeprefix(prefix)
            if not _KEY.match(key):
                raise InvalidRequestError(f'cannot group by "{name}": "{key}" is not a key')
            return GroupBy(kind, key, name)
    if not _KEY.match(name):
        raise InvalidRequestError(
            f'cannot group by "{name}": a field is a facet name such as status or priority,'
            " or a key"
        )
    clash = facet_clash(name)
    if clash == name:
        raise InvalidRequestError(
            f'cannot group by "{name}": group by one of {", ".join(GROUP_NAMES)}, or a key'
        )
    if clash is not None:
        raise InvalidRequestError(
            f'unknown field "{name}"; did you mean "{clash}"? (write "{_ATTRIBUTES}{name}"'
            " for an attribute of that name)"
        )
    return GroupBy(GroupField.KEY, name, name)


def parse_group_bys(names: list[str], *, most: int) -> list[GroupBy]:
    """Each field of ``names`` (at most ``most``, no repeats), in order."""
    if len(names) > most:
        raise InvalidRequestError(f"at most {most} fields to group by, got {len(names)}")
    found = [parse_group_by(name) for name in names]
    seen: set[tuple[GroupField, str]] = set()
    for group in found:
        if (group.field, group.key) in seen:
            raise InvalidRequestError(f'"{group.name}" is grouped by twice')
        seen.add((group.field, group.key))
    return found
