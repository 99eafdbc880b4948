"""Working a case with the official Python client (``datadog-api-client``), end to end.

One scenario per back end drives the eighteen operations of working a case
(title, description, attributes, due date, resolved reason, insights, comments,
timeline, watchers, links, moves) against a live ``casebook serve``, with the
client's models reading every answer. What casebook adds beyond the client's
models (``comment_count``, ``due_date``, ``insights``, ``resolved_reason``) the
client keeps as additional properties, read here with ``attributes[...]``.

The client's ``TimelineCellType`` knows only ``COMMENT``: an ``ACTIVITY`` cell
(casebook's documented extension) is read, but its type is flagged as a value
the client does not know. ``cell_ok`` checks that is the only thing it flags.
"""

from __future__ import annotations

from typing import Any

import pytest
from datadog_api_client import ApiClient
from datadog_api_client.v2.api.case_management_api import CaseManagementApi
from datadog_api_client.v2.api.users_api import UsersApi
from datadog_api_client.v2.models import (
    CaseComment,
    CaseCommentAttributes,
    CaseCommentRequest,
    CaseCreate,
    CaseCreateAttributes,
    CaseCreateRelationships,
    CaseCreateRequest,
    CaseInsight,
    CaseInsightsAttributes,
    CaseInsightsData,
    CaseInsightsRequest,
    CaseInsightType,
    CaseLinkAttributes,
    CaseLinkCreate,
    CaseLinkCreateRequest,
    CaseLinkResourceType,
    CaseObjectAttributes,
    CaseResourceType,
    CaseUpdateAttributes,
    CaseUpdateAttributesAttributes,
    CaseUpdateAttributesRequest,
    CaseUpdateComment,
    CaseUpdateCommentAttributes,
    CaseUpdateCommentRequest,
    CaseUpdateDescription,
    CaseUpdateDescriptionAttributes,
    CaseUpdateDescriptionRequest,
    CaseUpdateDueDate,
    CaseUpdateDueDateAttributes,
    CaseUpdateDueDateRequest,
    CaseUpdateResolvedReason,
    CaseUpdateResolvedReasonAttributes,
    CaseUpdateResolvedReasonRequest,
    CaseUpdateTitle,
    CaseUpdateTitleAttributes,
    CaseUpdateTitleRequest,
    ProjectCreate,
    ProjectCreateAttributes,
    ProjectCreateRequest,
    ProjectRelationship,
    ProjectRelationshipData,
    ProjectResourceType,
    TimelineCellType,
    UserCreateAttributes,
    UserCreateData,
    UserCreateRequest,
    UsersType,
)

from casebook.core.entities import STANDARD_CASE_TYPE_ID
from tests.e2e.conftest import make_client
from tests.support.official import new_project_and_case, parsed
from tests.support.server import Keys, ServerProcess

pytestmark = pytest.mark.slow

SIGNAL = CaseInsight(
    type=CaseInsightType.SECURITY_SIGNAL, ref="/security/signals/AAAA", resource_id="AAAA"
)
MONITOR = CaseInsight(type=CaseInsightType.MONITOR, ref="/monitors/42", resource_id="42")


def cell_ok(cell: Any) -> Any:
    """A timeline cell the client read: all of it for a comment; all but the type (a value
    the client's enum lacks) for an activity."""
    attributes = cell.attributes
    if attributes.type == TimelineCellType.COMMENT:
        return parsed(cell)
    assert attributes.type.value == "ACTIVITY", cell
    assert attributes.type._unparsed
    for part in (cell.type, attributes.author, attributes.cell_content):
        assert not part._unparsed, cell
    return cell


def attrs(response: Any) -> dict[str, Any]:
    """A case's attributes as the client holds them, additional properties included."""
    return dict(parsed(response).data.attributes.to_dict())


def watcher_ids(cases: CaseManagementApi, case_id: str) -> set[str]:
    found = parsed(cases.list_case_watchers(case_id=case_id))
    assert all(w.id == w.relationships.user.data.id for w in found.data)
    return {w.id for w in found.data}


def timeline(cases: CaseManagementApi, case_id: str, *, ascending: bool = True) -> list[Any]:
    """Every cell of the case's timeline, read five at a time."""
    cells: list[Any] = []
    for number in range(1, 100):
        page = cases.list_case_timeline(
            case_id=case_id, page_size=5, page_number=number, sort_ascending=ascending
        )
        assert not page.data or page.data[0].id not in {c.id for c in cells}
        cells += [cell_ok(c) for c in page.data]
        if len(page.data) < 5:
            return cells
    raise AssertionError("the timeline never ended")


