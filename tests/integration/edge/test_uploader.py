"""The uploader against the real cloud (edge + storage families on loopback, or Azurite): drains,
faults on the link, lost answers, SAS expiry, and SIGKILL at every step."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from edge_media import START_MS, Events, init_segment, media_segment
from edge_world import World, running_world

from ova.common.clock import FrozenClock
from ova.contracts.edge_api import PublishVideoRequest
from ova.edge import crash_points
from ova.edge.cloud_link import CloudLink, CloudLinkSettings
from ova.edge.spool import LocalMediaCache, SpoolSettings
from ova.edge.uploader import Uploader, UploaderSettings
from ova.edge.video_cache import VideoCache
from ova.media.preview import PreviewImage
from ova.recording import archive_layout
from ova.recording.sequences import next_sequence
from support.azurite import AzuriteServer
from support.fault_proxy import Mode, fault

HERE = Path(__file__).parent
FAST = UploaderSettings(backoff_initial_s=0.05, backoff_max_s=0.3, batch_segments=10)
WAIT_S = 30.0


@pytest.fixture(scope="module")
def azurite() -> Iterator[AzuriteServer]:
    server = AzuriteServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@dataclass
class Edge:
    world: World
    link: CloudLink
    cache: LocalMediaCache
    uploader: Uploader
    events: Events

    async def video(self, name: str = "camera-1") -> VideoCache:
        return await self.cache.open_video(name, PublishVideoRequest(), f"/edgeModules/edge1/sinks/{name}")


@asynccontextmanager
async def edge_module(
    world: World,
    tmp_path: Path,
    settings: UploaderSettings = FAST,
    uploader_clock: FrozenClock | None = None,
    cache_dir: str = "cache",
) -> AsyncIterator[Edge]:
    token = None if (tmp_path / "edge").exists() else await world.token()  # provisioned before: its key
    link = CloudLink(
        CloudLinkSettings(timeout_s=5), tmp_path / "edge", provisioning_token=token, clock=world.clock
    )
    await link.start()
    events = Events()
    cache = LocalMediaCache(SpoolSettings(path=tmp_path / cache_dir, max_size_mib=256), events, world.clock)
    uploader = Uploader(link, cache, settings, clock=uploader_clock or world.clock)
    try:
        yield Edge(world, link, cache, uploader, events)
    finally:
        await uploader.close()
        await link.close()


async def record(video: VideoCache, sequences: range, size: int = 4096) -> None:
    await video.init_segment(init_segment())
    for sequence in sequences:
        await video.media_segment(media_segment(sequence, size))


async def eventually(check: Callable[[], object], what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not await _holds(check):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def _holds(check: Callable[[], object]) -> bool:
    outcome = check()
    if asyncio.iscoroutine(outcome):
        outcome = await outcome
    return bool(outcome)


async def assert_archived(world: World, name: str, sequences: list[int], size: int = 4096) -> None:
    rows = await world.indexed(name)
    assert [row.sequence for row in rows] == sequences  # each exactly once
    for row in rows:
        data = media_segment(row.sequence, size).data
        assert (row.size, row.sha256) == (len(data), hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("store", ["filesystem", "azurite"])
async def test_a_recording_drains_into_the_archive_and_leaves_the_cache_empty(
    tmp_path: Path, clock: FrozenClock, store: str, request: pytest.FixtureRequest
) -> None:
    storage_url = request.getfixturevalue("azurite").connection_string if store == "azurite" else None
    async with (
        running_world(tmp_path, clock, storage_url=storage_url) as world,
        edge_module(world, tmp_path) as edge,
    ):
        video = await edge.video()
        count, size = 100, 64 * 1024
        started = time.perf_counter()
        await record(video, range(1, count + 1), size)
        await video.preview([PreviewImage("small", 32, 18, b"\xff\xd8small\xff\xd9")], START_MS)
        assert await video.close(WAIT_S)
        elapsed = time.perf_counter() - started
        await assert_archived(world, "camera-1", list(range(1, count + 1)), size)
        (publication,) = edge.uploader._publications.values()
        blob = await world.blob(publication.value.video_id, (await world.indexed("camera-1"))[4].blob_name)
        assert blob == media_segment(5, size).data
        container = archive_layout.container_name(publication.value.video_id)
        info = await world.cloud.services.blobs.head(
            container, (await world.indexed("camera-1"))[0].blob_name
        )
        assert info is not None and info.content_type == archive_layout.M4S
        preview = await world.blob(publication.value.video_id, f"preview/{START_MS}/small.jpg")
        assert preview == b"\xff\xd8small\xff\xd9"
        assert not list((tmp_path / "cache" / "videos" / "camera-1" / "entries").iterdir())
        assert len(edge.events.of_type("RecordingAvailable")) == 1
        assert edge.cache.stats.bytes_cached == 0
    megabytes = count * size / 1e6
    print(f"\nupload to {store}: {count / elapsed:.1f} segments/s, {megabytes / elapsed:.2f} MB/s ({size} B)")


async def test_an_outage_resets_and_503s_delay_the_upload_but_lose_nothing(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with running_world(tmp_path, clock) as world, edge_module(world, tmp_path) as edge:
        video = await edge.video()
        with fault(world.proxy, Mode.REFUSE):  # the "10 minute" outage, compressed
            await record(video, range(1, 6))
            await eventually(lambda: edge.uploader.stats.retries >= 3, "retries during the outage")
            assert len(video.pending()) == 6  # nothing deleted
        with fault(world.proxy, Mode.RESET_AFTER, reset_after_bytes=60):
            await record(video, range(6, 9))
            await eventually(lambda: world.proxy.faults[Mode.RESET_AFTER] >= 2, "resets")
        with fault(world.proxy, Mode.UNAVAILABLE, retry_after_s=1):
            await eventually(lambda: world.proxy.faults[Mode.UNAVAILABLE] >= 1, "a 503")
        with fault(world.proxy, Mode.DELAY, delay_s=0.05):
            assert await video.close(WAIT_S)
        await assert_archived(world, "camera-1", list(range(1, 9)))
        assert world.proxy.faults[Mode.REFUSE] >= 3


async def test_an_answer_lost_after_the_cloud_committed_counts_as_success(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with running_world(tmp_path, clock) as world, edge_module(world, tmp_path) as edge:
        video = await edge.video()
        with fault(world.proxy, Mode.DROP_RESPONSE, drop_matching="/segments HTTP"):  # the commit's answer
            await record(video, range(1, 4))
            await eventually(lambda: world.indexed("camera-1"), "the cloud committing unbeknown to the edge")
            assert len(video.pending()) == 4  # the edge never heard: it keeps everything
        assert await video.close(WAIT_S)
        await assert_archived(world, "camera-1", [1, 2, 3])
        assert edge.events.of_type("DataDropped") == []


async def test_a_sas_that_expires_mid_drain_is_renewed_and_nothing_is_lost(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with running_world(tmp_path, clock, sas_lifetime="PT1M") as world:
        lagging = FrozenClock(clock.now())  # the edge's clock stands still: it never renews on time
        async with edge_module(world, tmp_path, uploader_clock=lagging) as edge:
            video = await edge.video()
            await record(video, range(1, 3))
            await eventually(lambda: not video.pending(), "the first segments")
            clock.advance(timedelta(minutes=5))  # the SAS the edge holds has expired
            await record(video, range(3, 6))
            assert await video.close(WAIT_S)
            await assert_archived(world, "camera-1", [1, 2, 3, 4, 5])
            assert edge.uploader.stats.sas_refused >= 1  # the old SAS was refused...
            assert edge.uploader.stats.sas_renewals >= 1  # ...so it was renewed, once per refusal at most
            assert edge.uploader.stats.sas_renewals <= edge.uploader.stats.sas_refused


async def test_the_sas_is_renewed_before_it_expires(tmp_path: Path, clock: FrozenClock) -> None:
    async with (
        running_world(tmp_path, clock, sas_lifetime="PT1M") as world,
        edge_module(world, tmp_path) as edge,
    ):
        video = await edge.video()
        await record(video, range(1, 3))
        await eventually(lambda: not video.pending(), "the first segments")
        clock.advance(timedelta(seconds=50))  # past 80 % of the SAS lifetime, not past its end
        await record(video, range(3, 5))
        assert await video.close(WAIT_S)
        await assert_archived(world, "camera-1", [1, 2, 3, 4])
        assert (edge.uploader.stats.sas_renewals, edge.uploader.stats.sas_refused) == (1, 0)


async def test_a_clock_that_jumps_back_still_archives_every_segment(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with running_world(tmp_path, clock) as world, edge_module(world, tmp_path) as edge:
        video = await edge.video()
        await video.init_segment(init_segment())
        for sequence, start in ((1, START_MS), (2, START_MS + 2000), (3, START_MS - 60_000), (4, START_MS)):
            await video.media_segment(media_segment(sequence, start_ms=start))
        assert await video.close(WAIT_S)
        rows = await world.indexed("camera-1")
        assert [row.sequence for row in rows] == [1, 2, 3, 4]
        assert len({row.blob_name for row in rows}) == 4


SEGMENTS = 6


async def run_child(tmp_path: Path, name: str, kill_at: str | None, after: int) -> int:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parents[1]), str(HERE.parents[2] / "src")]),
    }
    env.pop("OVA_TEST_KILL_AT", None)
    if kill_at:
        env |= {"OVA_TEST_KILL_AT": kill_at, "OVA_TEST_KILL_AFTER": str(after)}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "edge_crash_child.py"),
        str(tmp_path / "edge"),
        str(tmp_path / f"cache-{name}"),
        name,
        str(SEGMENTS),
        env=env,
    )
    async with asyncio.timeout(60):
        return await child.wait()


async def test_sigkill_at_every_step_loses_no_complete_segment(tmp_path: Path, clock: FrozenClock) -> None:
    async with running_world(tmp_path, clock) as world:
        link = CloudLink(
            CloudLinkSettings(), tmp_path / "edge", provisioning_token=await world.token(), clock=clock
        )
        await link.start()  # the children share this module state
        await link.close()
        for point in crash_points.POINTS:
            for after in (1, 3):
                name = f"crash-{point}-{after}"
                assert await run_child(tmp_path, name, point, after) == -9, name  # SIGKILLed there
                assert await run_child(tmp_path, name, None, 0) == 0, name  # the next start drains it
                await assert_archived(world, name, list(range(1, SEGMENTS + 1)))
                cache = tmp_path / f"cache-{name}"
                assert not list((cache / "videos" / name / "entries").iterdir())
                assert not list((cache / "tmp").iterdir())


async def test_another_modules_video_is_refused_reported_and_kept(tmp_path: Path, clock: FrozenClock) -> None:
    async with running_world(tmp_path, clock) as world:
        theirs = CloudLink(
            CloudLinkSettings(), tmp_path / "edge2", provisioning_token=await world.token("edge2")
        )
        await theirs.start()
        await theirs.publish_video("camera-1", PublishVideoRequest())  # edge2 records into camera-1
        await theirs.close()
        async with edge_module(world, tmp_path) as edge:
            video = await edge.video("camera-1")
            await record(video, range(1, 3))
            await eventually(lambda: edge.events.of_type("AuthorizationError"), "the refusal reported")
            assert not await video.close(0.5)  # it never drains into someone else's video
            assert len(video.pending()) == 3  # and nothing was deleted
            assert await world.indexed("camera-1") == []


async def test_a_new_cache_continues_past_the_clouds_last_sequence(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with running_world(tmp_path, clock) as world:
        async with edge_module(world, tmp_path) as edge:
            video = await edge.video()
            await record(video, range(1, 6))
            assert await video.close(WAIT_S)
        async with edge_module(world, tmp_path, cache_dir="new-cache") as edge:  # the local cache is gone
            video = await edge.video()
            assert video.last_sequence == 0
            first = await next_sequence("camera-1", edge.uploader)
            await record(video, range(first, first + 2))
            assert await video.close(WAIT_S)
        assert first == 6
        await assert_archived(world, "camera-1", [1, 2, 3, 4, 5, 6, 7])


async def test_a_stalled_link_times_out_and_is_retried(tmp_path: Path, clock: FrozenClock) -> None:
    impatient = UploaderSettings(put_timeout_s=0.3, backoff_initial_s=0.05, backoff_max_s=0.2)
    async with running_world(tmp_path, clock) as world, edge_module(world, tmp_path, impatient) as edge:
        video = await edge.video()
        await edge.uploader.last_sequence("camera-1")  # published while the link is fine
        with fault(world.proxy, Mode.DELAY, delay_s=1.0):  # every answer comes too late for a PUT
            await record(video, range(1, 3))
            await eventually(lambda: edge.uploader.stats.retries >= 2, "PUTs timing out")
            assert await world.indexed("camera-1") == []
        assert await video.close(WAIT_S)
        await assert_archived(world, "camera-1", [1, 2])


async def test_the_cloud_hears_that_the_video_is_recording_and_when_it_stops(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """While a video sink records, its video is in use (so players treat it as live); once its
    cache closes and drains, the cloud hears that recording stopped."""
    async with running_world(tmp_path, clock) as world, edge_module(world, tmp_path) as edge:
        video = await edge.video()
        await record(video, range(1, 3))

        async def in_use() -> bool:
            answer = await world.arm.ok("GET", "videos/camera-1")
            return bool(answer["properties"]["flags"]["isInUse"])

        await eventually(in_use, "the video to be in use while it records")
        assert await video.close(WAIT_S)

        async def idle() -> bool:
            return not await in_use()

        await eventually(idle, "the video to stop being in use")
        await assert_archived(world, "camera-1", [1, 2])
