"""Case types and their custom attribute configs: ``case_types``, ``custom_attribute_configs``.

Only an organisation's own types are rows; the built-in ones (``BUILTIN_CASE_TYPES``)
live in code and are the same everywhere. A type's statuses are a JSON list on its
row, in their order. Custom attribute configs may belong to a built-in type too.
"""

from __future__ import annotations

import builtins
from typing import Any, Protocol

import msgspec

from casebook.core.entities import CaseStatusDef, CaseType, CustomAttributeConfig, Status
from casebook.storage.columns import Column, Table, json_text
from casebook.storage.executor import Repository


class _StatusRow(msgspec.Struct, array_like=True):
    id: str
    name: str
    group: str


_statuses_decoder = msgspec.json.Decoder(list[_StatusRow])
_GROUPS = {s.value: s for s in Status}


def _load_statuses(text: str) -> list[CaseStatusDef]:
    return [CaseStatusDef(r.id, r.name, _GROUPS[r.group]) for r in _statuses_decoder.decode(text)]


def _dump_statuses(statuses: list[CaseStatusDef]) -> str:
    return json_text([[s.id, s.name, s.group.value] for s in statuses])


TYPES = Table(
    "case_types",
    CaseType,
    (
        Column("id"),
        Column("org_id"),
        Column("name"),
        Column("description"),
        Column("emoji"),
        Column("statuses", load=_load_statuses, dump=_dump_statuses),
        Column("created_at"),
        Column("modified_at"),
        Column("deleted_at"),
    ),
)

CONFIGS = Table(
    "custom_attribute_configs",
    CustomAttributeConfig,
    (
        Column("id"),
        Column("org_id"),
        Column("type_id"),
        Column("key"),
        Column("display_name"),
        Column("description"),
        Column("type"),
        Column("is_multi", load=bool, dump=int),
        Column("options", load=msgspec.json.decode, dump=json_text),
        Column("map_from"),
        Column("created_at"),
        Column("modified_at"),
    ),
)

_TYPE = f"SELECT {TYPES.select()} FROM case_types WHERE org_id = ? AND id = ?"
_TYPES = f"SELECT {TYPES.select()} FROM case_types WHERE org_id = ?"
_CHANGE_TYPE = (
    "UPDATE case_types SET name = ?, description = ?, emoji = ?, statuses = ?, modified_at = ?"
    " WHERE org_id = ? AND id = ?"
)
_DELETE_TYPE = "UPDATE case_types SET deleted_at = ? WHERE org_id = ? AND id = ?"
_NAME_TAKEN = (
    "SELECT 1 FROM case_types WHERE org_id = ? AND lower(name) = ? AND id <> ?"
    " AND deleted_at IS NULL"
)

_CONFIG_SELECT = f"SELECT {CONFIGS.select()} FROM custom_attribute_configs"
_CONFIG = f"{_CONFIG_SELECT} WHERE org_id = ? AND id = ?"
_CONFIGS = f"{_CONFIG_SELECT} WHERE org_id = ?"
_CONFIGS_OF_TYPE = f"{_CONFIG_SELECT} WHERE org_id = ? AND type_id = ?"
_CONFIGS_OF_KEYS = f"{_CONFIG_SELECT} WHERE org_id = ? AND key IN ({{}})"
_ORDER = " ORDER BY created_at, id"
_CHANGE_CONFIG = (
    "UPDATE custom_attribute_configs SET display_name = ?, description = ?, type = ?,"
    " options = ?, map_from = ?, modified_at = ? WHERE org_id = ? AND id = ?"
)
_DELETE_CONFIG = "DELETE FROM custom_attribute_configs WHERE org_id = ? AND id = ?"
_DELETE_CONFIGS_OF_TYPE = "DELETE FROM custom_attribute_configs WHERE org_id = ? AND type_id = ?"


class CaseTypes(Protocol):
    def insert(self, case_type: CaseType) -> None: ...
    def get(self, org_id: str, type_id: str) -> CaseType | None:
        """One of the organisation's own types, deleted ones included."""
        ...

    def list(self, org_id: str) -> list[CaseType]:
        """The organisation's own live types, oldest first."""
        ...

    def name_taken(self, org_id: str, name: str, but: str) -> bool:
        """Whether another live type (not ``but``) has this name, in any letter case."""
        ...

    def change(self, case_type: CaseType, at: int) -> None:
        """Write the type's name, description, emoji and statuses."""
        ...

    def delete(self, org_id: str, type_id: str, at: int) -> None:
        """Mark the type deleted, and drop its custom attribute configs."""
        ...


