"""Azure tools as oracles: Azurite judges our SAS as Azure would, and the Azure SDK speaks to our family."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx
import pytest
from azure.core.exceptions import ResourceExistsError
from azure.storage.blob.aio import ContainerClient

from ova.common.clock import FrozenClock
from ova.storage.azure import AzureBlobStore
from ova.storage.sas import SasSigner
from support.azurite import ACCOUNT, ACCOUNT_KEY, AzuriteServer

BLOB = "segments/2030/01/01/12/1893499200000-1.m4s"
TAMPERING = [
    {"sp": "rw"},
    {"se": "2099-01-01T00:00:00Z"},
    {"sr": "c"},
    {"sv": "2021-08-06"},
    {"spr": "https"},
]


def with_query(url: str, query: list[tuple[str, str]]) -> str:
    return url.split("?", 1)[0] + "?" + urlencode(query, quote_via=quote)


def tampered(url: str, **changes: str) -> str:
    query = parse_qsl(urlsplit(url).query)
    return with_query(url, [(name, changes.get(name, value)) for name, value in query])


@pytest.fixture
async def azure_blob(azure_store: AzureBlobStore, container: str) -> AsyncIterator[bytes]:
    data = b"segment bytes"
    await azure_store.create_container(container)
    await azure_store.put(container, BLOB, data, "video/mp4")
    yield data
    await azure_store.delete_container(container)


async def test_azure_signed_urls_work_against_azurite(
    azure_store: AzureBlobStore, container: str, azure_blob: bytes
) -> None:
    expiry = datetime.now(UTC) + timedelta(minutes=10)
    read = await azure_store.signed_url(container, BLOB, "r", expiry)
    assert read is not None
    async with httpx.AsyncClient() as client:
        got = await client.get(read)
        assert (got.status_code, got.content, got.headers["content-type"]) == (200, azure_blob, "video/mp4")
        for change in TAMPERING:
            assert (await client.get(tampered(read, **change))).status_code == 403, change
        denied = await client.put(read, content=b"x", headers={"x-ms-blob-type": "BlockBlob"})
        assert denied.status_code == 403
        create = await azure_store.signed_url(container, None, "c", expiry)
        assert create is not None
        new_url = create.replace("?", "/segments/new.m4s?", 1)
        created = await client.put(new_url, content=b"new", headers={"x-ms-blob-type": "BlockBlob"})
        assert created.status_code == 201
    assert await azure_store.get(container, "segments/new.m4s") == b"new"


async def test_our_signer_is_accepted_by_azurite(
    azurite: AzuriteServer, container: str, azure_blob: bytes
) -> None:
    signer = SasSigner.from_base64(ACCOUNT, ACCOUNT_KEY)  # the system clock: Azurite uses real time
    expiry = datetime.now(UTC) + timedelta(minutes=10)
    base = f"{azurite.blob_endpoint}/{container}"
    read = f"{base}/{BLOB}?" + signer.sign(container, BLOB, "r", expiry, allow_http=True)
    listing = f"{base}?restype=container&comp=list&" + signer.sign(
        container, None, "rl", expiry, allow_http=True
    )
    async with httpx.AsyncClient() as client:
        got = await client.get(read)
        assert (got.status_code, got.content) == (200, azure_blob)
        listed = await client.get(listing)
        assert listed.status_code == 200 and f"<Name>{BLOB}</Name>".encode() in listed.content
        for change in TAMPERING:
            assert (await client.get(tampered(read, **change))).status_code == 403, change


async def test_the_azure_sdk_works_against_the_storage_family(
    family_port: int, signer: SasSigner, container: str, clock: FrozenClock
) -> None:
    query = signer.sign(container, None, "rcl", clock.now() + timedelta(hours=1), allow_http=True)
    client = ContainerClient.from_container_url(f"http://127.0.0.1:{family_port}/storage/{container}?{query}")
    async with client:
        await client.upload_blob(BLOB, b"from the sdk", overwrite=False)
        await client.upload_blob("init/a.mp4", b"init", overwrite=False)
        assert [blob.name async for blob in client.list_blobs()] == ["init/a.mp4", BLOB]
        assert [blob.name async for blob in client.list_blobs(name_starts_with="segments/")] == [BLOB]
        downloader = await client.download_blob(BLOB)
        assert await downloader.readall() == b"from the sdk"
        with pytest.raises(ResourceExistsError):
            await client.upload_blob(BLOB, b"other bytes", overwrite=False)
