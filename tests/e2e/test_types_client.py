"""Case types and custom attributes with the official Python client (``datadog-api-client``).

Two scenarios per back end against a live ``casebook serve``, with the client's
model validation on: the eleven operations of ``CaseManagementTypeApi``,
``CaseManagementAttributeApi`` and the custom attribute calls of
``CaseManagementApi`` succeeding (with ``create_case`` taking a custom type and
custom attributes, and ``update_status`` a ``status_name``), and the error paths
Datadog's recordings show, answered as recorded.

What the client's models do not declare it keeps as additional properties: a type's
``statuses`` (casebook's extension, sent here the same way), a config's ``type_data``.
The client's ``CaseType`` enum knows only ``STANDARD``: the deprecated ``type`` of a
case of any other type (``TUNKNOWN``) is read, but flagged as a value the client
does not know. ``case_read`` checks that is the only thing a case answer flags.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from datadog_api_client import ApiClient
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v2.api.case_management_api import CaseManagementApi
from datadog_api_client.v2.api.case_management_attribute_api import CaseManagementAttributeApi
from datadog_api_client.v2.api.case_management_type_api import CaseManagementTypeApi
from datadog_api_client.v2.models import (
    CaseCreate,
    CaseCreateAttributes,
    CaseCreateRelationships,
    CaseCreateRequest,
    CaseResourceType,
    CaseStatus,
    CaseStatusGroup,
    CaseTypeCreate,
    CaseTypeCreateRequest,
    CaseTypeResourceAttributes,
    CaseTypeResourceType,
    CaseTypeUpdate,
    CaseTypeUpdateRequest,
    CaseUpdateCustomAttribute,
    CaseUpdateCustomAttributeRequest,
    CaseUpdateStatus,
    CaseUpdateStatusAttributes,
    CaseUpdateStatusRequest,
    CustomAttributeConfigAttributesCreate,
    CustomAttributeConfigCreate,
    CustomAttributeConfigCreateRequest,
    CustomAttributeConfigResourceType,
    CustomAttributeConfigUpdate,
    CustomAttributeConfigUpdateAttributes,
    CustomAttributeConfigUpdateRequest,
    CustomAttributeSelectOption,
    CustomAttributeType,
    CustomAttributeTypeData,
    CustomAttributeValue,
    ProjectRelationship,
    ProjectRelationshipData,
    ProjectResourceType,
)

from casebook.core.entities import (
    ERROR_TRACKING_CASE_TYPE_ID,
    EVENT_MANAGEMENT_CASE_TYPE_ID,
    STANDARD_CASE_TYPE_ID,
)
from tests.e2e.conftest import make_client
from tests.support.errors import as_recorded
from tests.support.official import new_project_and_case, parsed
from tests.support.server import Keys, ServerProcess

pytestmark = pytest.mark.slow

UNKNOWN_TYPE = "9fd476d7-a955-454a-851d-980c655c02d3"  # the id of Datadog's recording
BUILTIN = [
    (STANDARD_CASE_TYPE_ID, "Standard"),
    (EVENT_MANAGEMENT_CASE_TYPE_ID, "Event Management"),
    (ERROR_TRACKING_CASE_TYPE_ID, "Error Tracking"),
]
STATUSES = [  # casebook's extension: the type's own statuses, in order
    {"name": "Triage", "group": "SG_OPEN"},
    {"name": "Investigating", "group": "SG_IN_PROGRESS"},
    {"name": "Contained", "group": "SG_IN_PROGRESS"},
    {"name": "Resolved", "group": "SG_CLOSED"},
]


def case_read(response: Any) -> Any:
    """A case answer the client read: all of it, but for the deprecated ``type`` of a case
    not of the Standard type (a value the client's ``CaseType`` enum lacks, kept unparsed).

    The client does not pass an unparsed map value up to its parent, so each custom
    attribute value is checked on its own.
    """
    data = response.data
    attributes = data.attributes
    if attributes.type_id == STANDARD_CASE_TYPE_ID:
        parsed(response)
    else:
        assert attributes.type.value == "TUNKNOWN", attributes.type
        assert attributes.type._unparsed
        for name in attributes.to_dict():
            if name != "type":
                assert not getattr(attributes[name], "_unparsed", False), (name, response)
        for part in (data.type, data.relationships):
            assert not part._unparsed, response
    for value in attributes.custom_attributes.values():
        assert isinstance(value, CustomAttributeValue)
        assert not value._unparsed and not value.type._unparsed, value
    return response


def custom_values(response: Any) -> dict[str, Any]:
    """A case's custom attributes as ``{key: (type, is_multi, value)}``."""
    found = case_read(response).data.attributes.custom_attributes
    return {key: (v.type.value, v.is_multi, v.value) for key, v in found.items()}


def error_of(exc: ApiException) -> dict[str, Any]:
    """The one error object of a JSON:API error answer."""
    body = exc.body
    errors = (json.loads(body) if isinstance(body, str | bytes) else body)["errors"]
    assert len(errors) == 1, errors
    return dict(as_recorded(errors[0]))


def refused(status: int, call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The error object of a call the server answers with ``status``."""
    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    assert caught.value.status == status, caught.value.body
    return error_of(caught.value)


# --- request bodies ---------------------------------------------------------------------------
def type_attributes(name: str, **extra: Any) -> CaseTypeResourceAttributes:
    return CaseTypeResourceAttributes(name=name, **extra)


def new_type_body(name: str, **extra: Any) -> CaseTypeCreateRequest:
    return CaseTypeCreateRequest(
        data=CaseTypeCreate(
            type=CaseTypeResourceType.CASE_TYPE, attributes=type_attributes(name, **extra)
        )
    )


def type_update_body(name: str, **extra: Any) -> CaseTypeUpdateRequest:
    return CaseTypeUpdateRequest(
        data=CaseTypeUpdate(
            type=CaseTypeResourceType.CASE_TYPE, attributes=type_attributes(name, **extra)
        )
    )


def config_body(
    key: str, display_name: str, kind: str, *, is_multi: bool = False, **extra: Any
) -> CustomAttributeConfigCreateRequest:
    # The client makes CustomAttributeType("FLOAT") without complaint (an unparsed value)
    # and sends it: the server has to refuse it.
    return CustomAttributeConfigCreateRequest(
        data=CustomAttributeConfigCreate(
            type=CustomAttributeConfigResourceType.CUSTOM_ATTRIBUTE,
            attributes=CustomAttributeConfigAttributesCreate(
                key=key,
                display_name=display_name,
                type=CustomAttributeType(kind),
                is_multi=is_multi,
                **extra,
            ),
        )
    )


def config_update_body(**attributes: Any) -> CustomAttributeConfigUpdateRequest:
    return CustomAttributeConfigUpdateRequest(
        data=CustomAttributeConfigUpdate(
            type=CustomAttributeConfigResourceType.CUSTOM_ATTRIBUTE,
            attributes=CustomAttributeConfigUpdateAttributes(**attributes),
        )
    )


def value(kind: str, given: Any) -> CustomAttributeValue:
    return CustomAttributeValue(
        type=CustomAttributeType(kind), is_multi=isinstance(given, list), value=given
    )


def value_body(kind: str, given: Any) -> CaseUpdateCustomAttributeRequest:
    return CaseUpdateCustomAttributeRequest(
        data=CaseUpdateCustomAttribute(type=CaseResourceType.CASE, attributes=value(kind, given))
    )


def status_body(status_name: str) -> CaseUpdateStatusRequest:
    return CaseUpdateStatusRequest(
        data=CaseUpdateStatus(
            type=CaseResourceType.CASE,
            attributes=CaseUpdateStatusAttributes(status_name=status_name),
        )
    )


def case_body(project_id: str, title: str, type_id: str, **attributes: Any) -> CaseCreateRequest:
    return CaseCreateRequest(
        data=CaseCreate(
            type=CaseResourceType.CASE,
            attributes=CaseCreateAttributes(title=title, type_id=type_id, **attributes),
            relationships=CaseCreateRelationships(
                project=ProjectRelationship(
                    data=ProjectRelationshipData(id=project_id, type=ProjectResourceType.PROJECT)
                )
            ),
        )
    )


def project_of(cases: CaseManagementApi, case_id: str) -> str:
    return str(parsed(cases.get_case(case_id=case_id)).data.relationships.project.data.id)


def config_rows(response: Any) -> list[tuple[str, str, str, bool]]:
    """Configs as ``(case_type_id, key, type, is_multi)``, in the answer's order."""
    return [
        (
            c.attributes.case_type_id,
            c.attributes.key,
            c.attributes.type.value,
            c.attributes.is_multi,
        )
        for c in parsed(response).data
    ]


# --- the scenarios ----------------------------------------------------------------------------
def test_case_types_and_custom_attributes(live_server: tuple[ServerProcess, Keys]) -> None:
    server, keys = live_server
    client: ApiClient
    with make_client(server, keys) as client:
        types = CaseManagementTypeApi(client)
        configs = CaseManagementAttributeApi(client)
        cases = CaseManagementApi(client)
        project = project_of(cases, new_project_and_case(cases, "SEC", "Standing case"))

        # The built-in types, in every organisation.
        listed = parsed(types.get_all_case_types())
        assert [(t.id, t.attributes.name) for t in listed.data] == BUILTIN
        assert all(t.type == CaseTypeResourceType.CASE_TYPE for t in listed.data)

        # A type of our own, with its own statuses (the extension, as an extra attribute).
        made = parsed(
            types.create_case_type(
                body=new_type_body(
                    "Investigation",
                    emoji="👑",
                    description="Investigations done in case management",
                    statuses=STATUSES,
                )
            )
        ).data
        type_id = made.id
        assert made.type == CaseTypeResourceType.CASE_TYPE
        assert made.attributes.name == "Investigation"
        assert made.attributes.emoji == "👑"
        assert made.attributes.description == "Investigations done in case management"
        assert [(s["name"], s["group"]) for s in made.attributes["statuses"]] == [
            (s["name"], s["group"]) for s in STATUSES
        ]
        scratch = parsed(types.create_case_type(body=new_type_body("Scratch"))).data.id
        listed = parsed(types.get_all_case_types())
        assert [t.id for t in listed.data] == [i for i, _ in BUILTIN] + [type_id, scratch]

        # Renamed, with another emoji; the statuses stay as they were.
        renamed = parsed(
            types.update_case_type(
                case_type_id=type_id, body=type_update_body("Security investigation", emoji="🛡️")
            )
        ).data
        assert (renamed.id, renamed.attributes.name, renamed.attributes.emoji) == (
            type_id,
            "Security investigation",
            "🛡️",
        )
        assert renamed.attributes.description == "Investigations done in case management"
        assert [s["id"] for s in renamed.attributes["statuses"]] == [
            s["id"] for s in made.attributes["statuses"]
        ]

        # Configs: four on our type (one of each kind), one on the built-in Standard type.
        made_configs = {
            key: parsed(
                configs.create_custom_attribute_config(case_type_id=type_id, body=body)
            ).data
            for key, body in (
                ("region", config_body("region", "AWS region", "TEXT")),
                ("score", config_body("score", "Severity score", "NUMBER")),
                ("runbooks", config_body("runbooks", "Runbooks", "URL", is_multi=True)),
                ("stage", config_body("stage", "Stage", "SELECT", description="Kill chain")),
            )
        }
        team = parsed(
            configs.create_custom_attribute_config(
                case_type_id=STANDARD_CASE_TYPE_ID, body=config_body("team", "Team", "TEXT")
            )
        ).data
        for key, config in made_configs.items():
            assert config.type == CustomAttributeConfigResourceType.CUSTOM_ATTRIBUTE
            assert (config.attributes.case_type_id, config.attributes.key) == (type_id, key)
        assert made_configs["stage"].attributes.description == "Kill chain"
        assert made_configs["stage"].attributes["type_data"] == {"options": []}
        assert team.attributes.case_type_id == STANDARD_CASE_TYPE_ID

        ours = [
            (type_id, "region", "TEXT", False),
            (type_id, "score", "NUMBER", False),
            (type_id, "runbooks", "URL", True),
            (type_id, "stage", "SELECT", False),
        ]
        by_type = configs.get_all_custom_attribute_configs_by_case_type(case_type_id=type_id)
        assert sorted(config_rows(by_type)) == sorted(ours)
        standard = configs.get_all_custom_attribute_configs_by_case_type(
            case_type_id=STANDARD_CASE_TYPE_ID
        )
        assert config_rows(standard) == [(STANDARD_CASE_TYPE_ID, "team", "TEXT", False)]
        assert config_rows(configs.get_all_custom_attribute_configs_by_case_type(scratch)) == []
        everything = configs.get_all_custom_attributes()
        assert sorted(config_rows(everything)) == sorted(
            [*ours, (STANDARD_CASE_TYPE_ID, "team", "TEXT", False)]
        )

        # The SELECT gets its options; a display name and description change.
        stage_id = made_configs["stage"].id
        options = ["Recon", "Exploitation", "Exfiltration"]
        stage = parsed(
            configs.update_custom_attribute_config(
                case_type_id=type_id,
                custom_attribute_id=stage_id,
                body=config_update_body(
                    display_name="Kill chain stage",
                    type_data=CustomAttributeTypeData(
                        options=[CustomAttributeSelectOption(value=o) for o in options]
                    ),
                ),
            )
        ).data
        assert stage.id == stage_id
        assert stage.attributes.display_name == "Kill chain stage"
        assert stage.attributes.description == "Kill chain"
        assert stage.attributes["type_data"] == {"options": [{"value": o} for o in options]}
        region_id = made_configs["region"].id
        region = parsed(
            configs.update_custom_attribute_config(
                case_type_id=type_id,
                custom_attribute_id=region_id,
                body=config_update_body(description="Where the resource runs"),
            )
        ).data
        assert (region.attributes.display_name, region.attributes.description) == (
            "AWS region",
            "Where the resource runs",
        )

        # A case of our type, with custom attributes from the start, in a status of its own.
        case = case_read(
            cases.create_case(
                body=case_body(
                    project,
                    "Exfiltration from a build host",
                    type_id,
                    status_name="Triage",
                    custom_attributes={
                        "region": value("TEXT", "eu-west-1"),
                        "score": value("NUMBER", 7.5),
                    },
                )
            )
        )
        case_id = case.data.id
        got = case.data.attributes
        assert got.type_id == type_id
        assert (got.status, got.status_group, got.status_name) == (
            CaseStatus.OPEN,
            CaseStatusGroup.SG_OPEN,
            "Triage",
        )
        assert custom_values(case) == {
            "region": ("TEXT", False, "eu-west-1"),
            "score": ("NUMBER", False, 7.5),
        }
        assert custom_values(cases.get_case(case_id=case_id)) == custom_values(case)

        # One value at a time: a list of URLs, a SELECT (as its option is spelt), a new score.
        runbooks = ["https://runbooks.example/exfil", "https://runbooks.example/hosts"]
        r = cases.update_case_custom_attribute(
            case_id=case_id, custom_attribute_key="runbooks", body=value_body("URL", runbooks)
        )
        assert custom_values(r)["runbooks"] == ("URL", True, runbooks)
        r = cases.update_case_custom_attribute(
            case_id=case_id, custom_attribute_key="stage", body=value_body("SELECT", "exfiltration")
        )
        assert custom_values(r)["stage"] == ("SELECT", False, "Exfiltration")
        r = cases.update_case_custom_attribute(
            case_id=case_id, custom_attribute_key="score", body=value_body("NUMBER", 9.0)
        )
        assert custom_values(r)["score"] == ("NUMBER", False, 9.0)

        # Statuses by name: into the in-progress group and on within it, then closed.
        r = case_read(cases.update_status(case_id=case_id, body=status_body("Investigating")))
        assert (r.data.attributes.status, r.data.attributes.status_name) == (
            CaseStatus.IN_PROGRESS,
            "Investigating",
        )
        r = case_read(cases.update_status(case_id=case_id, body=status_body("Contained")))
        assert r.data.attributes.status_group == CaseStatusGroup.SG_IN_PROGRESS
        assert r.data.attributes.status_name == "Contained"
        r = case_read(cases.update_status(case_id=case_id, body=status_body("Resolved")))
        assert (r.data.attributes.status, r.data.attributes.status_name) == (
            CaseStatus.CLOSED,
            "Resolved",
        )
        assert r.data.attributes.closed_at is not None

        # A Standard case takes the Standard type's config; its type the client knows.
        standard_case = case_read(
            cases.create_case(
                body=case_body(
                    project,
                    "Phishing report",
                    STANDARD_CASE_TYPE_ID,
                    custom_attributes={"team": value("TEXT", "security")},
                )
            )
        )
        assert standard_case.data.attributes.type.value == "STANDARD"
        assert custom_values(standard_case) == {"team": ("TEXT", False, "security")}
        r = cases.update_case_custom_attribute(
            case_id=standard_case.data.id,
            custom_attribute_key="team",
            body=value_body("TEXT", "platform"),
        )
        assert custom_values(r) == {"team": ("TEXT", False, "platform")}

        # Values go one by one, and with their config.
        r = cases.delete_case_custom_attribute(case_id=case_id, custom_attribute_key="region")
        assert "region" not in custom_values(r)
        assert (
            configs.delete_custom_attribute_config(
                case_type_id=type_id, custom_attribute_id=made_configs["score"].id
            )
            is None
        )
        assert set(custom_values(cases.get_case(case_id=case_id))) == {"runbooks", "stage"}
        by_type = configs.get_all_custom_attribute_configs_by_case_type(case_type_id=type_id)
        assert {key for _, key, _, _ in config_rows(by_type)} == {"region", "runbooks", "stage"}

        # A type no case uses goes, with nothing left of it; one in use stays (409).
        assert types.delete_case_type(case_type_id=scratch) is None
        listed = parsed(types.get_all_case_types())
        assert [t.id for t in listed.data] == [i for i, _ in BUILTIN] + [type_id]
        gone = refused(404, configs.get_all_custom_attribute_configs_by_case_type, scratch)
        assert (gone["code"], gone["title"]) == ("resource_not_found", "case_type not found")
        in_use = refused(409, types.delete_case_type, case_type_id=type_id)
        assert "used by 1 case" in in_use["detail"]
        assert type_id in {t.id for t in parsed(types.get_all_case_types()).data}


def test_recorded_errors(live_server: tuple[ServerProcess, Keys]) -> None:
    """The error answers of Datadog's recordings, through the client; casebook's 400s add a
    ``detail`` saying what was wrong."""
    server, keys = live_server
    with make_client(server, keys) as client:
        types = CaseManagementTypeApi(client)
        configs = CaseManagementAttributeApi(client)
        cases = CaseManagementApi(client)
        case_id = new_project_and_case(cases, "SEC", "Standing case")
        type_id = parsed(types.create_case_type(body=new_type_body("Investigation"))).data.id

        # Not an emoji (on create, as recorded, and on update): 400 Bad Request.
        bad = new_type_body(
            "Investigation 2",
            emoji="notanemoji",
            description="Investigations done in case management",
        )
        error = refused(400, types.create_case_type, body=bad)
        assert (error["status"], error["title"]) == ("400", "Bad Request")
        assert "notanemoji" in error["detail"]
        error = refused(
            400,
            types.update_case_type,
            case_type_id=type_id,
            body=type_update_body("Investigation", emoji="notanemoji"),
        )
        assert (error["status"], error["title"]) == ("400", "Bad Request")
        assert [t.attributes.name for t in parsed(types.get_all_case_types()).data][3:] == [
            "Investigation"
        ]

        # The built-in types cannot change nor go.
        for builtin, _ in BUILTIN:
            refused(400, types.update_case_type, case_type_id=builtin, body=type_update_body("X"))
            refused(400, types.delete_case_type, case_type_id=builtin)

        # FLOAT is no custom attribute type; the client sends it, unparsed, as given.
        float_body = config_body("region_float", "AWS Region", "FLOAT", is_multi=True)
        assert float_body.data.attributes.type._unparsed
        error = refused(400, configs.create_custom_attribute_config, type_id, body=float_body)
        assert (error["status"], error["title"]) == ("400", "Bad Request")
        assert "FLOAT" in error["detail"]

        # A config for a type that does not exist: 404 case_type not found.
        number = config_body("region_number", "AWS Region", "NUMBER", is_multi=True)
        error = refused(404, configs.create_custom_attribute_config, UNKNOWN_TYPE, body=number)
        assert (error["code"], error["title"]) == ("resource_not_found", "case_type not found")
        assert config_rows(configs.get_all_custom_attributes()) == []

        # A config id that is not a UUID: 400 Invalid Parameter, word for word.
        error = refused(
            400,
            configs.delete_custom_attribute_config,
            case_type_id=type_id,
            custom_attribute_id="not-an-uuid",
        )
        assert error == {
            "status": "400",
            "title": "Invalid Parameter",
            "detail": 'invalid parameter "CustomAttributeId" in "path"; expected type "uuid"',
        }

        # A key the case's type has no config for: 404 naming the key in meta.
        body = value_body("TEXT", ["Abba", "The Cure"])
        for call, command, args in (
            (cases.update_case_custom_attribute, "UpdateCustomAttribute", {"body": body}),
            (cases.delete_case_custom_attribute, "RemoveCustomAttribute", {}),
        ):
            error = refused(404, call, case_id=case_id, custom_attribute_key="invalid_key", **args)
            assert error["code"] == "resource_not_found"
            assert error["title"] == (
                "failed to update batch: failed to apply command: failed to apply"
                f" domain.{command} command: custom attribute configuration not found"
            )
            assert error["meta"] == {"key": "invalid_key"}
        assert case_read(cases.get_case(case_id=case_id)).data.attributes.custom_attributes == {}
