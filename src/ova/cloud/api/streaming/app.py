"""The streaming family: a video's content, authorised by a content token for that video.

Content URLs live under the video's ``archiveBaseUrl``
(``{streaming listener}/streaming/{account key}/videos/{video id}``): manifests, init and
media segments, preview images and ``availableMedia``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ova.cloud.api import arm_errors
from ova.cloud.api.client.app import allow_cors
from ova.cloud.api.streaming import archive
from ova.cloud.api.streaming.content_token import GrantCache, authorised_video
from ova.cloud.domain.available_media import available_media as available_media_of
from ova.cloud.domain.available_media import parse_query
from ova.cloud.domain.services import CloudServices

VIDEO = "/{account_key}/videos/{video_id}"
PRIVATE_HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}


def create_app(services: CloudServices) -> FastAPI:
    app = FastAPI(
        title="Open Video Analyzer streaming API",
        description="Manifests, segments and media metadata of one video, authorised by its content token.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi/streaming.json",
    )
    app.state.services = services
    app.state.grants = GrantCache()
    arm_errors.install(app)
    allow_cors(app, services.settings.client_api.cors_origins)
    app.add_api_route(
        VIDEO + "/availableMedia", available_media, methods=["GET"], operation_id="AvailableMedia"
    )
    app.add_api_route(
        VIDEO + "/init/{config_hash}.mp4", archive.init_segment, methods=["GET"], operation_id="InitSegment"
    )
    app.add_api_route(
        VIDEO + "/segments/{position}.m4s",
        archive.media_segment,
        methods=["GET"],
        operation_id="MediaSegment",
    )
    app.add_api_route(
        VIDEO + "/preview/{size}.jpg", archive.preview_image, methods=["GET"], operation_id="PreviewImage"
    )
    app.add_api_route(VIDEO + "/{resource}", archive.manifest, methods=["GET"], operation_id="Manifest")

    @app.middleware("http")
    async def private_responses(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        for name, value in PRIVATE_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app


async def available_media(request: Request, account_key: str, video_id: str) -> Any:
    """``{"timeRanges": [...]}``: where the video has media, at the requested precision."""
    services: CloudServices = request.app.state.services
    params = request.query_params
    async with services.sessions.begin() as session:
        video = await authorised_video(request, session, account_key, video_id)
        query = parse_query(params.get("precision"), params.get("startTime"), params.get("endTime"))
        return JSONResponse(await available_media_of(session, video.id, query))
