"""RTP payload format for H.265 (RFC 7798): single NAL unit (§4.4.1), AP (§4.4.2), FU (§4.4.3).

NAL unit headers are two bytes; DONL fields (``sprop-max-don-diff`` > 0) are not supported and
the SDP check refuses them.
"""

from __future__ import annotations

from ova.media.errors import InvalidMedia
from ova.media.rtsp.fragments import FragmentBuffer
from ova.media.rtsp.h264 import aggregated_units

AP = 48
FU = 49
FU_START = 0x80
FU_END = 0x40


class H265Depacketizer:
    codec = "hevc"

    def __init__(self) -> None:
        self._fragment = FragmentBuffer()

    def reset(self) -> None:
        self._fragment.reset()

    def is_keyframe(self, nal: bytes) -> bool:
        return 16 <= (nal[0] >> 1) & 0x3F <= 21

    def push(self, payload: memoryview) -> list[bytes]:
        if len(payload) < 3:
            raise InvalidMedia("the camera sent a short H.265 payload")
        kind = (payload[0] >> 1) & 0x3F
        if kind < AP:
            return [bytes(payload)]
        if kind == AP:
            return aggregated_units(payload, 2)
        if kind == FU:
            return self._fu(payload)
        return []  # PACI and reserved types: ignored (RFC 7798 §4.4)

    def _fu(self, payload: memoryview) -> list[bytes]:
        header = payload[2]
        if header & FU_START:
            first = (payload[0] & 0x81) | ((header & 0x3F) << 1)
            self._fragment.start(bytes((first, payload[1])))
        return self._fragment.append(payload[3:], bool(header & FU_END))
