"""RTP payload format for H.264 (RFC 6184): single NAL unit (§5.6), STAP-A (§5.7.1), FU-A (§5.8).

``H264Depacketizer.push`` turns one payload into the NAL units it completes. Fragments are
reassembled in a bounded ``FragmentBuffer``; a fragment without its start (lost) is skipped.
A malformed payload raises ``InvalidMedia`` (the access unit is then dropped as corrupt);
payload types this mode does not use are ignored, as the RFC asks of receivers.
The payloader the camera simulator uses lives here too, so both sides share one format.
"""

from __future__ import annotations

from ova.media.errors import InvalidMedia
from ova.media.rtsp.fragments import FragmentBuffer

STAP_A = 24
FU_A = 28
FU_START = 0x80
FU_END = 0x40
KEYFRAME_TYPES = frozenset({5})


def fragment_nal(nal: bytes, max_payload: int) -> list[bytes]:
    """``nal`` as one single-NAL payload if it fits, else FU-A fragments of at most ``max_payload``."""
    if len(nal) <= max_payload:
        return [nal]
    if max_payload < 3:
        raise ValueError("max_payload is too small for FU-A")
    indicator, kind, body = (nal[0] & 0xE0) | FU_A, nal[0] & 0x1F, nal[1:]
    step = max_payload - 2
    fragments = []
    for offset in range(0, len(body), step):
        flags = (FU_START if offset == 0 else 0) | (FU_END if offset + step >= len(body) else 0)
        fragments.append(bytes((indicator, flags | kind)) + body[offset : offset + step])
    return fragments


class H264Depacketizer:
    codec = "h264"

    def __init__(self) -> None:
        self._fragment = FragmentBuffer()

    def reset(self) -> None:
        self._fragment.reset()

    def is_keyframe(self, nal: bytes) -> bool:
        return nal[0] & 0x1F in KEYFRAME_TYPES

    def push(self, payload: memoryview) -> list[bytes]:
        if not payload:
            raise InvalidMedia("the camera sent an empty H.264 payload")
        kind = payload[0] & 0x1F
        if 1 <= kind <= 23:
            return [bytes(payload)]
        if kind == STAP_A:
            return aggregated_units(payload, 1)
        if kind == FU_A:
            return self._fu_a(payload)
        return []  # reserved, STAP-B, MTAP and FU-B: ignored (RFC 6184 §5.4, non-interleaved mode)

    def _fu_a(self, payload: memoryview) -> list[bytes]:
        if len(payload) < 3:
            raise InvalidMedia("the camera sent a short H.264 FU-A packet")
        header = payload[1]
        if header & FU_START:
            self._fragment.start(bytes(((payload[0] & 0xE0) | (header & 0x1F),)))
        return self._fragment.append(payload[2:], bool(header & FU_END))


def aggregated_units(payload: memoryview, header_size: int) -> list[bytes]:
    """The units of an aggregation packet (H.264 STAP-A, H.265 AP): 16-bit size, then the unit."""
    nals, offset = [], header_size
    while offset + 2 <= len(payload):
        size = int.from_bytes(payload[offset : offset + 2], "big")
        offset += 2
        if size == 0 or offset + size > len(payload):
            raise InvalidMedia("the camera sent an aggregation packet with a bad unit size")
        nals.append(bytes(payload[offset : offset + size]))
        offset += size
    if offset != len(payload) or not nals:
        raise InvalidMedia("the camera sent a malformed aggregation packet")
    return nals
