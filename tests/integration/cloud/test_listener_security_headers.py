"""Every family's responses, the player page, /openapi and /metrics carry the security headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ova.cloud.runtime import build
from ova.cloud.security_headers import API_POLICY, PLAYER_POLICY
from ova.cloud.settings import CloudSettings

ACCOUNT = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Media/videoAnalyzers/acct1"
API_PATHS = [
    f"{ACCOUNT}?api-version=2021-11-01-preview",  # management (401)
    "/twins/device1",  # hub
    "/client/acct1/videos/v1",  # client
    "/streaming/acct1/videos/v1/segments/1-1.m4s",  # streaming
    "/edge/anything",  # edge
    "/telemetry/anything",  # telemetry
    "/storage/container1/blob1",  # storage (403, no SAS)
    "/openapi/management.json",
    "/metrics",
    "/nowhere",
]


@pytest.fixture
async def listener(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    cloud = await build(CloudSettings(data_dir=tmp_path / "data"))
    try:
        _, app = cloud.listeners[0]
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
            yield client
    finally:
        await cloud.close()


async def test_every_family_answers_with_the_headers(listener: httpx.AsyncClient) -> None:
    for path in API_PATHS:
        response = await listener.get(path)
        assert response.status_code < 500, (path, response.status_code)
        assert response.headers.get("x-content-type-options") == "nosniff", path
        assert response.headers.get("content-security-policy") == API_POLICY, path
        assert response.headers.get("referrer-policy") == "no-referrer", path


async def test_the_player_page_has_its_own_policy(listener: httpx.AsyncClient) -> None:
    response = await listener.get("/player/")

    assert response.status_code == 200
    assert response.headers["content-security-policy"] == PLAYER_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
