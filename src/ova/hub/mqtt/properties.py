"""MQTT 5 properties (spec §2.2.2): a variable-byte-integer length, then ``identifier, value`` pairs.

Properties are kept as an ordered list of ``(identifier, value)`` so that a packet re-encodes
byte for byte; ``User Property`` may repeat, every other identifier at most once.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from ova.hub.errors import MalformedPacket

PropertyValue = int | bytes | str | tuple[str, str]
Properties = list[tuple[int, PropertyValue]]

PAYLOAD_FORMAT = 0x01
MESSAGE_EXPIRY = 0x02
CONTENT_TYPE = 0x03
RESPONSE_TOPIC = 0x08
CORRELATION_DATA = 0x09
SUBSCRIPTION_IDENTIFIER = 0x0B
SESSION_EXPIRY = 0x11
AUTHENTICATION_METHOD = 0x15
TOPIC_ALIAS_MAXIMUM = 0x22
TOPIC_ALIAS = 0x23
USER_PROPERTY = 0x26
MAXIMUM_PACKET_SIZE = 0x27

_BYTE, _TWO, _FOUR, _VARINT, _UTF8, _BINARY, _PAIR = range(7)
_KINDS = {
    0x01: _BYTE, 0x02: _FOUR, 0x03: _UTF8, 0x08: _UTF8, 0x09: _BINARY, 0x0B: _VARINT,
    0x11: _FOUR, 0x12: _UTF8, 0x13: _TWO, 0x15: _UTF8, 0x16: _BINARY, 0x17: _BYTE,
    0x18: _FOUR, 0x19: _BYTE, 0x1A: _UTF8, 0x1C: _UTF8, 0x1F: _UTF8, 0x21: _TWO,
    0x22: _TWO, 0x23: _TWO, 0x24: _BYTE, 0x25: _BYTE, 0x26: _PAIR, 0x27: _FOUR,
    0x28: _BYTE, 0x29: _BYTE, 0x2A: _BYTE,
}  # fmt: skip
_FIXED = {_BYTE: 1, _TWO: 2, _FOUR: 4}
MAX_VARINT = 268_435_455


def encode_varint(value: int) -> bytes:
    """A variable byte integer (1 to 4 bytes)."""
    if not 0 <= value <= MAX_VARINT:
        raise ValueError("a variable byte integer is 0 to 268435455")
    out = bytearray()
    while True:
        value, digit = divmod(value, 128)
        out.append(digit | (0x80 if value else 0))
        if not value:
            return bytes(out)


def decode_varint(data: bytes, offset: int) -> tuple[int, int]:
    """``(value, next offset)``; a fifth continuation byte or a truncated one is malformed."""
    value, shift = 0, 0
    for index in range(4):
        if offset + index >= len(data):
            raise MalformedPacket("A variable byte integer is truncated.")
        byte = data[offset + index]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset + index + 1
        shift += 7
    raise MalformedPacket("A variable byte integer is longer than 4 bytes.")


def encode_string(text: str) -> bytes:
    return encode_binary(text.encode())


def encode_binary(data: bytes) -> bytes:
    if len(data) > 0xFFFF:
        raise ValueError("an MQTT string is at most 65535 bytes")
    return struct.pack("!H", len(data)) + data


def decode_binary(data: bytes, offset: int) -> tuple[bytes, int]:
    if offset + 2 > len(data):
        raise MalformedPacket("A length-prefixed field is truncated.")
    (length,) = struct.unpack_from("!H", data, offset)
    end = offset + 2 + length
    if end > len(data):
        raise MalformedPacket("A length-prefixed field runs past its packet.")
    return data[offset + 2 : end], end


def decode_string(data: bytes, offset: int) -> tuple[str, int]:
    raw, offset = decode_binary(data, offset)
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise MalformedPacket("An MQTT string is not UTF-8.") from None
    if "\x00" in text:
        raise MalformedPacket("An MQTT string holds U+0000.")
    return text, offset


def _decode_value(kind: int, data: bytes, offset: int) -> tuple[PropertyValue, int]:
    if kind in _FIXED:
        size = _FIXED[kind]
        if offset + size > len(data):
            raise MalformedPacket("A property is truncated.")
        return int.from_bytes(data[offset : offset + size], "big"), offset + size
    if kind == _VARINT:
        return decode_varint(data, offset)
    if kind == _UTF8:
        return decode_string(data, offset)
    if kind == _BINARY:
        return decode_binary(data, offset)
    key, offset = decode_string(data, offset)
    value, offset = decode_string(data, offset)
    return (key, value), offset


def decode(data: bytes, offset: int) -> tuple[Properties, int]:
    """The properties starting at ``offset`` and the offset after them."""
    length, offset = decode_varint(data, offset)
    end = offset + length
    if end > len(data):
        raise MalformedPacket("Properties run past their packet.")
    found: Properties = []
    seen: set[int] = set()
    body = data[:end]
    while offset < end:
        identifier, offset = decode_varint(body, offset)
        kind = _KINDS.get(identifier)
        if kind is None:
            raise MalformedPacket("Unknown MQTT 5 property.")
        if identifier in seen and identifier not in (USER_PROPERTY, SUBSCRIPTION_IDENTIFIER):
            raise MalformedPacket("An MQTT 5 property is repeated.")
        seen.add(identifier)
        value, offset = _decode_value(kind, body, offset)
        found.append((identifier, value))
    return found, end


def _encode_value(kind: int, value: PropertyValue) -> bytes:
    if kind in _FIXED and isinstance(value, int):
        return value.to_bytes(_FIXED[kind], "big")
    if kind == _VARINT and isinstance(value, int):
        return encode_varint(value)
    if kind == _UTF8 and isinstance(value, str):
        return encode_string(value)
    if kind == _BINARY and isinstance(value, bytes):
        return encode_binary(value)
    if kind == _PAIR and isinstance(value, tuple):
        return encode_string(value[0]) + encode_string(value[1])
    raise ValueError("a property value of the wrong type")


def encode(properties: Sequence[tuple[int, PropertyValue]]) -> bytes:
    body = b"".join(encode_varint(i) + _encode_value(_KINDS[i], v) for i, v in properties)
    return encode_varint(len(body)) + body


def find(properties: Sequence[tuple[int, PropertyValue]], identifier: int) -> PropertyValue | None:
    return next((value for key, value in properties if key == identifier), None)


def without(properties: Sequence[tuple[int, PropertyValue]], identifier: int) -> Properties:
    return [(key, value) for key, value in properties if key != identifier]
