"""Security matrix D13, edge path: a camera that drops leaves a recorded gap, never fabricated continuity.

``ova camera`` → RtspSource → VideoSink → the real local media cache (``MediaCaches``, as the
module composes it) → ``Uploader`` → ``CloudLink`` → the real cloud (edge family, segment
index, streaming family) on loopback. The camera process is stopped while the pipeline
records, and started again on the same port; the edge reconnects on its own.

Time is compressed: D13 speaks of a 30 s drop and the pipeline's default 30 s segments; here
segments last 1 s (``GraphContext.segment_ms``) and the camera is away for 4 s. What is
asserted does not depend on the length: the segment after the drop says ``gapBefore`` and
opens a new discontinuity in the index, no indexed segment covers the time the camera was
away (within one segment of tolerance), the indexed timeline has a hole as long as the drop,
and the HLS playlist the streaming family serves has ``EXT-X-DISCONTINUITY`` between the two
runs with the second run's ``EXT-X-PROGRAM-DATE-TIME`` at the real resumption time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from edge_world import World, running_world

from integration.recording.recording_processes import CameraProcess
from ova.cloud.db.models import SegmentRow
from ova.common.clock import FrozenClock
from ova.edge.cloud_link import CloudLink, CloudLinkSettings
from ova.edge.graph.runner import EdgeGraphRunner
from ova.edge.media_caches import MediaCaches
from ova.edge.uploader import UploaderSettings
from support.edge_graph import GraphWorld, continuous, spec

SEGMENT_MS = 1_000
OUTAGE_S = 4.0
FPS = 10
VIDEO = "yard-video"
WAIT_S = 20.0
FAST = UploaderSettings(backoff_initial_s=0.05, backoff_max_s=0.3, batch_segments=10)


def now_ms() -> int:
    return int(time.time() * 1000)


def iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def start_camera(camera: CameraProcess) -> None:
    """A small picture, one keyframe a second."""
    camera.start(320, 240, 300, "--fps", str(FPS), "--gop", str(FPS))


@asynccontextmanager
async def recording_edge(world: World, tmp_path: Path) -> AsyncIterator[tuple[GraphWorld, EdgeGraphRunner]]:
    """The edge module's recording parts, composed as ``edge.parts`` does, against ``world``'s cloud."""
    link = CloudLink(
        CloudLinkSettings(timeout_s=5),
        tmp_path / "edge",
        provisioning_token=await world.token(),
        clock=world.clock,
    )
    await link.start()
    graph_world = GraphWorld()
    caches = MediaCaches(tmp_path / "edge-data", link, graph_world.events, uploader=FAST)
    context = graph_world.context(segment_ms=SEGMENT_MS, spools=caches, histories=(caches,))
    try:
        yield graph_world, EdgeGraphRunner(context)
    finally:
        await caches.close()
        await link.close()


async def eventually(what: str, check: Callable[[], object], timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        outcome = check()
        if asyncio.iscoroutine(outcome):
            outcome = await outcome
        if outcome:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def end_ms(row: SegmentRow) -> int:
    return row.start_ms + row.duration_ms


async def hls_playlist(world: World, start_ms: int, end_ms: int) -> str:
    """The video's HLS playlist for ``[start_ms, end_ms)``, as a player with its content token gets it."""
    token = (await world.arm.ok("POST", f"videos/{VIDEO}/listContentToken"))["token"]
    video = await world.arm.ok("GET", f"videos/{VIDEO}")
    base = video["properties"]["contentUrls"]["archiveBaseUrl"]
    url = f"{base}/manifest(format=m3u8-cmaf,starttime={iso(start_ms)},endtime={iso(end_ms)}).m3u8"
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(url, params={"token": token})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    return response.text


def uri_line(lines: list[str], row: SegmentRow) -> int:
    prefix = f"segments/{row.start_ms}-{row.sequence}.m4s"
    (index,) = [index for index, line in enumerate(lines) if line.startswith(prefix)]
    return index


