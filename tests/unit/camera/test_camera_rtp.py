"""RTP packetization: RFC 6184 FU-A round trips, marker bits, RTP timestamps, interleaved
framing, RTCP sender reports and RFC 3640 AAC payloads."""

from __future__ import annotations

import os

import pytest

from ova.camera.encoder import H264Encoder, VideoFormat
from ova.camera.h264 import (
    NAL_IDR,
    NAL_PPS,
    NAL_SPS,
    ParameterSets,
    join_annexb,
    nal_type,
    split_annexb,
    stream_nals,
)
from ova.camera.interleaved import PacketBurst, frame
from ova.camera.rtcp import parse_sender_report, sender_report
from ova.camera.rtp import RtpPacket, frame_timestamp, pack_header
from ova.camera.rtp_aac import aac_hbr_payload, parse_aac_hbr
from ova.camera.rtp_h264 import FU_A, Depacketizer, fragment_nal, packetize_access_unit

MTU = 1400


def nal(kind: int, size: int) -> bytes:
    return bytes((0x60 | kind,)) + os.urandom(size - 1)


def parse_burst(data: bytes | bytearray) -> list[tuple[int, RtpPacket]]:
    packets, offset = [], 0
    while offset < len(data):
        assert data[offset] == 0x24
        channel, length = data[offset + 1], int.from_bytes(data[offset + 2 : offset + 4], "big")
        packets.append((channel, RtpPacket.parse(bytes(data[offset + 4 : offset + 4 + length]))))
        offset += 4 + length
    return packets


def reassemble(payloads: list[bytes]) -> list[bytes]:
    depacketizer = Depacketizer()
    return [unit for payload in payloads for unit in depacketizer.push(payload)]


@pytest.mark.parametrize("size", [1, 100, 1388, 1389, 1390, 5000, 65_000])
def test_fu_a_round_trip(size: int) -> None:
    unit = nal(NAL_IDR, size)
    fragments = fragment_nal(unit, MTU - 12)
    assert all(len(fragment) <= MTU - 12 for fragment in fragments)
    assert reassemble(fragments) == [unit]
    if len(fragments) > 1:
        assert all(fragment[0] & 0x1F == FU_A for fragment in fragments)
        assert fragments[0][1] & 0x80 and not fragments[0][1] & 0x40
        assert fragments[-1][1] & 0x40 and not fragments[-1][1] & 0x80
        assert fragments[0][0] & 0x60 == 0x60


def test_access_unit_marker_only_on_its_last_packet() -> None:
    units = [nal(NAL_SPS, 20), nal(NAL_PPS, 5), nal(NAL_IDR, 4000), nal(NAL_IDR, 3000)]
    payloads = packetize_access_unit(units, MTU)
    assert [payload.marker for payload in payloads] == [False] * (len(payloads) - 1) + [True]
    assert reassemble([payload.data for payload in payloads]) == units
    assert all(len(payload.data) + 12 <= MTU for payload in payloads)


def test_depacketizer_rejects_malformed_payloads() -> None:
    with pytest.raises(ValueError):
        Depacketizer().push(b"")
    with pytest.raises(ValueError):
        Depacketizer().push(bytes((FU_A, 0x05, 1, 2)))  # continuation without a start
    with pytest.raises(ValueError):
        Depacketizer().push(bytes((24, 0, 9, 1)))  # STAP-A unit past the end
    assert Depacketizer().push(bytes((24, 0, 2, 0x67, 1, 0, 1, 0x68))) == [b"\x67\x01", b"\x68"]


def test_annexb_split_and_join() -> None:
    units = [nal(NAL_SPS, 10), nal(NAL_PPS, 4), nal(NAL_IDR, 300)]
    assert split_annexb(join_annexb(units)) == units
    assert split_annexb(b"\x00\x00\x01\x67\x42\x00\x00\x00\x01\x68\xce") == [b"\x67\x42", b"\x68\xce"]


