"""``casebook emulate``: the case API as a stand-in for Datadog in tests and CI.

Any keys work (each ``DD-API-KEY`` is an organisation of its own, made on first use,
in memory), deliveries land in an outbox instead of leaving the machine, and a control
plane under ``/_casebook/`` resets, seeds, moves the clock, injects faults and shows
what was received (docs/emulator.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from casebook.emulator.app import EmulatorApp
from casebook.emulator.tenants import Tenant, Tenants

__all__ = ["EmulatorApp", "Tenants", "build", "read_document"]


def read_document(path: Path) -> dict[str, Any]:
    """A state document from a file: YAML (``.yaml``, ``.yml``) or JSON."""
    import json

    from casebook.core.errors import InvalidRequestError

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(f"cannot read {path}: {exc}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml  # type: ignore[import-untyped]

        from casebook.emulator.control import plain

        try:
            document = plain(yaml.safe_load(text))
        except yaml.YAMLError as exc:
            raise InvalidRequestError(f"{path.name}: malformed YAML: {exc}") from None
    else:
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise InvalidRequestError(f"{path.name}: malformed JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidRequestError(f"{path.name}: a state document is an object of lists")
    return document


def build(
    *,
    seed: dict[str, Any] | None = None,
    ids_seed: int | None = None,
    persist: Path | None = None,
) -> EmulatorApp:
    """The emulator's ASGI app; every new organisation starts with ``seed`` loaded."""
    from casebook.emulator import outbox
    from casebook.emulator import seed as seeding

    if seed is not None:
        seeding.check(seed)

    def on_create(tenant: Tenant) -> None:
        if seed is not None:
            with tenant.context():
                seeding.load(tenant, seed)
                outbox.deliver(tenant)

    return EmulatorApp(Tenants(ids_seed=ids_seed, on_create=on_create, persist=persist))