@dataclass
class Drop:
    """What a recording through one camera drop left, and when the camera was away (UTC ms)."""

    rows: list[SegmentRow]
    """The video's segment index, in sequence order."""
    playlist: str
    sessions: int
    """Camera sessions the RTSP source established."""
    outage_from: int
    media_ended: int
    """The camera process was gone: no frame is later than this."""
    resumed: int
    """The camera served again: no frame of the second run is earlier than this."""

    @property
    def before(self) -> list[SegmentRow]:
        return [row for row in self.rows if row.start_ms < self.outage_from]

    @property
    def after(self) -> list[SegmentRow]:
        return [row for row in self.rows if row.start_ms >= self.outage_from]


async def indexed_since(world: World, since_ms: int, at_least: int) -> bool:
    return sum(1 for row in await world.indexed(VIDEO) if row.start_ms >= since_ms) >= at_least


async def record_through_a_drop(tmp_path: Path, camera: CameraProcess) -> Drop:
    """Record until three segments are indexed, drop the camera for ``OUTAGE_S``, record three more."""
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    async with (
        asyncio.timeout(90),
        running_world(tmp_path, clock) as world,
        recording_edge(world, tmp_path) as (edge, runner),
    ):
        body = continuous(localMediaCachePath="cache")
        graph = await runner.start(spec(body, camera.url, pipeline="yard"))
        try:
            await eventually("three indexed segments", lambda: indexed_since(world, 0, 3))
            outage_from = now_ms()
            await asyncio.to_thread(camera.stop)
            media_ended = now_ms()
            await asyncio.sleep(OUTAGE_S)
            await asyncio.to_thread(start_camera, camera)
            resumed = now_ms()
            await eventually("three segments after the drop", lambda: indexed_since(world, outage_from, 3))
        finally:
            assert await graph.stop(15.0), "the cache drained into the cloud"
        rows = await world.indexed(VIDEO)
        playlist = await hls_playlist(world, rows[0].start_ms - 1_000, end_ms(rows[-1]) + 1_000)
        sessions = len(edge.events.of_type("MediaSessionEstablished"))
    return Drop(rows, playlist, sessions, outage_from, media_ended, resumed)


async def test_a_camera_that_drops_leaves_a_recorded_gap_and_a_discontinuity(tmp_path: Path) -> None:
    camera = CameraProcess(tmp_path)
    await asyncio.to_thread(start_camera, camera)
    try:
        drop = await record_through_a_drop(tmp_path, camera)
    finally:
        await asyncio.to_thread(camera.stop)
    rows, before, after = drop.rows, drop.before, drop.after
    assert drop.sessions >= 2, "the edge reconnected to the camera by itself"
    assert len(before) >= 3 and len(after) >= 3
    assert [row.sequence for row in rows] == sorted({row.sequence for row in rows}), "sequences rise"
    # No indexed segment covers the time the camera was away (one segment of tolerance)...
    for row in rows:
        ends_before = end_ms(row) <= drop.media_ended + SEGMENT_MS
        starts_after = row.start_ms >= drop.resumed - SEGMENT_MS
        assert ends_before or starts_after, (iso(row.start_ms), iso(end_ms(row)), iso(drop.media_ended))
    # ...and the indexed timeline has a hole as long as the drop: no fabricated continuity.
    last, first = before[-1], after[0]
    hole_ms = first.start_ms - end_ms(last)
    assert hole_ms >= drop.resumed - drop.media_ended - SEGMENT_MS, f"the archive shows a {hole_ms} ms hole"
    # The gap is metadata: gapBefore, a new discontinuity number and a new run in the index.
    assert first.gap_before
    assert first.discontinuity == last.discontinuity + 1 and first.run_start_ms == first.start_ms
    assert [row.ordinal for row in rows] == list(range(rows[0].ordinal, rows[0].ordinal + len(rows)))
    # The playlist shows the two runs apart, as the index numbers them, the second at its real time.
    lines = drop.playlist.splitlines()
    markers = [index for index, line in enumerate(lines) if line == "#EXT-X-DISCONTINUITY"]
    assert len(markers) == rows[-1].discontinuity - rows[0].discontinuity, drop.playlist
    (marker,) = [index for index in markers if uri_line(lines, last) < index < uri_line(lines, first)]
    dates = [line for line in lines[marker:] if line.startswith("#EXT-X-PROGRAM-DATE-TIME:")]
    resumed_at = datetime.fromisoformat(dates[0].split(":", 1)[1].replace("Z", "+00:00"))
    assert int(resumed_at.timestamp() * 1000) == first.start_ms
    assert "#EXT-X-ENDLIST" in lines
