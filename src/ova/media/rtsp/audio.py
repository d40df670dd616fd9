"""RTP audio payload formats: AAC ``mpeg4-generic`` AAC-hbr (RFC 3640 §3.3.6) and G.711 (RFC 3551).

``AacDepacketizer`` returns the raw AAC frames of a payload (AU-headers of 13-bit size and
3-bit index); each frame's timestamp is the packet's plus 1024 samples per earlier frame.
G.711 payloads are the samples themselves (one byte per sample and channel). The payloader of
the camera simulator lives here too.
"""

from __future__ import annotations

from ova.media.errors import SourceProtocolError

MAX_AU_SIZE = (1 << 13) - 1
AAC_FRAME_SAMPLES = 1024
MAX_FRAMES_PER_PACKET = 64


def aac_hbr_payload(frame: bytes) -> bytes:
    """The payload carrying one raw AAC frame."""
    if not 0 < len(frame) <= MAX_AU_SIZE:
        raise ValueError("an AAC-hbr access unit holds 1 to 8191 bytes")
    return (16).to_bytes(2, "big") + (len(frame) << 3).to_bytes(2, "big") + frame


def parse_aac_hbr(payload: bytes | memoryview) -> list[bytes]:
    """The AAC frames in an AAC-hbr payload (``SourceProtocolError`` when malformed)."""
    if len(payload) < 2:
        raise SourceProtocolError("the camera sent a short AAC payload")
    header_bits = int.from_bytes(payload[:2], "big")
    if header_bits % 16 or header_bits // 16 > MAX_FRAMES_PER_PACKET:
        raise SourceProtocolError("the camera sent AAC AU-headers this ingest does not read")
    header_end = 2 + header_bits // 8
    if header_end > len(payload):
        raise SourceProtocolError("the camera sent AAC AU-headers past the payload")
    sizes = [int.from_bytes(payload[i : i + 2], "big") >> 3 for i in range(2, header_end, 2)]
    frames, offset = [], header_end
    for size in sizes:
        if size == 0 or offset + size > len(payload):
            raise SourceProtocolError("the camera sent an AAC access unit past the payload")
        frames.append(bytes(payload[offset : offset + size]))
        offset += size
    return frames


def aac_config(fmtp: dict[str, str]) -> bytes:
    """The AudioSpecificConfig of an ``mpeg4-generic`` section, checked to be AAC-hbr."""
    if fmtp.get("mode", "").lower() != "aac-hbr" or fmtp.get("sizelength") != "13":
        raise SourceProtocolError("only AAC-hbr (sizelength 13) AAC streams are supported")
    try:
        config = bytes.fromhex(fmtp.get("config", ""))
    except ValueError:
        raise SourceProtocolError("the camera's AAC config is not hexadecimal") from None
    if not 2 <= len(config) <= 64:
        raise SourceProtocolError("the camera's AAC config is missing or malformed")
    return config
