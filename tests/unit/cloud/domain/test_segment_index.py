"""The segment index over a synthetic archive, on SQLite and PostgreSQL: windows, edges, inits,
and availableMedia's answer built from it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete

from ova.cloud.db.models import ResourceRow, SegmentRow
from ova.cloud.domain import accounts, coverage, segment_index
from ova.cloud.domain.arm import AccountScope, Principal
from ova.cloud.domain.available_media import available_media, parse_query
from ova.cloud.domain.kinds import videos
from ova.cloud.domain.resources import KindContext, put
from ova.cloud.domain.segment_index import StoredInit, StoredSegment
from ova.cloud.runtime import Cloud
from ova.recording import archive_layout

SCOPE = AccountScope("00000000-0000-0000-0000-0000000000aa", "rg1", "acct1")
T0 = 1_640_073_600_000  # 2021-12-21T08:00:00.000Z
NOW = datetime(2021, 12, 21, 9, tzinfo=UTC)


def segment(start_ms: int, sequence: int, config: str = "a", gap: bool = False) -> StoredSegment:
    name = archive_layout.segment_blob_name(start_ms, sequence)
    return StoredSegment(start_ms, 6000, sequence, name, 1000 + sequence, "0" * 64, config, gap)


# Two runs: 08:00:00-08:00:24 (4 segments), then after an outage 08:01:00-08:01:12 (2, gap_before).
ARCHIVE = [
    *(segment(T0 + i * 6000, sequence=i + 1) for i in range(4)),
    segment(T0 + 60_000, sequence=5, gap=True),
    segment(T0 + 66_000, sequence=6, config="b"),
]


async def new_video(cloud: Cloud, name: str) -> str:
    services = cloud.services
    async with services.sessions.begin() as session:
        account = await accounts.find(session, SCOPE)
        if account is None:
            account, _ = await accounts.put(services, session, SCOPE, {"location": "westus"}, Principal("t"))
        ctx = KindContext(services=services, session=session, account=account, principal=Principal("t"))
        row, _ = await put(ctx, videos.KIND, name, {"properties": {"title": name}})
        return row.id


@pytest.fixture
async def video(cloud: Cloud) -> str:
    video_id = await new_video(cloud, "lobby")
    async with cloud.services.sessions.begin() as session:
        for config in ("a", "b"):
            init = StoredInit(config, archive_layout.init_blob_name(config), "avc1.42C01E", 640, 360, 90_000)
            await segment_index.add_init(session, video_id, init, NOW)
        for stored in ARCHIVE:
            await segment_index.add_segment(session, video_id, stored, NOW)
    return video_id


async def window(cloud: Cloud, video_id: str, start_ms: int, end_ms: int) -> list[int]:
    async with cloud.services.sessions.begin() as session:
        return [s.sequence for s in await segment_index.window(session, video_id, start_ms, end_ms)]


async def test_a_window_holds_the_segments_overlapping_it_oldest_first(cloud: Cloud, video: str) -> None:
    assert await window(cloud, video, T0, T0 + 3_600_000) == [1, 2, 3, 4, 5, 6]
    assert await window(cloud, video, T0 + 7000, T0 + 13_000) == [2, 3]  # 2 began before the window
    assert await window(cloud, video, T0 + 6000, T0 + 12_000) == [2]  # end-exclusive on both sides
    assert await window(cloud, video, T0 + 30_000, T0 + 50_000) == []  # inside the outage
    assert await window(cloud, video, T0 - 60_000, T0) == []
    async with cloud.services.sessions.begin() as session:
        (first,) = await segment_index.window(session, video, T0, T0 + 1)
    assert first == ARCHIVE[0]


async def test_newest_end_last_sequence_and_single_lookups(cloud: Cloud, video: str) -> None:
    empty = await new_video(cloud, "garage")
    async with cloud.services.sessions.begin() as session:
        assert await segment_index.newest_end_ms(session, video) == T0 + 72_000
        assert await segment_index.newest_end_ms(session, empty) is None
        assert await segment_index.last_sequence(session, video) == 6
        assert await segment_index.last_sequence(session, empty) == 0
        assert await segment_index.segment_at(session, video, T0 + 60_000, 5) == ARCHIVE[4]
        assert await segment_index.segment_at(session, video, T0 + 60_000, 6) is None
        assert await segment_index.segment_at(session, empty, T0, 1) is None


async def test_inits_are_recorded_once_and_looked_up_by_hash(cloud: Cloud, video: str) -> None:
    async with cloud.services.sessions.begin() as session:
        again = StoredInit("a", "init/a.mp4", "avc1.640028", 1280, 720, 90_000)
        await segment_index.add_init(session, video, again, NOW)  # the same hash changes nothing
    async with cloud.services.sessions.begin() as session:
        everything = await segment_index.inits(session, video)
        chosen = await segment_index.inits(session, video, ["b", "b", "zzz"])
    assert sorted(everything) == ["a", "b"]
    assert (everything["a"].width, everything["a"].codec) == (640, "avc1.42C01E")
    assert list(chosen) == ["b"] and chosen["b"].blob_name == "init/b.mp4"


async def test_the_first_segment_marks_the_video_as_having_data(cloud: Cloud) -> None:
    video_id = await new_video(cloud, "garage")
    async with cloud.services.sessions.begin() as session:
        row = await session.get(ResourceRow, video_id)
        assert row is not None and not row.document.get("internal", {}).get("hasData")
        await segment_index.add_segment(session, video_id, ARCHIVE[0], NOW)
    async with cloud.services.sessions.begin() as session:
        row = await session.get(ResourceRow, video_id)
        assert row is not None and row.document["internal"]["hasData"] is True


def test_blob_names_are_per_video_and_per_utc_hour() -> None:
    assert archive_layout.container_name("9635aac4-7f2f-4bf0-946a-5cb7da7e5dc2") == (
        "video-9635aac47f2f4bf0946a5cb7da7e5dc2"
    )
    assert archive_layout.segment_blob_name(T0 + 1, 7) == f"segments/2021/12/21/08/{T0 + 1}-7.m4s"
    assert archive_layout.init_blob_name("abc") == "init/abc.mp4"


async def media(cloud: Cloud, video_id: str, precision: str, start: str | None, end: str | None) -> object:
    async with cloud.services.sessions.begin() as session:
        return await available_media(session, video_id, parse_query(precision, start, end))


async def test_available_media_at_each_precision(cloud: Cloud, video: str) -> None:
    full = await media(cloud, video, "full", "2021-12-21T00:00:00Z", "2021-12-22T00:00:00Z")
    assert full == {
        "timeRanges": [
            {"start": "2021-12-21T08:00:00.000Z", "end": "2021-12-21T08:00:24.000Z"},
            {"start": "2021-12-21T08:01:00.000Z", "end": "2021-12-21T08:01:12.000Z"},
        ]
    }
    clipped = await media(cloud, video, "full", "2021-12-21T08:00:10Z", "2021-12-21T08:01:05Z")
    assert clipped == {
        "timeRanges": [
            {"start": "2021-12-21T08:00:10.000Z", "end": "2021-12-21T08:00:24.000Z"},
            {"start": "2021-12-21T08:01:00.000Z", "end": "2021-12-21T08:01:05.000Z"},
        ]
    }
    assert await media(cloud, video, "day", "2021-12-01", "2021-12-31") == {
        "timeRanges": [{"start": "2021-12-21", "end": "2021-12-21"}]
    }
    assert await media(cloud, video, "month", "2021-01", "2021-12") == {
        "timeRanges": [{"start": "2021-12", "end": "2021-12"}]
    }
    assert await media(cloud, video, "year", None, None) == {"timeRanges": [{"start": "2021", "end": "2021"}]}
    assert await media(cloud, video, "year", "2022", None) == {"timeRanges": []}
    assert await media(cloud, video, "day", "2021-12-22", "2021-12-23") == {"timeRanges": []}


async def test_each_segment_is_numbered_after_the_newest_one(cloud: Cloud, video: str) -> None:
    async with cloud.services.sessions.begin() as session:
        stored = await segment_index.window(session, video, T0, T0 + 3_600_000)
    # ordinal, runs boundaries before it (the outage, then the codec change), and its run's start
    assert [(s.ordinal, s.discontinuity, s.run_start_ms) for s in stored] == [
        (0, 0, T0),
        (1, 0, T0),
        (2, 0, T0),
        (3, 0, T0),
        (4, 1, T0 + 60_000),
        (5, 2, T0 + 66_000),
    ]


async def test_day_coverage_follows_inserts_and_deletes(cloud: Cloud) -> None:
    video_id = await new_video(cloud, "garage")
    midnight = T0 + 16 * 3_600_000  # 2021-12-22T00:00:00Z
    async with cloud.services.sessions.begin() as session:
        for start in (midnight - 3000, midnight + 86_400_000 * 2):  # over midnight, then two days on
            await segment_index.add_segment(session, video_id, segment(start, 1), NOW)
    day = media(cloud, video_id, "day", "2021-12-01", "2021-12-31")
    assert await day == {
        "timeRanges": [
            {"start": "2021-12-21", "end": "2021-12-22"},
            {"start": "2021-12-24", "end": "2021-12-24"},
        ]
    }
    async with cloud.services.sessions.begin() as session:
        await session.execute(delete(SegmentRow).where(SegmentRow.start_ms == midnight - 3000))
        await coverage.recount(session, video_id, coverage.days_touched(midnight - 3000, 6000))
    assert await media(cloud, video_id, "month", "2021-12", "2021-12") == {
        "timeRanges": [{"start": "2021-12", "end": "2021-12"}]
    }
    assert await media(cloud, video_id, "day", "2021-12-01", "2021-12-31") == {
        "timeRanges": [{"start": "2021-12-24", "end": "2021-12-24"}]
    }
