"""``VideoTrack``: RTP packets of one video stream to Annex B access units (``DemuxedPacket``).

An access unit ends at the marker bit, or when a packet with another timestamp arrives (a lost
marker). Its NAL count and byte size are checked before each NAL unit is buffered
(``MAX_NAL_UNITS``, ``MAX_UNIT_BYTES``): a unit that never ends ends the session with a
``SourceProtocolError`` instead of growing. A sequence gap marks the unit being built corrupt
(the assembler then drops it and flags the next keyframe ``discontinuity``); so does a
malformed payload (``InvalidMedia`` from the depacketizer).
"""

from __future__ import annotations

from typing import Protocol

from ova.media.access_units import DemuxedPacket
from ova.media.errors import InvalidMedia, SourceProtocolError
from ova.media.nal import join_annexb
from ova.media.rtsp.limits import MAX_NAL_UNITS, MAX_UNIT_BYTES
from ova.media.rtsp.rtp import RtpHeader, SequenceTracker, TimestampUnwrapper


class Depacketizer(Protocol):
    codec: str

    def push(self, payload: memoryview) -> list[bytes]: ...

    def reset(self) -> None: ...

    def is_keyframe(self, nal: bytes) -> bool: ...


class VideoTrack:
    """Collects one stream's NAL units into access units, bounded."""

    def __init__(self, depacketizer: Depacketizer) -> None:
        self._depacketizer = depacketizer
        self._sequence = SequenceTracker()
        self._clock = TimestampUnwrapper()
        self._nals: list[bytes] = []
        self._size = 0
        self._timestamp: int | None = None
        self._corrupt = False

    @property
    def lost_packets(self) -> int:
        return self._sequence.lost

    @property
    def newest(self) -> int:
        """The newest RTP timestamp seen, extended (0 before the first packet)."""
        return self._clock.latest or 0

    def extended(self, timestamp: int) -> int:
        """An RTP timestamp (of a sender report) on this track's extended timeline."""
        return self._clock.peek(timestamp)

    def push(self, header: RtpHeader, payload: memoryview) -> list[DemuxedPacket]:
        lost = self._sequence.accept(header.sequence)
        if lost is None:
            return []
        units: list[DemuxedPacket] = []
        timestamp = self._clock.extend(header.timestamp)
        if self._timestamp is not None and timestamp != self._timestamp:
            units += self._finish()
        self._timestamp = timestamp
        if lost:
            self._corrupt = True
            self._depacketizer.reset()
        try:
            nals = self._depacketizer.push(payload)
        except InvalidMedia:
            self._corrupt = True
            self._depacketizer.reset()
            nals = []
        for nal in nals:
            self._add(nal)
        if header.marker:
            units += self._finish()
        return units

    def _add(self, nal: bytes) -> None:
        if len(self._nals) >= MAX_NAL_UNITS:
            raise SourceProtocolError(f"the camera sent an access unit of over {MAX_NAL_UNITS} NAL units")
        if self._size + len(nal) > MAX_UNIT_BYTES:
            raise SourceProtocolError(f"the camera sent an access unit over {MAX_UNIT_BYTES} bytes")
        self._nals.append(nal)
        self._size += len(nal)

    def _finish(self) -> list[DemuxedPacket]:
        nals, timestamp, corrupt = self._nals, self._timestamp, self._corrupt
        self._nals, self._size, self._timestamp, self._corrupt = [], 0, None, False
        if not nals or timestamp is None:
            return []
        keyframe = any(self._depacketizer.is_keyframe(nal) for nal in nals)
        return [DemuxedPacket(join_annexb(nals), timestamp, timestamp, keyframe, corrupt)]
