"""The ``BlobStore`` protocol every backend implements, and ``BlobInfo``, what it says about a blob.

Semantics every backend keeps (one contract test suite checks them on each):

- ``put`` is create-only. A retried upload of identical bytes succeeds and returns the
  stored blob's info; other bytes under an existing name raise ``BlobExists``. Nothing is
  ever overwritten, so a lost acknowledgement can always be retried.
- ``get`` and ``stream`` raise ``BlobNotFound``; ``head`` answers None and ``delete`` False
  for a blob that is not there. ``put`` and ``list`` raise ``ContainerNotFound`` when the
  container is missing. ``create_container`` is idempotent.
- ``stream(start, end)`` yields the bytes ``data[start:end]`` (``end`` exclusive, clamped to
  the size); a ``start`` past the end raises ``InvalidRange``.
- ``list`` yields the blobs whose names start with ``prefix`` in name order.
- ``signed_url`` answers a short-lived URL that grants ``permissions`` (a subset of
  ``racwdl``) on one blob, or on the container when ``name`` is None, so players and edge
  modules move bytes without Python in the path; None when the backend cannot sign.
- Names are checked by ``ova.storage.names`` before any I/O; backend failures surface as
  ``StorageUnavailable``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class BlobInfo:
    """What a store knows about one stored blob."""

    container: str
    name: str
    size: int
    content_type: str
    etag: str
    """Opaque, quoted, changes whenever the bytes could have (``"..."``)."""
    sha256: str | None = None
    """Lowercase hex SHA-256 of the bytes, when the store recorded it."""
    content_md5: str | None = None
    """Base64 MD5 of the bytes (Azure's ``Content-MD5``), when the store has it."""
    last_modified: datetime | None = None


@runtime_checkable
class BlobStore(Protocol):
    """Containers of immutable blobs (see the module docstring for the contract)."""

    async def create_container(self, name: str) -> None: ...

    async def delete_container(self, name: str) -> bool:
        """Delete the container and every blob in it; False when it did not exist."""
        ...

    async def put(self, container: str, name: str, data: bytes, content_type: str) -> BlobInfo: ...

    async def get(self, container: str, name: str) -> bytes: ...

    def stream(
        self, container: str, name: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """Async iterator over ``data[start:end]`` in chunks."""
        ...

    async def head(self, container: str, name: str) -> BlobInfo | None: ...

    async def delete(self, container: str, name: str) -> bool: ...

    def list(self, container: str, prefix: str = "") -> AsyncIterator[BlobInfo]: ...

    async def signed_url(
        self,
        container: str,
        name: str | None,
        permissions: str,
        expires_at: datetime,
        start_at: datetime | None = None,
    ) -> str | None: ...

    async def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...
