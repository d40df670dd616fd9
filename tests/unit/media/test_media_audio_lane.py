"""Audio in CMAF segments: two-track init and fragments, read back by PyAV, and what is dropped."""

from __future__ import annotations

import io
import itertools
from dataclasses import replace
from fractions import Fraction

import av
import numpy as np
import pytest
from media_packets import anchor

from ova.media.access_units import DemuxedPacket
from ova.media.cmaf import CmafSegmenter, InitSegment, MediaSegment, Segment, SegmenterSettings
from ova.media.codec import CodecParameters, StreamKind, audio_parameters
from ova.media.isobmff import find_boxes
from ova.media.packet import IngestPacket

RATE = 48_000
VIDEO_BASE = Fraction(1, 90_000)
AUDIO_BASE = Fraction(1, RATE)


@pytest.fixture(scope="module")
def aac() -> tuple[CodecParameters, list[bytes]]:
    """Three seconds of a 1 kHz tone as AAC-LC frames (1024 samples each), and their config."""
    context = av.CodecContext.create("aac", "w")
    assert isinstance(context, av.AudioCodecContext)
    context.sample_rate, context.layout, context.format = RATE, "mono", "fltp"
    context.open()
    frames: list[bytes] = []
    for index in range(3 * RATE // 1024):
        samples = np.sin(np.arange(index * 1024, (index + 1) * 1024) * 2 * np.pi / 48).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = RATE, index * 1024
        frames += [bytes(packet) for packet in context.encode(frame)]
    return audio_parameters("aac", bytes(context.extradata or b""), RATE, 1), frames


def interleaved(
    video: list[DemuxedPacket], config: CodecParameters, audio: CodecParameters, frames: list[bytes]
) -> list[IngestPacket]:
    """Video and audio on one anchor, in time order, audio starting with the first picture."""
    clock, first = anchor(), video[0].dts
    assert first is not None
    items = [
        IngestPacket(
            StreamKind.VIDEO, u.data, u.dts or 0, u.pts or 0, VIDEO_BASE, u.is_keyframe, config, clock
        )
        for u in video
    ]
    start = first * RATE // 90_000
    items += [
        IngestPacket(
            StreamKind.AUDIO, data, start + i * 1024, start + i * 1024, AUDIO_BASE, True, audio, clock
        )
        for i, data in enumerate(frames)
    ]
    return sorted(items, key=lambda item: (item.media_time, item.kind is StreamKind.AUDIO))


def record(items: list[IngestPacket], expected: CodecParameters | None = None) -> list[Segment]:
    cutter = CmafSegmenter(SegmenterSettings(target_duration_ms=1000))
    cutter.expect_audio(expected)
    out: list[Segment] = []
    for item in items:
        out += cutter.push(item)
    return out + cutter.flush()


def test_segments_carry_an_aac_track_that_pyav_reads_back_on_the_video_clock(
    h264_units: list[DemuxedPacket], h264_config: CodecParameters, aac: tuple[CodecParameters, list[bytes]]
) -> None:
    audio, frames = aac
    out = record(interleaved(h264_units, h264_config, audio, frames[:60]), expected=audio)
    init = next(item for item in out if isinstance(item, InitSegment))
    segments = [item for item in out if isinstance(item, MediaSegment)]
    assert init.codec == "avc1.42C00D,mp4a.40.2"
    assert init.config_hash not in (h264_config.config_hash, audio.config_hash)
    assert len(find_boxes(init.data, "moov/trak")) == 2
    assert len(find_boxes(segments[0].data, "moof/traf")) == 2
    assert sum(s.audio_sample_count for s in segments) == 60
    with av.open(io.BytesIO(init.data + b"".join(s.data for s in segments))) as container:
        video_stream, audio_stream = container.streams.video[0], container.streams.audio[0]
        assert (audio_stream.codec_context.name, audio_stream.sample_rate, audio_stream.channels) == (
            "aac",
            RATE,
            1,
        )
        packets = [p for p in container.demux() if p.size]
        video = [p for p in packets if p.stream is video_stream]
        sound = [p for p in packets if p.stream is audio_stream]
        assert (len(video), len(sound)) == (60, 60)
        times = [p.dts for p in sound if p.dts is not None]
        assert [b - a for a, b in itertools.pairwise(times)] == [1024] * 59
        video_start = video[0].dts * video_stream.time_base  # type: ignore[operator]
        audio_start = sound[0].dts * audio_stream.time_base  # type: ignore[operator]
        assert abs(audio_start - video_start) < Fraction(1, 30)
        assert audio_start * 1000 == pytest.approx(segments[0].start_ms, abs=34)
        assert [len(f) for f in frames[:60]] == [p.size for p in sound]


def test_audio_outside_the_open_segment_is_dropped_and_counted(
    h264_units: list[DemuxedPacket], h264_config: CodecParameters, aac: tuple[CodecParameters, list[bytes]]
) -> None:
    audio, frames = aac
    items = interleaved(h264_units, h264_config, audio, frames[:60])
    early = replace(items[-1], kind=StreamKind.AUDIO, codec=audio, dts=0, pts=0, time_base=AUDIO_BASE)
    ahead = replace(early, dts=RATE * 60, pts=RATE * 60)  # a minute past the video
    cutter = CmafSegmenter(SegmenterSettings(target_duration_ms=1000))
    cutter.push(early)  # before any keyframe
    out: list[Segment] = []
    for item in items[:40]:
        out += cutter.push(item)
    cutter.push(ahead)
    out += cutter.flush()
    assert cutter.audio.stats.dropped_early >= 1
    assert cutter.audio.stats.dropped_late >= 1
    segments = [item for item in out if isinstance(item, MediaSegment)]
    assert all(s.start_ms * RATE // 1000 <= _first_audio_tfdt(s) for s in segments if s.audio_sample_count)


def test_a_camera_without_audio_records_one_video_track_as_before(
    h264_units: list[DemuxedPacket], h264_config: CodecParameters
) -> None:
    out = record(interleaved(h264_units, h264_config, h264_config, [])[:45])
    init = next(item for item in out if isinstance(item, InitSegment))
    assert (init.config_hash, init.codec) == (h264_config.config_hash, "avc1.42C00D")
    assert len(find_boxes(init.data, "moov/trak")) == 1
    assert b"mp4a" not in init.data
    assert all(len(find_boxes(s.data, "moof/traf")) == 1 for s in out if isinstance(s, MediaSegment))


def test_g711_configurations_are_accepted_for_transcoding() -> None:
    mulaw = audio_parameters("pcm_mulaw", b"", 8000, 1)
    assert (mulaw.kind, mulaw.codec_string) == (StreamKind.AUDIO, "ulaw")
    assert audio_parameters("pcm_alaw", b"", 8000, 1).config_hash != mulaw.config_hash


def _first_audio_tfdt(segment: MediaSegment) -> int:
    tfdts = find_boxes(segment.data, "moof/traf/tfdt")
    second = [box for box in tfdts if box.start > find_boxes(segment.data, "moof/traf")[0].end]
    return int.from_bytes(second[0].payload(segment.data)[4:12], "big")


def test_audio_on_another_clock_leaves_a_video_only_recording(
    h264_units: list[DemuxedPacket], h264_config: CodecParameters, aac: tuple[CodecParameters, list[bytes]]
) -> None:
    audio, frames = aac
    items = interleaved(h264_units, h264_config, audio, frames[:60])
    shifted = [replace(i, dts=i.dts + RATE * 280) if i.kind is StreamKind.AUDIO else i for i in items]
    cutter = CmafSegmenter(SegmenterSettings(target_duration_ms=1000))
    cutter.expect_audio(audio)  # announced, but every frame maps 280 s past the video
    out: list[Segment] = []
    for item in shifted:
        out += cutter.push(item)
    out += cutter.flush()
    segments = [item for item in out if isinstance(item, MediaSegment)]
    stored = {item.config_hash: item for item in out if isinstance(item, InitSegment)}
    assert {s.config_hash for s in segments} == {h264_config.config_hash}
    assert stored[h264_config.config_hash].codec == "avc1.42C00D"
    assert cutter.audio.stats.dropped_late == 60 and cutter.audio.stats.samples == 0


def test_audio_arriving_late_still_lands_in_its_own_segment(
    h264_units: list[DemuxedPacket], h264_config: CodecParameters, aac: tuple[CodecParameters, list[bytes]]
) -> None:
    audio, frames = aac
    items = interleaved(h264_units, h264_config, audio, frames[:96])  # 2.048 s, past the video
    late = Fraction(3, 10)  # a transcoder's delay: audio arrives 300 ms after its video
    items.sort(key=lambda item: item.media_time + (late if item.kind is StreamKind.AUDIO else 0))
    out = record(items, expected=audio)
    segments = [item for item in out if isinstance(item, MediaSegment)]
    assert [s.sample_count for s in segments] == [30, 30]
    for segment in segments:  # each segment's audio covers its own second, within an audio frame
        first, count = _first_audio_tfdt(segment), segment.audio_sample_count
        assert abs(first - segment.start_ms * RATE // 1000) < 1024
        assert abs(count * 1024 - segment.duration_ms * RATE // 1000) <= 1024
