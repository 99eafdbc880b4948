"""Case types, their statuses and their custom attributes: how each team shapes its cases.

Every organisation has the built-in types (``BUILTIN_CASE_TYPES``: Standard, Event
Management, Error Tracking), which cannot be changed or deleted, and the types it
makes. A type has an ordered list of statuses, each in one status group (SG_OPEN,
SG_IN_PROGRESS, SG_CLOSED), at least one in each; a case's ``status`` is its
status's group. Custom attribute configs give a type typed fields (TEXT, URL,
NUMBER, SELECT, one value or ``is_multi``) under a key that searches name
(``severity_score:>7``).
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from casebook.core.clock import new_id, now_us, parse_uuid
from casebook.core.entities import (
    BUILTIN_CASE_TYPES,
    CUSTOM_ATTRIBUTE_TYPES,
    Actor,
    Case,
    CaseChange,
    CaseStatusDef,
    CaseType,
    CustomAttributeConfig,
    CustomValue,
    Scope,
    Status,
    UserRef,
    default_statuses,
)
from casebook.core.errors import (
    CaseTypeNotFoundError,
    ConflictError,
    CustomAttributeNotFoundError,
    InvalidParameterError,
    InvalidRequestError,
    InvalidValueError,
)
from casebook.domain import limits
from casebook.domain.access import require_scope
from casebook.domain.users import get_org
from casebook.search.parser import facet_clash
from casebook.storage.base import CaseUpdate, Store, Transaction

CUSTOM_FIELD_PREFIX = "custom_attributes."
"""History field names of custom attribute values: ``custom_attributes.severity_score``."""


def json_text(value: object) -> str:
    """A value as history keeps it: compact JSON, keys sorted."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- case types ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusIn:
    """A status as a request gives it: ``id`` names one the type has (to rename or move
    it), None makes a new one."""

    name: str
    group: str
    id: str | None = None


def type_id_of(ref: str) -> str:
    """A ``case_type_id`` path parameter as a canonical UUID, or 400 Invalid Parameter."""
    canonical = parse_uuid(ref)
    if canonical is None:
        raise InvalidParameterError("CaseTypeId")
    return canonical


def type_of(tx: Transaction, org_id: str, type_id: str) -> CaseType:
    """A live type the organisation has (built-in or its own), or CaseTypeNotFoundError."""
    found = BUILTIN_CASE_TYPES.get(type_id)
    if found is None:
        found = tx.case_types.get(org_id, type_id)
        if found is None or found.deleted_at is not None:
            raise CaseTypeNotFoundError(type_id)
    return found


def _own_type(tx: Transaction, actor: Actor, ref: str) -> CaseType:
    """One of the organisation's own live types, for a change: built-in ones are refused."""
    case_type = type_of(tx, actor.org_id, type_id_of(ref))
    if case_type.builtin:
        raise InvalidValueError(f"the built-in case type {case_type.name} cannot be changed")
    return case_type


def _check_name(tx: Transaction, actor: Actor, name: str, but: str = "") -> str:
    name = name.strip()
    if not name or len(name) > limits.MAX_CASE_TYPE_NAME_CHARS or not name.isprintable():
        raise InvalidRequestError(
            f"invalid case type name: 1 to {limits.MAX_CASE_TYPE_NAME_CHARS} printable characters"
        )
    folded = name.casefold()
    if any(t.name.casefold() == folded for t in BUILTIN_CASE_TYPES.values()) or (
        tx.case_types.name_taken(actor.org_id, name, but)
    ):
        raise ConflictError(f"a case type named {name} already exists")
    return name


def _check_emoji(emoji: str) -> str:
    import emoji as emoji_data  # here: its tables cost every process ~30 ms to load

    if emoji and not emoji_data.is_emoji(emoji):
        raise InvalidRequestError(f"invalid emoji {emoji!r}: expected one emoji, such as 🌍")
    return emoji


def _check_description(description: str) -> str:
    return _check_text("description", description, limits.MAX_CASE_TYPE_DESCRIPTION_CHARS)


