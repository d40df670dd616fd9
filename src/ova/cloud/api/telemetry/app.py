"""The telemetry family: ``POST /v1/reports`` (pre-shared key) and ``GET /v1/summary`` (operators)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response

from ova.cloud.api import arm_errors
from ova.cloud.api.management.context import operator
from ova.cloud.api.storage.upload import read_body
from ova.cloud.domain import telemetry
from ova.cloud.domain.arm import Principal
from ova.cloud.domain.credential_throttle import CredentialThrottle
from ova.cloud.domain.operator_keys import OperatorAuthenticator
from ova.cloud.domain.services import CloudServices
from ova.common.errors import Unauthenticated, ValidationFailed
from ova.contracts.edge_api import TelemetryReport
from ova.contracts.model_errors import parse_model

router = APIRouter(prefix="/v1")
MAX_KEY_LENGTH = 256


def services_of(request: Request) -> CloudServices:
    services: CloudServices = request.app.state.services
    return services


def check_reporter(request: Request) -> None:
    """401 unless ``Authorization: Bearer <telemetry pre-shared key>``; refusals are throttled."""
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    presented = presented.strip()[: MAX_KEY_LENGTH + 1]
    settings = services_of(request).settings.credential_throttle
    client = request.client.host if request.client else "unknown"
    with CredentialThrottle.shared(request.app.state, "reporter_throttle", settings).guard(client, presented):
        if scheme.lower() != "bearer" or not presented:
            raise Unauthenticated("The telemetry key is required (Authorization: Bearer <key>).")
        telemetry.check_key(presented, request.app.state.key)


async def report_body(request: Request) -> TelemetryReport:
    limit = services_of(request).settings.telemetry.max_report_bytes
    try:
        value = json.loads(await read_body(request, limit))
    except (ValueError, RecursionError):
        raise ValidationFailed("The request body is not valid JSON.", target="body") from None
    if not isinstance(value, dict):
        raise ValidationFailed("The request body must be a JSON object.", target="body")
    return parse_model(TelemetryReport, value, "")


REPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": TelemetryReport.model_json_schema(by_alias=True)}},
    }
}


@router.post("/reports", status_code=204, dependencies=[Depends(check_reporter)], openapi_extra=REPORT_BODY)
async def receive_report(request: Request) -> Response:
    """Keep one module's report (counts and health only)."""
    report = await report_body(request)
    services = services_of(request)
    retention = timedelta(days=services.settings.telemetry.retention_days)
    async with services.sessions.begin() as session:
        await telemetry.store(session, report, services.clock, retention)
    return Response(status_code=204)


@router.get("/summary")
async def summary(request: Request, _who: Annotated[Principal, Depends(operator)]) -> dict[str, Any]:
    """Per edge module: the last report, totals of the kept reports, active live pipelines."""
    async with services_of(request).sessions() as session:
        return {"value": await telemetry.summary(session)}


def create_app(services: CloudServices, authenticator: OperatorAuthenticator, key: str) -> FastAPI:
    app = FastAPI(
        title="Open Video Analyzer telemetry API",
        version="1",
        description="Edge modules POST /v1/reports with `Authorization: Bearer <telemetry key>` (from their "
        "policy); operators GET /v1/summary with `Authorization: Bearer <operator key>`.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi/telemetry.json",
    )
    app.state.services = services
    app.state.authenticator = authenticator
    app.state.key = key
    arm_errors.install(app)
    app.include_router(router)
    return app