def activity(cell: Any) -> tuple[str, str | None, str | None]:
    """An activity cell's (field, old value, new value), as text (the client reads dates)."""
    content = cell.attributes.cell_content.to_dict()
    old, new = content.get("old_value"), content.get("new_value")
    return content["field"], None if old is None else str(old), None if new is None else str(new)


def shown(cell: Any) -> Any:
    """A comment cell's message (None once deleted), or an activity cell's change."""
    if cell.attributes.type == TimelineCellType.COMMENT:
        return cell.attributes.cell_content.to_dict().get("message")
    return activity(cell)


# --- request bodies ---------------------------------------------------------------------------
def title_body(title: str) -> CaseUpdateTitleRequest:
    return CaseUpdateTitleRequest(
        data=CaseUpdateTitle(
            type=CaseResourceType.CASE, attributes=CaseUpdateTitleAttributes(title=title)
        )
    )


def description_body(description: str) -> CaseUpdateDescriptionRequest:
    return CaseUpdateDescriptionRequest(
        data=CaseUpdateDescription(
            type=CaseResourceType.CASE,
            attributes=CaseUpdateDescriptionAttributes(description=description),
        )
    )


def attributes_body(**values: list[str]) -> CaseUpdateAttributesRequest:
    return CaseUpdateAttributesRequest(
        data=CaseUpdateAttributes(
            type=CaseResourceType.CASE,
            attributes=CaseUpdateAttributesAttributes(attributes=CaseObjectAttributes(**values)),
        )
    )


def due_date_body(day: str | None) -> CaseUpdateDueDateRequest:
    # The spec says null clears the date; the model's signature says str, yet it sends None.
    attributes = CaseUpdateDueDateAttributes(due_date=day)  # type: ignore[arg-type]
    return CaseUpdateDueDateRequest(
        data=CaseUpdateDueDate(type=CaseResourceType.CASE, attributes=attributes)
    )


def reason_body(reason: str) -> CaseUpdateResolvedReasonRequest:
    return CaseUpdateResolvedReasonRequest(
        data=CaseUpdateResolvedReason(
            type=CaseResourceType.CASE,
            attributes=CaseUpdateResolvedReasonAttributes(security_resolved_reason=reason),
        )
    )


def insights_body(*insights: CaseInsight) -> CaseInsightsRequest:
    return CaseInsightsRequest(
        data=CaseInsightsData(
            type=CaseResourceType.CASE, attributes=CaseInsightsAttributes(insights=list(insights))
        )
    )


def comment_body(text: str) -> CaseCommentRequest:
    return CaseCommentRequest(
        data=CaseComment(type=CaseResourceType.CASE, attributes=CaseCommentAttributes(comment=text))
    )


def edit_body(text: str) -> CaseUpdateCommentRequest:
    return CaseUpdateCommentRequest(
        data=CaseUpdateComment(
            type=CaseResourceType.CASE, attributes=CaseUpdateCommentAttributes(comment=text)
        )
    )


def link_body(parent_id: str, child_id: str, relationship: str) -> CaseLinkCreateRequest:
    return CaseLinkCreateRequest(
        data=CaseLinkCreate(
            type=CaseLinkResourceType.LINK,
            attributes=CaseLinkAttributes(
                parent_entity_type="CASE",
                parent_entity_id=parent_id,
                child_entity_type="CASE",
                child_entity_id=child_id,
                relationship=relationship,
            ),
        )
    )


def project_ref(project_id: str) -> ProjectRelationship:
    return ProjectRelationship(
        data=ProjectRelationshipData(id=project_id, type=ProjectResourceType.PROJECT)
    )


def new_case(cases: CaseManagementApi, project_id: str, title: str) -> Any:
    return parsed(
        cases.create_case(
            body=CaseCreateRequest(
                data=CaseCreate(
                    type=CaseResourceType.CASE,
                    attributes=CaseCreateAttributes(title=title, type_id=STANDARD_CASE_TYPE_ID),
                    relationships=CaseCreateRelationships(project=project_ref(project_id)),
                )
            )
        )
    )


def new_user(users: UsersApi, email: str, name: str) -> str:
    created = users.create_user(
        body=UserCreateRequest(
            data=UserCreateData(
                type=UsersType.USERS, attributes=UserCreateAttributes(email=email, name=name)
            )
        )
    )
    return str(parsed(created).data.id)


