"""Oversized credentials against a real uvicorn listener on loopback (security.md J13).

PyJWT has no size limit, so the HTTP layer must bound what a client can make the server
read: a header block beyond the listener's limit is refused before it is read in full,
and tokens beyond the evaluator's length cap are refused without any cryptography.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from ova.cloud.runtime import Cloud
from support.client_api import Tenant, bearer
from support.customer_issuer import CustomerIssuer
from support.listeners import serving

pytestmark = [
    pytest.mark.cloud_settings(listeners=[{"port": 0}]),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),  # transport, not storage
]
CHUNK = 64 * 1024
QUICK_SECONDS = 2.0


@pytest.fixture
async def port(cloud: Cloud) -> AsyncIterator[int]:
    async with serving(cloud) as ports:
        yield ports[0]


async def raw_request(port: int, path: str, credential: bytes) -> tuple[bytes, int]:
    """Send a GET with ``Authorization: Bearer <credential>``, 64 KiB at a time.

    Returns the status line and how many bytes the server let us send. A server that
    refuses a header block answers 400 and closes; a client still sending may then see the
    connection reset before it can read that answer, so the status line may be empty.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ".encode()
    request += credential + b"\r\n\r\n"
    sent, status = 0, b""
    try:
        while sent < len(request):
            writer.write(request[sent : sent + CHUNK])
            await asyncio.wait_for(writer.drain(), QUICK_SECONDS)
            sent += CHUNK
        status = await asyncio.wait_for(reader.readline(), QUICK_SECONDS)
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        writer.close()
    return status, min(sent, len(request))


def refused(status: bytes, *codes: int) -> bool:
    return status == b"" or any(status.startswith(f"HTTP/1.1 {code} ".encode()) for code in codes)


def path_of(tenant: Tenant, resource: str) -> str:
    return tenant.url(resource).split("127.0.0.1:0", 1)[1]


@pytest.mark.parametrize("size", [16 * 1024, 1024 * 1024])
async def test_oversized_authorization_headers_are_refused_quickly(
    tenant: Tenant, port: int, size: int
) -> None:
    started = time.monotonic()
    status, _ = await raw_request(port, path_of(tenant, "/videos/lobby"), b"A" * size)
    assert refused(status, 400, 401, 431), status
    assert time.monotonic() - started < QUICK_SECONDS


async def test_a_huge_header_is_cut_off_before_it_is_read(tenant: Tenant, port: int) -> None:
    started = time.monotonic()
    status, sent = await raw_request(port, path_of(tenant, "/videos/lobby"), b"A" * (32 * 1024 * 1024))
    assert refused(status, 400, 431), status
    assert sent < 16 * 1024 * 1024, "the server kept reading a 32 MiB header"
    assert time.monotonic() - started < QUICK_SECONDS


async def test_huge_and_encrypted_tokens_are_refused_and_the_server_stays_up(
    tenant: Tenant, port: int, issuer: CustomerIssuer
) -> None:
    aud = tenant.aud("/videos/*")
    many_claims = issuer.token(aud, **{f"c{index}": index for index in range(10_000)})
    started = time.monotonic()
    status, _ = await raw_request(port, path_of(tenant, "/videos/lobby"), many_claims.encode())
    assert refused(status, 400, 401, 431), status
    assert time.monotonic() - started < QUICK_SECONDS

    url = tenant.url("/videos/lobby").replace("127.0.0.1:0", f"127.0.0.1:{port}")
    jwe = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a2V5.aXY.Y2lwaGVy.dGFn"
    async with httpx.AsyncClient(timeout=QUICK_SECONDS) as http:
        encrypted = await http.get(url, headers=bearer(jwe))
        assert encrypted.status_code == 401
        assert encrypted.json()["error"]["code"] == "InvalidToken"
        honest = await http.get(url, headers=bearer(issuer.token(aud)))
        assert honest.status_code == 200, honest.text