def _check_statuses(given: Sequence[StatusIn], current: list[CaseStatusDef]) -> list[CaseStatusDef]:
    """The new ordered statuses; ids of ``current`` keep their status, others are refused."""
    if not 3 <= len(given) <= limits.MAX_STATUSES:
        raise InvalidRequestError(
            f"a case type has 3 to {limits.MAX_STATUSES} statuses, at least one in each group"
        )
    known = {s.id for s in current}
    statuses: list[CaseStatusDef] = []
    names: set[str] = set()
    for status in given:
        name = " ".join(status.name.split())
        if not name or len(name) > limits.MAX_STATUS_NAME_CHARS or not name.isprintable():
            raise InvalidRequestError(
                f"invalid status name {status.name!r}: 1 to {limits.MAX_STATUS_NAME_CHARS}"
                " printable characters"
            )
        if name.casefold() in names:
            raise InvalidRequestError(f"status name {name} appears twice")
        names.add(name.casefold())
        group = Status.of_group(status.group)
        if status.id is not None:
            canonical = parse_uuid(status.id) or status.id
            if canonical not in known:
                raise InvalidValueError(f"the case type has no status with id {status.id}")
            known.discard(canonical)
            statuses.append(CaseStatusDef(canonical, name, group))
        else:
            statuses.append(CaseStatusDef(new_id(), name, group))
    missing = {s.group for s in Status} - {s.group.group for s in statuses}
    if missing:
        raise InvalidRequestError(
            f"a case type needs a status in each group; none in {', '.join(sorted(missing))}"
        )
    return statuses


def stored_name(status: CaseStatusDef) -> str:
    """The name as ``Case.status_name`` holds it: "" for its group's own name ("Open")."""
    return "" if status.name == status.group.display_name else status.name


def list_types(store: Store, *, actor: Actor) -> list[CaseType]:
    """The built-in types, then the organisation's own, oldest first."""
    require_scope(actor, Scope.CASES_READ)
    with store.read() as tx:
        return [*BUILTIN_CASE_TYPES.values(), *tx.case_types.list(actor.org_id)]


def create_type(
    store: Store,
    *,
    actor: Actor,
    name: str,
    description: str = "",
    emoji: str = "",
    statuses: Sequence[StatusIn] | None = None,
) -> CaseType:
    """Make a case type; it starts with Open, In Progress and Closed unless ``statuses``
    says otherwise."""
    require_scope(actor, Scope.CASES_WRITE)
    emoji = _check_emoji(emoji)
    description = _check_description(description)
    if statuses is None:
        ordered = [CaseStatusDef(new_id(), s.name, s.group) for s in default_statuses()]
    else:
        ordered = _check_statuses(statuses, [])
    with store.write() as tx:
        if len(tx.case_types.list(actor.org_id)) >= limits.MAX_CASE_TYPES:
            raise InvalidRequestError(
                f"an organisation has at most {limits.MAX_CASE_TYPES} case types"
            )
        case_type = CaseType(
            id=new_id(),
            org_id=actor.org_id,
            name=_check_name(tx, actor, name),
            description=description,
            emoji=emoji,
            statuses=ordered,
            created_at=now_us(),
        )
        tx.case_types.insert(case_type)
    return case_type


def update_type(
    store: Store,
    ref: str,
    *,
    actor: Actor,
    name: str | None = None,
    description: str | None = None,
    emoji: str | None = None,
    statuses: Sequence[StatusIn] | None = None,
) -> CaseType:
    """Change a type's name, description, emoji or statuses (given fields only).

    A status given with its ``id`` keeps its cases under a new name; a status that
    cases are in cannot be removed or moved to another group (409, with how many).
    """
    require_scope(actor, Scope.CASES_WRITE)
    emoji = None if emoji is None else _check_emoji(emoji)
    description = None if description is None else _check_description(description)
    with store.write() as tx:
        case_type = _own_type(tx, actor, ref)
        if name is not None:
            case_type.name = _check_name(tx, actor, name, but=case_type.id)
        if description is not None:
            case_type.description = description
        if emoji is not None:
            case_type.emoji = emoji
        if statuses is not None:
            new = _check_statuses(statuses, case_type.statuses)
            _move_cases(tx, actor, case_type, new)
            case_type.statuses = new
        at = now_us()
        case_type.modified_at = at
        tx.case_types.change(case_type, at)
    return case_type


