"""End-to-end helpers: real ``casebook serve`` processes driven over loopback HTTP."""

from __future__ import annotations

import pytest
from datadog_api_client import ApiClient, Configuration

from tests.support.server import Keys, ServerProcess, new_keys

TIMEOUT = 15  # seconds, for every request of the official client


@pytest.fixture
def keys() -> Keys:
    return new_keys()


def make_client(server: ServerProcess, keys: Keys) -> ApiClient:
    """The official Python client, pointed at ``server`` with ``keys``."""
    configuration = Configuration(
        host=server.base_url,
        api_key={"apiKeyAuth": keys.api_key, "appKeyAuth": keys.app_key},
        request_timeout=TIMEOUT,
    )
    return ApiClient(configuration)
