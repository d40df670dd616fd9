"""RTP payload format for AAC, ``mpeg4-generic`` in AAC-hbr mode (RFC 3640 §3.3.6).

One access unit per packet: a 16-bit AU-headers-length (16), one AU-header (13-bit size,
3-bit index 0), then the raw AAC frame. Every packet carries the marker bit.
"""

from __future__ import annotations

MAX_AU_SIZE = (1 << 13) - 1
PAYLOAD_TYPE = 97


def aac_hbr_payload(frame: bytes) -> bytes:
    """The payload carrying one raw AAC frame."""
    if not 0 < len(frame) <= MAX_AU_SIZE:
        raise ValueError("an AAC-hbr access unit holds 1 to 8191 bytes")
    return (16).to_bytes(2, "big") + (len(frame) << 3).to_bytes(2, "big") + frame


def parse_aac_hbr(payload: bytes) -> list[bytes]:
    """The AAC frames in an AAC-hbr payload (``ValueError`` when malformed)."""
    if len(payload) < 2:
        raise ValueError("short AAC-hbr payload")
    header_bits = int.from_bytes(payload[:2], "big")
    if header_bits % 16:
        raise ValueError("unexpected AU-header size")
    header_end = 2 + header_bits // 8
    sizes = [int.from_bytes(payload[i : i + 2], "big") >> 3 for i in range(2, header_end, 2)]
    frames, offset = [], header_end
    for size in sizes:
        if offset + size > len(payload):
            raise ValueError("AAC-hbr access unit past the payload")
        frames.append(payload[offset : offset + size])
        offset += size
    return frames


def fmtp(config: bytes) -> dict[str, str]:
    """SDP ``fmtp`` parameters for AAC-LC with AudioSpecificConfig ``config``."""
    return {
        "streamtype": "5",
        "profile-level-id": "1",
        "mode": "AAC-hbr",
        "sizelength": "13",
        "indexlength": "3",
        "indexdeltalength": "3",
        "config": config.hex(),
    }
