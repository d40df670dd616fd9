"""Per-family listeners served for real by uvicorn on loopback: routing, /metrics, TLS 1.2+, slow clients.

One cloud, three listeners: management alone (with short head and body timeouts); client
and streaming (metrics off, tiny connection limits); and a TLS listener (the edge family)
with a certificate from the test CA.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ova.cloud.domain.operator_keys import create_key
from ova.cloud.runtime import build
from ova.cloud.settings import CloudSettings, Family, ListenerSettings
from support.listeners import serving
from support.tls import TlsFiles, legacy_client_context, legacy_server_handshake, write_tls_files

OPERATIONS = "/providers/Microsoft.Media/operations?api-version=2021-11-01-preview"
ACCOUNTS = "/subscriptions/s1/providers/Microsoft.Media/videoAnalyzers?api-version=2021-11-01-preview"
ACCOUNT = (
    "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Media/videoAnalyzers/slow"
    "?api-version=2021-11-01-preview"
)
SHORT_TIMEOUT = 1.5
CONCURRENCY = 3


@dataclass(frozen=True)
class Ports:
    management: int
    client: int
    tls: int
    operator_key: str


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return write_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def ports(tmp_path: Path, tls_files: TlsFiles) -> AsyncIterator[Ports]:
    listeners = [
        ListenerSettings(
            port=0,
            families=[Family.MANAGEMENT],
            header_timeout_seconds=SHORT_TIMEOUT,
            body_timeout_seconds=SHORT_TIMEOUT,
        ),
        ListenerSettings(
            port=0,
            families=[Family.CLIENT, Family.STREAMING],
            metrics=False,
            limit_concurrency=CONCURRENCY,
            max_connections=CONCURRENCY + 1,
        ),
        ListenerSettings(
            port=0, families=[Family.EDGE], tls_cert=tls_files.server_cert, tls_key=tls_files.server_key
        ),
    ]
    cloud = await build(CloudSettings(data_dir=tmp_path / "data", listeners=listeners))
    try:
        async with cloud.services.sessions.begin() as session:
            key = await create_key(session, cloud.services.clock, "listeners")
        async with serving(cloud) as bound:
            yield Ports(*bound, operator_key=key)
    finally:
        await cloud.close()


def http(port: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5)


def handshake(port: int, context: ssl.SSLContext) -> str | None:
    """A blocking TLS handshake from a worker thread; the negotiated version."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as sock,
        context.wrap_socket(sock, server_hostname="127.0.0.1") as tls,
    ):
        return tls.version()


def trusting(tls_files: TlsFiles, version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(tls_files.ca_cert))
    context.minimum_version = context.maximum_version = version
    return context


async def test_management_answers_only_on_its_own_listener(ports: Ports) -> None:
    operator = {"Authorization": f"Bearer {ports.operator_key}"}
    async with http(ports.management) as management, http(ports.client) as other:
        for path in (OPERATIONS, ACCOUNTS):
            assert (await management.get(path, headers=operator)).status_code == 200
            own = await management.get(path)
            assert own.status_code == 401  # the management family answered: it wants an operator key
            assert own.headers["www-authenticate"].startswith("Bearer")
            elsewhere = await other.get(path)
            assert elsewhere.status_code == 404
            assert elsewhere.json()["error"]["code"] == "NotFound"


async def test_each_listener_publishes_only_its_families_documents(ports: Ports) -> None:
    async with http(ports.management) as management, http(ports.client) as other:
        assert (await management.get("/openapi/management.json")).status_code == 200
        assert (await management.get("/openapi/client.json")).status_code == 404
        assert (await other.get("/openapi/management.json")).status_code == 404
        for family in ("client", "streaming"):
            document = await other.get(f"/openapi/{family}.json")
            assert document.status_code == 200
            assert family in document.json()["info"]["title"].lower()
        assert (await management.get("/client/anything")).status_code == 404
        assert (await management.get("/streaming/anything")).status_code == 404


async def test_metrics_on_the_listeners_that_serve_them_count_the_whole_process(
    ports: Ports, tls_files: TlsFiles
) -> None:
    async with http(ports.management) as management, http(ports.client) as other:
        assert (await management.get(OPERATIONS)).status_code == 401
        scraped = [await management.get("/metrics")]
        hidden = [await other.get("/metrics"), await other.get("/metrics/")]
    for response in hidden:  # metrics: false on this listener
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NotFound"
    async with httpx.AsyncClient(verify=trusting(tls_files, ssl.TLSVersion.TLSv1_3), timeout=5) as secure:
        scraped.append(await secure.get(f"https://127.0.0.1:{ports.tls}/metrics"))
    counted = 'ova_http_requests_total{family="management",method="GET",status="401"} 1.0'
    for response in scraped:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert counted in response.text


