"""Reading a Put Blob request: the body within its bound, and the headers Azure clients send."""

from __future__ import annotations

import base64
import binascii
import hashlib

from starlette.requests import Request

from ova.cloud.api.storage.errors import InvalidHeaderValue, RequestBodyTooLarge, UnsupportedMediaType
from ova.storage import media_types


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body; RequestBodyTooLarge past ``limit`` bytes, declared or streamed."""
    declared = request.headers.get("content-length")
    if declared is not None and not (
        len(declared) <= 19 and declared.isascii() and declared.isdigit() and int(declared) <= limit
    ):
        raise RequestBodyTooLarge(f"Blob uploads are limited to {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestBodyTooLarge(f"Blob uploads are limited to {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def content_type(request: Request) -> str:
    """``x-ms-blob-content-type`` (what the Azure SDK sends), else ``Content-Type``, when it is
    one of the archive's media types (``ova.storage.media_types``); UnsupportedMediaType otherwise."""
    declared = request.headers.get("x-ms-blob-content-type") or request.headers.get("content-type")
    stored = media_types.stored_type(declared)
    if stored is None:
        allowed = ", ".join(sorted(media_types.ARCHIVE_MEDIA_TYPES))
        raise UnsupportedMediaType(f"Blobs here hold archive media only: {allowed}.")
    return stored


def check_headers(request: Request, data: bytes) -> None:
    """Refuse a blob type other than BlockBlob, and a body whose MD5 differs from ``Content-MD5``."""
    blob_type = request.headers.get("x-ms-blob-type")
    if blob_type is not None and blob_type != "BlockBlob":
        raise InvalidHeaderValue("Only block blobs (x-ms-blob-type: BlockBlob) are supported.")
    declared = request.headers.get("content-md5") or request.headers.get("x-ms-blob-content-md5")
    if declared is None:
        return
    try:
        expected = base64.b64decode(declared, validate=True)
    except binascii.Error:
        raise InvalidHeaderValue("Content-MD5 is not base64.") from None
    if hashlib.md5(data, usedforsecurity=False).digest() != expected:
        raise InvalidHeaderValue("The body does not match its Content-MD5.", code="Md5Mismatch")
