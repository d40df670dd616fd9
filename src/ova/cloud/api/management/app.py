"""The management family: Video Analyzer's ARM API (api-version 2021-11-01-preview)."""

from __future__ import annotations

from fastapi import FastAPI

from ova.cloud.api import arm_errors
from ova.cloud.api.management import accounts, actions, provider, resources, schemas
from ova.cloud.api.management.actions import PipelineRunner
from ova.cloud.domain.operator_keys import OperatorAuthenticator
from ova.cloud.domain.services import CloudServices


def create_app(
    services: CloudServices, authenticator: OperatorAuthenticator, pipelines: PipelineRunner | None = None
) -> FastAPI:
    app = FastAPI(
        title="Open Video Analyzer management API",
        version="2021-11-01-preview",
        description="Video Analyzer's ARM resources on a self-hosted service. "
        "Authenticate with `Authorization: Bearer <operator key>`.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi/management.json",
    )
    app.state.services = services
    app.state.authenticator = authenticator
    app.state.pipelines = pipelines
    arm_errors.install(app)
    app.include_router(provider.router)
    app.include_router(accounts.router)
    app.include_router(resources.build_router())
    app.include_router(actions.router)
    schemas.install(app)
    return app
