"""The served OpenAPI document: well-formed, and consistent with the shared Datadog spec."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.support.api import Api

SHARED_SPEC = (
    Path(__file__).resolve().parents[3] / "shared" / "spec" / "case-management.openapi.yaml"
)


@pytest.fixture(scope="module")
def shared_spec() -> dict:
    if not SHARED_SPEC.exists():
        pytest.skip("shared/spec is not beside the repository")
    return yaml.safe_load(SHARED_SPEC.read_text())


def _operations(doc: dict) -> dict[str, tuple[str, str, dict]]:
    return {
        op["operationId"]: (method, path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }


def test_served_without_keys(api: Api) -> None:
    r = api.client.get("/api/v2/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    assert "CaseDocument" in doc["components"]["schemas"]


def test_operations_match_the_shared_spec(api: Api, shared_spec: dict) -> None:
    ours = _operations(api.client.get("/api/v2/openapi.json").json())
    theirs = _operations(shared_spec)
    seeded = {op_id for op_id, (_, _, op) in theirs.items() if op.get("x-seed")}
    assert seeded <= set(ours), seeded - set(ours)
    for op_id, (method, path, op) in ours.items():
        their_method, their_path, their_op = theirs[op_id]
        assert (method, path) == (their_method, their_path), op_id
        ours_params = {p["name"] for p in op.get("parameters", [])}
        their_params = {p["name"] for p in their_op.get("parameters", [])}
        assert ours_params == their_params, op_id
        success = next(s for s in op["responses"] if s.startswith("2"))
        assert success in their_op["responses"], op_id
