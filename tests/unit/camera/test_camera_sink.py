"""One client's delivery: it starts at a keyframe, numbers its own packets, reports to RTCP
and, when its connection backs up, drops to the next keyframe instead of buffering."""

from __future__ import annotations

import asyncio

from ova.camera.interleaved import PacketBurst
from ova.camera.rtcp import parse_sender_report
from ova.camera.rtp import RtpPacket, RtpPayload
from ova.camera.sink import RtpSink
from ova.camera.stream import AUDIO_TRACK, VIDEO_TRACK, MediaUnit

LIMIT = 100_000


class FakeTransport(asyncio.WriteTransport):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[tuple[int, bytes]] = []
        self.backlog = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        data, offset = bytes(data), 0
        while offset < len(data):
            length = int.from_bytes(data[offset + 2 : offset + 4], "big")
            self.frames.append((data[offset + 1], data[offset + 4 : offset + 4 + length]))
            offset += 4 + length

    def get_write_buffer_size(self) -> int:
        return self.backlog

    def is_closing(self) -> bool:
        return False

    def rtp(self, channel: int) -> list[RtpPacket]:
        return [RtpPacket.parse(data) for ch, data in self.frames if ch == channel]


def unit(index: int, keyframe: bool = False, track: int = VIDEO_TRACK, packets: int = 2) -> MediaUnit:
    payloads = [RtpPayload(bytes((0x65 if keyframe else 0x41, i)), i == packets - 1) for i in range(packets)]
    burst = PacketBurst.build(payloads, 96 if track == VIDEO_TRACK else 97)
    return MediaUnit(track, keyframe, burst, index * 3000, 1_000_000 + index * 33)


def sink_with(transport: FakeTransport, audio: bool = False) -> RtpSink:
    channels = {VIDEO_TRACK: (0, 1)} | ({AUDIO_TRACK: (2, 3)} if audio else {})
    return RtpSink(transport, channels, LIMIT)


def test_client_starts_at_the_next_keyframe_with_the_announced_seq_and_rtptime() -> None:
    transport = FakeTransport()
    sink = sink_with(transport, audio=True)
    seq, rtptime = sink.rtp_info(VIDEO_TRACK, 3 * 3000)
    for index in (1, 2):
        sink.deliver(unit(index))
        sink.deliver(unit(index, track=AUDIO_TRACK, packets=1))
    sink.deliver(unit(3, keyframe=True))
    sink.deliver(unit(4))
    sink.deliver(unit(4, track=AUDIO_TRACK, packets=1))
    video = transport.rtp(0)
    assert [packet.sequence for packet in video] == [(seq + i) & 0xFFFF for i in range(4)]
    assert video[0].timestamp == rtptime
    assert video[2].timestamp - video[0].timestamp == 3000
    assert [packet.marker for packet in video] == [False, True, False, True]
    assert len(transport.rtp(2)) == 1
    assert sink.dropped_units == 4


def test_sender_report_precedes_the_first_packet_of_each_track() -> None:
    transport = FakeTransport()
    sink = sink_with(transport)
    sink.deliver(unit(0, keyframe=True))
    channel, report = transport.frames[0]
    assert channel == 1
    ssrc, unix_ms, rtp_timestamp, packets, _ = parse_sender_report(report)
    first = transport.rtp(0)[0]
    assert (ssrc, unix_ms, rtp_timestamp, packets) == (first.ssrc, 1_000_000, first.timestamp, 0)
    sink.deliver(unit(1))
    assert [ch for ch, _ in transport.frames].count(1) == 1


def test_a_backed_up_client_drops_to_the_next_keyframe() -> None:
    transport = FakeTransport()
    sink = sink_with(transport)
    sink.deliver(unit(0, keyframe=True))
    transport.backlog = LIMIT + 1
    sink.deliver(unit(1))
    transport.backlog = LIMIT // 2
    sink.deliver(unit(2))
    sink.deliver(unit(3, keyframe=True))  # still over a quarter of the limit
    transport.backlog = 0
    sink.deliver(unit(4))
    sink.deliver(unit(5, keyframe=True))
    sent = {packet.timestamp for packet in transport.rtp(0)}
    base = min(sent)
    assert sorted(timestamp - base for timestamp in sent) == [0, 5 * 3000]
    assert (sink.stalls, sink.dropped_units, sink.sent_units) == (1, 4, 2)
    sequences = [packet.sequence for packet in transport.rtp(0)]
    assert sequences == [(sequences[0] + i) & 0xFFFF for i in range(4)]
