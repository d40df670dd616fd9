"""MQTT 3.1.1 and 5 packets: round trips, the spec's own bytes, bounds and malformed input."""

from __future__ import annotations

import asyncio

import pytest

from ova.hub.errors import MalformedPacket, PacketTooLarge, ProtocolViolation
from ova.hub.mqtt import codec
from ova.hub.mqtt import properties as props
from ova.hub.mqtt import reason_codes as rc
from ova.hub.mqtt.codec import V5, V311, Packet, PacketType


def _reader(data: bytes, eof: bool = True) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return reader


async def test_a_packet_is_read_back_as_written() -> None:
    packet = Packet(PacketType.PUBLISH, 0b0010, b"\x00\x01t\x00\x05" + b"x" * 300)
    assert await codec.read_packet(_reader(packet.encode()), 1024) == packet


async def test_end_of_stream_before_a_packet_is_none() -> None:
    assert await codec.read_packet(_reader(b""), 1024) is None


async def test_an_oversized_packet_is_refused_from_its_header_before_the_body_arrives() -> None:
    header = bytes([0x30]) + props.encode_varint(256 * 1024 + 1)
    with pytest.raises(PacketTooLarge) as raised:
        await asyncio.wait_for(codec.read_packet(_reader(header, eof=False), 256 * 1024), 1)
    assert raised.value.reason == rc.PACKET_TOO_LARGE


async def test_a_fifth_remaining_length_byte_is_malformed() -> None:
    with pytest.raises(MalformedPacket):
        await codec.read_packet(_reader(b"\x30\xff\xff\xff\xff\x01"), 1 << 30)


@pytest.mark.parametrize("first", [0x00, 0x36, 0x81, 0x62 ^ 0x02, 0xC1])
async def test_reserved_types_and_flags_are_malformed(first: int) -> None:
    with pytest.raises(MalformedPacket):
        await codec.read_packet(_reader(bytes([first, 0])), 1024)


async def test_a_truncated_body_is_an_incomplete_read() -> None:
    with pytest.raises(asyncio.IncompleteReadError):
        await codec.read_packet(_reader(b"\x30\x05ab"), 1024)


def test_the_spec_example_connect_parses() -> None:
    body = b"\x00\x04MQTT\x04\xc2\x00\x3c\x00\x03abc\x00\x04user\x00\x04pass"
    connect = codec.parse_connect(body)
    assert connect == codec.Connect("abc", V311, 60, True, "user", b"pass")
    assert codec.encode_connect(connect).body == body


@pytest.mark.parametrize("level", [V311, V5])
def test_connect_with_a_will_round_trips(level: int) -> None:
    will_props: props.Properties = [(props.CONTENT_TYPE, "json")] if level == V5 else []
    connect = codec.Connect(
        "dev/mod",
        level,
        30,
        False,
        "hub/dev/mod/?api-version=2021-04-12",
        b"SharedAccessSignature sr=x",
        codec.Will("devices/dev/modules/mod/messages/events/", b"bye", 1, True, will_props),
        [(props.SESSION_EXPIRY, 3600)] if level == V5 else [],
    )
    assert codec.parse_connect(codec.encode_connect(connect).body) == connect


def test_an_mqtt_3_1_connect_is_an_unsupported_version() -> None:
    body = b"\x00\x06MQIsdp\x03\x02\x00\x3c\x00\x01a"
    with pytest.raises(ProtocolViolation) as raised:
        codec.parse_connect(body)
    assert raised.value.reason == rc.UNSUPPORTED_VERSION


@pytest.mark.parametrize(
    "body",
    [
        b"\x00\x04MQTT\x04\x03\x00\x3c\x00\x01a",  # reserved flag
        b"\x00\x04MQTT\x04\x42\x00\x3c\x00\x01a\x00\x01p",  # password without username (3.1.1)
        b"\x00\x04MQTT\x04\x02\x00\x3c\x00\x01a!",  # trailing byte
        b"\x00\x04MQTT\x04\x1a\x00\x3c\x00\x01a\x00\x01t\x00\x00",  # will QoS 3
        b"\x00\x04MQTT\x04\x22\x00\x3c\x00\x01a",  # will retain without will
        b"\x00\x04MQTT\x04",  # truncated
    ],
)
def test_malformed_connects_are_refused(body: bytes) -> None:
    with pytest.raises(MalformedPacket):
        codec.parse_connect(body)


