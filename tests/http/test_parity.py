"""docs/parity.md is the registry's: every Datadog operation, served or not, and its differences."""

from __future__ import annotations

from pathlib import Path

import yaml

from casebook.http import parity
from casebook.http.registry import NOT_YET, OPERATIONS

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "spec" / "case-management.openapi.yaml"


def test_the_page_is_what_the_registry_makes() -> None:
    page = (ROOT / "docs" / "parity.md").read_text()
    assert page == parity.page(), "run: python -m casebook.http.parity docs/parity.md"


def test_differences_name_only_registered_operations() -> None:
    assert parity.unknown_differences() == set()


def test_every_operation_of_the_spec_has_a_row() -> None:
    spec = yaml.load(SPEC.read_text(), Loader=yaml.CSafeLoader)
    ids = {
        op["operationId"]
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    page = parity.page()
    for operation_id in ids:
        assert f"| {operation_id} |" in page, operation_id
    served = {op.operation_id for op in OPERATIONS if not op.extension} | set(NOT_YET)
    assert ids <= served


def test_a_difference_shows_in_its_row(monkeypatch) -> None:
    monkeypatch.setitem(parity.DIFFERENCES, "GetCase", ("Answers in Klingon.",))
    row = next(line for line in parity.page().splitlines() if line.startswith("| GetCase |"))
    assert row.endswith("| Answers in Klingon. |")
    assert parity.page() != (ROOT / "docs" / "parity.md").read_text()
