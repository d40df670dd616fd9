"""CmafSegmenter: where segments are cut, what they contain, and how time maps into them."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest
from media_packets import TICKS_PER_FRAME, WALL_MS, anchor, packets

from ova.media.cmaf import CmafSegmenter, InitSegment, MediaSegment, Segment, SegmenterSettings
from ova.media.codec import CodecParameters, StreamKind
from ova.media.isobmff import children, find_boxes, iter_boxes
from ova.media.packet import IngestPacket

SYNC_FLAGS = 0x02000000


def run(segmenter: CmafSegmenter, items: list[IngestPacket], *, flush: bool = True) -> list[Segment]:
    out: list[Segment] = []
    for item in items:
        out += segmenter.push(item)
    return out + (segmenter.flush() if flush else [])


def media(out: list[Segment]) -> list[MediaSegment]:
    return [item for item in out if isinstance(item, MediaSegment)]


def inits(out: list[Segment]) -> list[InitSegment]:
    return [item for item in out if isinstance(item, InitSegment)]


def segmenter(target_ms: int, **settings: int) -> CmafSegmenter:
    return CmafSegmenter(SegmenterSettings(target_duration_ms=target_ms, **settings))


def fragments(data: bytes) -> list[tuple[int, int, list[tuple[int, int, int, int]]]]:
    """(mfhd sequence, tfdt, [(duration, size, flags, cts)]) for every moof in ``data``."""
    result = []
    for moof in find_boxes(data, "moof"):
        mfhd = next(b for b in children(data, moof) if b.kind == "mfhd")
        traf = next(b for b in children(data, moof) if b.kind == "traf")
        tfdt = next(b for b in children(data, traf) if b.kind == "tfdt")
        trun = next(b for b in children(data, traf) if b.kind == "trun")
        sequence = int.from_bytes(data[mfhd.payload_start + 4 : mfhd.payload_start + 8], "big")
        result.append((sequence, int.from_bytes(tfdt.payload(data)[4:12], "big"), _trun_samples(data, trun)))
    return result


def _trun_samples(data: bytes, trun: object) -> list[tuple[int, int, int, int]]:
    payload = trun.payload(data)  # type: ignore[attr-defined]
    flags = int.from_bytes(payload[1:4], "big")
    count = int.from_bytes(payload[4:8], "big")
    width = 16 if flags & 0x800 else 12
    samples = []
    for index in range(count):
        entry = payload[12 + index * width : 12 + (index + 1) * width]
        cts = int.from_bytes(entry[12:16], "big", signed=True) if width == 16 else 0
        samples.append((*(int.from_bytes(entry[i : i + 4], "big") for i in (0, 4, 8)), cts))
    return samples


def test_segments_start_at_keyframes_and_last_the_target(h264_config: CodecParameters) -> None:
    out = run(segmenter(2000), packets(h264_config, 180, gop=30))
    segments = media(out)
    assert [s.duration_ms for s in segments] == [2000, 2000, 2000]
    assert [s.sample_count for s in segments] == [60, 60, 60]
    assert [s.start_ms for s in segments] == [WALL_MS, WALL_MS + 2000, WALL_MS + 4000]
    assert [s.sequence for s in segments] == [0, 1, 2]
    for segment in segments:
        frags = fragments(segment.data)
        assert len(frags) == 2, "one fragment per GOP"
        assert all(samples[0][2] == SYNC_FLAGS for _, _, samples in frags)
        assert all(s[2] != SYNC_FLAGS for _, _, samples in frags for s in samples[1:])


def test_a_segment_is_cut_at_the_first_keyframe_after_the_target(h264_config: CodecParameters) -> None:
    out = run(segmenter(2500), packets(h264_config, 180, gop=30))
    assert [s.duration_ms for s in media(out)] == [3000, 3000]


def test_target_zero_makes_each_gop_a_segment_emitted_at_the_next_keyframe(
    h264_config: CodecParameters,
) -> None:
    cutter = segmenter(0)
    first_gop = run(cutter, packets(h264_config, 30), flush=False)
    assert media(first_gop) == [], "a GOP is complete only when the next keyframe arrives"
    next_keyframe = packets(h264_config, 1, first_frame=30)
    out = run(cutter, next_keyframe, flush=False)
    assert [(s.sample_count, s.duration_ms) for s in media(out)] == [(30, 1000)]


def test_the_maximum_cuts_early_when_gops_are_regular(h264_config: CodecParameters) -> None:
    out = run(segmenter(3000, max_duration_ms=3500), packets(h264_config, 240, gop=60))
    assert [s.duration_ms for s in media(out)] == [2000, 2000, 2000, 2000]


def test_a_gop_longer_than_the_maximum_still_ends_at_a_keyframe(h264_config: CodecParameters) -> None:
    out = run(segmenter(2000, max_duration_ms=3000), packets(h264_config, 300, gop=150))
    assert [(s.sample_count, s.duration_ms) for s in media(out)] == [(150, 5000), (150, 5000)]


def test_the_byte_cap_drops_the_gop_in_progress_and_flags_a_gap(h264_config: CodecParameters) -> None:
    cutter = segmenter(3000, max_segment_bytes=45_000)
    out = run(cutter, packets(h264_config, 120, gop=30, payload=1000))
    segments = media(out)
    assert segments[0].sample_count == 30, "the complete GOP is kept"
    assert len(segments[0].data) <= 45_000
    assert segments[1].gap_before and segments[1].start_ms == WALL_MS + 2000
    assert cutter.stats.dropped_over_byte_cap > 0
    assert cutter.stats.dropped_waiting_for_keyframe > 0


def test_a_discontinuity_closes_the_segment_and_flags_the_next(h264_config: CodecParameters) -> None:
    before = packets(h264_config, 45)
    later = anchor(epoch=1, wall_ms=WALL_MS + 60_000)
    after = packets(h264_config, 60, clock=later)
    after[0] = replace(after[0], discontinuity=True)
    segments = media(run(segmenter(30_000), before + after))
    assert [(s.sample_count, s.duration_ms, s.gap_before) for s in segments] == [
        (45, 1500, False),
        (60, 2000, True),
    ]
    assert segments[1].start_ms == WALL_MS + 60_000


def test_a_timestamp_jump_is_a_gap_even_without_a_flag(h264_config: CodecParameters) -> None:
    items = packets(h264_config, 30) + packets(h264_config, 30, first_frame=600)
    segments = media(run(segmenter(30_000), items))
    assert [s.gap_before for s in segments] == [False, True]
    assert segments[1].start_ms - segments[0].start_ms == 20_000


def test_after_a_gap_frames_wait_for_a_keyframe(h264_config: CodecParameters) -> None:
    later = anchor(epoch=1, wall_ms=WALL_MS + 10_000)
    resumed = packets(h264_config, 40, clock=later, first_frame=20)[10:]  # frames 30..59, IDR at 50
    cutter = segmenter(30_000)
    segments = media(run(cutter, packets(h264_config, 30) + resumed))
    assert cutter.stats.dropped_waiting_for_keyframe == 20
    assert [(s.sample_count, s.gap_before) for s in segments] == [(30, False), (10, True)]
    assert segments[1].start_ms == WALL_MS + 10_000 + 50 * 1000 // 30


def test_a_new_configuration_gets_its_own_init_segment(
    h264_config: CodecParameters, h264_config_640: CodecParameters
) -> None:
    items = packets(h264_config, 45) + packets(h264_config_640, 30, first_frame=45)
    items += packets(h264_config, 30, first_frame=75)
    out = run(segmenter(30_000), items)
    kinds = [type(item).__name__ for item in out]
    assert kinds == ["InitSegment", "MediaSegment", "InitSegment", "MediaSegment", "MediaSegment"]
    first, second = inits(out)
    assert (first.width, first.height, second.width, second.height) == (320, 240, 640, 360)
    assert first.config_hash != second.config_hash
    segments = media(out)
    assert [s.config_hash for s in segments] == [first.config_hash, second.config_hash, first.config_hash]
    assert [s.gap_before for s in segments] == [False, False, False]
    assert segments[1].start_ms == segments[0].start_ms + segments[0].duration_ms


def test_flush_emits_the_partial_last_segment(h264_config: CodecParameters) -> None:
    cutter = segmenter(30_000)
    assert media(run(cutter, packets(h264_config, 50), flush=False)) == []
    last = media(cutter.flush())
    assert [(s.sample_count, s.duration_ms) for s in last] == [(50, 1666)]
    assert cutter.flush() == []


def test_audio_without_an_open_segment_is_dropped_and_counted(h264_config: CodecParameters) -> None:
    cutter = segmenter(1000)
    audio = replace(packets(h264_config, 1)[0], kind=StreamKind.AUDIO)
    assert cutter.push(audio) == []
    assert cutter.audio.stats.dropped_early == 1


def test_init_segment_is_ftyp_and_moov_describing_the_track(h264_config: CodecParameters) -> None:
    init = inits(run(segmenter(1000), packets(h264_config, 31)))[0]
    assert [b.kind for b in iter_boxes(init.data)] == ["ftyp", "moov"]
    assert (init.codec, init.width, init.height, init.timescale) == ("avc1.42C00D", 320, 240, 90_000)
    mdhd = find_boxes(init.data, "moov/trak/mdia/mdhd")[0].payload(init.data)
    assert int.from_bytes(mdhd[12:16], "big") == 90_000
    entry = find_boxes(init.data, "moov/trak/mdia/minf/stbl/stsd/avc1")[0]
    assert [b.kind for b in children(init.data, entry)] == ["avcC"]
    assert find_boxes(init.data, "moov/mvex/trex")


def test_tfdt_is_wall_clock_and_continuous_across_segments(h264_config: CodecParameters) -> None:
    segments = media(run(segmenter(1000), packets(h264_config, 150, gop=30)))
    previous_end = None
    sequences = []
    for segment in segments:
        frags = fragments(segment.data)
        assert [b.kind for b in iter_boxes(segment.data)] == ["moof", "mdat"] * len(frags)
        assert frags[0][1] == segment.decode_time
        assert segment.decode_time * 1000 // 90_000 == segment.start_ms, "no B-frames: decode = presentation"
        if previous_end is not None:
            assert segment.decode_time == previous_end
        previous_end = segment.decode_time + segment.decode_duration
        sequences += [sequence for sequence, _, _ in frags]
        assert sum(len(samples) for _, _, samples in frags) == segment.sample_count
    assert sequences == sorted(set(sequences))


def test_every_segment_opens_with_its_parameter_sets_in_band(h264_config: CodecParameters) -> None:
    sets = [len(nal).to_bytes(4, "big") + nal for nal in h264_config.parameter_sets]
    items = packets(h264_config, 60)
    items[30] = replace(
        items[30], data=b"".join(b"\x00\x00\x00\x01" + n for n in h264_config.parameter_sets) + items[30].data
    )
    first, second = media(run(segmenter(1000), items))
    for segment, packet in ((first, items[0]), (second, items[30])):
        mdat = find_boxes(segment.data, "mdat")[0].payload(segment.data)
        slice_nal = packet.data.rsplit(b"\x00\x00\x00\x01", 1)[1]
        assert mdat.startswith(b"".join(sets) + len(slice_nal).to_bytes(4, "big") + slice_nal)
        assert mdat.count(h264_config.parameter_sets[0]) == 1, "added once, never doubled"


def test_hevc_samples_leave_their_parameter_sets_to_the_hvc1_sample_entry(
    hevc_config: CodecParameters,
) -> None:
    in_band = b"".join(b"\x00\x00\x00\x01" + nal for nal in hevc_config.parameter_sets)
    idr = b"\x00\x00\x00\x01\x26\x01" + b"\xaa" * 50  # an IDR_W_RADL NAL header
    keyframe = replace(packets(hevc_config, 1)[0], data=in_band + idr)
    out = run(segmenter(1000), [keyframe])
    init, segment = inits(out)[0], media(out)[0]
    assert find_boxes(init.data, "moov/trak/mdia/minf/stbl/stsd/hvc1")
    assert init.codec.startswith("hvc1.1.6.L")
    mdat = find_boxes(segment.data, "mdat")[0].payload(segment.data)
    assert mdat == (len(idr) - 4).to_bytes(4, "big") + idr[4:]


def test_b_frames_keep_their_offsets_and_the_segment_starts_at_the_keyframes_presentation(
    h264_config: CodecParameters,
) -> None:
    delay = 2 * TICKS_PER_FRAME
    items = [replace(p, pts=p.dts + delay) for p in packets(h264_config, 60)]
    items[1] = replace(items[1], pts=items[1].dts - TICKS_PER_FRAME + delay)
    first, second = media(run(segmenter(1000), items))
    samples = fragments(first.data)[0][2]
    assert [sample[3] for sample in samples[:3]] == [delay, delay - TICKS_PER_FRAME, delay]
    assert first.start_ms == WALL_MS + 66, "presented two frames after its decode time"
    assert first.start_ms + first.duration_ms == second.start_ms


def test_time_bases_other_than_90khz_are_rescaled(h264_config: CodecParameters) -> None:
    items = [
        replace(p, dts=p.dts // 6, pts=p.pts // 6, time_base=Fraction(1, 15_000))
        for p in packets(h264_config, 60)
    ]
    segments = media(run(segmenter(1000), items))
    assert [s.decode_duration for s in segments] == [90_000, 90_000]


@pytest.mark.parametrize(
    "settings",
    [
        {"target_duration_ms": -1},
        {"target_duration_ms": 30_000, "max_duration_ms": 10_000},
        {"max_segment_bytes": 0},
        {"timescale": 0},
    ],
)
def test_settings_are_checked(settings: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        SegmenterSettings(**settings)
