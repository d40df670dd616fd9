"""Retention on a moved clock: a video kept for one day loses older segments from the index and
the blob store together, in bounded passes, counted in /metrics; what remains still plays, and
day navigation forgets the days that went. A pass cut short after the index delete leaves
tombstones that the next pass finishes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from moved_clock import START, Archive, open_archive

from ova.cloud.db.models import ResourceRow
from ova.cloud.domain import retention, segment_index
from ova.cloud.runtime import build
from ova.cloud.settings import CloudSettings, RecordingSettings
from ova.common.clock import FrozenClock
from ova.recording import archive_layout

SEGMENT_MS = 300_000
BATCH = 25


@pytest.fixture
async def archive(cloud_settings: CloudSettings) -> AsyncIterator[Archive]:
    """Three days of ``lobby``, kept one day: each day 20 segments from 06:00 and 4 from 23:50
    (two of them after midnight). The clock ends at 00:10 on the fourth day."""
    settings = cloud_settings.model_copy(update={"recording": RecordingSettings(retention_batch_size=BATCH)})
    clock = FrozenClock(START)
    cloud = await build(settings, clock)
    listener, app = cloud.listeners[0]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=listener.base_url()) as client:
        body = {"title": "Lobby", "archival": {"retentionPeriod": "P1D"}}
        archive = await open_archive(cloud, clock, client, body)
        for day in range(3):
            await archive.record(20, SEGMENT_MS, gap_first=day > 0)
            clock.advance(at(day, 23, 50) - clock.now())
            await archive.record(4, SEGMENT_MS, gap_first=True)
            clock.advance(max(at(day + 1, 6) - clock.now(), timedelta(0)))
        clock.advance(at(3, 0, 10) - clock.now())
        yield archive
    await cloud.close()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return START.replace(hour=hour, minute=minute) + timedelta(days=day)


async def stored(archive: Archive) -> tuple[int, int]:
    """(segments in the index, segment blobs in the store)."""
    services = archive.cloud.services
    async with services.sessions.begin() as session:
        indexed = await segment_index.window(session, archive.video_id, 0, 2**53)
    container = archive_layout.container_name(archive.video_id)
    blobs = [blob async for blob in services.blobs.list(container, "segments/")]
    return len(indexed), len(blobs)


async def days(archive: Archive) -> object:
    params = {"precision": "day", "startTime": "2026-03-01", "endTime": "2026-03-31"}
    response = await archive.get("availableMedia", params)
    assert response.status_code == 200, response.text
    return response.json()["timeRanges"]


async def test_retention_shrinks_index_and_store_together_and_what_remains_plays(archive: Archive) -> None:
    worker = archive.cloud.retention
    assert worker is not None
    assert await stored(archive) == (72, 72)
    assert await days(archive) == [{"start": "2026-03-01", "end": "2026-03-04"}]
    # Everything that ended by 00:10 on day 3 expires: days 1 and 2 (48 segments), in passes of 25.
    assert [await worker.run_once() for _ in range(3)] == [BATCH, 48 - BATCH, 0]
    assert await stored(archive) == (24, 24)
    assert await days(archive) == [{"start": "2026-03-03", "end": "2026-03-04"}]
    metrics = await archive.client.get("/metrics")
    assert "ova_retention_deleted_segments_total 48.0" in metrics.text

    first_kept = int(at(2, 6).timestamp() * 1000)
    bounds = f"starttime={iso(first_kept)},endtime={iso(first_kept + 20 * SEGMENT_MS)}"
    playlist = await archive.text(f"manifest(format=m3u8-cmaf,{bounds}).m3u8")
    uris = [line.split("?")[0] for line in playlist.splitlines() if line and not line.startswith("#")]
    assert len(uris) == 20
    for uri in uris:
        response = await archive.get(uri)
        assert response.status_code == 200 and response.content == archive.blobs[uri]
    gone = next(iter(archive.blobs))
    assert (await archive.get(gone)).status_code == 404
    init = next(line for line in playlist.splitlines() if line.startswith("#EXT-X-MAP"))
    assert (await archive.get(init.split('"')[1].split("?")[0])).status_code == 200


async def test_a_pass_cut_short_after_the_index_delete_leaks_no_blob(archive: Archive) -> None:
    services, now = archive.cloud.services, archive.clock.now()
    async with services.sessions.begin() as session:
        (expiry,) = await retention.expiries(session, now)
        assert await retention.expire(session, expiry, 10, now) == 10
    # "Crashed" here: the index no longer names the ten blobs, which are still stored.
    assert await stored(archive) == (62, 72)
    worker = archive.cloud.retention
    assert worker is not None
    assert await worker.run_once() == BATCH
    assert await stored(archive) == (62 - BATCH, 62 - BATCH)


def iso(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=START.tzinfo)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def has_data(archive: Archive) -> bool:
    async with archive.cloud.services.sessions() as session:
        video = await session.get(ResourceRow, archive.video_id)
    assert video is not None
    return bool(video.document["internal"]["hasData"])


async def test_a_video_whose_every_segment_expired_no_longer_has_data(archive: Archive) -> None:
    worker = archive.cloud.retention
    assert worker is not None
    while await worker.run_once():
        pass
    assert await has_data(archive)  # the last day is still kept
    archive.clock.advance(timedelta(days=2))
    while await worker.run_once():
        pass
    assert await stored(archive) == (0, 0)
    assert not await has_data(archive)
