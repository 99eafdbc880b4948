"""End-to-end helpers: real ``casebook serve`` processes driven over loopback HTTP."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.support.server import ServerProcess

# Every server these tests start turns rate limiting off (a no-op where unsupported).
SERVER_ENV = {"CASEBOOK_RATE_LIMIT": "off"}


@dataclass(frozen=True)
class Keys:
    api_key: str
    app_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"DD-API-KEY": self.api_key, "DD-APPLICATION-KEY": self.app_key}


def new_keys() -> Keys:
    """Fresh random keys shaped like Datadog's (32 and 40 hex digits)."""
    return Keys(secrets.token_hex(16), secrets.token_hex(20))


@contextmanager
def running_server(database_url: str, keys: Keys, *, workers: int = 1) -> Iterator[ServerProcess]:
    """``casebook serve`` on a free loopback port; always stopped on exit."""
    server = ServerProcess(
        database_url, api_key=keys.api_key, app_key=keys.app_key, workers=workers, env=SERVER_ENV
    )
    try:
        server.start(timeout=30)
        yield server
    finally:
        server.stop()
