"""BulkUpdateCases's body: ``{"data": {"type": "bulk", "attributes": {"case_ids": [...],
"type": "priority", "payload": {"priority": "P1"}}}}``. It answers 200 without a body, as
the spec declares and the official clients expect (``bulk_update_cases`` returns None)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from casebook.domain import limits
from casebook.domain.bulk import ACTIONS, EXTERNAL_ACTIONS
from casebook.http.schemas.common import Short

CaseIds = Annotated[list[Short], msgspec.Meta(max_length=limits.MAX_BULK_CASES)]
# Checked by the domain, which names the actions in its error; the document lists them.
BulkAction = Annotated[
    str, msgspec.Meta(max_length=64, extra_json_schema={"enum": [*ACTIONS, *EXTERNAL_ACTIONS]})
]
# Each action takes one or two keys; others are ignored, as unknown members are everywhere.
Payload = Annotated[dict[Short, Short], msgspec.Meta(max_length=16)]


class CaseBulkUpdateRequestAttributes(msgspec.Struct):
    case_ids: CaseIds
    type: BulkAction
    payload: Payload | None = None


class CaseBulkUpdateRequestData(msgspec.Struct):
    type: str
    attributes: CaseBulkUpdateRequestAttributes | None = None  # checked after type


class CaseBulkUpdateRequest(msgspec.Struct):
    data: CaseBulkUpdateRequestData