@pytest.mark.parametrize(
    ("reason", "v311"),
    [
        (rc.SUCCESS, 0),
        (rc.UNSUPPORTED_VERSION, 1),
        (rc.SERVER_UNAVAILABLE, 3),
        (rc.CONNECTION_RATE_EXCEEDED, 3),
        (rc.NOT_AUTHORIZED, 5),
        (rc.BAD_AUTHENTICATION_METHOD, 5),
    ],
)
def test_connack_reason_codes_map_to_3_1_1_return_codes(reason: int, v311: int) -> None:
    assert codec.encode_connack(V311, reason).body == bytes([0, v311])
    assert codec.encode_connack(V5, reason).body == bytes([0, reason, 0])
    assert codec.connack_code(codec.encode_connack(V5, reason)) == reason


def test_a_refusing_connack_never_claims_a_session() -> None:
    assert codec.encode_connack(V311, rc.SUCCESS, session_present=True).body == b"\x01\x00"
    assert codec.encode_connack(V311, rc.NOT_AUTHORIZED, session_present=True).body == b"\x00\x05"


def test_connack_without_strips_one_property() -> None:
    body = b"\x00\x00" + props.encode([(props.TOPIC_ALIAS_MAXIMUM, 10), (props.MAXIMUM_PACKET_SIZE, 9999)])
    stripped = codec.connack_without(Packet(PacketType.CONNACK, 0, body), V5, props.TOPIC_ALIAS_MAXIMUM)
    assert props.decode(stripped.body, 2)[0] == [(props.MAXIMUM_PACKET_SIZE, 9999)]


@pytest.mark.parametrize("level", [V311, V5])
@pytest.mark.parametrize("qos", [0, 1])
def test_publish_round_trips_and_takes_a_new_topic(level: int, qos: int) -> None:
    publish_props: props.Properties = [(props.USER_PROPERTY, ("k", "v"))] if level == V5 else []
    publish = codec.Publish("a/b", b"\x00payload", qos, 9 if qos else None, True, bool(qos), publish_props)
    packet = codec.encode_publish(publish, level)
    assert codec.parse_publish(packet, level) == publish
    moved = codec.parse_publish(
        codec.encode_publish(publish.with_topic("ova-hub/d/$device/a/b"), level), level
    )
    assert (moved.topic, moved.payload, moved.packet_id) == (
        "ova-hub/d/$device/a/b",
        b"\x00payload",
        publish.packet_id,
    )


def test_a_qos_1_publish_with_packet_id_0_is_malformed() -> None:
    with pytest.raises(MalformedPacket):
        codec.parse_publish(Packet(PacketType.PUBLISH, 0b0010, b"\x00\x01t\x00\x00"), V311)


@pytest.mark.parametrize("level", [V311, V5])
def test_subscribe_suback_and_unsubscribe_round_trip(level: int) -> None:
    subscribe = codec.Subscribe(7, [("$iothub/methods/POST/#", 1), ("#", 0)])
    suback = codec.Suback(7, b"\x01\x80")
    unsubscribe = codec.Unsubscribe(8, ["$iothub/twin/res/#"])
    assert codec.parse_subscribe(codec.encode_subscribe(subscribe, level), level) == subscribe
    assert codec.parse_suback(codec.encode_suback(suback, level), level) == suback
    assert codec.parse_unsubscribe(codec.encode_unsubscribe(unsubscribe, level), level) == unsubscribe


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (PacketType.SUBSCRIBE, b"\x00\x01"),  # no filter
        (PacketType.SUBSCRIBE, b"\x00\x01\x00\x01a"),  # no options byte
        (PacketType.UNSUBSCRIBE, b"\x00\x01"),
        (PacketType.SUBSCRIBE, b"\x00"),  # no packet id
    ],
)
def test_empty_or_truncated_subscriptions_are_malformed(kind: PacketType, body: bytes) -> None:
    parse = codec.parse_subscribe if kind == PacketType.SUBSCRIBE else codec.parse_unsubscribe
    with pytest.raises(MalformedPacket):
        parse(Packet(kind, 2, body), V311)


def test_disconnect_carries_a_reason_in_mqtt_5_only() -> None:
    assert codec.encode_disconnect(V5, rc.TOPIC_ALIAS_INVALID).encode() == b"\xe0\x01\x94"
    assert codec.encode_disconnect(V311, rc.TOPIC_ALIAS_INVALID).encode() == b"\xe0\x00"
