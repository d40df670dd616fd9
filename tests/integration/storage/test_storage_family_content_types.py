"""The storage family stores and serves the archive's media types only, and answers bad input with 400."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from ova.common.clock import FrozenClock
from ova.storage.filesystem import FilesystemBlobStore
from ova.storage.sas import SasSigner

PAGE = b"<html><script>alert(document.domain)</script></html>"


def url(signer: SasSigner, clock: FrozenClock, container: str, blob: str | None, permissions: str) -> str:
    query = signer.sign(container, blob, permissions, clock.now() + timedelta(hours=1))
    return f"/storage/{container}" + (f"/{blob}" if blob else "") + f"?{query}"


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/html"},
        {"Content-Type": "video/mp4", "x-ms-blob-content-type": "text/html; charset=utf-8"},
        {"Content-Type": "image/svg+xml"},
        {"Content-Type": "application/javascript"},
        {"Content-Type": "video/mp4" + " " * 200},
    ],
)
async def test_other_types_are_refused_at_upload(
    family: httpx.AsyncClient, signer: SasSigner, clock: FrozenClock, container: str, headers: dict[str, str]
) -> None:
    blob = "preview/1/small.jpg"
    refused = await family.put(url(signer, clock, container, blob, "c"), content=PAGE, headers=headers)

    assert refused.status_code == 415
    assert refused.headers["x-ms-error-code"] == "UnsupportedMediaType"
    assert b"<Code>UnsupportedMediaType</Code>" in refused.content
    assert (await family.get(url(signer, clock, container, blob, "r"))).status_code == 404


@pytest.mark.parametrize(
    ("declared", "served"),
    [
        ("video/mp4", "video/mp4"),
        ("Video/ISO.Segment; foo=bar", "video/iso.segment"),
        ("image/jpeg", "image/jpeg"),
    ],
)
async def test_archive_types_are_stored_and_served(
    family: httpx.AsyncClient,
    signer: SasSigner,
    clock: FrozenClock,
    container: str,
    declared: str,
    served: str,
) -> None:
    blob = "init/abc.mp4"
    put = await family.put(
        url(signer, clock, container, blob, "c"), content=b"x", headers={"x-ms-blob-content-type": declared}
    )
    got = await family.get(url(signer, clock, container, blob, "r"))

    assert put.status_code == 201
    assert got.headers["content-type"] == served
    assert "content-disposition" not in got.headers


async def test_untyped_and_foreign_blobs_are_served_as_attachments(
    family: httpx.AsyncClient,
    fs_store: FilesystemBlobStore,
    signer: SasSigner,
    clock: FrozenClock,
    container: str,
) -> None:
    await family.put(url(signer, clock, container, "untyped", "c"), content=b"x")
    await fs_store.put(container, "written-before-the-rule.html", PAGE, "text/html")

    for blob in ("untyped", "written-before-the-rule.html"):
        got = await family.get(url(signer, clock, container, blob, "r"))
        assert (got.status_code, got.headers["content-type"]) == (200, "application/octet-stream")
        assert got.headers["content-disposition"] == "attachment"


@pytest.mark.parametrize("maxresults", ["9" * 5000, "²", "٣", "0", "5001", "-1"])
async def test_bad_maxresults_answer_400(
    family: httpx.AsyncClient, signer: SasSigner, clock: FrozenClock, container: str, maxresults: str
) -> None:
    listing = url(signer, clock, container, None, "l")
    query = httpx.QueryParams({"restype": "container", "comp": "list", "maxresults": maxresults})
    response = await family.get(f"{listing}&{query}")

    assert response.status_code == 400
    assert response.headers["x-ms-error-code"] == "OutOfRangeQueryParameterValue"
