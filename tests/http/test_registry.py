"""The operation registry against Datadog's spec, in both directions, and the docs built from it.

Like zulip's ``test_openapi.py``: every operation casebook serves exists in
``shared/spec/case-management.openapi.yaml`` with the same method, path,
parameters and success status; every operation of the spec is served or on the
registry's explicit ``NOT_YET`` list, which ``docs/api.md`` shows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from casebook.http import openapi
from casebook.http.registry import NOT_YET, OPERATIONS

ROOT = Path(__file__).resolve().parents[2]
SHARED_SPEC = ROOT.parent / "shared" / "spec" / "case-management.openapi.yaml"


@pytest.fixture(scope="module")
def spec_operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    if not SHARED_SPEC.exists():
        if os.environ.get("CI"):
            pytest.fail("shared/spec is not beside the repository; CI must have it")
        pytest.skip("shared/spec is not beside the repository")
    spec = yaml.load(SHARED_SPEC.read_text(), Loader=yaml.CSafeLoader)
    return {
        op["operationId"]: (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }


def _parameters(op: dict[str, Any]) -> set[tuple[str, str]]:
    return {(p["name"], p["in"]) for p in op.get("parameters", [])}


def test_every_served_operation_is_the_specs(spec_operations: dict) -> None:
    for op in OPERATIONS:
        if op.source != "cases":
            continue  # another API's: see test_webhooks_operations_are_the_clients
        if op.extension:
            assert op.operation_id not in spec_operations, f"{op.operation_id} is Datadog's"
            assert all((m, p) != (op.method, op.path) for m, p, _ in spec_operations.values())
            continue
        assert op.operation_id in spec_operations, f"{op.operation_id} is not in the spec"
        method, path, theirs = spec_operations[op.operation_id]
        assert (op.method, op.path) == (method, path), op.operation_id
        ours = {(name, "path") for name in op.path_params}
        ours |= {(q.name, "query") for q in op.query}
        assert ours == _parameters(theirs), op.operation_id
        assert str(op.success) in theirs["responses"], op.operation_id
        assert (op.request is not None) == ("requestBody" in theirs), op.operation_id


def test_every_spec_operation_is_served_or_not_yet(spec_operations: dict) -> None:
    served = {op.operation_id for op in OPERATIONS if not op.extension and op.source == "cases"}
    missing = set(spec_operations) - served - set(NOT_YET)
    assert not missing, f"neither served nor in NOT_YET: {sorted(missing)}"
    stale = set(NOT_YET) - set(spec_operations)
    assert not stale, f"NOT_YET names operations the spec lacks: {sorted(stale)}"
    assert not served & set(NOT_YET)
    seeded = {op_id for op_id, (_, _, op) in spec_operations.items() if op.get("x-seed")}
    assert seeded <= served, seeded - served
    print(f"{len(served)} of {len(spec_operations)} operations served; not yet:")
    for operation_id, work in NOT_YET.items():
        print(f"  {operation_id} ({work})")


def test_the_served_document_is_built_from_the_registry(api: Any) -> None:
    doc = api.client.get("/api/v2/openapi.json").json()
    served = {
        (method.upper(), path, op["operationId"])
        for path, item in doc["paths"].items()
        for method, op in item.items()
    }
    assert served == {(op.method, op.path, op.operation_id) for op in OPERATIONS}


def test_docs_show_the_registry() -> None:
    page = (ROOT / "docs" / "api.md").read_text()
    fix = "run python -m casebook.http.openapi docs/api.md"
    assert openapi.docs_table() in page, f"docs/api.md lacks the registry's table: {fix}"
    assert openapi.docs_not_yet() in page, f"docs/api.md lacks the not-yet list: {fix}"


def test_webhooks_operations_are_the_clients() -> None:
    """The Webhooks integration API is not in the case spec: its operations match the
    official client's (``WebhooksIntegrationApi``) method, path and operation id."""
    from datadog_api_client import ApiClient, Configuration
    from datadog_api_client.v1.api.webhooks_integration_api import WebhooksIntegrationApi

    api = WebhooksIntegrationApi(ApiClient(Configuration()))
    theirs = {}
    for name in dir(api):
        endpoint = getattr(api, name, None)
        settings = getattr(endpoint, "settings", None)
        if isinstance(settings, dict) and "operation_id" in settings:
            path = settings["endpoint_path"]
            if path.endswith("/webhooks") or path.endswith("{webhook_name}"):
                theirs[settings["operation_id"]] = (settings["http_method"], path)
    ours = {op.operation_id: (op.method, op.path) for op in OPERATIONS if op.source == "webhooks"}
    # The client names them in snake case (create_webhooks_integration).
    assert {k.lower(): v for k, v in ours.items()} == {
        k.replace("_", ""): v for k, v in theirs.items()
    }
