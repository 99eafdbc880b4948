"""An emulator per test, served in process (Starlette's TestClient); its template is built
once per session (the schema script: a few ms)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from casebook.emulator import EmulatorApp, Tenants
from casebook.storage.memory import MemoryStore


@pytest.fixture(scope="session")
def template() -> MemoryStore:
    return MemoryStore.template()


def emulator_client(template: MemoryStore, **options: Any) -> TestClient:
    return TestClient(EmulatorApp(Tenants(template=template, **options)))


@pytest.fixture
def emulator(template: MemoryStore) -> Iterator[TestClient]:
    with emulator_client(template) as client:
        yield client


def keys(name: str) -> dict[str, str]:
    """Request headers of the organisation ``name`` (any keys work)."""
    return {"DD-API-KEY": f"api-{name}", "DD-APPLICATION-KEY": f"app-{name}"}


def project_body(key: str, name: str = "Project") -> dict[str, Any]:
    return {"data": {"type": "project", "attributes": {"key": key, "name": name}}}


def case_body(project_id: str, title: str, **attributes: Any) -> dict[str, Any]:
    return {
        "data": {
            "type": "case",
            "attributes": {
                "title": title,
                "type_id": "00000000-0000-0000-0000-000000000001",
                **attributes,
            },
            "relationships": {"project": {"data": {"id": project_id, "type": "project"}}},
        }
    }
