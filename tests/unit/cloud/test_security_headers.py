"""The security-headers wrapper: adds what is missing, keeps what the app set, one policy per kind of page."""

from __future__ import annotations

import httpx
from starlette.types import Receive, Scope, Send

from ova.cloud.security_headers import API_POLICY, PLAYER_POLICY, SecurityHeaders


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    own = [(b"referrer-policy", b"same-origin")] if scope["path"] == "/own" else []
    await send({"type": "http.response.start", "status": 200, "headers": own})
    await send({"type": "http.response.body", "body": b"ok"})


async def get(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=SecurityHeaders(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        return await client.get(path)


async def test_api_responses_get_the_restrictive_policy() -> None:
    response = await get("/streaming/a/videos/v/segments/1-1.m4s")

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == API_POLICY
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_the_player_page_may_load_its_scripts_and_media() -> None:
    for path in ("/player", "/player/", "/player/player.js"):
        assert (await get(path)).headers["content-security-policy"] == PLAYER_POLICY
    assert "media-src 'self' blob:" in PLAYER_POLICY
    assert "'unsafe-eval'" not in PLAYER_POLICY


async def test_a_header_the_app_set_is_kept() -> None:
    response = await get("/own")

    assert response.headers.get_list("referrer-policy") == ["same-origin"]
    assert response.headers["x-content-type-options"] == "nosniff"
