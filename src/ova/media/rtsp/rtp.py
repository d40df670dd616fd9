"""RTP fixed headers (RFC 3550 §5.1), parsed on the receive side, and sequence tracking.

``parse_rtp`` returns a view of the payload (no copy). ``SequenceTracker`` counts lost
packets from the 16-bit sequence number; a packet that is late or repeated is reported so the
caller drops it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ova.media.errors import SourceProtocolError

RTP_VERSION = 2
HEADER = struct.Struct("!BBHII")
HEADER_SIZE = HEADER.size


@dataclass(frozen=True, slots=True)
class RtpHeader:
    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int


def parse_rtp(data: bytes | memoryview) -> tuple[RtpHeader, memoryview]:
    """The header and a view of the payload (padding, CSRCs and extension removed)."""
    view = memoryview(data)
    if len(view) < HEADER_SIZE or view[0] >> 6 != RTP_VERSION:
        raise SourceProtocolError("the camera sent a packet that is not RTP version 2")
    first, second, sequence, timestamp, ssrc = HEADER.unpack_from(view)
    start = HEADER_SIZE + 4 * (first & 0x0F)
    if first & 0x10:
        if start + 4 > len(view):
            raise SourceProtocolError("the camera sent an RTP header extension past the packet")
        (words,) = struct.unpack_from("!H", view, start + 2)
        start += 4 + 4 * words
    end = len(view) - (view[-1] if first & 0x20 else 0)
    if start > end:
        raise SourceProtocolError("the camera sent an RTP packet shorter than its header")
    header = RtpHeader(second & 0x7F, bool(second & 0x80), sequence, timestamp, ssrc)
    return header, view[start:end]


class SequenceTracker:
    """Counts the packets missing between consecutive sequence numbers of one stream."""

    def __init__(self) -> None:
        self._last: int | None = None
        self.lost = 0

    def accept(self, sequence: int) -> int | None:
        """How many packets went missing before this one; ``None`` for a late or repeated packet."""
        if self._last is None:
            self._last = sequence
            return 0
        step = (sequence - self._last) & 0xFFFF
        if step == 0 or step > 0x8000:
            return None
        self._last = sequence
        self.lost += step - 1
        return step - 1


class TimestampUnwrapper:
    """Extends 32-bit RTP timestamps to a monotonic-ish integer timeline (wraps handled)."""

    def __init__(self) -> None:
        self._last: int | None = None
        self._value = 0

    def extend(self, timestamp: int) -> int:
        if self._last is None:
            self._last, self._value = timestamp, timestamp
            return timestamp
        delta = (timestamp - self._last) & 0xFFFFFFFF
        if delta >= 0x80000000:
            delta -= 0x100000000
        self._last = timestamp
        self._value += delta
        return self._value

    @property
    def latest(self) -> int | None:
        """The newest extended timestamp (``None`` before the first)."""
        return None if self._last is None else self._value

    def peek(self, timestamp: int) -> int:
        """Where ``timestamp`` falls on the extended timeline, without moving it (sender reports)."""
        if self._last is None:
            return timestamp
        delta = (timestamp - self._last) & 0xFFFFFFFF
        return self._value + (delta - 0x100000000 if delta >= 0x80000000 else delta)
