"""Recorded CMAF segments as players see them: ffprobe/ffmpeg read, time and decode every frame."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from media_recording import decode_errors, decoded_frames, frame_times, joined, record, write_hls

from ova.media.cmaf import SegmenterSettings
from ova.media.emsg import build_emsg, inference_message, insert_before_moof
from ova.media.synthetic import StreamSpec, write_stream

STREAMS = {
    "h264": StreamSpec(frames=120, gop=30),
    "h264-bframes": StreamSpec(frames=120, gop=30, bframes=2, preset="veryfast"),
    "hevc": StreamSpec(codec="hevc", frames=120, gop=30),
}
FRAME_S = 1 / 30


@pytest.fixture(scope="module", params=sorted(STREAMS))
def source(request: pytest.FixtureRequest, streams_dir: Path) -> Path:
    name: str = request.param
    path = streams_dir / f"{name}.ts"
    return path if path.exists() else write_stream(path, STREAMS[name])


async def test_each_segment_plays_on_its_own_with_the_frames_and_times_it_claims(
    source: Path, tmp_path: Path
) -> None:
    recording = await record(str(source), segmenter_settings=SegmenterSettings(target_duration_ms=2000))
    assert [s.sample_count for s in recording.segments] == [60, 60]
    for segment in recording.segments:
        path = joined(tmp_path, recording, segment)
        assert decode_errors(path) == ""
        times = frame_times(path)
        assert len(times) == segment.sample_count
        assert times[0] * 1000 == pytest.approx(segment.start_ms, abs=1), "tfdt is the wall clock"
        span_ms = (max(times) - min(times) + FRAME_S) * 1000
        assert span_ms == pytest.approx(segment.duration_ms, abs=FRAME_S * 1000)


async def test_an_hls_playlist_over_the_segments_decodes_every_frame(source: Path, tmp_path: Path) -> None:
    recording = await record(str(source), segmenter_settings=SegmenterSettings(target_duration_ms=0))
    assert len(recording.segments) == 4
    playlist = write_hls(tmp_path, recording)
    assert decode_errors(playlist) == ""
    assert decoded_frames(playlist) == 120


async def test_segments_with_inference_events_still_decode(source: Path, tmp_path: Path) -> None:
    recording = await record(str(source), segmenter_settings=SegmenterSettings(target_duration_ms=4000))
    segment = recording.segments[0]
    event = inference_message(
        [{"type": "MOTION", "motion": {"box": {"l": 0.1, "t": 0.1, "w": 0.2, "h": 0.2}}}],
        timescale=90_000,
        presentation_time=segment.decode_time,
        event_duration=90_000,
        id=1,
    )
    path = tmp_path / "tagged.mp4"
    init = recording.inits[segment.config_hash]
    path.write_bytes(init.data + insert_before_moof(segment.data, [build_emsg(event)]))
    assert decode_errors(path) == ""
    assert decoded_frames(path) == 120


async def test_a_resolution_change_with_restarted_timestamps_plays_across_the_discontinuity(
    streams_dir: Path, tmp_path: Path
) -> None:
    small = write_stream(streams_dir / "part-small.ts", StreamSpec(frames=60))
    large = write_stream(streams_dir / "part-large.ts", StreamSpec(width=640, height=360, frames=60))
    spliced = tmp_path / "spliced.ts"
    spliced.write_bytes(small.read_bytes() + large.read_bytes())
    anchors = itertools.count(1_790_000_000_000, 60_000)  # the camera came back a minute later
    recording = await record(
        str(spliced),
        segmenter_settings=SegmenterSettings(target_duration_ms=2000),
        now_ms=lambda: next(anchors),
    )
    assert [(i.width, i.height) for i in recording.inits.values()] == [(320, 240), (640, 360)]
    first, second = recording.segments
    assert (first.gap_before, second.gap_before, second.sample_count) == (False, True, 60)
    assert second.start_ms == 1_790_000_060_000
    stats = recording.ingest.stats
    dropped = stats.dropped_corrupt + stats.dropped_before_keyframe
    assert first.sample_count == 60 - dropped, "the splice's damaged last frames are dropped, not muxed"
    playlist = write_hls(tmp_path, recording)
    assert "#EXT-X-DISCONTINUITY" in playlist.read_text()
    assert decode_errors(playlist) == ""
    assert decoded_frames(playlist) == first.sample_count + 60
