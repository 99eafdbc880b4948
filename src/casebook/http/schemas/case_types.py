"""Case type and custom attribute shapes: ``/api/v2/cases/types``.

Two casebook extensions ride in Datadog's shapes, and are documented in docs/api.md:
a type's ``statuses`` (its ordered statuses, each in a status group), which the
spec has no endpoint for, and a config's ``type_data.options`` on create (the spec
takes options on update only).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from casebook.core.entities import CaseType, CustomAttributeConfig
from casebook.domain import limits
from casebook.domain.case_types import StatusIn
from casebook.http.schemas.common import Short, optional_rfc3339

Name = Annotated[str, msgspec.Meta(max_length=limits.MAX_CASE_TYPE_NAME_CHARS * 4)]
Text = Annotated[str, msgspec.Meta(max_length=limits.MAX_CASE_TYPE_DESCRIPTION_CHARS * 4)]
Value = Annotated[str, msgspec.Meta(max_length=limits.MAX_CUSTOM_TEXT_CHARS * 4)]

# --- requests -------------------------------------------------------------------


class StatusBody(msgspec.Struct):
    """A status: ``group`` is SG_OPEN, SG_IN_PROGRESS or SG_CLOSED; ``id`` names one the
    type has (keep it under a new name), none makes a new one."""

    name: Short
    group: Short
    id: Short | None = None


Statuses = Annotated[list[StatusBody], msgspec.Meta(max_length=limits.MAX_STATUSES)]


class CaseTypeAttributesIn(msgspec.Struct):
    name: Name | None = None  # required on create
    description: Text | None = None
    emoji: Short | None = None
    statuses: Statuses | None = None  # extension


class CaseTypeData(msgspec.Struct):
    type: str
    attributes: CaseTypeAttributesIn | None = None


class CaseTypeRequest(msgspec.Struct):
    """Both CreateCaseType's and UpdateCaseType's body."""

    data: CaseTypeData


def status_ins(given: list[StatusBody] | None) -> list[StatusIn] | None:
    return None if given is None else [StatusIn(s.name, s.group, s.id) for s in given]


class OptionBody(msgspec.Struct):
    value: Value


class TypeData(msgspec.Struct):
    options: Annotated[list[OptionBody], msgspec.Meta(max_length=limits.MAX_SELECT_OPTIONS)] = []


class ConfigCreateAttributes(msgspec.Struct):
    display_name: Name
    is_multi: bool
    key: Short
    type: Short
    description: Text = ""
    type_data: TypeData | None = None  # extension: SELECT options from the start


class ConfigCreateData(msgspec.Struct):
    type: str
    attributes: ConfigCreateAttributes | None = None


class ConfigCreateRequest(msgspec.Struct):
    data: ConfigCreateData


class ConfigUpdateAttributes(msgspec.Struct):
    description: Text | None = None
    display_name: Name | None = None
    map_from: Short | None = None
    type: Short | None = None
    type_data: TypeData | None = None


class ConfigUpdateData(msgspec.Struct):
    type: str
    attributes: ConfigUpdateAttributes | None = None


class ConfigUpdateRequest(msgspec.Struct):
    data: ConfigUpdateData


def options_of(type_data: TypeData | None) -> list[str] | None:
    return None if type_data is None else [o.value for o in type_data.options]


CustomScalar = Value | float


class CustomValueAttributes(msgspec.Struct):
    """UpdateCaseCustomAttribute's attributes: the value, with its config's type."""

    is_multi: bool
    type: Short
    value: (
        CustomScalar
        | Annotated[list[CustomScalar], msgspec.Meta(max_length=limits.MAX_CUSTOM_VALUES)]
    )


class CaseTypeIdAttributes(msgspec.Struct):
    """The extension ChangeCaseType's attributes."""

    type_id: Short


# --- responses ------------------------------------------------------------------


class StatusPublic(msgspec.Struct):
    id: str
    name: str
    group: str


class CaseTypeAttributesPublic(msgspec.Struct, omit_defaults=True):
    deleted_at: str | None = None
    description: str = ""
    emoji: str = ""
    name: str = ""
    statuses: list[StatusPublic] = []  # extension


class CaseTypePublic(msgspec.Struct):
    id: str
    type: Literal["case_type"]
    attributes: CaseTypeAttributesPublic


class CaseTypeDocument(msgspec.Struct):
    data: CaseTypePublic


class CaseTypeList(msgspec.Struct):
    data: list[CaseTypePublic]


def case_type_public(case_type: CaseType) -> CaseTypePublic:
    return CaseTypePublic(
        id=case_type.id,
        type="case_type",
        attributes=CaseTypeAttributesPublic(
            deleted_at=optional_rfc3339(case_type.deleted_at),
            description=case_type.description,
            emoji=case_type.emoji,
            name=case_type.name,
            statuses=[StatusPublic(s.id, s.name, s.group.group) for s in case_type.statuses],
        ),
    )


class OptionPublic(msgspec.Struct):
    value: str


class TypeDataPublic(msgspec.Struct):
    options: list[OptionPublic]


class ConfigAttributesPublic(msgspec.Struct, kw_only=True, omit_defaults=True):
    case_type_id: str
    description: str
    display_name: str
    is_multi: bool
    key: str
    map_from: str | None = None  # once set
    type: str
    type_data: TypeDataPublic | None = None  # SELECT: its options


class ConfigPublic(msgspec.Struct):
    id: str
    type: Literal["custom_attribute"]
    attributes: ConfigAttributesPublic


class ConfigDocument(msgspec.Struct):
    data: ConfigPublic


class ConfigList(msgspec.Struct):
    data: list[ConfigPublic]


def config_public(config: CustomAttributeConfig) -> ConfigPublic:
    return ConfigPublic(
        id=config.id,
        type="custom_attribute",
        attributes=ConfigAttributesPublic(
            case_type_id=config.type_id,
            description=config.description,
            display_name=config.display_name,
            is_multi=config.is_multi,
            key=config.key,
            map_from=config.map_from,
            type=config.type,
            type_data=(
                TypeDataPublic([OptionPublic(o) for o in config.options])
                if config.type == "SELECT"
                else None
            ),
        ),
    )
