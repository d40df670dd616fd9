"""RTCP sender reports (RFC 3550 §6.4.1): they tie each stream's RTP clock to wall-clock time.

Clients such as FFmpeg use them to give every frame an absolute time, as with a real camera.
"""

from __future__ import annotations

import struct

from ova.media.rtsp.rtcp import NTP_UNIX_OFFSET, ntp_timestamp
from ova.media.rtsp.rtcp import unix_ms as ntp_unix_ms

SENDER_REPORT = 200
__all__ = ["NTP_UNIX_OFFSET", "SENDER_REPORT", "ntp_timestamp", "parse_sender_report", "sender_report"]
_REPORT = struct.Struct("!BBHIIIIII")


def sender_report(ssrc: int, unix_ms: int, rtp_timestamp: int, packets: int, octets: int) -> bytes:
    """A sender report without reception report blocks (28 bytes)."""
    ntp_seconds, ntp_fraction = ntp_timestamp(unix_ms)
    return _REPORT.pack(
        0x80,
        SENDER_REPORT,
        6,
        ssrc,
        ntp_seconds,
        ntp_fraction,
        rtp_timestamp & 0xFFFFFFFF,
        packets & 0xFFFFFFFF,
        octets & 0xFFFFFFFF,
    )


def parse_sender_report(data: bytes) -> tuple[int, int, int, int, int]:
    """``(ssrc, unix_ms, rtp_timestamp, packets, octets)`` of a sender report (for tests and tools)."""
    first, kind, _, ssrc, ntp_seconds, ntp_fraction, rtp_ts, packets, octets = _REPORT.unpack_from(data)
    if first >> 6 != 2 or kind != SENDER_REPORT:
        raise ValueError("not an RTCP sender report")
    return ssrc, ntp_unix_ms(ntp_seconds, ntp_fraction), rtp_ts, packets, octets
