"""S2: no request path reaches outside the store's root, sent raw so no client normalises it first."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from ova.common.clock import FrozenClock
from ova.storage.filesystem import FilesystemBlobStore
from ova.storage.sas import SasSigner

SECRET = b"TOP-SECRET-OUTSIDE-THE-ROOT"
ESCAPES = [
    "{c}/../../secret.txt",
    "{c}/%2e%2e/%2e%2e/secret.txt",
    "{c}/%2E%2E%2F%2E%2E%2Fsecret.txt",
    "{c}/%252e%252e/%252e%252e/secret.txt",
    "{c}/..%5c..%5csecret.txt",
    "{c}/..\\..\\secret.txt",
    "{c}//secret.txt",
    "{c}/a//b",
    "{c}/%2fsecret.txt",
    "{c}/inside%00.txt",
    "{c}/inside.txt%00",
    "{c}/./inside.txt",
    "%2e%2e/secret.txt",
    "../secret.txt",
    "{c}%2f..%2f..%2fsecret.txt",
    "{c}/link/secret.txt",
]


async def raw_get(port: int, target: str) -> tuple[int, bytes]:
    """Send ``GET target`` byte for byte and return the status and the whole response."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        writer.write(request.encode("latin-1"))
        await writer.drain()
        async with asyncio.timeout(5):
            response = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    return int(response.split(b" ", 2)[1]), response


@pytest.fixture
def outside(tmp_path: Path, fs_store: FilesystemBlobStore, container: str) -> Path:
    """A secret file next to the store's root, and a symlink inside the container pointing at it."""
    secret = tmp_path / "secret.txt"
    secret.write_bytes(SECRET)
    (fs_store.root / container).mkdir(exist_ok=True)
    (fs_store.root / container / "link").symlink_to(tmp_path)
    return secret


async def test_s2_traversal_never_leaves_the_root(
    family_port: int,
    fs_store: FilesystemBlobStore,
    signer: SasSigner,
    clock: FrozenClock,
    container: str,
    outside: Path,
) -> None:
    await fs_store.put(container, "inside.txt", b"inside", "text/plain")
    query = signer.sign(container, None, "r", clock.now() + timedelta(hours=1), allow_http=True)
    status, response = await raw_get(family_port, f"/storage/{container}/inside.txt?{query}")
    assert (status, response.endswith(b"inside")) == (200, True)  # the raw path works when it is clean
    for template in ESCAPES:
        target = "/storage/" + template.format(c=container) + "?" + query
        status, response = await raw_get(family_port, target)
        assert status in (400, 403), template
        assert SECRET not in response, template
        assert b"sig=" not in response, template
