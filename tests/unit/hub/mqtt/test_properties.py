"""MQTT 5 properties and the primitive encodings under every packet."""

from __future__ import annotations

import pytest

from ova.hub.errors import MalformedPacket
from ova.hub.mqtt import properties as props


@pytest.mark.parametrize("value", [0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455])
def test_variable_byte_integers_round_trip_at_every_length_boundary(value: int) -> None:
    encoded = props.encode_varint(value)
    assert props.decode_varint(encoded, 0) == (value, len(encoded))
    assert len(encoded) == 1 + (value >= 128) + (value >= 16_384) + (value >= 2_097_152)


@pytest.mark.parametrize("value", [-1, 268_435_456])
def test_out_of_range_variable_byte_integers_are_not_encoded(value: int) -> None:
    with pytest.raises(ValueError):
        props.encode_varint(value)


@pytest.mark.parametrize("data", [b"\xff\xff\xff\xff\x01", b"\x80", b""])
def test_a_fifth_or_missing_continuation_byte_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedPacket):
        props.decode_varint(data, 0)


def test_every_property_kind_round_trips_in_order() -> None:
    found: props.Properties = [
        (props.PAYLOAD_FORMAT, 1),
        (props.MESSAGE_EXPIRY, 3600),
        (props.CONTENT_TYPE, "application/json"),
        (props.CORRELATION_DATA, b"\x00\x01"),
        (props.SUBSCRIPTION_IDENTIFIER, 300),
        (props.TOPIC_ALIAS_MAXIMUM, 10),
        (props.USER_PROPERTY, ("a", "1")),
        (props.USER_PROPERTY, ("a", "2")),
    ]
    encoded = props.encode(found)
    assert props.decode(encoded + b"tail", 0) == (found, len(encoded))


@pytest.mark.parametrize(
    "data",
    [
        b"\x02\x7f\x00",  # unknown identifier
        b"\x04\x23\x00\x01\x23",  # topic alias twice (truncated second)
        b"\x06\x23\x00\x01\x23\x00\x02",  # topic alias twice
        b"\x05\x03\x00\x05ab",  # string runs past the properties
        b"\x09",  # length past the packet
        b"\x04\x03\x00\x02\xc3\x28",  # not UTF-8
        b"\x04\x03\x00\x02a\x00",  # U+0000
    ],
)
def test_malformed_properties_are_refused(data: bytes) -> None:
    with pytest.raises(MalformedPacket):
        props.decode(data, 0)


def test_without_drops_one_identifier_and_keeps_the_rest() -> None:
    found: props.Properties = [(props.TOPIC_ALIAS_MAXIMUM, 5), (props.SESSION_EXPIRY, 60)]
    assert props.without(found, props.TOPIC_ALIAS_MAXIMUM) == [(props.SESSION_EXPIRY, 60)]
    assert props.find(found, props.SESSION_EXPIRY) == 60
    assert props.find(found, props.TOPIC_ALIAS) is None
