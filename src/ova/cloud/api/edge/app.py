"""The edge-integration family's routes (see ``ova.contracts.edge_api`` for the contract)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Request, Response

from ova.cloud.api import arm_errors
from ova.cloud.api.edge.credentials import client_of, link_of, signed_in, throttle, transaction
from ova.cloud.domain.edge_link import module_keys, provisioning, publishing, segment_commit
from ova.cloud.domain.edge_link.link import EdgeLink
from ova.cloud.domain.edge_link.policy import edge_policy
from ova.contracts.edge_api import (
    SERVER_TIME_HEADER,
    CommitResult,
    EdgePolicy,
    ModuleKey,
    PreviewCommit,
    ProvisioningRequest,
    ProvisioningResponse,
    PublishVideoRequest,
    RecordingStateChange,
    SegmentCommit,
    VideoPublication,
)

router = APIRouter(prefix="/v1")
VideoName = Annotated[str, Path(alias="videoName", min_length=1, max_length=260)]


@router.post("/provisioning", response_model=ProvisioningResponse)
async def handshake(request: Request, body: ProvisioningRequest) -> ProvisioningResponse:
    """Spend a single-use provisioning token: the module's first key and the policy."""
    async with transaction(request) as session:
        with throttle(request).guard(client_of(request), body.provisioning_token):
            return await provisioning.handshake(link_of(request), session, body)


@router.post("/keys", response_model=ModuleKey)
async def rotate_key(request: Request) -> ModuleKey:
    """A new module key; the presented one keeps working for the policy's keyGracePeriod."""
    async with signed_in(request) as (session, caller):
        return await module_keys.rotate(link_of(request), session, caller)


@router.get("/policy", response_model=EdgePolicy)
async def policy(request: Request) -> EdgePolicy:
    async with signed_in(request):
        return edge_policy(link_of(request))


@router.put("/videos/{videoName}", response_model=VideoPublication)
async def publish_video(request: Request, name: VideoName, body: PublishVideoRequest) -> VideoPublication:
    """Create the video for this module instance (or answer for one it created): its upload SAS."""
    async with signed_in(request) as (session, caller):
        return await publishing.publish(link_of(request), session, caller, name, body)


@router.post("/videos/{videoName}/sas", response_model=VideoPublication)
async def renew_sas(request: Request, name: VideoName) -> VideoPublication:
    async with signed_in(request) as (session, caller):
        return await publishing.renew(link_of(request), session, caller, name)


@router.post("/videos/{videoName}/segments", response_model=CommitResult)
async def commit_segments(request: Request, name: VideoName, body: SegmentCommit) -> CommitResult:
    """Index uploaded inits and segments (idempotent; each blob must exist with its stated size)."""
    async with signed_in(request) as (session, caller):
        return await segment_commit.commit(link_of(request), session, caller, name, body)


@router.post("/videos/{videoName}/preview", status_code=204)
async def commit_preview(request: Request, name: VideoName, body: PreviewCommit) -> Response:
    async with signed_in(request) as (session, caller):
        await segment_commit.commit_preview(link_of(request), session, caller, name, body)
    return Response(status_code=204)


@router.post("/videos/{videoName}/events", status_code=204)
async def recording_state(request: Request, name: VideoName, body: RecordingStateChange) -> Response:
    async with signed_in(request) as (session, caller):
        await segment_commit.change_recording_state(link_of(request), session, caller, name, body)
    return Response(status_code=204)


def create_app(link: EdgeLink) -> FastAPI:
    app = FastAPI(
        title="Open Video Analyzer edge API",
        version="1",
        description="What edge modules call: the provisioning handshake, module keys, policy, video "
        "publishing (create-only upload SAS) and segment commit. Every route but /v1/provisioning needs "
        "`Authorization: SharedAccessSignature sr={edgeModuleId}&sig=…&se=…&skn={keyId}`.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi/edge.json",
    )
    app.state.link = link
    arm_errors.install(app)
    app.include_router(router)

    @app.middleware("http")
    async def server_time(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Every answer says what time the cloud thinks it is (modules sign against that)."""
        response = await call_next(request)
        response.headers[SERVER_TIME_HEADER] = str(int(link.services.clock.now().timestamp()))
        return response

    return app
