"""One client's RTP delivery over its RTSP connection (interleaved), with flow control.

Each client has its own SSRC, sequence numbers and timestamp offset per track (random, as RFC
3550 asks). It starts at the next video keyframe. Its backlog is the connection's write
buffer: when that exceeds ``buffer_limit`` the client drops units until a keyframe arrives
with the backlog back under a quarter of the limit, so a slow client loses whole GOPs instead
of buffering without bound or slowing anyone else. An RTCP sender report precedes the first
unit of each track and follows every ``REPORT_INTERVAL_MS``.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from ova.camera.interleaved import frame
from ova.camera.rtcp import sender_report
from ova.camera.stream import VIDEO_TRACK, MediaUnit

REPORT_INTERVAL_MS = 5000
TIMESTAMP_MASK = 0xFFFFFFFF


@dataclass
class TrackState:
    """A client's RTP state for one track."""

    channel: int
    rtcp_channel: int
    ssrc: int
    sequence: int
    offset: int
    packets: int = 0
    octets: int = 0
    last_report_ms: int | None = None

    @classmethod
    def random(cls, channels: tuple[int, int]) -> TrackState:
        rtp, rtcp = channels
        return cls(rtp, rtcp, secrets.randbits(32), secrets.randbits(16), secrets.randbits(32))


class RtpSink:
    """Sends a mount's units to one client, over ``transport``, on the channels it set up."""

    def __init__(
        self, transport: asyncio.WriteTransport, channels: dict[int, tuple[int, int]], buffer_limit: int
    ) -> None:
        self._transport = transport
        self.tracks = {track: TrackState.random(pair) for track, pair in channels.items()}
        self._limit = buffer_limit
        self._gate = VIDEO_TRACK if VIDEO_TRACK in channels else None
        self._waiting = self._gate is not None
        self.sent_units = 0
        self.dropped_units = 0
        self.stalls = 0

    def rtp_info(self, track: int, media_timestamp: int) -> tuple[int, int]:
        """``(seq, rtptime)`` of the track's next packet, for the ``RTP-Info`` header."""
        state = self.tracks[track]
        return state.sequence & 0xFFFF, (media_timestamp + state.offset) & TIMESTAMP_MASK

    def deliver(self, unit: MediaUnit) -> None:
        state = self.tracks.get(unit.track)
        if state is None or self._transport.is_closing():
            return
        if not self._admit(unit, self._transport.get_write_buffer_size()):
            self.dropped_units += 1
            return
        timestamp = (unit.timestamp + state.offset) & TIMESTAMP_MASK
        self._report_if_due(state, unit, timestamp)
        burst = unit.burst
        self._transport.write(burst.stamp(state.channel, state.sequence, timestamp, state.ssrc))
        state.sequence = (state.sequence + burst.packet_count) & 0xFFFF
        state.packets += burst.packet_count
        state.octets += burst.payload_octets
        self.sent_units += 1

    def _admit(self, unit: MediaUnit, backlog: int) -> bool:
        if unit.track != self._gate:
            return not self._waiting and backlog <= self._limit
        if self._waiting:
            if unit.keyframe and backlog <= self._limit // 4:
                self._waiting = False
                return True
            return False
        if backlog > self._limit:
            self._waiting = True
            self.stalls += 1
            return False
        return True

    def _report_if_due(self, state: TrackState, unit: MediaUnit, timestamp: int) -> None:
        if state.last_report_ms is not None and unit.stamp_ms - state.last_report_ms < REPORT_INTERVAL_MS:
            return
        state.last_report_ms = unit.stamp_ms
        report = sender_report(state.ssrc, unit.stamp_ms, timestamp, state.packets, state.octets)
        self._transport.write(frame(state.rtcp_channel, report))