def _move_cases(
    tx: Transaction, actor: Actor, case_type: CaseType, new: list[CaseStatusDef]
) -> None:
    """Rename the cases of renamed statuses; refuse to drop or regroup a status in use."""
    kept = {s.id: s for s in new}
    for old in case_type.statuses:
        status = kept.get(old.id)
        if status is not None and status.group is old.group:
            if status.name != old.name:
                tx.cases.rename_status(
                    actor.org_id, case_type.id, old.group, stored_name(old), stored_name(status)
                )
            continue
        used = tx.cases.count_in_status(actor.org_id, case_type.id, old.group, stored_name(old))
        if used:
            what = "removed" if status is None else "moved to another group"
            raise ConflictError(
                f"status {old.name} cannot be {what}: {used} case{'s' if used != 1 else ''}"
                " of the type are in it"
            )


def delete_type(store: Store, ref: str, *, actor: Actor) -> None:
    """Delete a type no case uses (409 with how many otherwise); its configs go with it."""
    require_scope(actor, Scope.CASES_WRITE)
    with store.write() as tx:
        case_type = _own_type(tx, actor, ref)
        used = tx.cases.count_of_type(actor.org_id, case_type.id)
        if used:
            raise ConflictError(
                f"case type {case_type.name} is used by {used} case{'s' if used != 1 else ''};"
                " move them to another type or delete them first"
            )
        tx.case_types.delete(actor.org_id, case_type.id, now_us())


def status_for(case_type: CaseType, status: str | None, status_name: str | None) -> CaseStatusDef:
    """The type's status a request names: ``status_name`` (one of the type's), else the
    deprecated ``status`` (OPEN, IN_PROGRESS, CLOSED: the type's first of that group)."""
    if status_name is not None:
        found = case_type.status_named(status_name)
        if found is None:
            raise InvalidValueError(
                f"invalid status {status_name}. Must be one of"
                f" {', '.join(s.name for s in case_type.statuses)}"
            )
        return found
    assert status is not None
    return case_type.first_of(Status.parse(status))


def status_changes(case: Case, target: CaseStatusDef) -> list[CaseChange]:
    """The history of moving ``case`` to ``target``: ``status`` (the group) when the group
    changes, and ``status_name`` when the names are not the groups' own."""
    old_group, old_name = case.status, case.status_name
    new_name = stored_name(target)
    changes = []
    if target.group is not old_group:
        changes.append(CaseChange("status", old_group.value, target.group.value))
    if (old_name or new_name or target.group is old_group) and (old_name, old_group) != (
        new_name,
        target.group,
    ):
        changes.append(
            CaseChange("status_name", old_name or old_group.display_name, new_name or target.name)
        )
    return changes


def operator(store: Store, org_name: str) -> Actor:
    """The CLI's operator, acting in an organisation with every scope (type commands write
    no case history, so no user is named)."""
    with store.read() as tx:
        org = get_org(tx, org_name)
    return Actor(
        user=UserRef("", "", "casebook", "casebook CLI", True), org_id=org.id, is_admin=True
    )


def find_type(store: Store, actor: Actor, ref: str) -> CaseType:
    """A type by id or by name (any letter case)."""
    for case_type in list_types(store, actor=actor):
        if (
            ref in (case_type.id, case_type.id.upper())
            or case_type.name.casefold() == ref.casefold()
        ):
            return case_type
    raise CaseTypeNotFoundError(ref)


# --- custom attribute configs -----------------------------------------------------------

_KEY = re.compile(r"[a-z][a-z0-9_]*\Z")