@pytest.mark.parametrize(
    "version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["TLSv1.2", "TLSv1.3"]
)
async def test_the_tls_listener_serves_tls_1_2_and_1_3(
    ports: Ports, tls_files: TlsFiles, version: ssl.TLSVersion
) -> None:
    context = trusting(tls_files, version)

    negotiated = await asyncio.to_thread(handshake, ports.tls, context)
    async with httpx.AsyncClient(verify=context, timeout=5) as client:
        response = await client.get(f"https://127.0.0.1:{ports.tls}/metrics")

    assert negotiated == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
    assert response.status_code == 200


async def test_the_tls_listener_refuses_a_tls_1_1_client(ports: Ports, tls_files: TlsFiles) -> None:
    """End to end. (OpenSSL's default security level would refuse TLS 1.1 even without the
    listener's minimum_version pin; tests/unit/cloud/test_server.py checks the pin itself.)"""
    legacy = legacy_client_context(tls_files.ca_cert)
    # The same client completes TLS 1.1 with a server that allows it: a refusal is the listener's doing.
    assert await asyncio.to_thread(legacy_server_handshake, tls_files, legacy) in ("TLSv1", "TLSv1.1")

    # asyncio's server side drops the connection without flushing its alert: the client sees EOF or RST.
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        await asyncio.to_thread(handshake, ports.tls, legacy)


async def test_plain_http_to_the_tls_listener_gets_no_response(ports: Ports) -> None:
    async with http(ports.tls) as plain:
        with pytest.raises(httpx.TransportError):
            await plain.get("/metrics")


async def test_a_plain_listener_does_not_speak_tls(ports: Ports, tls_files: TlsFiles) -> None:
    with pytest.raises(ssl.SSLError):
        await asyncio.to_thread(handshake, ports.management, trusting(tls_files, ssl.TLSVersion.TLSv1_3))


# --- slow and numerous clients (issue 7) ---------------------------------------------------------


async def closed_by_server(reader: asyncio.StreamReader, within: float) -> bytes:
    """What the server sent before closing, waiting at most ``within`` seconds for the close."""
    received = b""
    async with asyncio.timeout(within):
        try:
            while chunk := await reader.read(4096):
                received += chunk
        except ConnectionResetError:
            pass
    return received


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def test_a_client_sending_one_header_line_at_a_time_is_cut_off(ports: Ports) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", ports.management)
    started = time.monotonic()
    writer.write(f"GET {OPERATIONS} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())

    async def trickle() -> None:
        for n in range(40):
            await asyncio.sleep(0.25)
            writer.write(f"X-Slow-{n}: a\r\n".encode())
            await writer.drain()

    dripping = asyncio.create_task(trickle())
    try:
        await closed_by_server(reader, within=SHORT_TIMEOUT + 2)
    finally:
        dripping.cancel()
        await close(writer)
    assert time.monotonic() - started < SHORT_TIMEOUT + 1.5
    assert not dripping.done() or dripping.cancelled()  # still sending when cut off


async def test_a_stalled_request_body_gets_408_and_the_connection_closes(ports: Ports) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", ports.management)
    head = (
        f"PUT {ACCOUNT} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ports.operator_key}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    writer.write(head.encode() + b'{"location": ')
    started = time.monotonic()
    try:
        answer = await closed_by_server(reader, within=SHORT_TIMEOUT + 2)
    finally:
        await close(writer)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < SHORT_TIMEOUT + 1.5


async def test_past_the_concurrency_limit_requests_get_503_and_extra_connections_are_closed(
    ports: Ports,
) -> None:
    idle = [await asyncio.open_connection("127.0.0.1", ports.client) for _ in range(CONCURRENCY - 1)]
    try:
        async with http(ports.client) as client:
            assert (await client.get("/openapi/client.json")).status_code == 503
        idle += [await asyncio.open_connection("127.0.0.1", ports.client) for _ in range(2)]
        extra_reader, extra_writer = await asyncio.open_connection("127.0.0.1", ports.client)
        idle.append((extra_reader, extra_writer))
        assert await closed_by_server(extra_reader, within=2) == b""  # one past max_connections
    finally:
        for _, writer in idle:
            await close(writer)
    await asyncio.sleep(0.1)  # the server notices the closes
    async with http(ports.client) as client:
        assert (await client.get("/openapi/client.json")).status_code == 200
