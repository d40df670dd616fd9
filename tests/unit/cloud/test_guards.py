"""Listener guards: the client-network allow-list and the request body limit, in front of every family."""

from __future__ import annotations

from collections.abc import AsyncIterator
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from ova.cloud.guards import BodyLimit, NetworkAllowList, client_in, front_door, serves_metrics
from ova.cloud.runtime import Cloud, build
from ova.cloud.settings import CloudSettings, ListenerSettings

LIMIT = 1024
ENVELOPE_KEYS = {"code", "message", "target", "details"}
ACCOUNT = (
    "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Media/videoAnalyzers/acct1"
    "?api-version=2021-11-01-preview"
)


class Echo:
    """An app that reads the whole body and answers with its length; remembers whether it ran."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(body)).encode()})


def client_for(app: Any, peer: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 1234))
    return httpx.AsyncClient(transport=transport, base_url="http://ova.test")


def assert_envelope(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == ENVELOPE_KEYS
    assert error["code"] == code


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


# --- network allow-list -----------------------------------------------------------------


@pytest.mark.parametrize("peer", ["10.1.2.3", "::ffff:10.1.2.3"])
async def test_a_client_inside_the_allowed_networks_is_served(peer: str) -> None:
    app = NetworkAllowList(Echo(), [ip_network("10.0.0.0/8")])
    async with client_for(app, peer) as client:
        response = await client.post("/", content=b"hello")
    assert (response.status_code, response.text) == (200, "5")


@pytest.mark.parametrize("peer", ["127.0.0.1", "::ffff:127.0.0.1", "11.0.0.1", "::1", "not-an-address"])
async def test_a_client_outside_the_allowed_networks_is_refused(peer: str) -> None:
    echo = Echo()
    app = NetworkAllowList(echo, [ip_network("10.0.0.0/8")])
    async with client_for(app, peer) as client:
        response = await client.get("/")
    assert_envelope(response, 403, "NetworkAccessDenied")
    assert echo.calls == 0


async def test_ipv6_networks_are_matched() -> None:
    app = NetworkAllowList(Echo(), [ip_network("fd00::/8")])
    async with client_for(app, "fd12::7") as inside, client_for(app, "fe80::1") as outside:
        assert (await inside.get("/")).status_code == 200
        assert (await outside.get("/")).status_code == 403


async def test_no_allowed_networks_means_everyone() -> None:
    app = NetworkAllowList(Echo(), [])
    async with client_for(app, "203.0.113.9") as client:
        assert (await client.get("/")).status_code == 200


def test_a_request_without_a_peer_address_is_not_in_any_network() -> None:
    assert not client_in([ip_network("0.0.0.0/0")], {"type": "http", "client": None})


@pytest.fixture
async def guarded_cloud(tmp_path: Path) -> AsyncIterator[Cloud]:
    listener = ListenerSettings.model_validate({"allow_networks": ["10.0.0.0/8"]})
    cloud = await build(
        CloudSettings(data_dir=tmp_path / "data", listeners=[listener], max_request_body_bytes=LIMIT)
    )
    yield cloud
    await cloud.close()


async def test_a_listener_allow_list_guards_every_path(guarded_cloud: Cloud) -> None:
    _, app = guarded_cloud.listeners[0]
    async with client_for(app, "127.0.0.1") as outsider, client_for(app, "10.1.2.3") as insider:
        for path in ("/metrics", "/openapi/management.json", ACCOUNT):
            assert_envelope(await outsider.get(path), 403, "NetworkAccessDenied")
        assert (await insider.get("/metrics")).status_code == 200
        assert (await insider.get("/openapi/management.json")).status_code == 200
        assert_envelope(await insider.get(ACCOUNT), 401, "AuthenticationFailed")


# --- body limit ---------------------------------------------------------------------------


async def test_a_declared_length_over_the_limit_is_refused_before_the_app_runs() -> None:
    echo = Echo()
    async with client_for(BodyLimit(echo, LIMIT)) as client:
        response = await client.put("/", content=b"x" * (LIMIT + 1))
    assert_envelope(response, 413, "RequestEntityTooLarge")
    assert str(LIMIT) in response.json()["error"]["message"]
    assert echo.calls == 0


async def test_a_streamed_body_over_the_limit_is_refused() -> None:
    echo = Echo()
    async with client_for(BodyLimit(echo, LIMIT)) as client:
        response = await client.put("/", content=chunks(b"x" * 600, b"x" * 600, b"x" * 600))
    assert_envelope(response, 413, "RequestEntityTooLarge")
    assert echo.calls == 0


@pytest.mark.parametrize("declared", ["abc", "-1", "1e3", "", "9" * 5000])
async def test_a_non_numeric_content_length_is_refused(declared: str) -> None:
    async with client_for(BodyLimit(Echo(), LIMIT)) as client:
        response = await client.put("/", content=b"{}", headers={"content-length": declared})
    assert_envelope(response, 413, "RequestEntityTooLarge")


async def test_a_body_at_the_limit_passes_through_whole() -> None:
    async with client_for(BodyLimit(Echo(), LIMIT)) as client:
        declared = await client.put("/", content=b"x" * LIMIT)
        streamed = await client.put("/", content=chunks(b"x" * 1000, b"x" * (LIMIT - 1000)))
        empty = await client.get("/")
    assert (declared.status_code, declared.text) == (200, str(LIMIT))
    assert (streamed.status_code, streamed.text) == (200, str(LIMIT))
    assert (empty.status_code, empty.text) == (200, "0")


async def test_after_the_buffered_body_the_app_hears_the_server_again() -> None:
    """A streamed body is handed over whole; the next receive() (e.g. disconnect) is the server's."""
    seen: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.extend([await receive(), await receive()])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    messages = iter(
        [
            {"type": "http.request", "body": b"ab", "more_body": True},
            {"type": "http.request", "body": b"cd", "more_body": False},
            {"type": "http.disconnect"},
        ]
    )

    async def receive() -> Message:
        return next(messages)

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"transfer-encoding", b"chunked")]}
    await BodyLimit(app, LIMIT)(scope, receive, send)

    assert seen == [
        {"type": "http.request", "body": b"abcd", "more_body": False},
        {"type": "http.disconnect"},
    ]
    assert sent[0]["status"] == 204


