"""The edge's pipeline graph against ``ova camera``: continuous and event-based recording.

Simulator → RtspSource → VideoSink (segments with rising sequence numbers that ffprobe reads, and with the
real local media cache, still rising after a restart);
a hub message → SignalGate → VideoSink and FileSink (a clip with pre-roll, an MP4 file of the
expected length). The video sinks write into an in-test ``SegmentSink`` (``support.edge_graph``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from graph_camera import camera, ffprobe, first_frame_time

from ova.edge.cache_entry import EntryKind
from ova.edge.graph.runner import EdgeGraphRunner
from ova.edge.ports import EventSink
from ova.edge.spool import LocalMediaCache, SpoolSettings
from support.edge_graph import (
    CollectedVideo,
    GraphWorld,
    continuous,
    event_based,
    file_sink,
    spec,
    video_sink,
)

GOP_MS = 1_000


@pytest.fixture(scope="module")
def camera_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with camera(tmp_path_factory.mktemp("camera") / "camera.log") as url:
        yield url


async def until(what: str, ready: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:g} s")
        await asyncio.sleep(0.1)


def playable(video: CollectedVideo, index: int, path: Path) -> Path:
    segment = video.segments[index]
    init = next(init for init in video.inits if init.config_hash == segment.config_hash)
    path.write_bytes(init.data + segment.data)
    return path


async def test_continuous_recording_arrives_in_rising_sequence(camera_url: str, tmp_path: Path) -> None:
    world = GraphWorld()
    world.spool.last_sequence = 41
    runner = EdgeGraphRunner(world.context(segment_ms=2_000))
    graph = await runner.start(spec(continuous(), camera_url, pipeline="lobby"))
    try:
        await until("three segments", lambda: len(world.spool.videos["lobby-video"].segments) >= 3)
    finally:
        assert await graph.stop(5.0)
    video = world.spool.videos["lobby-video"]
    sequences = [segment.sequence for segment in video.segments]
    assert sequences[:3] == [42, 43, 44] and sequences == sorted(sequences)
    assert world.spool.caches == [("/var/lib/videoanalyzer/tmp/", 2048)]
    assert video.closed and video.previews, "previews are on unless the topology turns them off"
    probed = ffprobe(playable(video, 1, tmp_path / "segment.mp4"))
    stream = probed["streams"][0]
    assert stream["codec_name"] == "h264" and (stream["width"], stream["height"]) == (320, 240)
    assert 15 <= int(stream["nb_read_frames"]) <= 35  # about 2 s at 10 fps
    established = world.events.of_type("MediaSessionEstablished")
    assert established and "H264/90000" in established[0].body["sdp"]
    assert established[0].subject == "/edgeModules/edge1/livePipelines/lobby/sources/rtspSource"
    started, stopped = world.events.of_type("RecordingStarted"), world.events.of_type("RecordingStopped")
    assert [event.body for event in started] == [{"outputType": "videoName", "outputLocation": "lobby-video"}]
    assert [event.body for event in stopped] == [{"outputType": "videoName", "outputLocation": "lobby-video"}]
    assert started[0].subject == "/edgeModules/edge1/livePipelines/lobby/sinks/videoSink"


async def test_a_hub_message_records_a_clip_with_pre_roll(camera_url: str, tmp_path: Path) -> None:
    world = GraphWorld()
    clips = tmp_path / "clips"
    body = event_based(file_sink(str(clips)), offset="-PT3S", minimum="PT10S", maximum="PT20S")
    body["properties"]["sinks"].append(video_sink([{"nodeName": "gate"}]))
    graph = await EdgeGraphRunner(world.context(segment_ms=4_000)).start(
        spec(body, camera_url, pipeline="door")
    )
    try:
        await until(
            "the camera's first packets", lambda: bool(world.events.of_type("MediaSessionEstablished"))
        )
        await asyncio.sleep(5)  # the pre-roll ring fills
        event_ms = int(time.time() * 1000)
        await world.inputs.deliver("recordingTrigger", json.dumps({"motion": True}).encode())
        await until("the clip", lambda: len(world.events.of_type("RecordingStopped")) >= 2, timeout_s=40)
    finally:
        assert await graph.stop(5.0)
    video = world.spool.videos["door-video"]
    assert video.segments, "the gate opened"
    first_ms = video.segments[0].start_ms
    assert event_ms - 3_000 - GOP_MS - 500 <= first_ms <= event_ms - 3_000 + 500, first_ms - event_ms
    last = video.segments[-1]
    assert 11_000 <= last.start_ms + last.duration_ms - first_ms <= 15_000
    files = sorted(clips.glob("*.mp4"))
    assert len(files) == 1 and files[0].name.startswith("clip-door-")
    probed = ffprobe(files[0])
    assert probed["streams"][0]["codec_name"] == "h264"
    assert 11.0 <= float(probed["format"]["duration"]) <= 15.0
    assert first_frame_time(files[0]) < 0.2, "a file's clock starts at its first frame"
    kinds = {event.body["outputType"] for event in world.events.of_type("RecordingStarted")}
    assert kinds == {"videoName", "filePath"}


class FolderCaches:
    """``GraphContext.spools``: real local media caches, all in one folder; the last one made is ``made``."""

    def __init__(self, folder: Path, events: EventSink) -> None:
        self.folder, self.events = folder, events
        self.made: LocalMediaCache | None = None

    def __call__(self, path: str, maximum_mib: int) -> LocalMediaCache:
        assert (path, maximum_mib) == ("/var/lib/videoanalyzer/tmp/", 2048)
        self.made = LocalMediaCache(SpoolSettings(path=self.folder, max_size_mib=maximum_mib), self.events)
        return self.made

    def segments(self, video_name: str) -> list[int]:
        video = self.made.video(video_name) if self.made is not None else None
        pending = video.pending() if video is not None else []
        return [entry.sequence for entry in pending if entry.kind is EntryKind.SEGMENT]


async def record_more(world: GraphWorld, caches: FolderCaches, camera_url: str, more: int) -> list[int]:
    """Run the pipeline until ``more`` segments were cached; the sequences cached, oldest first."""
    graph = await EdgeGraphRunner(world.context(segment_ms=1_000, spools=caches)).start(
        spec(continuous(), camera_url, pipeline="yard")
    )
    before = len(caches.segments("yard-video"))  # what a previous run left (loaded when the video opened)
    try:
        await until(
            f"{more} more cached segments", lambda: len(caches.segments("yard-video")) >= before + more
        )
    finally:
        assert not await graph.stop(0.2), "nothing uploads here: the cache cannot drain"
    return caches.segments("yard-video")


async def test_the_real_cache_keeps_sequences_rising_across_a_restart(
    camera_url: str, tmp_path: Path
) -> None:
    world = GraphWorld()
    first = await record_more(world, FolderCaches(tmp_path / "cache", world.events), camera_url, 2)
    # A restarted module: a new cache on the same folder, which finds what the first run left.
    second = await record_more(world, FolderCaches(tmp_path / "cache", world.events), camera_url, 2)
    assert second[: len(first)] == first, "the first run's segments are still cached"
    resumed = second[len(first) :]
    assert resumed and resumed[0] == max(first) + 1 and resumed == sorted(resumed)