# --- the scenario -----------------------------------------------------------------------------
def test_working_a_case(live_server: tuple[ServerProcess, Keys]) -> None:
    server, keys = live_server
    client: ApiClient
    with make_client(server, keys) as client:
        cases, users = CaseManagementApi(client), UsersApi(client)
        ann = new_user(users, "ann@example.com", "Ann Analyst")
        bob = new_user(users, "bob@example.com", "Bob Builder")
        case_id = new_project_and_case(cases, "SEC", "Suspicious login")
        got = parsed(cases.get_case(case_id=case_id))
        me = got.data.relationships.created_by.data.id
        sec = got.data.relationships.project.data.id
        assert attrs(got)["comment_count"] == 0
        assert watcher_ids(cases, case_id) == {me}  # the creator watches

        # Title, description, attributes.
        r = cases.update_case_title(case_id=case_id, body=title_body("Login from a new country"))
        assert attrs(r)["title"] == "Login from a new country"
        r = cases.update_case_description(case_id="SEC-1", body=description_body("Seen twice"))
        assert attrs(r)["description"] == "Seen twice"
        r = cases.update_attributes(case_id=case_id, body=attributes_body(team=["security"]))
        assert parsed(r).data.attributes.attributes.to_dict() == {"team": ["security"]}

        # Due date: set, then cleared (null) — then absent, as unset attributes are.
        r = cases.update_case_due_date(case_id=case_id, body=due_date_body("2026-12-31"))
        assert str(attrs(r)["due_date"]) == "2026-12-31"
        assert str(attrs(cases.get_case(case_id=case_id))["due_date"]) == "2026-12-31"
        r = cases.update_case_due_date(case_id=case_id, body=due_date_body(None))
        assert "due_date" not in attrs(r)
        r = cases.update_case_due_date(case_id=case_id, body=due_date_body("2027-01-15"))

        # Resolved reason: set, "" clears it, set again.
        r = cases.update_case_resolved_reason(case_id=case_id, body=reason_body("FALSE_POSITIVE"))
        assert attrs(r)["resolved_reason"] == "FALSE_POSITIVE"
        r = cases.update_case_resolved_reason(case_id=case_id, body=reason_body(""))
        assert "resolved_reason" not in attrs(r)
        r = cases.update_case_resolved_reason(case_id=case_id, body=reason_body("TRUE_POSITIVE"))
        assert attrs(r)["resolved_reason"] == "TRUE_POSITIVE"

        # Insights: add two, remove one.
        r = cases.add_case_insights(case_id=case_id, body=insights_body(SIGNAL, MONITOR))
        assert [(i["type"], i["resource_id"]) for i in attrs(r)["insights"]] == [
            ("SECURITY_SIGNAL", "AAAA"),
            ("MONITOR", "42"),
        ]
        r = cases.remove_case_insights(case_id=case_id, body=insights_body(MONITOR))
        assert attrs(r)["insights"] == [
            {"type": "SECURITY_SIGNAL", "ref": "/security/signals/AAAA", "resource_id": "AAAA"}
        ]

        # Comments: the first mentions Ann (who starts watching), the second goes away.
        first = parsed(
            cases.comment_case(case_id=case_id, body=comment_body("Ann, look @ann@example.com"))
        ).data
        assert len(first) == 1
        first_cell = first[0]
        assert first_cell.attributes.type == TimelineCellType.COMMENT
        assert first_cell.attributes.cell_content.message == "Ann, look @ann@example.com"
        assert first_cell.attributes.author.content.id == me
        assert attrs(cases.get_case(case_id=case_id))["comment_count"] == 1
        assert watcher_ids(cases, case_id) == {me, ann}
        second = parsed(cases.comment_case(case_id="SEC-1", body=comment_body("Wrong case")))
        second_cell = second.data[0]
        assert attrs(cases.get_case(case_id=case_id))["comment_count"] == 2
        # The client has no response model for UpdateCaseComment: it reads no answer.
        cases.update_case_comment(
            case_id=case_id, cell_id=first_cell.id, body=edit_body("Ann, please look")
        )
        cases.delete_case_comment(case_id=case_id, cell_id=second_cell.id)
        assert attrs(cases.get_case(case_id=case_id))["comment_count"] == 1

        # Watchers: Bob watches, then stops.
        cases.watch_case(case_id=case_id, user_uuid=bob)
        assert watcher_ids(cases, case_id) == {me, ann, bob}
        cases.unwatch_case(case_id=case_id, user_uuid=bob)
        assert watcher_ids(cases, case_id) == {me, ann}

        # Links: SEC-1 blocks SEC-2, seen from both ends, then deleted.
        other = new_case(cases, sec, "Same attacker")
        other_id = other.data.id
        assert other.data.attributes.key == "SEC-2"
        link = parsed(cases.create_case_link(body=link_body(case_id, "SEC-2", "BLOCKS"))).data
        assert link.type == CaseLinkResourceType.LINK
        assert link.attributes.parent_entity_id == case_id
        assert link.attributes.child_entity_id == other_id
        assert link.attributes.relationship == "BLOCKS"
        for end in (case_id, "SEC-2"):
            listed = parsed(cases.list_case_links(entity_type="CASE", entity_id=end))
            assert [(x.id, x.attributes.relationship) for x in listed.data] == [(link.id, "BLOCKS")]
        cases.delete_case_link(link_id=link.id)
        assert parsed(cases.list_case_links(entity_type="CASE", entity_id=case_id)).data == []
        assert parsed(cases.list_case_links(entity_type="CASE", entity_id=other_id)).data == []

        # Move to another project: the next key there; the old key still names the case.
        ops = parsed(
            cases.create_project(
                body=ProjectCreateRequest(
                    data=ProjectCreate(
                        type=ProjectResourceType.PROJECT,
                        attributes=ProjectCreateAttributes(key="OPS", name="Operations"),
                    )
                )
            )
        ).data.id
        new_case(cases, ops, "Already there")  # OPS-1, so the moved case is OPS-2
        moved = parsed(cases.move_case_to_project(case_id="SEC-1", body=project_ref(ops)))
        assert moved.data.id == case_id
        assert moved.data.attributes.key == "OPS-2"
        assert moved.data.relationships.project.data.id == ops
        for ref in ("SEC-1", "OPS-2", case_id):
            again = parsed(cases.get_case(case_id=ref))
            assert again.data.id == case_id
            assert again.data.attributes.key == "OPS-2"

        # Everything the case now shows survived the move.
        final = attrs(cases.get_case(case_id="SEC-1"))
        assert final["title"] == "Login from a new country"
        assert final["description"] == "Seen twice"
        assert str(final["due_date"]) == "2027-01-15"
        assert final["resolved_reason"] == "TRUE_POSITIVE"
        assert [i["resource_id"] for i in final["insights"]] == ["AAAA"]
        assert final["comment_count"] == 1
        assert watcher_ids(cases, "SEC-1") == {me, ann}

        # The timeline: every change in order, the comments in their places.
        cells = timeline(cases, "OPS-2")
        kinds = [shown(c) for c in cells]
        assert kinds == [
            ("created", None, "SEC-1"),
            ("watcher", None, me),
            ("title", "Suspicious login", "Login from a new country"),
            ("description", "", "Seen twice"),
            ("attributes", "{}", '{"team":["security"]}'),
            ("due_date", None, "2026-12-31"),
            ("due_date", "2026-12-31", None),
            ("due_date", None, "2027-01-15"),
            ("resolved_reason", None, "FALSE_POSITIVE"),
            ("resolved_reason", "FALSE_POSITIVE", None),
            ("resolved_reason", None, "TRUE_POSITIVE"),
            kinds[11],  # insights: JSON, checked below
            kinds[12],
            "Ann, please look",  # the first comment, as edited
            ("watcher", None, ann),
            None,  # the deleted comment keeps its place, without its text
            ("comment_edited", None, first_cell.id),
            ("comment_deleted", second_cell.id, None),
            ("watcher", None, bob),
            ("watcher", bob, None),
            kinds[20],  # link created and deleted: JSON, checked below
            kinds[21],
            ("project", sec, ops),
            ("key", "SEC-1", "OPS-2"),
        ]
        assert [k[0] for k in (kinds[11], kinds[12], kinds[20], kinds[21])] == [
            "insights",
            "insights",
            "link",
            "link",
        ]
        assert link.id in str(kinds[20][2]) and link.id in str(kinds[21][1])
        assert cells[13].id == first_cell.id
        assert cells[13].attributes.author.content.id == me
        assert "modified_at" in cells[13].attributes.to_dict()
        assert cells[15].id == second_cell.id
        assert "deleted_at" in cells[15].attributes.to_dict()
        assert all(a.attributes.author.content.id == me for a in cells)

        # Newest first by default: the same cells, reversed.
        newest_first = timeline(cases, case_id, ascending=False)
        assert [c.id for c in newest_first] == [c.id for c in reversed(cells)]
