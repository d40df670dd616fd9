"""Fixtures of the blob-store tests: a session Azurite, a store of each backend, the storage family."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp

from ova.cloud.api.storage.app import create_app
from ova.common.clock import FrozenClock
from ova.storage.azure import AzureBlobStore
from ova.storage.blob_store import BlobStore
from ova.storage.filesystem import FilesystemBlobStore
from ova.storage.sas import SasSigner
from support.azurite import ACCOUNT, ACCOUNT_KEY, AzuriteServer

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
PUBLIC_URL = "https://media.example.test/storage"
MAX_BLOB_BYTES = 64 * 1024


@pytest.fixture(scope="session")
def azurite() -> Iterator[AzuriteServer]:
    server = AzuriteServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def signer(clock: FrozenClock) -> SasSigner:
    """Signs for the emulator account with its well-known key, so Azurite can judge our SAS too."""
    return SasSigner.from_base64(ACCOUNT, ACCOUNT_KEY, clock=clock)


@pytest.fixture
def fs_store(tmp_path: Path, signer: SasSigner) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path / "blobs", signer=signer, public_url=PUBLIC_URL)


@pytest.fixture
async def azure_store(azurite: AzuriteServer) -> AsyncIterator[AzureBlobStore]:
    store = AzureBlobStore.from_connection_string(azurite.connection_string)
    yield store
    await store.close()


@pytest.fixture
def container() -> str:
    """A container name of its own for each test (Azurite lives for the whole session)."""
    return f"t{uuid.uuid4().hex[:16]}"


@pytest.fixture(params=["filesystem", "azure"])
async def store(request: pytest.FixtureRequest, container: str) -> AsyncIterator[BlobStore]:
    """Each backend, with ``container`` created in it."""
    backend: BlobStore
    if request.param == "filesystem":
        backend = request.getfixturevalue("fs_store")
    else:
        azurite: AzuriteServer = request.getfixturevalue("azurite")
        backend = AzureBlobStore.from_connection_string(azurite.connection_string)
    await backend.create_container(container)
    yield backend
    await backend.delete_container(container)
    await backend.close()


@pytest.fixture
def family_app(fs_store: FilesystemBlobStore, signer: SasSigner, clock: FrozenClock) -> Starlette:
    """The storage family mounted at /storage as a listener mounts it; uploads capped at 64 KiB."""
    app = create_app(fs_store, signer, ACCOUNT, clock, max_blob_bytes=MAX_BLOB_BYTES)
    return Starlette(routes=[Mount("/storage", app=app)])


@pytest.fixture
async def family(
    family_app: Starlette, fs_store: FilesystemBlobStore, container: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the storage family over HTTPS (ASGI transport), with ``container`` created."""
    await fs_store.create_container(container)
    transport = httpx.ASGITransport(app=family_app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://media.example.test") as client:
        yield client


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[int]:
    """``app`` served by uvicorn on a free loopback port (yielded) until the block ends."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        async with asyncio.timeout(10):
            await task


@pytest.fixture
async def family_port(
    family_app: Starlette, fs_store: FilesystemBlobStore, container: str
) -> AsyncIterator[int]:
    """The storage family served for real over plain HTTP on loopback, with ``container`` created."""
    await fs_store.create_container(container)
    async with serving(family_app) as port:
        yield port
