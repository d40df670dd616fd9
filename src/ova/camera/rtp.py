"""RTP fixed headers (RFC 3550 §5.1) and the media clock arithmetic of the simulator."""

from __future__ import annotations

import struct
from dataclasses import dataclass

RTP_VERSION = 2
HEADER = struct.Struct("!BBHII")
HEADER_SIZE = HEADER.size
VIDEO_CLOCK_RATE = 90_000


@dataclass(frozen=True)
class RtpPayload:
    """One RTP packet's payload and whether it ends its access unit (the marker bit)."""

    data: bytes
    marker: bool


def pack_header(payload_type: int, marker: bool, sequence: int, timestamp: int, ssrc: int) -> bytes:
    """A 12-byte RTP header without padding, extension or CSRCs."""
    return HEADER.pack(
        RTP_VERSION << 6,
        (0x80 if marker else 0) | (payload_type & 0x7F),
        sequence & 0xFFFF,
        timestamp & 0xFFFFFFFF,
        ssrc & 0xFFFFFFFF,
    )


@dataclass(frozen=True)
class RtpPacket:
    """A parsed RTP packet (used to check what the server sends)."""

    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        if len(data) < HEADER_SIZE or data[0] >> 6 != RTP_VERSION:
            raise ValueError("not an RTP version 2 packet")
        first, second, sequence, timestamp, ssrc = HEADER.unpack_from(data)
        start = HEADER_SIZE + 4 * (first & 0x0F)
        if first & 0x10:
            (words,) = struct.unpack_from("!H", data, start + 2)
            start += 4 + 4 * words
        end = len(data) - (data[-1] if first & 0x20 else 0)
        return cls(second & 0x7F, bool(second & 0x80), sequence, timestamp, ssrc, bytes(data[start:end]))


def frame_timestamp(index: int, fps: int, clock_rate: int = VIDEO_CLOCK_RATE) -> int:
    """The media-clock time of frame ``index`` at ``fps`` frames per second, exact for integer rates."""
    return index * clock_rate // fps
