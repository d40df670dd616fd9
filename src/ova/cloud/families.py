"""The endpoint families as ASGI apps, and how a listener puts the ones it serves together.

Each family is its own app with its own error envelope and OpenAPI document. A listener
mounts its families under fixed path prefixes; management and hub share the root and are
told apart by the first path segment (ARM paths start with ``/subscriptions`` or
``/providers``, IoT Hub service paths with ``/twins`` or ``/devices``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ova.cloud import player
from ova.cloud.api import arm_errors
from ova.cloud.guards import BodyLimit, NetworkAllowList, send_error, serves_metrics
from ova.cloud.metrics import CloudMetrics, MetricsMiddleware
from ova.cloud.security_headers import SecurityHeaders
from ova.cloud.settings import Family, ListenerSettings

PREFIXES: dict[Family, str] = {
    Family.CLIENT: "/client",
    Family.STREAMING: "/streaming",
    Family.EDGE: "/edge",
    Family.TELEMETRY: "/telemetry",
    Family.STORAGE: "/storage",
}
ROOT_SEGMENTS: dict[Family, tuple[str, ...]] = {
    Family.MANAGEMENT: ("subscriptions", "providers"),
    Family.HUB: ("twins", "devices"),
}


def empty_family(family: Family) -> FastAPI:
    """A family whose routes arrive with a later capability: it answers 404 in its envelope."""
    app = FastAPI(
        title=f"Open Video Analyzer {family.value} API",
        docs_url=None,
        redoc_url=None,
        openapi_url=f"/openapi/{family.value}.json",
    )
    arm_errors.install(app)
    return app


class RootDispatch:
    """Sends a root-mounted request to the family that owns its first path segment."""

    def __init__(self, owners: Mapping[str, ASGIApp]) -> None:
        self._owners = dict(owners)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        first = scope["path"].lstrip("/").split("/", 1)[0]
        app = self._owners.get(first)
        if app is None:
            await send_error(send, 404, "NotFound", "No endpoint at this path.")
            return
        await app(scope, receive, send)


def openapi_route(apps: Mapping[Family, FastAPI]) -> Route:
    async def document(request: Request) -> Response:
        app = (
            apps.get(Family(request.path_params["family"]))
            if request.path_params["family"] in set(Family)
            else None
        )
        if app is None:
            return JSONResponse(
                {"error": {"code": "NotFound", "message": "No such family here."}}, status_code=404
            )
        return JSONResponse(app.openapi())

    return Route("/openapi/{family}.json", document, methods=["GET"])


def listener_app(
    listener: ListenerSettings,
    apps: Mapping[Family, FastAPI],
    metrics: CloudMetrics,
    body_limit: int,
    player_dir: Path | None = None,
) -> ASGIApp:
    served = {family: apps[family] for family in listener.families if family in apps}
    # The storage family bounds uploads itself (blobs are larger than API bodies).
    wrapped = {
        family: MetricsMiddleware(
            app if family is Family.STORAGE else BodyLimit(app, body_limit), family.value, metrics
        )
        for family, app in served.items()
    }
    routes: list[Route | Mount] = [
        *([Route("/metrics", metrics.endpoint, methods=["GET"])] if serves_metrics(listener) else []),
        openapi_route(served),
    ]
    if Family.CLIENT in served and player_dir is not None:
        routes += player.routes(player_dir)
    routes += [Mount(PREFIXES[f], app=app) for f, app in wrapped.items() if f in PREFIXES]
    owners = {
        segment: wrapped[f] for f, segments in ROOT_SEGMENTS.items() if f in wrapped for segment in segments
    }
    routes.append(Mount("/", app=RootDispatch(owners)))
    return SecurityHeaders(NetworkAllowList(Starlette(routes=routes), listener.allow_networks))
