"""``IngestPacket``: one access unit (video) or frame (audio), timed and anchored to the wall clock."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ova.media.codec import CodecParameters, StreamKind
from ova.media.wallclock import ClockAnchor


@dataclass(frozen=True, slots=True)
class IngestPacket:
    """A sample as the recorder receives it: bytes, timestamps, and its place on the wall clock.

    Video data is always an Annex B byte stream (start codes), whatever the source's framing.
    ``dts`` and ``pts`` are in ``time_base`` units (1/90000 for RTSP video). The wall-clock
    time of the sample is ``anchor.wall_time(media_time)``; ``discontinuity`` is set on the
    first sample after samples were lost or the anchor was redrawn, so a timeline writer must
    not join it to the previous one.
    """

    kind: StreamKind
    data: bytes
    dts: int
    pts: int
    time_base: Fraction
    is_keyframe: bool
    codec: CodecParameters
    anchor: ClockAnchor
    discontinuity: bool = False

    @property
    def media_time(self) -> Fraction:
        """Decode time in seconds on the source's media clock."""
        return self.dts * self.time_base

    @property
    def wall_ms(self) -> int:
        """Decode time as UTC epoch milliseconds."""
        return self.anchor.wall_time_ms(self.media_time)