async def test_the_management_api_answers_413_to_an_oversized_streamed_body(guarded_cloud: Cloud) -> None:
    """The family reads the body itself; the limit must still surface as 413, not a 500."""
    _, app = guarded_cloud.listeners[0]
    async with client_for(app, "10.1.2.3") as client:
        streamed = await client.put(ACCOUNT, content=chunks(b"x" * 700, b"x" * 700))
        declared = await client.put(ACCOUNT, content=b"x" * (LIMIT + 1))
    assert_envelope(streamed, 413, "RequestEntityTooLarge")
    assert_envelope(declared, 413, "RequestEntityTooLarge")


# --- trusted proxies and /metrics exposure (issue 7) ----------------------------------------------


class ClientAddress:
    """An app that answers with the client address it was given."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": (client[0] if client else "-").encode()})


PROXIES = [ip_network("10.0.0.0/8"), ip_network("fd00::/8")]
FORWARDED_CASES = {
    "one proxy": ("10.0.0.1", ["203.0.113.7"], "203.0.113.7"),
    "rightmost untrusted hop, not the client's claim": (
        "10.0.0.1",
        ["198.51.100.1, 203.0.113.7, 10.0.0.2"],
        "203.0.113.7",
    ),
    "headers joined in order": ("10.0.0.1", ["198.51.100.1", "203.0.113.7"], "203.0.113.7"),
    "untrusted peer: header ignored": ("192.0.2.1", ["203.0.113.7"], "192.0.2.1"),
    "malformed hop: the peer stays": ("10.0.0.1", ["203.0.113.7, not-an-ip"], "10.0.0.1"),
    "only proxies: the furthest": ("10.0.0.1", ["10.0.0.3, 10.0.0.2"], "10.0.0.3"),
    "no header": ("10.0.0.1", [], "10.0.0.1"),
    "ipv6": ("fd00::1", ["2001:db8::5"], "2001:db8::5"),
}


@pytest.mark.parametrize(("peer", "headers", "client"), FORWARDED_CASES.values(), ids=FORWARDED_CASES.keys())
async def test_the_forwarded_address_counts_only_from_trusted_proxies(
    peer: str, headers: list[str], client: str
) -> None:
    app = front_door(ClientAddress(), PROXIES)
    async with client_for(app, peer) as http:
        response = await http.get("/", headers=[("X-Forwarded-For", value) for value in headers])
    assert response.text == client


async def test_without_trusted_proxies_the_header_is_ignored() -> None:
    async with client_for(front_door(ClientAddress(), []), "10.0.0.1") as http:
        response = await http.get("/", headers={"X-Forwarded-For": "203.0.113.7"})
    assert response.text == "10.0.0.1"


async def test_a_forwarded_address_meets_the_listener_allow_list(tmp_path: Path) -> None:
    listener = ListenerSettings(allow_networks=[ip_network("203.0.113.0/24")])
    settings = CloudSettings(data_dir=tmp_path / "data", listeners=[listener], trusted_proxies=PROXIES)
    cloud = await build(settings)
    try:
        _, app = cloud.listeners[0]
        async with client_for(app, "10.0.0.1") as http:
            allowed = await http.get("/openapi/client.json", headers={"X-Forwarded-For": "203.0.113.7"})
            refused = await http.get("/openapi/client.json", headers={"X-Forwarded-For": "198.51.100.1"})
    finally:
        await cloud.close()
    assert allowed.status_code == 200
    assert_envelope(refused, 403, "NetworkAccessDenied")


METRICS_LISTENERS = {
    "loopback": (ListenerSettings(host="127.0.0.1"), True),
    "ipv6-loopback": (ListenerSettings(host="::1", families=[]), True),
    "any": (ListenerSettings(host="0.0.0.0", families=[]), False),
    "public": (ListenerSettings(host="192.0.2.10", families=[]), False),
    "public-opted-in": (ListenerSettings(host="0.0.0.0", families=[], metrics=True), True),
    "loopback-opted-out": (ListenerSettings(host="127.0.0.1", families=[], metrics=False), False),
}


async def test_metrics_are_served_only_where_the_listener_says(tmp_path: Path) -> None:
    listeners = [listener for listener, _ in METRICS_LISTENERS.values()]
    cloud = await build(CloudSettings(data_dir=tmp_path / "data", listeners=listeners))
    try:
        for (name, (listener, served)), (_, app) in zip(
            METRICS_LISTENERS.items(), cloud.listeners, strict=True
        ):
            async with client_for(app) as http:
                response = await http.get("/metrics")
            assert serves_metrics(listener) is served, name
            if served:
                assert response.status_code == 200, name
                assert "ova_http_requests" in response.text
            else:
                assert_envelope(response, 404, "NotFound")
    finally:
        await cloud.close()
