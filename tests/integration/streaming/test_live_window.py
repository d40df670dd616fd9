"""Open-ended manifests as players poll them: live only while the recording lease holds, and
segment numbers (HLS media and discontinuity sequence, DASH Period ids) that stay put while the
four-hour live window slides over five hours of a moved clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from moved_clock import DASH, HLS, SCOPE, START, Archive, dash_periods, hls_numbers, open_archive, tag

from ova.cloud.db.models import ResourceRow
from ova.cloud.domain import accounts
from ova.cloud.domain.arm import Principal
from ova.cloud.domain.kinds import videos
from ova.cloud.domain.resources import KindContext
from ova.cloud.runtime import build
from ova.cloud.settings import CloudSettings
from ova.common.clock import FrozenClock

SEGMENT_MS = 120_000


@pytest.fixture
async def archive(cloud_settings: CloudSettings) -> AsyncIterator[Archive]:
    clock = FrozenClock(START)
    cloud = await build(cloud_settings, clock)
    listener, app = cloud.listeners[0]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=listener.base_url()) as client:
        yield await open_archive(cloud, clock, client, {"title": "Lobby"})
    await cloud.close()


def is_live(playlist: str, mpd: str) -> bool:
    hls_live = "#EXT-X-PLAYLIST-TYPE:EVENT" in playlist and "#EXT-X-ENDLIST" not in playlist
    hls_vod = "#EXT-X-PLAYLIST-TYPE:VOD" in playlist and playlist.endswith("#EXT-X-ENDLIST\n")
    assert hls_live != hls_vod, playlist
    assert ('type="dynamic"' in mpd) == hls_live, mpd
    return hls_live


async def live(archive: Archive, resource_suffix: str = "") -> bool:
    hls, dash = HLS.replace(")", f"{resource_suffix})"), DASH.replace(")", f"{resource_suffix})")
    return is_live(await archive.text(hls), await archive.text(dash))


async def in_use(archive: Archive) -> bool:
    services = archive.cloud.services
    async with services.sessions.begin() as session:
        row = await session.get(ResourceRow, archive.video_id)
        assert row is not None
        account = await accounts.get(session, SCOPE)
        ctx = KindContext(services=services, session=session, account=account, principal=Principal("t"))
        return await videos.is_in_use(ctx, row)


async def test_an_open_ended_manifest_is_live_only_while_a_recorder_holds_the_lease(archive: Archive) -> None:
    await archive.record(3, SEGMENT_MS)
    # Just recorded, newest media seconds old, but nobody is recording: video on demand.
    assert not await live(archive) and not await in_use(archive)
    await archive.hold_lease(timedelta(seconds=30))
    assert await live(archive) and await in_use(archive)
    # A bounded window is never live, even while recording.
    first = archive.now_ms - 3 * SEGMENT_MS
    bounds = f",starttime={iso(first)},endtime={iso(first + SEGMENT_MS)}"
    assert not await live(archive, bounds)
    await archive.release_lease()  # the recorder stopped (its last segment flushed)
    assert not await live(archive) and not await in_use(archive)
    await archive.hold_lease(timedelta(seconds=30))
    archive.clock.advance(timedelta(seconds=31))  # a recorder that died without letting go
    assert not await live(archive) and not await in_use(archive)


def iso(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def test_segments_keep_their_numbers_while_the_live_window_slides_for_five_hours(
    archive: Archive,
) -> None:
    hls_seen: dict[str, tuple[int, int]] = {}
    dash_seen: dict[str, tuple[str, str]] = {}
    per_hour = 3_600_000 // SEGMENT_MS
    for hour in range(5):
        await archive.hold_lease(timedelta(hours=2))
        if hour == 2:  # an outage half way through the hour: a discontinuity and a new Period
            await archive.record(per_hour // 2, SEGMENT_MS)
            archive.clock.advance(timedelta(minutes=5))
            await archive.record(per_hour // 2, SEGMENT_MS, gap_first=True)
        else:
            await archive.record(per_hour, SEGMENT_MS)
        playlist, mpd = await archive.text(HLS), await archive.text(DASH)
        assert is_live(playlist, mpd)
        numbers, periods = hls_numbers(playlist), dash_periods(mpd)
        assert set(numbers) == set(periods) and numbers
        for uri, number in numbers.items():
            assert hls_seen.setdefault(uri, number) == number, (hour, uri)
            assert dash_seen.setdefault(uri, periods[uri]) == periods[uri], (hour, uri)
    # The window slid: the first hour is gone, and numbering did not restart.
    assert tag(playlist, "MEDIA-SEQUENCE") == per_hour + 2  # the window starts 4 h back, mid-segment
    assert tag(playlist, "DISCONTINUITY-SEQUENCE") == 0 and playlist.count("#EXT-X-DISCONTINUITY\n") == 1
    assert len(set(periods.values())) == 2
    assert sorted(number for number, _ in hls_numbers(playlist).values()) == list(
        range(per_hour + 2, 5 * per_hour)
    )
