"""Compare casebook's error bodies with Datadog's recorded ones.

casebook adds the request id to each JSON:API error object's ``meta`` (``request_id``, as
the ``X-Request-Id`` header has it; docs/operations.md); Datadog's recordings have none.
"""

from __future__ import annotations

from typing import Any


def as_recorded(body: Any) -> Any:
    """``body`` (a whole error answer, or one error object) without the request ids."""
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return {**body, "errors": [as_recorded(item) for item in body["errors"]]}
    if not isinstance(body, dict) or not isinstance(body.get("meta"), dict):
        return body
    item = dict(body)
    meta = {k: v for k, v in item.pop("meta").items() if k != "request_id"}
    if meta:
        item["meta"] = meta
    return item
