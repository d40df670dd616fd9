"""The storage family: the filesystem blob store over HTTP, each request authorised by its SAS.

Mounted at ``/storage``; paths are ``/{container}/{blob}`` as in Azure Blob (the account is
this service, so it is not in the path):

======================================  ============  =================================================
``GET|HEAD /{container}/{blob}``         ``sp`` ⊇ r     the bytes, ``Range``/``x-ms-range`` → 206, sent by
                                                        the server from the file (``pathsend`` where the
                                                        server has it)
``PUT /{container}/{blob}``              ``c`` or ``w`` create-only Put Blob → 201; the same bytes again
                                                        → 201, other bytes → 409 BlobAlreadyExists;
                                                        a type outside the archive's → 415
``DELETE /{container}/{blob}``           ``d``          → 202
``GET /{container}?restype=container``   ``l``, sr=c    List Blobs as ``EnumerationResults`` XML
``&comp=list``
======================================  ============  =================================================

The path is decoded once (by the server) and both names are checked by ``ova.storage.names``
before anything else, so ``..``, ``%2e%2e``, ``%252e``, ``\\``, ``//`` and NUL are refused
(400) and no request reaches outside the store's root. Blobs are stored and served only with
the archive's media types (``ova.storage.media_types``): anything else is refused at upload
and, if found in the store, served as an ``application/octet-stream`` attachment. Errors are
Azure's XML (see ``errors``). Nothing here logs a URL or a query string.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ova.cloud.api.storage import errors, listing, upload
from ova.common.clock import Clock
from ova.storage import media_types, names
from ova.storage.blob_store import BlobInfo
from ova.storage.errors import BlobNotFound
from ova.storage.filesystem import FilesystemBlobStore
from ova.storage.sas import Operation, SasSigner

BLOB = "/{container}/{blob:path}"
DEFAULT_MAX_BLOB_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class StorageFamily:
    store: FilesystemBlobStore
    signer: SasSigner
    clock: Clock
    max_blob_bytes: int

    def authorise(self, request: Request, container: str, blob: str | None, operation: Operation) -> None:
        """Check the names, then the request's SAS for ``operation`` (SasDenied when it falls short)."""
        names.container_name(container)
        if blob is not None:
            names.blob_name(blob)
        query = request.query_params.multi_items()
        self.signer.verify(query, container, blob, operation, self.clock.now(), request.url.scheme)


def create_app(
    store: FilesystemBlobStore,
    signer: SasSigner,
    account_name: str,
    clock: Clock,
    *,
    max_blob_bytes: int = DEFAULT_MAX_BLOB_BYTES,
) -> FastAPI:
    if account_name != signer.account_name:
        raise ValueError("the SAS signer signs for another account")
    app = FastAPI(
        title="Open Video Analyzer storage API",
        description="The embedded filesystem blob store, shaped like Azure Blob and authorised by SAS.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi/storage.json",
    )
    app.state.family = StorageFamily(store, signer, clock, max_blob_bytes)
    errors.install(app)
    app.add_api_route(BLOB, get_blob, methods=["GET"], operation_id="GetBlob")
    app.add_api_route(BLOB, get_blob, methods=["HEAD"], operation_id="GetBlobProperties")
    app.add_api_route(BLOB, put_blob, methods=["PUT"], operation_id="PutBlob", status_code=201)
    app.add_api_route(BLOB, delete_blob, methods=["DELETE"], operation_id="DeleteBlob", status_code=202)
    app.add_api_route("/{container}", list_blobs, methods=["GET"], operation_id="ListBlobs")
    app.add_middleware(RangeAlias)
    return app


def _family(request: Request) -> StorageFamily:
    family: StorageFamily = request.app.state.family
    return family


def blob_headers(info: BlobInfo) -> dict[str, str]:
    headers = {"ETag": info.etag, "x-ms-blob-type": "BlockBlob"}
    if info.content_md5:
        headers["Content-MD5"] = info.content_md5
    return headers


async def get_blob(request: Request, container: str, blob: str) -> Response:
    family = _family(request)
    family.authorise(request, container, blob, Operation.READ)
    path, info = await family.store.local_file(container, blob)
    media_type, attachment = media_types.served_type(info.content_type)
    headers = blob_headers(info)
    if attachment:
        headers["Content-Disposition"] = "attachment"
    return FileResponse(path, media_type=media_type, headers=headers)


async def put_blob(request: Request, container: str, blob: str) -> Response:
    family = _family(request)
    family.authorise(request, container, blob, Operation.CREATE)
    media_type = upload.content_type(request)  # refused before the body is read
    data = await upload.read_body(request, family.max_blob_bytes)
    upload.check_headers(request, data)
    info = await family.store.put(container, blob, data, media_type)
    return Response(status_code=201, headers=blob_headers(info))


async def delete_blob(request: Request, container: str, blob: str) -> Response:
    family = _family(request)
    family.authorise(request, container, blob, Operation.DELETE)
    if not await family.store.delete(container, blob):
        raise BlobNotFound("The specified blob does not exist.")
    return Response(status_code=202)


async def list_blobs(request: Request, container: str) -> Response:
    family = _family(request)
    family.authorise(request, container, None, Operation.LIST)
    query = listing.ListQuery.parse(request.query_params)
    blobs, next_marker = await listing.page(family.store.list(container, query.prefix), query)
    endpoint = str(request.base_url)
    body = listing.enumeration_results(endpoint, container, query, blobs, next_marker)
    return Response(body, media_type="application/xml")


class RangeAlias:
    """Lets ``x-ms-range`` (what Azure clients send) stand for ``Range``, as Azure Blob does."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            alias = [value for key, value in headers if key == b"x-ms-range"]
            if alias:
                kept = [(key, value) for key, value in headers if key not in (b"range", b"x-ms-range")]
                scope = {**scope, "headers": [*kept, (b"range", alias[0])]}
        await self._app(scope, receive, send)
