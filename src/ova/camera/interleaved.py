"""RTP over the RTSP connection: interleaved binary data (RFC 2326 §10.12).

Each packet travels as ``'$'``, a one-byte channel, a two-byte length and the packet. A
``PacketBurst`` is the packets of one access unit laid out once, as a template, with the
sequence number, timestamp, SSRC and channel left blank; each client stamps its own values
into a copy (``stamp``), so a mount packetizes once however many clients it serves.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ova.camera.rtp import RTP_VERSION, RtpPayload

MAGIC = 0x24
FRAME_HEADER = struct.Struct("!BBH")
RTP_FIELDS = struct.Struct("!HII")
MAX_PACKET = 0xFFFF


def frame(channel: int, packet: bytes) -> bytes:
    """One interleaved frame."""
    if len(packet) > MAX_PACKET:
        raise ValueError("an interleaved packet holds at most 65535 bytes")
    return FRAME_HEADER.pack(MAGIC, channel, len(packet)) + packet


@dataclass(frozen=True)
class PacketBurst:
    """The interleaved RTP packets of one access unit, with per-client fields left blank."""

    template: bytes
    offsets: tuple[int, ...]
    payload_octets: int

    @classmethod
    def build(cls, payloads: list[RtpPayload], payload_type: int) -> PacketBurst:
        parts, offsets, position = [], [], 0
        for payload in payloads:
            header = bytes((RTP_VERSION << 6, (0x80 if payload.marker else 0) | payload_type)) + bytes(10)
            packet = frame(0, header + payload.data)
            offsets.append(position)
            parts.append(packet)
            position += len(packet)
        octets = sum(len(payload.data) for payload in payloads)
        return cls(b"".join(parts), tuple(offsets), octets)

    @property
    def packet_count(self) -> int:
        return len(self.offsets)

    def stamp(self, channel: int, first_sequence: int, timestamp: int, ssrc: int) -> bytearray:
        """A copy of the burst with the channel, consecutive sequence numbers, timestamp and SSRC set."""
        data = bytearray(self.template)
        timestamp &= 0xFFFFFFFF
        for index, offset in enumerate(self.offsets):
            data[offset + 1] = channel
            RTP_FIELDS.pack_into(data, offset + 6, (first_sequence + index) & 0xFFFF, timestamp, ssrc)
        return data
