"""Sending stored media to players: from the local file when the store is a directory,
streamed from the blob store otherwise, or by redirect to a short-lived signed blob URL."""

from __future__ import annotations

from datetime import timedelta

from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from ova.cloud.domain.services import CloudServices
from ova.storage.filesystem import FilesystemBlobStore

SIGNED_URL_LIFETIME = timedelta(minutes=5)
IMMUTABLE = {"Cache-Control": "private, max-age=86400, immutable"}


async def blob_response(
    services: CloudServices, container: str, name: str, media_type: str, *, immutable: bool = True
) -> Response:
    store = services.blobs
    headers = dict(IMMUTABLE) if immutable else {"Cache-Control": "private, no-cache"}
    if services.settings.streaming.redirect_to_signed_urls:
        expires = services.clock.now() + SIGNED_URL_LIFETIME
        url = await store.signed_url(container, name, "r", expires)
        if url is not None:
            return RedirectResponse(url, status_code=302, headers={"Cache-Control": "private, no-store"})
    if isinstance(store, FilesystemBlobStore):
        path, _ = await store.local_file(container, name)
        return FileResponse(path, media_type=media_type, headers=headers)
    stored = await store.head(container, name)
    if stored is not None:
        headers["Content-Length"] = str(stored.size)
    return StreamingResponse(store.stream(container, name), media_type=media_type, headers=headers)
