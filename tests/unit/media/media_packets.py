"""Hand-made ``IngestPacket`` runs for segmenter tests: exact timestamps, placeholder slices.

The segmenter never decodes, so slice payloads can be placeholders; only the codec
configuration (a real SPS/PPS from an encoded stream) must be valid.
"""

from __future__ import annotations

from fractions import Fraction

from ova.media.codec import CodecParameters, StreamKind
from ova.media.packet import IngestPacket
from ova.media.wallclock import ClockAnchor

WALL_MS = 1_790_000_000_000
TICKS_PER_FRAME = 3000  # 30 fps at 90 kHz
TIME_BASE = Fraction(1, 90_000)
IDR = b"\x00\x00\x00\x01\x65"
NON_IDR = b"\x00\x00\x00\x01\x41"


def anchor(epoch: int = 0, wall_ms: int = WALL_MS) -> ClockAnchor:
    return ClockAnchor(wall_ms=wall_ms, media_time=Fraction(0), epoch=epoch)


def packets(
    config: CodecParameters,
    count: int,
    *,
    gop: int = 30,
    first_frame: int = 0,
    clock: ClockAnchor | None = None,
    payload: int = 100,
) -> list[IngestPacket]:
    """``count`` frames at 30 fps from frame ``first_frame``, a keyframe every ``gop`` frames."""
    clock = clock or anchor()
    result = []
    for frame in range(first_frame, first_frame + count):
        key = (frame - first_frame) % gop == 0
        data = (IDR if key else NON_IDR) + f"{frame:08d}".encode() + b"\xaa" * payload
        dts = frame * TICKS_PER_FRAME
        result.append(IngestPacket(StreamKind.VIDEO, data, dts, dts, TIME_BASE, key, config, clock))
    return result


def wall_ms_of_frame(frame: int, clock_wall_ms: int = WALL_MS) -> int:
    return clock_wall_ms + frame * 1000 // 30
