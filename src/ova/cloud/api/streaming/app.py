"""The streaming family: a video's content, authorised by a content token for that video.

Content URLs live under the video's ``archiveBaseUrl``
(``{streaming listener}/streaming/{account key}/videos/{video id}``). Until recording
lands, ``availableMedia`` is the one content route.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ova.cloud.api import arm_errors
from ova.cloud.api.client.app import allow_cors
from ova.cloud.api.streaming.content_token import authorised_video
from ova.cloud.db.models import AccountRow
from ova.cloud.domain import network_access
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
    arm_errors.install(app)
    allow_cors(app, services.settings.client_api.cors_origins)
    app.add_api_route(
        VIDEO + "/availableMedia", available_media, methods=["GET"], operation_id="AvailableMedia"
    )

    @app.middleware("http")
    async def private_responses(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers.update(PRIVATE_HEADERS)
        return response

    return app


async def available_media(request: Request, account_key: str, video_id: str) -> Any:
    services: CloudServices = request.app.state.services
    async with services.sessions.begin() as session:
        video = await authorised_video(request, session, account_key, video_id)
        account = await session.get_one(AccountRow, video.account_id)
    client_host = request.client.host if request.client else None
    network_access.check(
        account.document, network_access.Group.CONSUMPTION, client_host, services.settings.private_networks
    )
    return JSONResponse({"timeRanges": []})
