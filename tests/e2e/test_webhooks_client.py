"""Named webhooks with the official Python client's ``WebhooksIntegrationApi`` (v1)."""

from __future__ import annotations

import pytest
from datadog_api_client import ApiClient
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v1.api.webhooks_integration_api import WebhooksIntegrationApi
from datadog_api_client.v1.model.webhooks_integration import WebhooksIntegration
from datadog_api_client.v1.model.webhooks_integration_encoding import WebhooksIntegrationEncoding
from datadog_api_client.v1.model.webhooks_integration_update_request import (
    WebhooksIntegrationUpdateRequest,
)

from tests.e2e.conftest import make_client
from tests.support.official import parsed
from tests.support.server import Keys, ServerProcess

pytestmark = pytest.mark.slow


def test_webhooks_integration(live_server: tuple[ServerProcess, Keys]) -> None:
    server, keys = live_server
    client: ApiClient
    with make_client(server, keys) as client:
        hooks = WebhooksIntegrationApi(client)
        made = parsed(
            hooks.create_webhooks_integration(
                body=WebhooksIntegration(
                    name="sec-alerts",
                    url="https://hooks.example.com/sec",
                    payload='{"case": "$CASE_KEY"}',
                    custom_headers='{"X-Team": "security"}',
                    encode_as=WebhooksIntegrationEncoding.JSON,
                )
            )
        )
        assert (made.name, made.url, made.encode_as) == (
            "sec-alerts",
            "https://hooks.example.com/sec",
            WebhooksIntegrationEncoding.JSON,
        )
        got = parsed(hooks.get_webhooks_integration("sec-alerts"))
        assert got.payload == '{"case": "$CASE_KEY"}'
        changed = parsed(
            hooks.update_webhooks_integration(
                "sec-alerts",
                body=WebhooksIntegrationUpdateRequest(
                    url="https://hooks.example.com/v2", encode_as=WebhooksIntegrationEncoding.FORM
                ),
            )
        )
        assert (changed.url, changed.encode_as) == (
            "https://hooks.example.com/v2",
            WebhooksIntegrationEncoding.FORM,
        )
        assert hooks.delete_webhooks_integration("sec-alerts") is None
        with pytest.raises(ApiException) as caught:
            hooks.get_webhooks_integration("sec-alerts")
        assert caught.value.status == 404
