"""The BlobStore contract, run against every backend: the filesystem store and Azure Blob (Azurite)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from ova.common.clock import FrozenClock
from ova.storage.blob_store import BlobStore
from ova.storage.errors import BlobExists, BlobNotFound, ContainerNotFound, InvalidBlobName, InvalidRange

SEGMENT = "segments/2030/01/01/12/1893499200000-1.m4s"
INIT = "init/5f0c.mp4"


async def collect(
    store: BlobStore, container: str, name: str, start: int = 0, end: int | None = None
) -> bytes:
    return b"".join([chunk async for chunk in store.stream(container, name, start, end)])


async def test_put_then_get_and_head(store: BlobStore, container: str) -> None:
    data = os.urandom(3000)
    info = await store.put(container, SEGMENT, data, "video/iso.segment")
    assert await store.get(container, SEGMENT) == data
    head = await store.head(container, SEGMENT)
    assert head is not None
    assert (head.size, head.content_type, head.name) == (3000, "video/iso.segment", SEGMENT)
    assert head.sha256 == info.sha256 == hashlib.sha256(data).hexdigest()
    assert head.content_md5 == base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
    assert head.etag == info.etag and head.etag.startswith('"')


async def test_retried_put_of_the_same_bytes_succeeds(store: BlobStore, container: str) -> None:
    data = os.urandom(500)
    first = await store.put(container, SEGMENT, data, "video/mp4")
    again = await store.put(container, SEGMENT, data, "video/mp4")
    assert (again.etag, again.sha256, again.size) == (first.etag, first.sha256, first.size)


async def test_put_of_other_bytes_never_overwrites(store: BlobStore, container: str) -> None:
    await store.put(container, SEGMENT, b"first", "video/mp4")
    with pytest.raises(BlobExists):
        await store.put(container, SEGMENT, b"second", "video/mp4")
    assert await store.get(container, SEGMENT) == b"first"


async def test_concurrent_puts_leave_exactly_one_winner(store: BlobStore, container: str) -> None:
    payloads = [bytes([n]) * 2048 for n in range(6)]
    outcomes = await asyncio.gather(
        *(store.put(container, SEGMENT, data, "video/mp4") for data in payloads), return_exceptions=True
    )
    winners = [
        data for data, outcome in zip(payloads, outcomes, strict=True) if not isinstance(outcome, Exception)
    ]
    assert len(winners) == 1
    assert all(isinstance(o, BlobExists) for o in outcomes if isinstance(o, Exception))
    assert await store.get(container, SEGMENT) == winners[0]


async def test_missing_blob(store: BlobStore, container: str) -> None:
    with pytest.raises(BlobNotFound):
        await store.get(container, "nothing/here.m4s")
    with pytest.raises(BlobNotFound):
        await collect(store, container, "nothing/here.m4s")
    assert await store.head(container, "nothing/here.m4s") is None
    assert await store.delete(container, "nothing/here.m4s") is False


async def test_delete_frees_the_name(store: BlobStore, container: str) -> None:
    await store.put(container, SEGMENT, b"old", "video/mp4")
    assert await store.delete(container, SEGMENT) is True
    assert await store.head(container, SEGMENT) is None
    await store.put(container, SEGMENT, b"new bytes", "video/mp4")
    assert await store.get(container, SEGMENT) == b"new bytes"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, None, slice(None)),
        (10, 20, slice(10, 20)),
        (995, None, slice(995, None)),
        (990, 5000, slice(990, None)),
    ],
)
async def test_stream_ranges(
    store: BlobStore, container: str, start: int, end: int | None, expected: slice
) -> None:
    data = os.urandom(1000)
    await store.put(container, INIT, data, "video/mp4")
    assert await collect(store, container, INIT, start, end) == data[expected]


async def test_stream_refuses_a_range_past_the_end(store: BlobStore, container: str) -> None:
    await store.put(container, INIT, b"0123456789", "video/mp4")
    with pytest.raises(InvalidRange):
        await collect(store, container, INIT, 10)
    with pytest.raises(InvalidRange):
        await collect(store, container, INIT, 5, 5)


# aiohttp warns about any request body over 1 MiB given as bytes, which the Azure SDK always does.
@pytest.mark.filterwarnings("ignore:Sending a large body directly with raw bytes:ResourceWarning")
async def test_large_blob_streams_in_chunks(store: BlobStore, container: str) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    await store.put(container, SEGMENT, data, "video/mp4")
    chunks = [chunk async for chunk in store.stream(container, SEGMENT)]
    assert b"".join(chunks) == data


async def test_empty_blob(store: BlobStore, container: str) -> None:
    info = await store.put(container, "empty", b"", "text/plain")
    assert info.size == 0
    assert await store.get(container, "empty") == b""
    assert await collect(store, container, "empty") == b""
    assert await collect(store, container, "empty", 0, 5) == b""


async def test_list_by_prefix_in_name_order(store: BlobStore, container: str) -> None:
    names = ["segments/2030/01/01/13/b.m4s", "segments/2030/01/01/12/a.m4s", "init/x.mp4", "segments-old"]
    for name in names:
        await store.put(container, name, name.encode(), "video/mp4")
    everything = [info.name async for info in store.list(container)]
    assert everything == sorted(names)
    hour = [info async for info in store.list(container, "segments/2030/01/01/")]
    assert [info.name for info in hour] == ["segments/2030/01/01/12/a.m4s", "segments/2030/01/01/13/b.m4s"]
    assert [info.size for info in hour] == [len(info.name) for info in hour]
    assert [info.name async for info in store.list(container, "segments")] == sorted(names)[1:]
    assert [info.name async for info in store.list(container, "nothing/")] == []


async def test_missing_container(store: BlobStore) -> None:
    with pytest.raises(ContainerNotFound):
        await store.put("no-such-container", "a", b"x", "text/plain")
    with pytest.raises(ContainerNotFound):
        _ = [info async for info in store.list("no-such-container")]
    assert await store.head("no-such-container", "a") is None


async def test_containers_are_created_idempotently_and_deleted(store: BlobStore, container: str) -> None:
    await store.create_container(container)
    await store.put(container, "a/b", b"x", "text/plain")
    assert await store.delete_container(container) is True
    assert await store.delete_container(container) is False
    await store.create_container(container)
    assert await store.head(container, "a/b") is None


@pytest.mark.parametrize(
    "name",
    [
        "../escape",
        "a/../../b",
        "/abs",
        "a//b",
        "a/",
        "a\\b",
        "a\x00b",
        "a\nb",
        "%2e%2e/x",
        "x" * 1025,
        "",
        ".",
    ],
)
async def test_bad_blob_names_are_refused(store: BlobStore, container: str, name: str) -> None:
    with pytest.raises(InvalidBlobName):
        await store.put(container, name, b"x", "text/plain")
    with pytest.raises(InvalidBlobName):
        await store.get(container, name)


@pytest.mark.parametrize("name", ["ab", "Upper", "-lead", "trail-", "dou--ble", "a" * 64, "with_underscore"])
async def test_bad_container_names_are_refused(store: BlobStore, name: str) -> None:
    with pytest.raises(InvalidBlobName):
        await store.create_container(name)


async def test_signed_urls_carry_azure_sas_fields(
    store: BlobStore, container: str, clock: FrozenClock
) -> None:
    expiry = clock.now() + timedelta(hours=1)
    blob_url = await store.signed_url(container, SEGMENT, "r", expiry)
    container_url = await store.signed_url(container, None, "cw", expiry)
    assert blob_url is not None and container_url is not None
    blob_query, container_query = parse_qs(urlsplit(blob_url).query), parse_qs(urlsplit(container_url).query)
    assert urlsplit(blob_url).path.endswith(f"/{container}/{SEGMENT}")
    for query, resource, permissions in ((blob_query, "b", "r"), (container_query, "c", "cw")):
        assert {"sv", "sr", "sp", "st", "se", "spr", "sig"} <= set(query)
        assert (query["sr"], query["sp"]) == ([resource], [permissions])
        assert query["se"] == [expiry.strftime("%Y-%m-%dT%H:%M:%SZ")]
