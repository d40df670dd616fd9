"""The client family: video metadata and content tokens for customers' users.

Base URL per account: the account's ``endpoints[type=ClientApi].endpointUrl``
(``{client listener}/client/{account key}``). Every request carries a customer-issued JWT
that one of the account's access policies must accept; with no policy, all is denied.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware

from ova.auth import customer_jwt
from ova.cloud.api import arm_errors
from ova.cloud.api.client.access import ClientGate, admit
from ova.cloud.api.paging import next_link, page_of
from ova.cloud.api.token_response import token_response
from ova.cloud.domain import resources
from ova.cloud.domain.client_access import PolicyCache, RateLimiter
from ova.cloud.domain.credential_throttle import CredentialThrottle
from ova.cloud.domain.kinds import videos
from ova.cloud.domain.services import CloudServices

ACCOUNT = "/{account_key}"


def create_app(services: CloudServices) -> FastAPI:
    settings = services.settings.client_api
    app = FastAPI(
        title="Open Video Analyzer client API",
        version="2021-11-01-preview",
        description="Video metadata and content tokens, authorised by customer JWTs checked against "
        "the account's access policies.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi/client.json",
    )
    app.state.services = services
    app.state.gate = ClientGate(
        policies=PolicyCache(
            settings.policy_cache_seconds, max_lifetime=timedelta(seconds=settings.max_token_lifetime_seconds)
        ),
        limiter=RateLimiter(settings.rate_limit_requests, settings.rate_limit_window_seconds),
        throttle=CredentialThrottle.build(
            settings.failed_requests_per_address,
            settings.rate_limit_window_seconds,
            services.settings.credential_throttle,
            customer_jwt.well_formed,
        ),
    )
    arm_errors.install(app)
    allow_cors(app, settings.cors_origins)
    app.add_api_route(ACCOUNT + "/videos", list_videos, methods=["GET"], operation_id="Videos_List")
    app.add_api_route(ACCOUNT + "/videos/{name}", get_video, methods=["GET"], operation_id="Videos_Get")
    app.add_api_route(
        ACCOUNT + "/videos/{name}/listContentToken",
        list_content_token,
        methods=["POST"],
        operation_id="Videos_ListContentToken",
    )
    return app


def allow_cors(app: FastAPI, origins: list[str]) -> None:
    """Exact origins only, echoed back; never a wildcard with credentials."""
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )


async def list_videos(request: Request, account_key: str) -> Any:
    async with request.app.state.services.sessions.begin() as session:
        ctx, _ = await admit(request, session, account_key, "/videos")
        rows, token = await resources.list_page(session, ctx.account, videos.KIND, page_of(request))
        return {
            "value": [await resources.render(ctx, videos.KIND, r) for r in rows],
            **next_link(request, token),
        }


async def get_video(request: Request, account_key: str, name: str) -> Any:
    async with request.app.state.services.sessions.begin() as session:
        ctx, _ = await admit(request, session, account_key, f"/videos/{name}")
        return await resources.render(
            ctx, videos.KIND, await resources.get(session, ctx.account, videos.KIND, name)
        )


async def list_content_token(request: Request, account_key: str, name: str) -> Any:
    """Both casings: ARM's token/expirationDate and the original player's Token/ExpirationDate."""
    async with request.app.state.services.sessions.begin() as session:
        ctx, grant = await admit(request, session, account_key, f"/videos/{name}")
        issued = await videos.list_content_token(ctx, name, not_after=grant.expires_at)
    body = {**issued, "Token": issued["token"], "ExpirationDate": issued["expirationDate"]}
    return token_response(body)
