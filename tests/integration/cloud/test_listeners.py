"""Per-family listeners served for real by uvicorn on loopback: routing, /metrics and TLS 1.2+.

One cloud, three listeners: management alone; client and streaming; and a TLS listener
(the edge family) with a certificate from the test CA.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
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
        ListenerSettings(port=0, families=[Family.MANAGEMENT]),
        ListenerSettings(port=0, families=[Family.CLIENT, Family.STREAMING]),
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


async def test_metrics_on_every_listener_count_the_whole_process(ports: Ports, tls_files: TlsFiles) -> None:
    async with http(ports.management) as management, http(ports.client) as other:
        assert (await management.get(OPERATIONS)).status_code == 401
        scraped = [await management.get("/metrics"), await other.get("/metrics")]
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
