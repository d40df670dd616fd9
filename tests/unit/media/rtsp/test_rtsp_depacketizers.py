"""RTP packets to NAL units and access units (RFC 6184, RFC 7798, RFC 3640), within bounds."""

from __future__ import annotations

import pytest

from ova.camera.rtcp import sender_report
from ova.camera.rtp import pack_header
from ova.media.errors import InvalidMedia, SourceProtocolError
from ova.media.nal import split_annexb
from ova.media.rtsp.audio import aac_hbr_payload, parse_aac_hbr
from ova.media.rtsp.h264 import H264Depacketizer, fragment_nal
from ova.media.rtsp.h265 import H265Depacketizer
from ova.media.rtsp.limits import MAX_NAL_BYTES, MAX_NAL_UNITS, MAX_UNIT_BYTES
from ova.media.rtsp.rtcp import sender_reports
from ova.media.rtsp.rtp import RtpHeader, SequenceTracker, TimestampUnwrapper, parse_rtp
from ova.media.rtsp.video import VideoTrack

IDR = b"\x65" + bytes(range(256)) * 20
SPS, PPS = b"\x67\x42\x00\x1e", b"\x68\xce"


def view(data: bytes) -> memoryview:
    return memoryview(data)


def test_fu_a_fragments_reassemble_and_stap_a_splits() -> None:
    depacketizer = H264Depacketizer()
    fragments = fragment_nal(IDR, 1400)
    assert len(fragments) > 1
    out = [nal for fragment in fragments for nal in depacketizer.push(view(fragment))]
    assert out == [IDR]
    stap = bytes((24,)) + len(SPS).to_bytes(2, "big") + SPS + len(PPS).to_bytes(2, "big") + PPS
    assert depacketizer.push(view(stap)) == [SPS, PPS]
    assert depacketizer.push(view(b"\x41\x9a")) == [b"\x41\x9a"]
    assert depacketizer.push(view(bytes((29, 0x85, 1)))) == []  # FU-B: ignored, not fatal


@pytest.mark.parametrize(
    "payload", [b"", bytes((24, 0, 9, 1)), bytes((28, 0x85))], ids=["empty", "stap", "fu"]
)
def test_malformed_h264_payloads_are_invalid_media(payload: bytes) -> None:
    with pytest.raises(InvalidMedia):
        H264Depacketizer().push(view(payload))


def test_a_fragment_without_its_start_is_skipped() -> None:
    assert H264Depacketizer().push(view(bytes((28, 0x45, 1, 2)))) == []


