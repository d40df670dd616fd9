"""Sending stored media to players: from the local file when the store is a directory,
streamed from the blob store otherwise, by redirect to a short-lived signed blob URL, or by
``X-Accel-Redirect`` to a fronting nginx that sends the file itself."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

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
    accel = services.settings.streaming.accel_redirect_prefix
    if isinstance(store, FilesystemBlobStore) and accel:
        await store.local_file(container, name)  # 404 here, not from the proxy, when it is missing
        headers["X-Accel-Redirect"] = f"{accel.rstrip('/')}/{quote(container)}/{quote(name)}"
        return Response(status_code=200, media_type=media_type, headers=headers)
    if isinstance(store, FilesystemBlobStore):
        path, _ = await store.local_file(container, name)
        return FileResponse(path, media_type=media_type, headers=headers)
    stored = await store.head(container, name)
    if stored is not None:
        headers["Content-Length"] = str(stored.size)
    return StreamingResponse(store.stream(container, name), media_type=media_type, headers=headers)
