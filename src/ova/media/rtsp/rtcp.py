"""RTCP sender reports (RFC 3550 §6.4.1): the camera's wall clock for an RTP timestamp.

``sender_reports`` walks a compound RTCP packet and returns the sender reports in it; other
packet types (receiver reports, SDES, BYE) are skipped. Malformed lengths raise
``SourceProtocolError``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ova.media.errors import SourceProtocolError

SENDER_REPORT = 200
NTP_UNIX_OFFSET = 2_208_988_800
_COMMON = struct.Struct("!BBH")
_REPORT = struct.Struct("!IIII")
_MAX_PACKETS = 32


@dataclass(frozen=True)
class SenderReport:
    ssrc: int
    unix_ms: int
    rtp_timestamp: int


def ntp_timestamp(unix_ms: int) -> tuple[int, int]:
    """The 64-bit NTP timestamp (seconds since 1900, 32-bit fraction) of a UTC millisecond time."""
    seconds, millis = divmod(unix_ms, 1000)
    return (seconds + NTP_UNIX_OFFSET) & 0xFFFFFFFF, (millis << 32) // 1000


def unix_ms(ntp_seconds: int, ntp_fraction: int) -> int:
    return (ntp_seconds - NTP_UNIX_OFFSET) * 1000 + ((ntp_fraction * 1000 + (1 << 31)) >> 32)


def sender_reports(data: bytes | memoryview) -> list[SenderReport]:
    view, reports, offset = memoryview(data), [], 0
    for _ in range(_MAX_PACKETS):
        if offset + 4 > len(view):
            break
        first, kind, words = _COMMON.unpack_from(view, offset)
        size = 4 * (words + 1)
        if first >> 6 != 2 or offset + size > len(view):
            raise SourceProtocolError("the camera sent a malformed RTCP packet")
        if kind == SENDER_REPORT and size >= 4 + _REPORT.size + 8:
            ssrc, seconds, fraction, rtp_ts = _REPORT.unpack_from(view, offset + 4)
            reports.append(SenderReport(ssrc, unix_ms(seconds, fraction), rtp_ts))
        offset += size
    return reports
