"""Request and response shapes, one module per resource (``cases``, ``projects``, ``users``).

Request structs ignore fields they do not declare: server-owned fields that a
client sends (``id``, ``key``, ``created_at``, ``created_by``, another org...)
are never read, so they cannot be assigned (one rule, tested in
tests/security/test_mass_assignment.py).

Responses are msgspec Structs in Datadog's JSON:API shapes (which also give
the OpenAPI document its schemas); unset optional members are omitted rather
than null. ``common`` holds what several resources share.
"""