def config_id_of(ref: str) -> str:
    canonical = parse_uuid(ref)
    if canonical is None:
        raise InvalidParameterError("CustomAttributeId")
    return canonical


def _check_key(key: str) -> str:
    if len(key) > limits.MAX_CUSTOM_KEY_CHARS or not _KEY.match(key):
        raise InvalidRequestError(
            f"invalid custom attribute key {key!r}: 1 to {limits.MAX_CUSTOM_KEY_CHARS} lower-case"
            " letters, digits and _, starting with a letter"
        )
    clash = facet_clash(key)
    if clash is not None:
        raise InvalidRequestError(
            f"invalid custom attribute key {key!r}: searches would read it as the facet {clash}"
        )
    return key


def _check_kind(kind: str) -> str:
    if kind not in CUSTOM_ATTRIBUTE_TYPES:
        raise InvalidRequestError(
            f"invalid custom attribute type {kind}."
            f" Must be one of {', '.join(CUSTOM_ATTRIBUTE_TYPES)}"
        )
    return kind


def _check_text(what: str, value: str, most: int, *, empty: bool = True) -> str:
    if len(value) > most or (not empty and not value.strip()):
        raise InvalidRequestError(f"invalid {what}: {0 if empty else 1} to {most} characters")
    return value


def _check_options(options: Sequence[str]) -> list[str]:
    if len(options) > limits.MAX_SELECT_OPTIONS:
        raise InvalidRequestError(f"a SELECT has at most {limits.MAX_SELECT_OPTIONS} options")
    checked: list[str] = []
    for option in options:
        _check_text("option", option, limits.MAX_CUSTOM_TEXT_CHARS, empty=False)
        if option.casefold() in (o.casefold() for o in checked):
            raise InvalidRequestError(f"option {option} appears twice")
        checked.append(option)
    return checked


def list_configs(
    store: Store, *, actor: Actor, type_ref: str | None = None
) -> list[CustomAttributeConfig]:
    """The organisation's custom attribute configs, of one type or of all."""
    require_scope(actor, Scope.CASES_READ)
    with store.read() as tx:
        type_id = None
        if type_ref is not None:
            type_id = type_of(tx, actor.org_id, type_id_of(type_ref)).id
        return tx.custom_attributes.list(actor.org_id, type_id)


def create_config(
    store: Store,
    type_ref: str,
    *,
    actor: Actor,
    key: str,
    display_name: str,
    type: str,
    is_multi: bool,
    description: str = "",
    options: Sequence[str] | None = None,
) -> CustomAttributeConfig:
    """Give a case type a custom attribute; its key is unique in the type."""
    require_scope(actor, Scope.CASES_WRITE)
    type_id = type_id_of(type_ref)
    key = _check_key(key)
    kind = _check_kind(type)
    display_name = _check_text(
        "display_name", display_name, limits.MAX_DISPLAY_NAME_CHARS, empty=False
    )
    description = _check_description(description)
    checked = _check_options(options or [])
    with store.write() as tx:
        case_type = type_of(tx, actor.org_id, type_id)
        if (
            len(tx.custom_attributes.list(actor.org_id, case_type.id))
            >= limits.MAX_CUSTOM_ATTRIBUTES
        ):
            raise InvalidRequestError(
                f"a case type has at most {limits.MAX_CUSTOM_ATTRIBUTES} custom attributes"
            )
        config = CustomAttributeConfig(
            id=new_id(),
            org_id=actor.org_id,
            type_id=case_type.id,
            key=key,
            display_name=display_name.strip(),
            description=description,
            type=kind,
            is_multi=is_multi,
            options=checked,
            map_from=None,
            created_at=now_us(),
        )
        tx.custom_attributes.insert(config)
    return config


def _config_of(
    tx: Transaction, actor: Actor, type_ref: str, config_ref: str
) -> CustomAttributeConfig:
    type_id = type_id_of(type_ref)
    config_id = config_id_of(config_ref)
    type_of(tx, actor.org_id, type_id)
    config = tx.custom_attributes.get(actor.org_id, config_id)
    if config is None or config.type_id != type_id:
        raise CustomAttributeNotFoundError(config_ref)
    return config


