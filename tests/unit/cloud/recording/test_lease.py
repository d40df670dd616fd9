"""A recording runs under its video's lease: held from before the first segment to after the
last, renewed while it runs, dropped however it ends (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from ova.cloud.db.models import RecordingLeaseRow
from ova.cloud.domain import accounts, recording_lease
from ova.cloud.domain.arm import AccountScope, Principal
from ova.cloud.domain.kinds import videos
from ova.cloud.domain.resources import KindContext, put
from ova.cloud.recording.lease import under_lease
from ova.cloud.runtime import Cloud

SCOPE = AccountScope("00000000-0000-0000-0000-0000000000ac", "rg", "leases")


async def new_video(cloud: Cloud) -> str:
    services = cloud.services
    async with services.sessions.begin() as session:
        account, _ = await accounts.put(services, session, SCOPE, {"location": "l"}, Principal("t"))
        ctx = KindContext(services=services, session=session, account=account, principal=Principal("t"))
        row, _ = await put(ctx, videos.KIND, "lobby", {"properties": {"title": "Lobby"}})
        return row.id


async def recording(cloud: Cloud, video_id: str) -> bool:
    async with cloud.services.sessions.begin() as session:
        return await recording_lease.is_recording(session, video_id, cloud.services.clock.now())


async def test_the_lease_holds_exactly_while_the_recording_runs(cloud: Cloud) -> None:
    video_id = await new_video(cloud)

    async def recorder() -> str:
        assert await recording(cloud, video_id)
        return "flushed"

    assert not await recording(cloud, video_id)
    assert await under_lease(cloud.services, video_id, 6000, recorder()) == "flushed"
    assert not await recording(cloud, video_id)

    async def failing() -> None:
        raise RuntimeError("camera gone")

    with pytest.raises(RuntimeError):
        await under_lease(cloud.services, video_id, 6000, failing())
    assert not await recording(cloud, video_id)


async def test_a_long_recording_renews_its_lease(cloud: Cloud) -> None:
    video_id = await new_video(cloud)
    # 1 s segments: a 12 s lease renewed every 3 s; checked 3.5 s in, it runs past the first expiry.
    assert recording_lease.lease_length(1000) == timedelta(seconds=12)
    assert recording_lease.renew_every(1000) == 3.0

    async def recorder() -> timedelta:
        await asyncio.sleep(3.5)
        async with cloud.services.sessions.begin() as session:
            row = await session.get(RecordingLeaseRow, video_id)
            assert row is not None
            return row.expires_at - row.started_at

    held = await under_lease(cloud.services, video_id, 1000, recorder())
    assert held > timedelta(seconds=12)  # renewed: it now ends later than the first lease did
