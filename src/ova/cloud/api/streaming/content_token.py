"""Content tokens on the streaming family: presented, checked, bound to one video.

A token is accepted from the ``token`` query parameter (what the original player sends),
an ``Authorization: Bearer`` header, or the ``ova_content`` cookie. It must be a content
token of this service (no other kind), for this account, for this video's immutable id,
and the video must still exist under that id.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ova.auth.service_tokens import CONTENT, InvalidServiceToken
from ova.cloud.db.models import AccountRow, ResourceRow
from ova.cloud.domain import network_access
from ova.cloud.domain.services import CloudServices
from ova.common.errors import Forbidden

COOKIE = "ova_content"


def presented(request: Request) -> str:
    query = request.query_params.getlist("token")
    if len(query) > 1:
        raise InvalidServiceToken("The content token is invalid.")
    if query:
        return query[0]
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        return credential.strip()
    cookie = request.cookies.get(COOKIE)
    if cookie:
        return cookie
    raise InvalidServiceToken("A content token is required.")


async def authorised_video(
    request: Request, session: AsyncSession, account_key: str, video_id: str
) -> ResourceRow:
    """The video a valid content token grants, or 401/403."""
    services: CloudServices = request.app.state.services
    claims = services.tokens.verify(CONTENT, presented(request), services.clock.now())
    if claims.get("acct") != account_key or claims.get("sub") != video_id:
        raise Forbidden("The content token is not valid for this video.")
    row = await video_by_id(session, video_id)
    if row is None or row.account_id.replace("-", "") != account_key:
        raise Forbidden("The content token is not valid for this video.")
    account = await session.get_one(AccountRow, row.account_id)
    client_host = request.client.host if request.client else None
    network_access.check(
        account.document, network_access.Group.CONSUMPTION, client_host, services.settings.private_networks
    )
    return row


async def video_by_id(session: AsyncSession, video_id: str) -> ResourceRow | None:
    if len(video_id) != 32:
        return None
    dashed = f"{video_id[:8]}-{video_id[8:12]}-{video_id[12:16]}-{video_id[16:20]}-{video_id[20:]}"
    statement = select(ResourceRow).where(ResourceRow.id == dashed, ResourceRow.kind == "videos")
    return (await session.execute(statement)).scalar_one_or_none()