def update_config(
    store: Store,
    type_ref: str,
    config_ref: str,
    *,
    actor: Actor,
    display_name: str | None = None,
    description: str | None = None,
    type: str | None = None,
    options: Sequence[str] | None = None,
    map_from: str | None = None,
) -> CustomAttributeConfig:
    """Change a config's given fields. Its type cannot change while cases hold values, nor
    can a SELECT lose an option that cases hold (409, with how many)."""
    require_scope(actor, Scope.CASES_WRITE)
    kind = None if type is None else _check_kind(type)
    checked = None if options is None else _check_options(options)
    with store.write() as tx:
        config = _config_of(tx, actor, type_ref, config_ref)
        if display_name is not None:
            config.display_name = _check_text(
                "display_name", display_name, limits.MAX_DISPLAY_NAME_CHARS, empty=False
            ).strip()
        if description is not None:
            config.description = _check_description(description)
        if map_from is not None:
            config.map_from = (
                _check_text("map_from", map_from, limits.MAX_DISPLAY_NAME_CHARS) or None
            )
        if kind is not None and kind != config.type:
            _refuse_if_held(tx, config, "change type", lambda value: True)
            config.type = kind
        if checked is not None:
            if config.type == "SELECT":
                kept = {o.casefold() for o in checked}
                _refuse_if_held(
                    tx, config, "lose an option", lambda value: str(value).casefold() not in kept
                )
            config.options = checked
        config.modified_at = now_us()
        tx.custom_attributes.change(config)
    return config


def _refuse_if_held(
    tx: Transaction, config: CustomAttributeConfig, what: str, held: Callable[[object], bool]
) -> None:
    """ConflictError, with how many, if cases of the config's type hold a value ``held``."""
    count = 0
    for _, _, values in tx.cases.custom_values_of(config.org_id, config.type_id, config.key):
        value = values[config.key]["value"]
        if any(held(v) for v in (value if isinstance(value, list) else [value])):
            count += 1
    if count:
        cases = f"{count} case{'s' if count != 1 else ''}"
        raise ConflictError(f"custom attribute {config.key} cannot {what}: {cases} hold a value")


def delete_config(store: Store, type_ref: str, config_ref: str, *, actor: Actor) -> None:
    """Delete a config, and its value from every case of the type (each with a timeline cell)."""
    require_scope(actor, Scope.CASES_WRITE)
    at = now_us()
    with store.write() as tx:
        config = _config_of(tx, actor, type_ref, config_ref)
        for case_id, version, values in tx.cases.custom_values_of(
            actor.org_id, config.type_id, config.key
        ):
            old = values.pop(config.key)
            update = CaseUpdate(
                custom_attributes=values,
                version=version + 1,
                modified_at=at,
                modified_by=actor.user_id,
            )
            tx.cases.update(actor.org_id, case_id, update)
            tx.history.record(
                actor.org_id,
                case_id,
                actor.user_id,
                at,
                [custom_change(config.key, old, None)],
                depth=actor.depth,
            )
        tx.custom_attributes.delete(actor.org_id, config.id)


def custom_change(key: str, old: CustomValue | None, new: CustomValue | None) -> CaseChange:
    """The history row of a custom attribute's value: ``custom_attributes.<key>``, the
    values as JSON (None when unset)."""
    return CaseChange(
        f"{CUSTOM_FIELD_PREFIX}{key}",
        None if old is None else json_text(old["value"]),
        None if new is None else json_text(new["value"]),
    )


# --- values on cases ------------------------------------------------------------------


def configs_of(tx: Transaction, org_id: str, type_id: str) -> dict[str, CustomAttributeConfig]:
    """A type's configs by key."""
    return {c.key: c for c in tx.custom_attributes.list(org_id, type_id)}


