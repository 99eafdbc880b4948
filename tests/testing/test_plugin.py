"""casebook's pytest plugin, as a project that installs casebook uses it: the ``casebook``
fixture gives each test a fresh organisation, under xdist too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "emulator.md"


def doc_example() -> str:
    """The example test of docs/emulator.md (its first Python block that defines a test)."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return next(block for block in blocks if "def test_" in block)


EXAMPLE = """
from datadog_api_client import ApiClient
from datadog_api_client.v2.api.case_management_api import CaseManagementApi
from datadog_api_client.v2.model.case_create import CaseCreate
from datadog_api_client.v2.model.case_create_attributes import CaseCreateAttributes
from datadog_api_client.v2.model.case_create_relationships import CaseCreateRelationships
from datadog_api_client.v2.model.case_create_request import CaseCreateRequest
from datadog_api_client.v2.model.case_resource_type import CaseResourceType
from datadog_api_client.v2.model.project_relationship import ProjectRelationship
from datadog_api_client.v2.model.project_relationship_data import ProjectRelationshipData
from datadog_api_client.v2.model.project_resource_type import ProjectResourceType

DDFC = "d4bbe1af-f36e-42f1-87c1-493ca35c320e"


def new_case(title):
    return CaseCreateRequest(
        data=CaseCreate(
            attributes=CaseCreateAttributes(
                title=title, type_id="00000000-0000-0000-0000-000000000001"
            ),
            relationships=CaseCreateRelationships(
                project=ProjectRelationship(
                    data=ProjectRelationshipData(id=DDFC, type=ProjectResourceType.PROJECT)
                )
            ),
            type=CaseResourceType.CASE,
        )
    )


def test_a_case_sends_a_webhook(casebook):
    casebook.seed(
        projects=[{"id": DDFC, "key": "DDFC", "name": "Fixtures"}],
        webhooks=[{"name": "ci", "url": "https://hooks.example.com/ci"}],
        rules=[{"project": "DDFC", "recipients": [{"type": "HTTP", "data": {"name": "ci"}}]}],
    )
    with ApiClient(casebook.configuration) as client:
        case = CaseManagementApi(client).create_case(body=new_case("Suspicious login"))
    (sent,) = casebook.outbox()
    assert sent["request"]["url"] == "https://hooks.example.com/ci"
    assert sent["request"]["body"]["case"]["id"] == case.data.id
    assert [r["operation_id"] for r in casebook.requests()] == ["CreateCase"]


def test_each_test_has_a_fresh_organisation(casebook):
    assert casebook.outbox() == []
    assert casebook.requests() == []
    casebook.seed(projects=[{"id": DDFC, "key": "DDFC", "name": "Fixtures"}])


def test_clock_and_faults(casebook):
    casebook.seed(projects=[{"id": DDFC, "key": "DDFC", "name": "Fixtures"}])
    assert casebook.clock.freeze("2026-02-01T00:00:00Z")["frozen"] is True
    assert casebook.clock.advance("P1D")["now"] == "2026-02-02T00:00:00.000000Z"
    casebook.faults.add(operation_id="CreateCase", status=500, count=1)
    with ApiClient(casebook.configuration) as client:
        api = CaseManagementApi(client)
        try:
            api.create_case(body=new_case("refused"))
        except Exception as exc:
            assert exc.status == 500
        else:
            raise AssertionError("the fault did not fire")
        made = api.create_case(body=new_case("accepted"))
    assert made.data.attributes.created_at.isoformat().startswith("2026-02-02")
    assert casebook.faults.list() == []
"""


@pytest.mark.slow  # three interpreters start (~5 s)
@pytest.mark.parametrize("workers", [["-n", "2"]])
def test_the_plugin_under_xdist(pytester: pytest.Pytester, workers: list[str]) -> None:
    pytester.makepyfile(test_integration=EXAMPLE, test_doc=doc_example())
    result = pytester.runpytest_subprocess(*workers, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_the_plugin_in_process(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_integration=EXAMPLE, test_doc=doc_example())
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_the_plugin_uses_a_running_emulator_when_told(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casebook.emulator import build
    from casebook.emulator.server import ThreadedEmulator

    emulator = ThreadedEmulator(build()).start()
    try:
        monkeypatch.setenv("CASEBOOK_EMULATOR_URL", emulator.base_url + "/")
        pytester.makepyfile(
            test_url=f"""
def test_it(casebook):
    assert casebook.base_url == {emulator.base_url!r}
    casebook.seed(projects=[{{"key": "SEC", "name": "Security"}}])
"""
        )
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
        result.assert_outcomes(passed=1)
        assert len(emulator.app.tenants.all()) == 0  # the test's organisation, reset after it
    finally:
        emulator.stop()