def test_a_nal_unit_that_never_ends_stops_at_the_bound() -> None:
    depacketizer = H264Depacketizer()
    depacketizer.push(view(bytes((28, 0x85)) + bytes(60_000)))
    with pytest.raises(SourceProtocolError, match="NAL unit over"):
        for _ in range(MAX_NAL_BYTES // 60_000 + 1):
            depacketizer.push(view(bytes((28, 0x05)) + bytes(60_000)))


def test_h265_single_aggregation_and_fragmentation() -> None:
    depacketizer = H265Depacketizer()
    vps, idr = b"\x40\x01\x0c", b"\x26\x01" + bytes(3000)
    assert depacketizer.push(view(vps)) == [vps]
    ap = b"\x60\x01" + len(vps).to_bytes(2, "big") + vps + (2).to_bytes(2, "big") + b"\x42\x01"
    assert depacketizer.push(view(ap)) == [vps, b"\x42\x01"]
    fu_header = b"\x62\x01"
    first = fu_header + bytes((0x80 | 19,)) + idr[2:1500]
    last = fu_header + bytes((0x40 | 19,)) + idr[1500:]
    assert depacketizer.push(view(first)) == []
    assert depacketizer.push(view(last)) == [idr]
    assert depacketizer.is_keyframe(idr) and not depacketizer.is_keyframe(vps)


def rtp(sequence: int, timestamp: int, payload: bytes, marker: bool = False) -> tuple[RtpHeader, memoryview]:
    return parse_rtp(pack_header(96, marker, sequence, timestamp, 1) + payload)


def test_access_units_end_at_the_marker_or_a_new_timestamp() -> None:
    track = VideoTrack(H264Depacketizer())
    assert track.push(*rtp(1, 1000, SPS)) == []
    assert track.push(*rtp(2, 1000, PPS)) == []
    [unit] = track.push(*rtp(3, 1000, IDR, marker=True))
    assert split_annexb(unit.data) == [SPS, PPS, IDR] and unit.is_keyframe and unit.dts == 1000
    assert track.push(*rtp(4, 4000, b"\x41\x01")) == []
    [lost_marker] = track.push(*rtp(5, 7000, b"\x41\x02"))
    assert lost_marker.dts == 4000 and not lost_marker.is_keyframe and not lost_marker.is_corrupt


def test_a_sequence_gap_marks_the_unit_corrupt_and_repeats_are_dropped() -> None:
    track = VideoTrack(H264Depacketizer())
    track.push(*rtp(10, 0, b"\x41\x01", marker=True))
    assert track.push(*rtp(10, 0, b"\x41\x01", marker=True)) == []
    [unit] = track.push(*rtp(13, 3000, b"\x41\x02", marker=True))
    assert unit.is_corrupt and track.lost_packets == 2


def test_an_access_unit_that_never_ends_is_refused_before_it_grows_past_the_bounds() -> None:
    track = VideoTrack(H264Depacketizer())
    with pytest.raises(SourceProtocolError, match="NAL units"):
        for sequence in range(MAX_NAL_UNITS + 1):
            track.push(*rtp(sequence, 0, b"\x41\x01"))
    track = VideoTrack(H264Depacketizer())
    fragments = fragment_nal(b"\x41" + bytes(1 << 20), 60_000)
    with pytest.raises(SourceProtocolError, match="access unit over"):
        for sequence in range(len(fragments) * (MAX_UNIT_BYTES >> 20) + len(fragments)):
            track.push(*rtp(sequence, 0, fragments[sequence % len(fragments)]))


def test_rtp_headers_with_csrcs_extension_and_padding() -> None:
    header = bytes((0xB1, 0xE0)) + (7).to_bytes(2, "big") + (99).to_bytes(4, "big") + (5).to_bytes(4, "big")
    packet = header + bytes(4) + b"\xbe\xde\x00\x01" + bytes(4) + b"data" + b"\x00\x00\x03"
    parsed, payload = parse_rtp(packet)
    assert parsed == RtpHeader(96, True, 7, 99, 5) and bytes(payload) == b"data"
    with pytest.raises(SourceProtocolError):
        parse_rtp(b"\x40" + bytes(11))
    with pytest.raises(SourceProtocolError):
        parse_rtp(header[:1] + bytes((0x60,)) + header[2:] + b"\xff")


def test_sequence_and_timestamp_wrap_around() -> None:
    tracker = SequenceTracker()
    assert [tracker.accept(s) for s in (65534, 65535, 1, 0)] == [0, 0, 1, None]
    clock = TimestampUnwrapper()
    assert [clock.extend(t) for t in (0xFFFFFF00, 0x100, 0xFFFFFF80)] == [0xFFFFFF00, 0x100000100, 0xFFFFFF80]
    assert clock.peek(0x10) == 0x100000010


def test_sender_reports_from_a_compound_packet() -> None:
    receiver_report = bytes((0x80, 201, 0, 1)) + bytes(4)
    [report] = sender_reports(receiver_report + sender_report(7, 1_700_000_000_123, 90_000, 1, 2))
    assert (report.ssrc, report.unix_ms, report.rtp_timestamp) == (7, 1_700_000_000_123, 90_000)
    with pytest.raises(SourceProtocolError):
        sender_reports(bytes((0x80, 200, 0, 40)))


def test_aac_hbr_round_trip_and_bad_headers() -> None:
    assert parse_aac_hbr(aac_hbr_payload(b"\x21" * 300)) == [b"\x21" * 300]
    two = (32).to_bytes(2, "big") + (3 << 3).to_bytes(2, "big") + (2 << 3).to_bytes(2, "big") + b"abcde"
    assert parse_aac_hbr(two) == [b"abc", b"de"]
    for bad in (b"\x00", b"\x00\x10\x00", (16).to_bytes(2, "big") + (9 << 3).to_bytes(2, "big") + b"ab"):
        with pytest.raises(SourceProtocolError):
            parse_aac_hbr(bad)