def _scalar(config: CustomAttributeConfig, value: Any) -> str | float:
    key = config.key
    if config.type == "NUMBER":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidValueError(f"invalid value for {key}: a NUMBER takes numbers")
        return float(value)
    if not isinstance(value, str):
        raise InvalidValueError(f"invalid value for {key}: a {config.type} takes strings")
    if len(value) > limits.MAX_CUSTOM_TEXT_CHARS:
        raise InvalidValueError(
            f"invalid value for {key}: longer than {limits.MAX_CUSTOM_TEXT_CHARS} characters"
        )
    if config.type == "URL":
        parts = urllib.parse.urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidValueError(f"invalid value for {key}: {value!r} is not an http(s) URL")
    elif config.type == "SELECT":
        for option in config.options:
            if option.casefold() == value.casefold():
                return option
        allowed = ", ".join(config.options) or "its options (it has none yet)"
        raise InvalidValueError(f"invalid value for {key}: {value!r} is not one of {allowed}")
    return value


def check_value(
    config: CustomAttributeConfig, kind: str | None, is_multi: bool | None, value: Any
) -> CustomValue | None:
    """The value to store for ``config`` (None: an empty list, which clears it), or
    InvalidValueError naming the key. ``kind`` and ``is_multi`` must be the config's."""
    key = config.key
    if kind is not None and kind != config.type:
        raise InvalidValueError(f"invalid value for {key}: it is a {config.type}, not {kind}")
    if is_multi is not None and is_multi != config.is_multi:
        many = "takes a list of values" if config.is_multi else "takes one value"
        raise InvalidValueError(f"invalid value for {key}: it {many} (is_multi {config.is_multi})")
    if config.is_multi:
        if not isinstance(value, list):
            raise InvalidValueError(f"invalid value for {key}: it takes a list of values")
        if len(value) > limits.MAX_CUSTOM_VALUES:
            raise InvalidValueError(
                f"invalid value for {key}: more than {limits.MAX_CUSTOM_VALUES} values"
            )
        values = list(dict.fromkeys(_scalar(config, v) for v in value))
        if not values:
            return None
        return {"is_multi": True, "type": config.type, "value": values}
    if isinstance(value, list):
        raise InvalidValueError(f"invalid value for {key}: it takes one value, not a list")
    return {"is_multi": False, "type": config.type, "value": _scalar(config, value)}


def check_values(
    configs: dict[str, CustomAttributeConfig], given: dict[str, Any]
) -> dict[str, CustomValue]:
    """The ``custom_attributes`` of a new case: each key one of its type's, each value as
    ``check_value`` takes it (``{"type", "is_multi", "value"}``)."""
    checked: dict[str, CustomValue] = {}
    for key, body in given.items():
        config = configs.get(key)
        if config is None:
            raise InvalidValueError(f"unknown custom attribute {key!r} for the case's type")
        if not isinstance(body, dict) or "value" not in body:
            raise InvalidRequestError(
                f"invalid custom attribute {key}: expected {{type, is_multi, value}}"
            )
        value = check_value(config, body.get("type"), body.get("is_multi"), body["value"])
        if value is not None:
            checked[key] = value
    return checked


def require_config(
    tx: Transaction, org_id: str, case: Case, key: str, command: str
) -> CustomAttributeConfig:
    """The config of ``key`` in the case's type, or the recorded 404 naming the key."""
    config = configs_of(tx, org_id, case.type_id).get(key)
    if config is None:
        raise CustomAttributeNotFoundError(key, key=key, command=command)
    return config


def allowed_in_project(tx: Transaction, org_id: str, project_id: str, case_type: CaseType) -> None:
    """A project that lists ``enabled_custom_case_types`` takes only those custom types."""
    if case_type.builtin:
        return
    project = tx.projects.get(org_id, project_id)
    if (
        project is not None
        and project.enabled_custom_case_types
        and (case_type.id not in project.enabled_custom_case_types)
    ):
        raise InvalidValueError(
            f"case type {case_type.name} is not enabled in project {project.key}"
        )
