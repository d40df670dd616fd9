"""The Azure Blob store (also Azurite), through ``azure.storage.blob.aio``.

Create-only puts send ``If-None-Match: *`` (``overwrite=False``) and record the SHA-256 of the
bytes in the blob's metadata (``sha256``) next to Azure's ``Content-MD5``. When the name is
taken, the stored SHA-256 (or, for blobs written by other tools, the MD5) decides between an
idempotent success and ``BlobExists``. Signed URLs are service SAS made with the account key;
without a key (a token credential) ``signed_url`` answers None.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.storage.blob import BlobProperties, ContentSettings, generate_blob_sas, generate_container_sas
from azure.storage.blob.aio import BlobClient, BlobServiceClient, StorageStreamDownloader

from ova.common.clock import Clock, SystemClock
from ova.storage import names
from ova.storage.blob_store import DEFAULT_CONTENT_TYPE, BlobInfo
from ova.storage.errors import (
    BlobExists,
    BlobNotFound,
    ContainerNotFound,
    InvalidRange,
    StorageUnavailable,
)
from ova.storage.filesystem import check_range
from ova.storage.sas import START_BACKDATE, canonical_permissions

SHA256_METADATA = "sha256"


def _error_code(exc: HttpResponseError) -> str | None:
    code = getattr(exc, "error_code", None)  # set by the storage SDK from x-ms-error-code
    return str(code) if code else None


@contextmanager
def _translated() -> Iterator[None]:
    """Azure SDK errors as this package's errors."""
    try:
        yield
    except ResourceNotFoundError as exc:
        if _error_code(exc) == "ContainerNotFound":
            raise ContainerNotFound("The specified container does not exist.") from None
        raise BlobNotFound("The specified blob does not exist.") from None
    except HttpResponseError as exc:
        if exc.status_code == 416:
            raise InvalidRange("The range starts past the end of the blob.") from None
        raise StorageUnavailable(
            f"Azure Blob storage failed ({_error_code(exc) or exc.status_code})."
        ) from None
    except AzureError as exc:
        raise StorageUnavailable(f"Azure Blob storage is unreachable ({type(exc).__name__}).") from None


def _info(container: str, name: str, props: BlobProperties) -> BlobInfo:
    md5 = props.content_settings.content_md5
    return BlobInfo(
        container=container,
        name=name,
        size=props.size,
        content_type=props.content_settings.content_type or DEFAULT_CONTENT_TYPE,
        etag=props.etag if props.etag.startswith('"') else f'"{props.etag}"',
        sha256=(props.metadata or {}).get(SHA256_METADATA),
        content_md5=base64.b64encode(bytes(md5)).decode() if md5 else None,
        last_modified=props.last_modified,
    )


def _same_bytes(info: BlobInfo, sha256: str, md5: bytes) -> bool:
    if info.sha256:
        return info.sha256 == sha256
    return info.content_md5 == base64.b64encode(md5).decode()


