"""RTP payload format for H.264, packetization-mode 1 (RFC 6184 §5.6 single NAL unit, §5.8 FU-A).

The payloader sends each NAL unit that fits as a single NAL unit packet and splits larger
ones into FU-A fragments; the last packet of an access unit carries the marker bit. The
depayloader reverses both (and STAP-A) so tests can check a round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ova.camera.rtp import HEADER_SIZE, RtpPayload
from ova.media.rtsp.h264 import fragment_nal

__all__ = ["FU_A", "PAYLOAD_TYPE", "STAP_A", "Depacketizer", "fragment_nal", "packetize_access_unit"]

PAYLOAD_TYPE = 96
STAP_A = 24
FU_A = 28
FU_START = 0x80
FU_END = 0x40


def packetize_access_unit(nals: tuple[bytes, ...] | list[bytes], mtu: int) -> list[RtpPayload]:
    """The RTP payloads of one access unit for packets of at most ``mtu`` bytes (RTP header included)."""
    payloads = [chunk for nal in nals for chunk in fragment_nal(nal, mtu - HEADER_SIZE)]
    return [RtpPayload(chunk, index == len(payloads) - 1) for index, chunk in enumerate(payloads)]


@dataclass
class Depacketizer:
    """Reassembles NAL units from RTP payloads in sequence order (RFC 6184 §5.6-5.8)."""

    _fragment: bytearray | None = field(default=None, repr=False)

    def push(self, payload: bytes) -> list[bytes]:
        """The NAL units completed by ``payload``; raises ``ValueError`` on malformed input."""
        if not payload:
            raise ValueError("empty payload")
        kind = payload[0] & 0x1F
        if 1 <= kind <= 23:
            return [payload]
        if kind == STAP_A:
            return _split_stap_a(payload)
        if kind == FU_A:
            return self._push_fragment(payload)
        raise ValueError(f"unsupported payload type {kind}")

    def _push_fragment(self, payload: bytes) -> list[bytes]:
        if len(payload) < 3:
            raise ValueError("short FU-A packet")
        header = payload[1]
        if header & FU_START:
            self._fragment = bytearray(((payload[0] & 0xE0) | (header & 0x1F),))
        if self._fragment is None:
            raise ValueError("FU-A fragment without a start")
        self._fragment += payload[2:]
        if not header & FU_END:
            return []
        nal, self._fragment = bytes(self._fragment), None
        return [nal]


def _split_stap_a(payload: bytes) -> list[bytes]:
    nals, offset = [], 1
    while offset + 2 <= len(payload):
        size = int.from_bytes(payload[offset : offset + 2], "big")
        offset += 2
        if size == 0 or offset + size > len(payload):
            raise ValueError("bad STAP-A unit size")
        nals.append(payload[offset : offset + size])
        offset += size
    return nals
