"""The storage family as an Azure-Blob-shaped HTTP API over the filesystem store."""

from __future__ import annotations

import base64
import hashlib
import os
import xml.etree.ElementTree as ElementTree
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette

from ova.common.clock import FrozenClock
from ova.storage.filesystem import FilesystemBlobStore
from ova.storage.sas import SasSigner

BLOB = "segments/2030/01/01/12/1893499200000-1.m4s"


def url(signer: SasSigner, clock: FrozenClock, container: str, blob: str | None, permissions: str) -> str:
    query = signer.sign(container, blob, permissions, clock.now() + timedelta(hours=1))
    return f"/storage/{container}" + (f"/{blob}" if blob else "") + f"?{query}"


async def test_put_get_head_delete(
    family: httpx.AsyncClient, signer: SasSigner, clock: FrozenClock, container: str
) -> None:
    data = os.urandom(5000)
    put = await family.put(
        url(signer, clock, container, BLOB, "c"),
        content=data,
        headers={"x-ms-blob-type": "BlockBlob", "Content-Type": "video/iso.segment"},
    )
    assert put.status_code == 201
    assert (
        put.headers["content-md5"]
        == base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
    )
    read = url(signer, clock, container, BLOB, "r")
    got = await family.get(read)
    assert (got.status_code, got.content, got.headers["content-type"]) == (200, data, "video/iso.segment")
    assert got.headers["etag"] == put.headers["etag"]
    head = await family.head(read)
    assert (head.status_code, head.headers["content-length"], head.content) == (200, "5000", b"")
    assert (await family.delete(url(signer, clock, container, BLOB, "d"))).status_code == 202
    assert (await family.get(read)).status_code == 404
    assert (await family.delete(url(signer, clock, container, BLOB, "d"))).status_code == 404


@pytest.mark.parametrize("header", ["Range", "x-ms-range"])
async def test_ranges_answer_206(
    family: httpx.AsyncClient, signer: SasSigner, clock: FrozenClock, container: str, header: str
) -> None:
    data = os.urandom(1000)
    await family.put(url(signer, clock, container, BLOB, "c"), content=data)
    response = await family.get(url(signer, clock, container, BLOB, "r"), headers={header: "bytes=100-199"})
    assert response.status_code == 206
    assert response.content == data[100:200]
    assert response.headers["content-range"] == "bytes 100-199/1000"
    past_end = await family.get(url(signer, clock, container, BLOB, "r"), headers={header: "bytes=5000-"})
    assert past_end.status_code == 416


async def test_put_is_create_only_and_idempotent(
    family: httpx.AsyncClient,
    signer: SasSigner,
    clock: FrozenClock,
    container: str,
    fs_store: FilesystemBlobStore,
) -> None:
    write = url(signer, clock, container, BLOB, "cw")
    assert (await family.put(write, content=b"first")).status_code == 201
    assert (await family.put(write, content=b"first")).status_code == 201
    conflict = await family.put(write, content=b"other", headers={"If-None-Match": "*"})
    assert conflict.status_code == 409
    assert conflict.headers["x-ms-error-code"] == "BlobAlreadyExists"
    assert b"<Code>BlobAlreadyExists</Code>" in conflict.content
    assert await fs_store.get(container, BLOB) == b"first"


async def test_upload_checks(
    family: httpx.AsyncClient,
    signer: SasSigner,
    clock: FrozenClock,
    container: str,
    fs_store: FilesystemBlobStore,
) -> None:
    write = url(signer, clock, container, BLOB, "c")
    too_big = await family.put(write, content=b"x" * (64 * 1024 + 1))
    assert (too_big.status_code, too_big.headers["x-ms-error-code"]) == (413, "RequestBodyTooLarge")

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(70):
            yield b"x" * 1024

    assert (await family.put(write, content=chunked())).status_code == 413
    wrong_md5 = await family.put(
        write, content=b"abc", headers={"Content-MD5": base64.b64encode(b"0" * 16).decode()}
    )
    assert (wrong_md5.status_code, wrong_md5.headers["x-ms-error-code"]) == (400, "Md5Mismatch")
    append = await family.put(write, content=b"abc", headers={"x-ms-blob-type": "AppendBlob"})
    assert append.status_code == 400
    assert await fs_store.head(container, BLOB) is None


async def test_list_blobs_as_enumeration_results(
    family: httpx.AsyncClient,
    signer: SasSigner,
    clock: FrozenClock,
    container: str,
    fs_store: FilesystemBlobStore,
) -> None:
    names = [f"segments/2030/01/01/12/{n}.m4s" for n in range(5)] + ["init/a.mp4"]
    for name in names:
        await fs_store.put(container, name, name.encode(), "video/mp4")
    base = url(signer, clock, container, None, "l") + "&restype=container&comp=list"
    first = await family.get(base + "&prefix=segments/&maxresults=3&include=metadata")
    assert first.status_code == 200
    root = ElementTree.fromstring(first.content)  # noqa: S314 (our own server's answer)
    assert [n.text for n in root.iter("Name")] == names[:3]
    assert root.findtext("NextMarker") == names[2]
    assert root.findtext("Blobs/Blob/Metadata/sha256") == hashlib.sha256(names[0].encode()).hexdigest()
    rest = await family.get(base + f"&prefix=segments/&marker={names[2]}")
    rest_root = ElementTree.fromstring(rest.content)  # noqa: S314
    assert [n.text for n in rest_root.iter("Name")] == names[3:5]
    assert rest_root.findtext("NextMarker") == ""
    not_a_listing = await family.get(url(signer, clock, container, None, "l"))
    assert not_a_listing.status_code == 400


async def test_unknown_methods_and_paths_answer_in_xml(
    family: httpx.AsyncClient, signer: SasSigner, clock: FrozenClock, container: str
) -> None:
    response = await family.post(url(signer, clock, container, BLOB, "c"), content=b"x")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/xml")
    assert response.headers["x-ms-error-code"] == "UnsupportedHttpVerb"


def test_the_openapi_document_builds(family_app: Starlette) -> None:
    family = family_app.routes[0].app  # type: ignore[attr-defined]
    paths = family.openapi()["paths"]
    assert set(paths) == {"/{container}/{blob}", "/{container}"}
    assert {op["operationId"] for op in paths["/{container}/{blob}"].values()} == {
        "GetBlob",
        "GetBlobProperties",
        "PutBlob",
        "DeleteBlob",
    }
