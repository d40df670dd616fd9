"""Videos an edge module instance records into, and the create-only SAS it uploads their media with.

``publish`` creates the video (type ``Archive``, with the sink's segment length, retention,
title and description) for the calling instance, recording the owner ``{edgeModuleId,
instanceId}`` in the video's internal document, or answers for a video that same instance
created. Another module's or instance's video, or one a cloud recorder writes (it holds data
or a recording lease and no edge owner), is refused with 403 (security matrix S8). An empty
video an operator created through the management API is claimed by its first publisher.
The answer carries a container SAS granting create (``c``) only, for
``edge_api.upload_sas_lifetime``: a module can add blobs, never read, overwrite, list or delete.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ova.cloud.db.models import AccountRow, ResourceRow
from ova.cloud.domain import recording_lease, resources, segment_index
from ova.cloud.domain.arm import Principal
from ova.cloud.domain.edge_link.link import EdgeLink, duration, take_write_lock
from ova.cloud.domain.edge_link.module_keys import ModuleCaller
from ova.cloud.domain.kinds import videos
from ova.cloud.domain.resources import KindContext
from ova.common.clock import isoformat
from ova.common.errors import Forbidden, OvaError
from ova.contracts.edge_api import PublishVideoRequest, VideoCreation, VideoPublication
from ova.recording import archive_layout

UPLOAD_PERMISSIONS = "c"
MAX_SAS_LIFETIME = timedelta(hours=24)


class UploadUnavailable(OvaError):
    """The blob store cannot sign URLs, so edge modules cannot upload (503)."""

    status = 503
    default_code = "UploadUnavailable"


def owner_of(caller: ModuleCaller) -> dict[str, str]:
    return {"edgeModuleId": caller.edge_module_id, "instanceId": caller.instance.instance_id}


def kind_context(
    link: EdgeLink, session: AsyncSession, account: AccountRow, caller: ModuleCaller
) -> KindContext:
    principal = Principal(name=f"edgeModule:{caller.module.name}", type="Application")
    return KindContext(services=link.services, session=session, account=account, principal=principal)


async def publish(
    link: EdgeLink, session: AsyncSession, caller: ModuleCaller, name: str, request: PublishVideoRequest
) -> VideoPublication:
    """Create or claim the video ``name`` for the caller, then answer its upload SAS."""
    await take_write_lock(session)
    account = await session.get(AccountRow, caller.module.account_id)
    assert account is not None  # the module row references it
    ctx = kind_context(link, session, account, caller)
    row = await resources.find(session, account, videos.KIND, name)
    if row is None:
        row, _ = await resources.put(ctx, videos.KIND, name, video_body(request.creation))
        claim(row, caller, request.creation.segment_length)
    elif row.document.get("internal", {}).get("edgeOwner") is None:
        await refuse_cloud_recorded(link, session, row)
        claim(row, caller, request.creation.segment_length)
    else:
        check_owner(row, caller)
    await session.flush()
    return await publication(link, session, row)


async def renew(link: EdgeLink, session: AsyncSession, caller: ModuleCaller, name: str) -> VideoPublication:
    """A fresh SAS for a video the caller publishes."""
    return await publication(link, session, await owned_video(session, caller, name))


async def owned_video(session: AsyncSession, caller: ModuleCaller, name: str) -> ResourceRow:
    """The caller's video ``name``: 404 when there is none, 403 when it is someone else's."""
    account = await session.get(AccountRow, caller.module.account_id)
    assert account is not None
    row = await resources.get(session, account, videos.KIND, name)
    check_owner(row, caller)
    return row


def check_owner(row: ResourceRow, caller: ModuleCaller) -> None:
    if row.document.get("internal", {}).get("edgeOwner") != owner_of(caller):
        raise Forbidden(
            f"The video '{row.name}' is recorded by another recorder; this module instance may not write it.",
            code="VideoNotOwned",
        )


async def refuse_cloud_recorded(link: EdgeLink, session: AsyncSession, row: ResourceRow) -> None:
    """403 for a video without an edge owner that holds media or is being recorded."""
    now = link.services.clock.now()
    if await segment_index.holds_segments(session, row.id) or await recording_lease.is_recording(
        session, row.id, now
    ):
        raise Forbidden(
            f"The video '{row.name}' is recorded by the cloud; an edge module may not write it.",
            code="VideoNotOwned",
        )


def video_body(creation: VideoCreation) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    if creation.title is not None:
        properties["title"] = creation.title
    if creation.description is not None:
        properties["description"] = creation.description
    if creation.retention_period is not None:
        properties["archival"] = {"retentionPeriod": creation.retention_period}
    return {"properties": properties}


def claim(row: ResourceRow, caller: ModuleCaller, segment_length: str) -> None:
    internal = {
        **row.document.get("internal", {}),
        "type": "Archive",
        "segmentLength": segment_length,
        "edgeOwner": owner_of(caller),
    }
    row.document = {**row.document, "internal": internal}


async def publication(link: EdgeLink, session: AsyncSession, row: ResourceRow) -> VideoPublication:
    services = link.services
    container = archive_layout.container_name(row.id)
    await services.blobs.create_container(container)
    lifetime = min(duration(services.settings.edge_api.upload_sas_lifetime), MAX_SAS_LIFETIME)
    expires = services.clock.now() + lifetime
    url = await services.blobs.signed_url(container, None, UPLOAD_PERMISSIONS, expires)
    if url is None:
        raise UploadUnavailable("The blob store cannot sign upload URLs; configure storage.account_key.")
    internal = row.document.get("internal", {})
    return VideoPublication(
        video_name=row.name,
        video_id=videos.video_id(row),
        container_sas_url=url,
        expires_at=isoformat(expires),
        last_sequence=await segment_index.last_sequence(session, row.id),
        segment_length=internal.get("segmentLength", videos.DEFAULT_SEGMENT_LENGTH),
    )
