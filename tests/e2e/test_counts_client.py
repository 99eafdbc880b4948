"""CountCases and AggregateCases with the official Python client (``datadog-api-client``).

One scenario per back end against a live ``casebook serve``, with the client's model
validation on: ``count_cases`` with and without groups and a limit, ``aggregate_cases``
by one and two fields, and a bad filter answered 400. What casebook adds beyond the
client's models (a count's ``total``, an aggregate group's ``by``) the client keeps as
additional properties.
"""

from __future__ import annotations

import pytest
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v2.api.case_management_api import CaseManagementApi
from datadog_api_client.v2.models import (
    CaseAggregateGroupBy,
    CaseAggregateRequest,
    CaseAggregateRequestAttributes,
    CaseAggregateRequestData,
    CaseAggregateResourceType,
    CaseAggregateResponse,
    CaseCountResponse,
    CaseCreate,
    CaseCreateAttributes,
    CaseCreateRelationships,
    CaseCreateRequest,
    CasePriority,
    CaseResourceType,
    CaseStatus,
    CaseUpdatePriority,
    CaseUpdatePriorityAttributes,
    CaseUpdatePriorityRequest,
    CaseUpdateStatus,
    CaseUpdateStatusAttributes,
    CaseUpdateStatusRequest,
    ProjectRelationship,
    ProjectRelationshipData,
    ProjectResourceType,
)

from casebook.core.entities import STANDARD_CASE_TYPE_ID
from tests.e2e.conftest import make_client
from tests.support.official import new_project_and_case, parsed
from tests.support.server import Keys, ServerProcess

pytestmark = pytest.mark.slow


def aggregate_request(groups: list[str], query: str, limit: int = 100) -> CaseAggregateRequest:
    return CaseAggregateRequest(
        data=CaseAggregateRequestData(
            type=CaseAggregateResourceType.AGGREGATE,
            attributes=CaseAggregateRequestAttributes(
                query_filter=query, group_by=CaseAggregateGroupBy(groups=groups, limit=limit)
            ),
        )
    )


def test_counting_and_aggregating(live_server: tuple[ServerProcess, Keys]) -> None:
    server, keys = live_server
    with make_client(server, keys) as client:
        cases = CaseManagementApi(client)
        first = new_project_and_case(cases, "SEC", "Suspicious login")
        for title in ("Phishing mail", "Disk full"):
            case = cases.create_case(body=_case_in(cases, first, title))
            cases.update_priority(
                case_id=case.data.id,
                body=CaseUpdatePriorityRequest(
                    data=CaseUpdatePriority(
                        type=CaseResourceType.CASE,
                        attributes=CaseUpdatePriorityAttributes(priority=CasePriority.P2),
                    )
                ),
            )
        cases.update_status(
            case_id=first,
            body=CaseUpdateStatusRequest(
                data=CaseUpdateStatus(
                    type=CaseResourceType.CASE,
                    attributes=CaseUpdateStatusAttributes(status=CaseStatus.CLOSED),
                )
            ),
        )

        counted = parsed(cases.count_cases(query_filter="project:SEC", group_bys="status,priority"))
        assert isinstance(counted, CaseCountResponse)
        assert counted.data.type == "count"
        groups = {
            g.group: [(v.value, v.count) for v in g.group_values]
            for g in counted.data.attributes.groups
        }
        assert groups == {
            "status": [("OPEN", 2), ("CLOSED", 1)],
            "priority": [("P2", 2), ("NOT_DEFINED", 1)],
        }
        assert counted.data.attributes["total"] == 3  # casebook's extension
        assert parsed(cases.count_cases()).data.attributes.groups == []
        limited = parsed(cases.count_cases(group_bys="priority", limit=1))
        assert [v.value for v in limited.data.attributes.groups[0].group_values] == ["P2"]

        aggregated = parsed(
            cases.aggregate_cases(body=aggregate_request(["status"], "service:case-api"))
        )
        assert isinstance(aggregated, CaseAggregateResponse)
        assert aggregated.data.type == "aggregate"
        assert aggregated.data.attributes.total == 0.0
        assert aggregated.data.attributes.groups == []
        both = parsed(cases.aggregate_cases(body=aggregate_request(["status", "priority"], "")))
        assert both.data.attributes.total == 3.0
        assert [(g.group, g.value) for g in both.data.attributes.groups] == [
            ("OPEN,P2", [2.0]),
            ("CLOSED,NOT_DEFINED", [1.0]),
        ]
        assert both.data.attributes.groups[0]["by"] == {"status": "OPEN", "priority": "P2"}

        with pytest.raises(ApiException) as refused:
            cases.count_cases(query_filter="stauts:open")
        assert refused.value.status == 400
        assert 'did you mean "status"' in str(refused.value.body)


def _case_in(cases: CaseManagementApi, sibling: str, title: str) -> CaseCreateRequest:
    """A create request for a case in the project of ``sibling``."""
    project = cases.get_case(case_id=sibling).data.relationships.project.data.id
    return CaseCreateRequest(
        data=CaseCreate(
            type=CaseResourceType.CASE,
            attributes=CaseCreateAttributes(title=title, type_id=STANDARD_CASE_TYPE_ID),
            relationships=CaseCreateRelationships(
                project=ProjectRelationship(
                    data=ProjectRelationshipData(id=project, type=ProjectResourceType.PROJECT)
                )
            ),
        )
    )