class CustomAttributes(Protocol):
    def insert(self, config: CustomAttributeConfig) -> None:
        """Raise ConflictError if the type already has the key."""
        ...

    def get(self, org_id: str, config_id: str) -> CustomAttributeConfig | None: ...
    def list(self, org_id: str, type_id: str | None = None) -> builtins.list[CustomAttributeConfig]:
        """The organisation's configs (of one type), oldest first."""
        ...

    def with_keys(
        self, org_id: str, keys: builtins.list[str]
    ) -> builtins.list[CustomAttributeConfig]:
        """The configs of any type that have one of these keys."""
        ...

    def change(self, config: CustomAttributeConfig) -> None:
        """Write the changeable fields: display name, description, type, options, map_from."""
        ...

    def delete(self, org_id: str, config_id: str) -> None: ...


class SqlCaseTypes(Repository):
    """Implements ``CaseTypes``."""

    __slots__ = ()

    def insert(self, case_type: CaseType) -> None:
        self._sql.execute(TYPES.insert, TYPES.row(case_type))

    def get(self, org_id: str, type_id: str) -> CaseType | None:
        row = self._sql.one(_TYPE, (org_id, type_id))
        return None if row is None else TYPES.load(row)

    def list(self, org_id: str) -> list[CaseType]:
        rows = self._sql.all(_TYPES + " AND deleted_at IS NULL" + _ORDER, (org_id,))
        return [TYPES.load(row) for row in rows]

    def name_taken(self, org_id: str, name: str, but: str) -> bool:
        return self._sql.one(_NAME_TAKEN, (org_id, name.lower(), but)) is not None

    def change(self, case_type: CaseType, at: int) -> None:
        t = case_type
        params: tuple[Any, ...] = (t.name, t.description, t.emoji, _dump_statuses(t.statuses))
        self._sql.execute(_CHANGE_TYPE, (*params, at, t.org_id, t.id))

    def delete(self, org_id: str, type_id: str, at: int) -> None:
        self._sql.execute(_DELETE_TYPE, (at, org_id, type_id))
        self._sql.execute(_DELETE_CONFIGS_OF_TYPE, (org_id, type_id))


class SqlCustomAttributes(Repository):
    """Implements ``CustomAttributes``."""

    __slots__ = ()

    def insert(self, config: CustomAttributeConfig) -> None:
        self._sql.execute_unique(
            CONFIGS.insert,
            CONFIGS.row(config),
            f"the case type already has a custom attribute with key {config.key}",
        )

    def get(self, org_id: str, config_id: str) -> CustomAttributeConfig | None:
        row = self._sql.one(_CONFIG, (org_id, config_id))
        return None if row is None else CONFIGS.load(row)

    def list(self, org_id: str, type_id: str | None = None) -> builtins.list[CustomAttributeConfig]:
        if type_id is None:
            rows = self._sql.all(_CONFIGS + _ORDER, (org_id,))
        else:
            rows = self._sql.all(_CONFIGS_OF_TYPE + _ORDER, (org_id, type_id))
        return [CONFIGS.load(row) for row in rows]

    def with_keys(
        self, org_id: str, keys: builtins.list[str]
    ) -> builtins.list[CustomAttributeConfig]:
        if not keys:
            return []
        sql = _CONFIGS_OF_KEYS.format(", ".join("?" * len(keys)))
        return [CONFIGS.load(row) for row in self._sql.all(sql + _ORDER, (org_id, *keys))]

    def change(self, config: CustomAttributeConfig) -> None:
        c = config
        self._sql.execute(
            _CHANGE_CONFIG,
            (
                c.display_name,
                c.description,
                c.type,
                json_text(c.options),
                c.map_from,
                c.modified_at,
                c.org_id,
                c.id,
            ),
        )

    def delete(self, org_id: str, config_id: str) -> None:
        self._sql.execute(_DELETE_CONFIG, (org_id, config_id))
