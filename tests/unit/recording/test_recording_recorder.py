"""Recorder: what reaches the sink, in what order, and what never does (media that cannot play).

The source is a generated file read through the same ingest a camera goes through; one
session of it is recorded, then the recorder is stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from ova.media.cmaf import CmafSegmenter, InitSegment, MediaSegment, SegmenterSettings
from ova.media.ingest_settings import IngestSettings
from ova.media.packet import IngestPacket
from ova.media.preview import PreviewImage
from ova.media.rtsp_ingest import RtspIngest
from ova.recording.recorder import Recorder, RecorderSettings, RecorderStatus
from ova.recording.segment_check import first_picture

ONE_SESSION = IngestSettings(
    max_drift_ms=None, keep_final_access_unit=True, backoff_initial_s=30, local_file=True
)


class ListSink:
    """Keeps every call, in order."""

    def __init__(self) -> None:
        self.calls: list[InitSegment | MediaSegment | list[PreviewImage]] = []

    async def init_segment(self, init: InitSegment) -> None:
        self.calls.append(init)

    async def media_segment(self, segment: MediaSegment) -> None:
        self.calls.append(segment)

    async def preview(self, images: list[PreviewImage], at_ms: int) -> None:
        self.calls.append(images)

    @property
    def segments(self) -> list[MediaSegment]:
        return [call for call in self.calls if isinstance(call, MediaSegment)]

    @property
    def inits(self) -> list[InitSegment]:
        return [call for call in self.calls if isinstance(call, InitSegment)]


async def record_one_session(source: Path, sink: ListSink) -> RecorderStatus:
    recorder = Recorder(str(source), sink, RecorderSettings(segment_ms=1000, ingest=ONE_SESSION))
    stop = asyncio.Event()
    task = asyncio.create_task(recorder.run(stop))
    for _ in range(1500):  # up to 30 s for the file to end, which ends its session
        if recorder.status.reconnects:
            break
        await asyncio.sleep(0.02)
    stop.set()
    async with asyncio.timeout(30):
        return await task


async def segments_of(source: Path) -> tuple[dict[str, InitSegment], list[MediaSegment]]:
    """The file segmented without the recorder (to check ``first_picture`` directly)."""
    segmenter = CmafSegmenter(SegmenterSettings(target_duration_ms=1000))
    out: list[InitSegment | MediaSegment] = []
    async with contextlib.aclosing(RtspIngest(str(source), ONE_SESSION).session()) as items:
        async for item in items:
            if isinstance(item, IngestPacket):
                out += segmenter.push(item)
    out += segmenter.flush()
    inits = {item.config_hash: item for item in out if isinstance(item, InitSegment)}
    return inits, [item for item in out if isinstance(item, MediaSegment)]


async def test_a_good_stream_reaches_the_sink_init_first_with_previews(camera_file: Path) -> None:
    sink = ListSink()
    status = await record_one_session(camera_file, sink)

    assert isinstance(sink.calls[0], InitSegment) and len(sink.inits) == 1
    assert [segment.duration_ms for segment in sink.segments] == [1000, 1000, 1000]
    assert [segment.sequence for segment in sink.segments] == [0, 1, 2]
    assert not any(segment.gap_before for segment in sink.segments)
    for segment in sink.segments:
        picture = first_picture(sink.inits[0], segment)
        assert not isinstance(picture, str) and picture.width > 0 and not picture.is_corrupt
    previews = [call for call in sink.calls if isinstance(call, list)]
    assert len(previews) == 3 and {image.name for image in previews[0]} == {"small", "medium", "large"}
    assert (status.segments, status.rejected_segments, status.previews) == (3, 0, 3)
    assert status.bytes == sum(len(segment.data) for segment in sink.segments)
    assert status.first_segment.is_set()
    assert status.last_error == "end of stream" and not status.connected


async def test_segments_whose_keyframe_does_not_decode_never_reach_the_sink(noise_file: Path) -> None:
    sink = ListSink()
    status = await record_one_session(noise_file, sink)

    assert sink.calls == []  # not even the init segment of a configuration that never played
    assert status.segments == 0 and status.rejected_segments == 3
    assert not status.first_segment.is_set()
    assert status.last_error is not None


async def test_the_check_accepts_every_segment_of_a_good_stream_and_names_the_defect_of_bad_ones(
    camera_file: Path, noise_file: Path
) -> None:
    inits, good = await segments_of(camera_file)
    (init,) = inits.values()
    assert not any(isinstance(first_picture(init, segment), str) for segment in good)

    _, noisy = await segments_of(noise_file)
    defects = [first_picture(init, segment) for segment in noisy]
    assert len(defects) == 3 and all(isinstance(defect, str) and "keyframe" in defect for defect in defects)
    empty = MediaSegment(0, 0, 0, b"", init.config_hash, 0, False, 0, 0)
    assert isinstance(first_picture(init, empty), str)


class FlakySink(ListSink):
    """An archive that refuses the second media segment (a locked database, a full disk...)."""

    def __init__(self) -> None:
        super().__init__()
        self.offered = 0

    async def media_segment(self, segment: MediaSegment) -> None:
        self.offered += 1
        if self.offered == 2:
            raise OSError("the archive is not writable right now")
        await super().media_segment(segment)


async def test_a_segment_the_sink_refuses_is_counted_and_the_recording_goes_on(camera_file: Path) -> None:
    sink = FlakySink()
    status = await record_one_session(camera_file, sink)

    assert sink.offered == 3
    assert [segment.sequence for segment in sink.segments] == [0, 2]
    assert sink.segments[1].gap_before  # the lost segment shows as a gap, never papered over
    assert (status.segments, status.store_failures) == (2, 1)
