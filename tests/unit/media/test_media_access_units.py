"""AccessUnitAssembler: the hygiene between the demuxer and the segmenter."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from ova.media.access_units import AccessUnitAssembler, DemuxedPacket, IngestStats
from ova.media.codec import CodecParameters
from ova.media.ingest_events import CodecChanged, Discontinuity, IngestEvent
from ova.media.nal import is_parameter_set, join_annexb, split_annexb
from ova.media.packet import IngestPacket
from ova.media.wallclock import WallClockMapper

WALL_MS = 1_790_000_000_000
TIME_BASE = Fraction(1, 90_000)


def assembler(stats: IngestStats, *, max_bytes: int = 8 << 20) -> AccessUnitAssembler:
    mapper = WallClockMapper(lambda: WALL_MS, max_drift_ms=None)
    return AccessUnitAssembler("h264", TIME_BASE, (), mapper, stats, max_bytes)


def feed(target: AccessUnitAssembler, units: list[DemuxedPacket]) -> list[IngestPacket | IngestEvent]:
    out: list[IngestPacket | IngestEvent] = []
    for unit in units:
        out += target.push(unit)
    return out + target.flush()


def emitted(out: list[IngestPacket | IngestEvent]) -> list[IngestPacket]:
    return [item for item in out if isinstance(item, IngestPacket)]


def test_units_are_timed_on_the_wall_clock(h264_units: list[DemuxedPacket]) -> None:
    stats = IngestStats()
    packets = emitted(feed(assembler(stats), h264_units))
    assert len(packets) == 60 == stats.packets
    assert packets[0].is_keyframe and packets[0].wall_ms == WALL_MS
    assert packets[30].wall_ms == WALL_MS + 1000
    assert all(p.data == u.data for p, u in zip(packets, h264_units, strict=True))


def test_packets_with_equal_dts_are_merged_into_one_access_unit(h264_units: list[DemuxedPacket]) -> None:
    keyframe = h264_units[0]
    half = len(keyframe.data) // 2
    split = [replace(keyframe, data=keyframe.data[:half]), replace(keyframe, data=keyframe.data[half:])]
    stats = IngestStats()
    packets = emitted(feed(assembler(stats), split + h264_units[1:]))
    assert stats.merged_equal_dts == 1
    assert len(packets) == 60
    assert packets[0].data == keyframe.data and packets[0].is_keyframe


def test_an_untimed_first_packet_is_dropped_and_recording_starts_at_the_next_keyframe(
    h264_units: list[DemuxedPacket],
) -> None:
    untimed = replace(h264_units[0], pts=None, dts=None)
    stats = IngestStats()
    packets = emitted(feed(assembler(stats), [untimed, *h264_units[1:]]))
    assert (stats.dropped_untimed, stats.dropped_before_keyframe) == (1, 29)
    assert packets[0].is_keyframe and packets[0].dts == h264_units[30].dts
    assert not packets[0].discontinuity, "nothing was recorded before, so nothing is broken"


def test_an_oversized_unit_is_dropped_with_its_gop_and_flagged(h264_units: list[DemuxedPacket]) -> None:
    units = list(h264_units)
    units[5] = replace(units[5], data=units[5].data + b"\xaa" * 20_000)
    stats = IngestStats()
    out = feed(assembler(stats, max_bytes=16_000), units)
    packets = emitted(out)
    assert (stats.dropped_oversize, stats.dropped_before_keyframe) == (1, 24)
    assert [p.discontinuity for p in packets[4:7]] == [False, True, False]
    assert packets[5].dts == units[30].dts
    assert isinstance(out[out.index(packets[5]) - 1], Discontinuity)


def test_a_corrupt_unit_is_never_passed_on(h264_units: list[DemuxedPacket]) -> None:
    units = list(h264_units)
    units[3] = replace(units[3], is_corrupt=True)
    stats = IngestStats()
    packets = emitted(feed(assembler(stats), units))
    assert stats.dropped_corrupt == 1
    assert [p.dts for p in packets][3] == units[30].dts


def test_the_first_configuration_and_each_change_are_announced(
    h264_units: list[DemuxedPacket], h264_config: CodecParameters, h264_config_640: CodecParameters
) -> None:
    slices = [nal for nal in split_annexb(h264_units[30].data) if not is_parameter_set("h264", nal)]
    later = replace(h264_units[30], data=join_annexb([*h264_config_640.parameter_sets, *slices]))
    out = feed(assembler(IngestStats()), [*h264_units[:30], later])
    changes = [item for item in out if isinstance(item, CodecChanged)]
    assert [(c.previous, c.current) for c in changes] == [(None, h264_config), (h264_config, h264_config_640)]
    packets = emitted(out)
    assert packets[-1].codec == h264_config_640 and packets[0].codec == h264_config
    assert out.index(changes[1]) == out.index(packets[-1]) - 1


def test_a_keyframe_repeating_the_same_parameter_sets_changes_nothing(
    h264_units: list[DemuxedPacket],
) -> None:
    stats = IngestStats()
    out = feed(assembler(stats), h264_units)
    assert stats.codec_changes == 1
    assert len([item for item in out if isinstance(item, CodecChanged)]) == 1


def test_a_keyframe_without_any_parameter_sets_cannot_start_a_recording(
    h264_units: list[DemuxedPacket],
) -> None:
    bare = replace(h264_units[0], data=h264_units[0].data.split(b"\x00\x00\x01\x65", 1)[1])
    stats = IngestStats()
    packets = emitted(feed(assembler(stats), [replace(bare, data=b"\x00\x00\x01\x65" + bare.data)]))
    assert packets == [] and stats.dropped_without_parameter_sets == 1


def test_timestamps_going_back_redraw_the_anchor(h264_units: list[DemuxedPacket]) -> None:
    rewound = [replace(u, dts=u.dts - 10**6, pts=u.pts - 10**6) for u in h264_units[30:]]  # type: ignore[operator]
    out = feed(assembler(IngestStats()), [*h264_units[:30], *rewound])
    packets = emitted(out)
    assert packets[30].discontinuity and packets[30].anchor.epoch == 1
    assert packets[30].wall_ms == WALL_MS
    assert any(isinstance(item, Discontinuity) and "back" in item.reason for item in out)


@pytest.mark.parametrize("frame", [10, 40])
def test_a_jump_inside_a_gop_drops_frames_until_the_next_keyframe(
    h264_units: list[DemuxedPacket], frame: int
) -> None:
    jumped = [replace(u, dts=u.dts + 10**6, pts=u.pts + 10**6) for u in h264_units[frame:]]  # type: ignore[operator]
    stats = IngestStats()
    packets = emitted(feed(assembler(stats), [*h264_units[:frame], *jumped]))
    resumed = [p for p in packets if p.discontinuity]
    assert len(resumed) == (1 if frame < 30 else 0)
    assert all(p.is_keyframe for p in resumed)
    assert stats.dropped_before_keyframe == (30 - frame if frame < 30 else 60 - frame)


def test_the_unit_held_back_at_the_end_of_a_live_session_is_dropped_and_counted(
    h264_units: list[DemuxedPacket],
) -> None:
    stats = IngestStats()
    target = assembler(stats)
    out = [item for unit in h264_units for item in target.push(unit)]
    target.discard()
    assert len(emitted(out)) == 59 and stats.dropped_at_session_end == 1
