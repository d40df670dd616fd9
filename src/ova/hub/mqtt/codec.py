"""MQTT 3.1.1 (OASIS 2014) and MQTT 5 (OASIS 2019) control packets: read, parse, re-encode.

A ``Packet`` is the fixed header's type and flags plus the raw body. ``read_packet`` reads one
from a stream, checking the remaining length (at most 4 bytes, §1.5.5) and the size limit
*before* reading the body. The gateway parses only what it rewrites or checks (CONNECT,
PUBLISH, SUBSCRIBE, SUBACK, UNSUBSCRIBE) and passes every other packet through as it came.
``level`` is the protocol level: 4 for 3.1.1, 5 for MQTT 5.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field, replace
from enum import IntEnum

from ova.hub.errors import MalformedPacket, PacketTooLarge, ProtocolViolation
from ova.hub.mqtt import properties as props
from ova.hub.mqtt.properties import Properties, decode_binary, decode_string, encode_binary, encode_string
from ova.hub.mqtt.reason_codes import UNSUPPORTED_VERSION

V311 = 4
V5 = 5


class PacketType(IntEnum):
    CONNECT = 1
    CONNACK = 2
    PUBLISH = 3
    PUBACK = 4
    PUBREC = 5
    PUBREL = 6
    PUBCOMP = 7
    SUBSCRIBE = 8
    SUBACK = 9
    UNSUBSCRIBE = 10
    UNSUBACK = 11
    PINGREQ = 12
    PINGRESP = 13
    DISCONNECT = 14
    AUTH = 15


_REQUIRED_FLAGS = {PacketType.PUBREL: 2, PacketType.SUBSCRIBE: 2, PacketType.UNSUBSCRIBE: 2}


@dataclass(frozen=True)
class Packet:
    type: PacketType
    flags: int
    body: bytes

    def encode(self) -> bytes:
        return bytes([self.type << 4 | self.flags]) + props.encode_varint(len(self.body)) + self.body


def _check_flags(kind: PacketType, flags: int) -> None:
    if kind != PacketType.PUBLISH and flags != _REQUIRED_FLAGS.get(kind, 0):
        raise MalformedPacket("Reserved fixed-header flags are set.")
    if kind == PacketType.PUBLISH and flags & 0b0110 == 0b0110:
        raise MalformedPacket("A PUBLISH cannot have QoS 3.")


async def read_remaining_length(reader: asyncio.StreamReader) -> tuple[int, int]:
    """``(remaining length, bytes it took)``; a fifth continuation byte is malformed."""
    value = 0
    for index in range(4):
        (byte,) = await reader.readexactly(1)
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            return value, index + 1
    raise MalformedPacket("The remaining length is longer than 4 bytes.")


async def read_packet(reader: asyncio.StreamReader, max_bytes: int) -> Packet | None:
    """The next packet, or None at end of stream before one starts.

    ``max_bytes`` bounds the whole packet (fixed header included), checked before the body is read.
    """
    first = await reader.read(1)
    if not first:
        return None
    kind = first[0] >> 4
    if kind == 0:
        raise MalformedPacket("Packet type 0 is reserved.")
    packet_type, flags = PacketType(kind), first[0] & 0x0F
    _check_flags(packet_type, flags)
    remaining, length_bytes = await read_remaining_length(reader)
    if 1 + length_bytes + remaining > max_bytes:
        raise PacketTooLarge("The packet is larger than the maximum packet size.")
    return Packet(packet_type, flags, await reader.readexactly(remaining))


# CONNECT and CONNACK (§3.1, §3.2)


@dataclass(frozen=True)
class Will:
    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    properties: Properties = field(default_factory=list)


@dataclass(frozen=True)
class Connect:
    client_id: str
    level: int = V311
    keep_alive: int = 60
    clean_start: bool = True
    username: str | None = None
    password: bytes | None = None
    will: Will | None = None
    properties: Properties = field(default_factory=list)


def _parse_will(body: bytes, offset: int, flags: int, level: int) -> tuple[Will | None, int]:
    if not flags & 0x04:
        if flags & 0x38:
            raise MalformedPacket("Will QoS or retain set without a will.")
        return None, offset
    will_props: Properties = []
    if level == V5:
        will_props, offset = props.decode(body, offset)
    topic, offset = decode_string(body, offset)
    payload, offset = decode_binary(body, offset)
    qos = (flags >> 3) & 0x03
    if qos == 3:
        raise MalformedPacket("Will QoS 3 does not exist.")
    return Will(topic, payload, qos, bool(flags & 0x20), will_props), offset


def parse_connect(body: bytes) -> Connect:
    name, offset = decode_string(body, 0)
    if offset + 4 > len(body):
        raise MalformedPacket("CONNECT is truncated.")
    level, flags = body[offset], body[offset + 1]
    (keep_alive,) = struct.unpack_from("!H", body, offset + 2)
    if name != "MQTT" or level not in (V311, V5):
        raise ProtocolViolation("Only MQTT 3.1.1 and 5 are spoken here.", UNSUPPORTED_VERSION)
    if flags & 0x01 or (level == V311 and flags & 0x40 and not flags & 0x80):
        raise MalformedPacket("CONNECT flags are malformed.")
    offset += 4
    connect_props: Properties = []
    if level == V5:
        connect_props, offset = props.decode(body, offset)
    client_id, offset = decode_string(body, offset)
    will, offset = _parse_will(body, offset, flags, level)
    username = password = None
    if flags & 0x80:
        username, offset = decode_string(body, offset)
    if flags & 0x40:
        password, offset = decode_binary(body, offset)
    if offset != len(body):
        raise MalformedPacket("CONNECT has trailing bytes.")
    return Connect(client_id, level, keep_alive, bool(flags & 0x02), username, password, will, connect_props)


def encode_connect(connect: Connect) -> Packet:
    will = connect.will
    flags = (0x02 if connect.clean_start else 0) | (0x80 if connect.username is not None else 0)
    flags |= 0x40 if connect.password is not None else 0
    if will is not None:
        flags |= 0x04 | will.qos << 3 | (0x20 if will.retain else 0)
    out = bytearray(
        encode_string("MQTT") + bytes([connect.level, flags]) + struct.pack("!H", connect.keep_alive)
    )
    if connect.level == V5:
        out += props.encode(connect.properties)
    out += encode_string(connect.client_id)
    if will is not None:
        out += props.encode(will.properties) if connect.level == V5 else b""
        out += encode_string(will.topic) + encode_binary(will.payload)
    out += encode_string(connect.username) if connect.username is not None else b""
    out += encode_binary(connect.password) if connect.password is not None else b""
    return Packet(PacketType.CONNECT, 0, bytes(out))


_V311_CONNACK = {0x00: 0, 0x84: 1, 0x85: 2, 0x88: 3, 0x89: 3, 0x9F: 3, 0x86: 4, 0x87: 5}


def v311_return_code(reason: int) -> int:
    """The 3.1.1 CONNACK return code nearest to an MQTT 5 reason code."""
    return _V311_CONNACK.get(reason, 5 if reason >= 0x80 else 0)


def encode_connack(level: int, reason: int, session_present: bool = False) -> Packet:
    """A CONNACK; ``reason`` is the MQTT 5 code, mapped for 3.1.1 clients."""
    code = reason if level == V5 else v311_return_code(reason)
    body = bytes([1 if session_present and not code else 0, code]) + (b"\x00" if level == V5 else b"")
    return Packet(PacketType.CONNACK, 0, body)


def connack_code(packet: Packet) -> int:
    if packet.type != PacketType.CONNACK or len(packet.body) < 2:
        raise MalformedPacket("Expected a CONNACK.")
    return packet.body[1]


def encode_disconnect(level: int, reason: int = 0) -> Packet:
    return Packet(PacketType.DISCONNECT, 0, bytes([reason]) if level == V5 and reason else b"")


# PUBLISH (§3.3)


@dataclass(frozen=True)
class Publish:
    topic: str
    payload: bytes
    qos: int = 0
    packet_id: int | None = None
    retain: bool = False
    dup: bool = False
    properties: Properties = field(default_factory=list)

    def with_topic(self, topic: str) -> Publish:
        return replace(self, topic=topic)


def _packet_id(body: bytes, offset: int) -> tuple[int, int]:
    if offset + 2 > len(body):
        raise MalformedPacket("A packet identifier is missing.")
    (packet_id,) = struct.unpack_from("!H", body, offset)
    if packet_id == 0:
        raise MalformedPacket("Packet identifier 0 is not allowed.")
    return packet_id, offset + 2


def parse_publish(packet: Packet, level: int) -> Publish:
    qos = (packet.flags >> 1) & 0x03
    topic, offset = decode_string(packet.body, 0)
    packet_id = None
    if qos:
        packet_id, offset = _packet_id(packet.body, offset)
    publish_props: Properties = []
    if level == V5:
        publish_props, offset = props.decode(packet.body, offset)
    payload = packet.body[offset:]
    retain, dup = bool(packet.flags & 0x01), bool(packet.flags & 0x08)
    return Publish(topic, payload, qos, packet_id, retain, dup, publish_props)


def encode_publish(publish: Publish, level: int) -> Packet:
    flags = publish.qos << 1 | (0x01 if publish.retain else 0) | (0x08 if publish.dup else 0)
    out = bytearray(encode_string(publish.topic))
    if publish.qos:
        out += struct.pack("!H", publish.packet_id or 0)
    if level == V5:
        out += props.encode(publish.properties)
    return Packet(PacketType.PUBLISH, flags, bytes(out + publish.payload))


# SUBSCRIBE, SUBACK, UNSUBSCRIBE (§3.8 to §3.10)


@dataclass(frozen=True)
class Subscribe:
    packet_id: int
    entries: list[tuple[str, int]]
    """``(topic filter, subscription options byte)``."""
    properties: Properties = field(default_factory=list)


def parse_subscribe(packet: Packet, level: int) -> Subscribe:
    packet_id, offset = _packet_id(packet.body, 0)
    sub_props: Properties = []
    if level == V5:
        sub_props, offset = props.decode(packet.body, offset)
    entries: list[tuple[str, int]] = []
    while offset < len(packet.body):
        topic_filter, offset = decode_string(packet.body, offset)
        if offset >= len(packet.body):
            raise MalformedPacket("A subscription lacks its options.")
        entries.append((topic_filter, packet.body[offset]))
        offset += 1
    if not entries:
        raise MalformedPacket("SUBSCRIBE names no topic filter.")
    return Subscribe(packet_id, entries, sub_props)


def encode_subscribe(subscribe: Subscribe, level: int) -> Packet:
    out = bytearray(struct.pack("!H", subscribe.packet_id))
    if level == V5:
        out += props.encode(subscribe.properties)
    for topic_filter, options in subscribe.entries:
        out += encode_string(topic_filter) + bytes([options])
    return Packet(PacketType.SUBSCRIBE, 2, bytes(out))


@dataclass(frozen=True)
class Suback:
    packet_id: int
    codes: bytes
    properties: Properties = field(default_factory=list)


def parse_suback(packet: Packet, level: int) -> Suback:
    packet_id, offset = _packet_id(packet.body, 0)
    suback_props: Properties = []
    if level == V5:
        suback_props, offset = props.decode(packet.body, offset)
    return Suback(packet_id, packet.body[offset:], suback_props)


def encode_suback(suback: Suback, level: int) -> Packet:
    extra = props.encode(suback.properties) if level == V5 else b""
    return Packet(PacketType.SUBACK, 0, struct.pack("!H", suback.packet_id) + extra + suback.codes)


@dataclass(frozen=True)
class Unsubscribe:
    packet_id: int
    filters: list[str]
    properties: Properties = field(default_factory=list)


def parse_unsubscribe(packet: Packet, level: int) -> Unsubscribe:
    packet_id, offset = _packet_id(packet.body, 0)
    unsub_props: Properties = []
    if level == V5:
        unsub_props, offset = props.decode(packet.body, offset)
    filters: list[str] = []
    while offset < len(packet.body):
        topic_filter, offset = decode_string(packet.body, offset)
        filters.append(topic_filter)
    if not filters:
        raise MalformedPacket("UNSUBSCRIBE names no topic filter.")
    return Unsubscribe(packet_id, filters, unsub_props)


def encode_unsubscribe(unsubscribe: Unsubscribe, level: int) -> Packet:
    out = bytearray(struct.pack("!H", unsubscribe.packet_id))
    if level == V5:
        out += props.encode(unsubscribe.properties)
    for topic_filter in unsubscribe.filters:
        out += encode_string(topic_filter)
    return Packet(PacketType.UNSUBSCRIBE, 2, bytes(out))


def connack_without(packet: Packet, level: int, identifier: int) -> Packet:
    """A CONNACK with one MQTT 5 property removed (3.1.1 CONNACKs have none)."""
    if level != V5 or len(packet.body) <= 2:
        return packet
    found, _ = props.decode(packet.body, 2)
    return Packet(packet.type, packet.flags, packet.body[:2] + props.encode(props.without(found, identifier)))
