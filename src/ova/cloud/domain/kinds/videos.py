"""Videos: archives a pipeline records into (``Archive``) or files an export produces (``File``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from ova.auth.service_tokens import CONTENT
from ova.cloud.db.models import ResourceRow
from ova.cloud.domain import recording_lease
from ova.cloud.domain.resources import Document, KindContext, ResourceKind, get, register
from ova.common.clock import isoformat
from ova.common.errors import Conflict
from ova.contracts.arm_resources import VideoProperties
from ova.contracts.model_errors import parse_model
from ova.recording import archive_layout

DEFAULT_SEGMENT_LENGTH = "PT30S"


class VideoKind(ResourceKind):
    collection = "videos"
    noun = "video"
    max_per_account = 10_000
    read_only_properties = frozenset({"type", "flags", "contentUrls", "mediaInfo"})

    async def prepare(
        self, ctx: KindContext, name: str, body: Mapping[str, Any], existing: ResourceRow | None
    ) -> Document:
        props = parse_model(VideoProperties, body.get("properties", {}), "properties")
        internal = dict(existing.document.get("internal", {})) if existing else new_internal()
        return {"properties": props.model_dump(by_alias=True, exclude_none=True), "internal": internal}

    async def before_delete(self, ctx: KindContext, row: ResourceRow) -> None:
        if await is_in_use(ctx, row):
            raise Conflict(
                f"The video '{row.name}' is being recorded; "
                "deactivate its live pipeline or stop the recorder first.",
                code="ResourceInUse",
            )

    async def after_delete(self, ctx: KindContext, row: ResourceRow) -> None:
        """A deleted video's media goes with it (its container holds nothing else)."""
        await ctx.services.blobs.delete_container(archive_layout.container_name(row.id))

    async def render_properties(self, ctx: KindContext, row: ResourceRow) -> Document:
        internal = row.document.get("internal", {})
        video_type = internal.get("type", "Archive")
        in_use = await is_in_use(ctx, row)
        properties = {
            **row.document.get("properties", {}),
            "type": video_type,
            "flags": {
                "canStream": video_type == "Archive",
                "hasData": bool(internal.get("hasData", False)),
                "isInUse": in_use,
            },
            "contentUrls": content_urls(ctx, row, video_type),
            "mediaInfo": {"segmentLength": internal.get("segmentLength", DEFAULT_SEGMENT_LENGTH)},
        }
        return properties


def new_internal(segment_length: str = DEFAULT_SEGMENT_LENGTH) -> dict[str, Any]:
    return {"type": "Archive", "segmentLength": segment_length, "hasData": False}


def video_id(row: ResourceRow) -> str:
    """The video's immutable id: a video re-created under the same name gets a new one."""
    return row.id.replace("-", "")


def content_urls(ctx: KindContext, row: ResourceRow, video_type: str) -> dict[str, str]:
    if video_type != "Archive":
        return {}
    base = ctx.services.urls.archive_base(account_key(ctx), video_id(row))
    return {"archiveBaseUrl": base} if base else {}


def account_key(ctx: KindContext) -> str:
    return ctx.account.id.replace("-", "")


async def is_in_use(ctx: KindContext, row: ResourceRow) -> bool:
    """Recorded right now: an active live pipeline records into it, or a recorder (``ova record``
    or the pipeline host) holds its recording lease."""
    if row.name_key in await videos_in_use(ctx):
        return True
    return await recording_lease.is_recording(ctx.session, row.id, ctx.services.clock.now())


async def videos_in_use(ctx: KindContext) -> set[str]:
    """Name keys of the videos that an activating or active live pipeline records into."""
    statement = select(ResourceRow.document).where(
        ResourceRow.account_id == ctx.account.id, ResourceRow.kind == "livePipelines"
    )
    in_use: set[str] = set()
    for document in (await ctx.session.execute(statement)).scalars():
        if document.get("properties", {}).get("state") in {"Activating", "Active"}:
            in_use.update(name.lower() for name in document.get("internal", {}).get("videoNames", []))
    return in_use


KIND = register(VideoKind())


async def list_content_token(
    ctx: KindContext, name: str, not_after: datetime | None = None
) -> dict[str, str]:
    """A service-signed token for this one video's content URLs (bound to its immutable id).

    It lives ``content_token.lifetime_seconds``, but never past ``not_after`` (the expiry of
    the customer JWT it was asked with), so access outlives no credential that granted it.
    """
    row = await get(ctx.session, ctx.account, KIND, name)
    now = ctx.services.clock.now()
    expires = now + timedelta(seconds=ctx.services.settings.content_token.lifetime_seconds)
    if not_after is not None:
        expires = min(expires, not_after)
    claims = {"sub": video_id(row), "acct": account_key(ctx), "iat": int(now.timestamp())}
    token = ctx.services.tokens.issue(CONTENT, claims, expires)
    return {"token": token, "expirationDate": isoformat(expires)}
