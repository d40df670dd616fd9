"""Content tokens on the streaming family: presented, checked, bound to one video.

A token is accepted from the ``token`` query parameter (what the original player sends),
an ``Authorization: Bearer`` header, or the ``ova_content`` cookie. It must be a content
token of this service (no other kind), for this account, for this video's immutable id,
and the video must still exist under that id.

Segment requests are the hot path: ``authorise_cached`` checks the token in memory and
remembers for a few seconds that a video exists and what its account allows, so a player
fetching segments costs no database query. A deleted video stops playing within that time,
as policy changes do on the client family.

Refused content tokens are throttled per client address (``CredentialThrottle``: 401 up to
``credential_throttle.failures_per_client`` per window, then 429 with ``Retry-After``); a
token seen valid recently still plays, so one bad viewer behind a shared address cannot
stop the others.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ova.auth.service_tokens import CONTENT, InvalidServiceToken
from ova.cloud.db.models import AccountRow, ResourceRow
from ova.cloud.domain import network_access
from ova.cloud.domain.credential_throttle import CredentialThrottle
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


def granted_claims(request: Request, account_key: str, video_id: str) -> dict[str, Any]:
    """The claims of the presented content token when it is for this video (401/403/429 otherwise)."""
    services: CloudServices = request.app.state.services
    try:
        token = presented(request)
    except InvalidServiceToken:
        token = ""
    client = request.client.host if request.client else "unknown"
    with content_throttle(request).guard(client, token):
        claims = services.tokens.verify(CONTENT, presented(request), services.clock.now())
        if claims.get("acct") != account_key or claims.get("sub") != video_id:
            raise Forbidden("The content token is not valid for this video.")
    return claims


def content_throttle(request: Request) -> CredentialThrottle:
    """The streaming family's throttle of refused content tokens."""
    settings = request.app.state.services.settings.credential_throttle
    return CredentialThrottle.shared(request.app.state, "content_throttle", settings)


async def authorised_video(
    request: Request, session: AsyncSession, account_key: str, video_id: str
) -> ResourceRow:
    """The video a valid content token grants, or 401/403."""
    services: CloudServices = request.app.state.services
    granted_claims(request, account_key, video_id)
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


GRANT_CACHE_SECONDS = 5.0
MAX_CACHED_VIDEOS = 10_000


@dataclass(frozen=True)
class VideoGrant:
    row_id: str
    account_key: str
    account_document: dict[str, Any]


class GrantCache:
    """Which videos exist and under which account, remembered for ``ttl`` seconds."""

    def __init__(self, ttl: float = GRANT_CACHE_SECONDS) -> None:
        self._ttl = ttl
        self._entries: OrderedDict[str, tuple[float, VideoGrant | None]] = OrderedDict()

    async def lookup(self, services: CloudServices, video_id: str) -> VideoGrant | None:
        now = time.monotonic()
        cached = self._entries.get(video_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        async with services.sessions.begin() as session:
            row = await video_by_id(session, video_id)
            account = await session.get(AccountRow, row.account_id) if row is not None else None
        grant = None
        if row is not None and account is not None:
            grant = VideoGrant(row.id, account.id.replace("-", ""), dict(account.document))
        self._entries[video_id] = (now, grant)
        self._entries.move_to_end(video_id)
        while len(self._entries) > MAX_CACHED_VIDEOS:
            self._entries.popitem(last=False)
        return grant


async def authorise_cached(request: Request, account_key: str, video_id: str) -> str:
    """The video's row id when the content token grants it (401/403 otherwise), mostly from memory."""
    services: CloudServices = request.app.state.services
    granted_claims(request, account_key, video_id)
    cache: GrantCache = request.app.state.grants
    grant = await cache.lookup(services, video_id)
    if grant is None or grant.account_key != account_key:
        raise Forbidden("The content token is not valid for this video.")
    client_host = request.client.host if request.client else None
    network_access.check(
        grant.account_document,
        network_access.Group.CONSUMPTION,
        client_host,
        services.settings.private_networks,
    )
    return grant.row_id
