"""A client of one emulated organisation: its keys, the official client's configuration,
and the control plane (``/_casebook/``) as methods."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import httpx2 as httpx


def _duration(value: str | datetime.timedelta) -> str:
    if isinstance(value, datetime.timedelta):
        return (
            f"PT{value.total_seconds():g}S"
            if value >= datetime.timedelta(0)
            else (f"-PT{-value.total_seconds():g}S")
        )
    return value


def _instant(value: str | datetime.datetime) -> str:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError("freeze needs an aware datetime (with its timezone)")
        return value.isoformat()
    return value


class CasebookOrg:
    """One organisation of an emulator, named by a fresh pair of keys."""

    def __init__(self, base_url: str, *, api_key: str | None = None, app_key: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or f"test-{uuid.uuid4().hex}"
        self.app_key = app_key or f"app-{uuid.uuid4().hex}"
        self.http = httpx.Client(
            base_url=self.base_url,
            headers={"DD-API-KEY": self.api_key, "DD-APPLICATION-KEY": self.app_key},
            timeout=30,
        )
        self.clock = Clock(self)
        self.faults = Faults(self)

    @property
    def headers(self) -> dict[str, str]:
        """The keys as request headers."""
        return {"DD-API-KEY": self.api_key, "DD-APPLICATION-KEY": self.app_key}

    @property
    def configuration(self) -> Any:
        """A ``datadog_api_client.Configuration`` pointed at this organisation."""
        from datadog_api_client import Configuration

        return Configuration(  # type: ignore[no-untyped-call]
            host=self.base_url,
            api_key={"apiKeyAuth": self.api_key, "appKeyAuth": self.app_key},
        )

    def control(self, method: str, name: str, **kwargs: Any) -> Any:
        """Call ``/_casebook/<name>``; its JSON (None for 204). Raises on an error answer."""
        response = self.http.request(method, f"/_casebook/{name}", **kwargs)
        if response.status_code >= 400:
            raise AssertionError(
                f"{method} /_casebook/{name} answered {response.status_code}: {response.text}"
            )
        return None if response.status_code == 204 else response.json()

    def seed(self, document: dict[str, Any] | None = None, **sections: Any) -> dict[str, Any]:
        """Load a state document (``users``, ``projects``, ``cases``...); what it made."""
        created: dict[str, Any] = self.control(
            "POST", "seed", json={**(document or {}), **sections}
        )["data"]
        return created

    def outbox(self, channel: str | None = None) -> list[dict[str, Any]]:
        """What deliveries would have sent, oldest first."""
        params = {} if channel is None else {"channel": channel}
        entries: list[dict[str, Any]] = self.control("GET", "outbox", params=params)["data"]
        return entries

    def clear_outbox(self) -> None:
        self.control("DELETE", "outbox")

    def requests(self, operation_id: str | None = None) -> list[dict[str, Any]]:
        """The requests this organisation received, oldest first."""
        params = {} if operation_id is None else {"operation_id": operation_id}
        entries: list[dict[str, Any]] = self.control("GET", "requests", params=params)["data"]
        return entries

    def reset(self) -> None:
        """Empty the organisation (its clock, faults, outbox and journal too)."""
        self.control("POST", "reset")

    def close(self) -> None:
        self.http.close()


class Clock:
    """The organisation's clock: ``freeze``, ``advance``, ``real``, ``now``."""

    def __init__(self, org: CasebookOrg) -> None:
        self._org = org

    def now(self) -> str:
        now: str = self._org.control("GET", "clock")["now"]
        return now

    def freeze(self, at: str | datetime.datetime) -> dict[str, Any]:
        answer: dict[str, Any] = self._org.control("POST", "clock", json={"freeze": _instant(at)})
        return answer

    def advance(self, by: str | datetime.timedelta) -> dict[str, Any]:
        answer: dict[str, Any] = self._org.control("POST", "clock", json={"advance": _duration(by)})
        return answer

    def real(self) -> dict[str, Any]:
        answer: dict[str, Any] = self._org.control("POST", "clock", json={"real": True})
        return answer


class Faults:
    """Injected faults: ``add(operation_id=..., status=429, count=1)``, ``clear()``."""

    def __init__(self, org: CasebookOrg) -> None:
        self._org = org

    def add(self, **fault: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self._org.control("POST", "faults", json=fault)
        return answer

    def list(self) -> list[dict[str, Any]]:
        faults: list[dict[str, Any]] = self._org.control("GET", "faults")["data"]
        return faults

    def clear(self) -> None:
        self._org.control("DELETE", "faults")