def test_streamed_access_units_carry_parameter_sets_before_each_idr() -> None:
    sets = ParameterSets(nal(NAL_SPS, 10), nal(NAL_PPS, 4))
    idr = [nal(6, 30), nal(NAL_IDR, 50), nal(NAL_IDR, 50)]
    streamed = stream_nals(idr, sets)
    assert [nal_type(unit) for unit in streamed] == [NAL_SPS, NAL_PPS, NAL_IDR, NAL_IDR]
    assert [nal_type(unit) for unit in stream_nals([nal(1, 40)], sets)] == [1]


def test_encoder_makes_constrained_baseline_with_a_fixed_gop() -> None:
    encoder = H264Encoder(VideoFormat(320, 240, 30, 300, gop=10))
    frames = [encoder.encode(index, 1_000 + index * 33) for index in range(25)]
    assert all(frame is not None for frame in frames)
    keyframes = [frame.index for frame in frames if frame is not None and frame.keyframe]
    assert keyframes == [0, 10, 20]
    assert encoder.parameter_sets is not None
    assert encoder.parameter_sets.profile_level_id.startswith("42C0")
    for encoded in frames:
        assert encoded is not None
        kinds = [nal_type(unit) for unit in encoded.nals]
        assert (kinds[:2] == [NAL_SPS, NAL_PPS]) == encoded.keyframe


def test_rtp_timestamps_follow_the_90khz_clock() -> None:
    assert frame_timestamp(0, 30) == 0
    assert frame_timestamp(1, 30) == 3000
    assert frame_timestamp(30, 30) == 90_000
    assert frame_timestamp(1, 25) == 3600
    assert frame_timestamp(7, 7, 48_000) == 48_000


def test_burst_stamps_channel_sequence_timestamp_and_ssrc() -> None:
    payloads = packetize_access_unit([nal(NAL_IDR, 3000)], MTU)
    burst = PacketBurst.build(payloads, 96)
    packets = parse_burst(burst.stamp(4, 0xFFFE, 2**32 + 5, 0xDEADBEEF))
    assert [channel for channel, _ in packets] == [4, 4, 4]
    assert [packet.sequence for _, packet in packets] == [0xFFFE, 0xFFFF, 0]
    assert {packet.timestamp for _, packet in packets} == {5}
    assert {packet.ssrc for _, packet in packets} == {0xDEADBEEF}
    assert [packet.marker for _, packet in packets] == [False, False, True]
    assert [packet.payload for _, packet in packets] == [payload.data for payload in payloads]
    assert burst.payload_octets == sum(len(payload.data) for payload in payloads)


def test_rtp_header_round_trip() -> None:
    packet = RtpPacket.parse(pack_header(97, True, 70_000, 2**32 + 1, 7) + b"xy")
    assert (packet.payload_type, packet.marker, packet.sequence, packet.timestamp) == (97, True, 4464, 1)
    assert packet.payload == b"xy"
    with pytest.raises(ValueError):
        RtpPacket.parse(b"\x00" * 12)


def test_interleaved_frame_refuses_oversized_packets() -> None:
    assert frame(1, b"abc") == b"$\x01\x00\x03abc"
    with pytest.raises(ValueError):
        frame(0, bytes(70_000))


def test_sender_report_round_trip() -> None:
    report = sender_report(0x1234, 1_795_675_041_008, 90_000, 10, 5000)
    assert len(report) == 28
    assert parse_sender_report(report) == (0x1234, 1_795_675_041_008, 90_000, 10, 5000)


def test_aac_hbr_round_trip() -> None:
    frame_data = os.urandom(300)
    payload = aac_hbr_payload(frame_data)
    assert payload[:4] == bytes((0, 16, 300 >> 5, (300 << 3) & 0xFF))
    assert parse_aac_hbr(payload) == [frame_data]
    with pytest.raises(ValueError):
        aac_hbr_payload(bytes(9000))
    with pytest.raises(ValueError):
        parse_aac_hbr(payload[:-1])