class AzureBlobStore:
    """Blobs in one Azure storage account (or Azurite)."""

    def __init__(
        self, service: BlobServiceClient, account_key: str | None = None, *, clock: Clock | None = None
    ) -> None:
        self._service = service
        self._account_key = account_key
        self._clock = clock or SystemClock()

    @classmethod
    def from_connection_string(cls, connection_string: str) -> AzureBlobStore:
        settings = dict(
            part.split("=", 1) for part in connection_string.strip().rstrip(";").split(";") if "=" in part
        )
        key = settings.get("AccountKey")
        return cls(BlobServiceClient.from_connection_string(connection_string), key)

    @classmethod
    def from_account(cls, account_url: str, account_name: str, account_key: str) -> AzureBlobStore:
        credential = {"account_name": account_name, "account_key": account_key}
        return cls(BlobServiceClient(account_url, credential=credential), account_key)

    async def create_container(self, name: str) -> None:
        with _translated(), suppress(ResourceExistsError):
            await self._service.create_container(names.container_name(name))

    async def delete_container(self, name: str) -> bool:
        with _translated():
            try:
                await self._service.delete_container(names.container_name(name))
            except ResourceNotFoundError:
                return False
        return True

    async def put(self, container: str, name: str, data: bytes, content_type: str) -> BlobInfo:
        blob = self._blob(container, name)
        digest = hashlib.sha256(data).hexdigest()
        md5 = hashlib.md5(data, usedforsecurity=False).digest()
        settings = ContentSettings(
            content_type=content_type or DEFAULT_CONTENT_TYPE, content_md5=bytearray(md5)
        )
        with _translated():
            try:
                await blob.upload_blob(
                    data, overwrite=False, content_settings=settings, metadata={SHA256_METADATA: digest}
                )
            except ResourceExistsError:
                info = _info(container, name, await blob.get_blob_properties())
                if not _same_bytes(info, digest, md5):
                    raise BlobExists("The specified blob already exists with other content.") from None
                return info
            return _info(container, name, await blob.get_blob_properties())

    async def get(self, container: str, name: str) -> bytes:
        blob = self._blob(container, name)
        with _translated():
            downloader = await blob.download_blob()
            return await downloader.readall()

    async def stream(
        self, container: str, name: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        check_range(start, end)
        downloader = await self._downloader(self._blob(container, name), start, end)
        with _translated():
            async for chunk in downloader.chunks():
                yield chunk

    async def _downloader(
        self, blob: BlobClient, start: int, end: int | None
    ) -> StorageStreamDownloader[bytes]:
        whole = start == 0 and end is None  # no range: the SDK then also copes with an empty blob
        length = None if end is None else end - start
        try:
            with _translated():
                downloader = await blob.download_blob(offset=None if whole else start, length=length)
        except InvalidRange:
            if start > 0:
                raise
            return await self._downloader(blob, 0, None)  # an empty blob has no byte 0 to range from
        if start > 0 and downloader.size == 0:  # Azurite answers a range at the very end with nothing
            raise InvalidRange("The range starts past the end of the blob.")
        return downloader

    async def head(self, container: str, name: str) -> BlobInfo | None:
        blob = self._blob(container, name)
        with _translated():
            try:
                return _info(container, name, await blob.get_blob_properties())
            except ResourceNotFoundError:
                return None

    async def delete(self, container: str, name: str) -> bool:
        blob = self._blob(container, name)
        with _translated():
            try:
                await blob.delete_blob()
            except ResourceNotFoundError:
                return False
        return True

    async def signed_url(
        self,
        container: str,
        name: str | None,
        permissions: str,
        expires_at: datetime,
        start_at: datetime | None = None,
    ) -> str | None:
        if self._account_key is None:
            return None
        canonical_permissions(permissions)
        client = self._service.get_container_client(names.container_name(container))
        account = self._service.account_name or ""
        start = start_at or self._clock.now() - START_BACKDATE
        protocol = "https" if client.url.startswith("https:") else "https,http"
        if name is None:
            query = generate_container_sas(
                account,
                container,
                account_key=self._account_key,
                permission=permissions,
                expiry=expires_at,
                start=start,
                protocol=protocol,
            )
            return f"{client.url}?{query}"
        blob = client.get_blob_client(names.blob_name(name))
        query = generate_blob_sas(
            account,
            container,
            name,
            account_key=self._account_key,
            permission=permissions,
            expiry=expires_at,
            start=start,
            protocol=protocol,
        )
        return f"{blob.url}?{query}"

    async def close(self) -> None:
        await self._service.close()

    async def list(self, container: str, prefix: str = "") -> AsyncIterator[BlobInfo]:
        client = self._service.get_container_client(names.container_name(container))
        with _translated():
            pages = client.list_blobs(
                name_starts_with=names.blob_prefix(prefix) or None, include=["metadata"]
            )
            async for props in pages:
                yield _info(container, props.name, props)

    def _blob(self, container: str, name: str) -> BlobClient:
        return self._service.get_blob_client(names.container_name(container), names.blob_name(name))
