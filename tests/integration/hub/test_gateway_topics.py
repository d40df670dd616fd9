"""Topic rules (M2) and MQTT 5 through the gateway."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import replace

import paho.mqtt.client as paho  # type: ignore[import-untyped]
import pytest

from ova.contracts import iot_hub
from ova.hub import namespace
from ova.hub.brokers import BrokerEndpoint
from ova.hub.gateway import Gateway
from ova.hub.mqtt import codec
from ova.hub.mqtt import properties as props
from ova.hub.mqtt.codec import PacketType
from support.hub_identities import InMemoryIdentities
from support.mqtt_wire import WireClient

OpenClient = Callable[[], Awaitable[WireClient]]
OpenService = Callable[[str], Awaitable[WireClient]]
REFUSED = 0x80


async def test_wildcards_system_and_peer_filters_are_refused_and_own_topics_granted(
    identities: InMemoryIdentities, open_client: OpenClient
) -> None:
    me = identities.add("cam-1", "ova")
    identities.add("cam-2", "ova")
    device = await open_client()
    assert await device.connect(identities.connect(me)) == 0

    codes = await device.subscribe(
        "#",
        "+/x",
        "$SYS/#",
        iot_hub.inputs_subscribe("cam-2", "ova"),
        iot_hub.METHODS_SUBSCRIBE,
        iot_hub.inputs_subscribe("cam-1", "ova"),
    )
    only_refused = await device.subscribe("#", "$SYS/#", packet_id=2)

    assert list(codes) == [REFUSED, REFUSED, REFUSED, REFUSED, 1, 1]
    assert list(only_refused) == [REFUSED, REFUSED]
    assert await device.ping()


async def test_publishing_to_a_peers_topic_disconnects_and_delivers_nothing(
    identities: InMemoryIdentities, open_client: OpenClient, open_service: OpenService
) -> None:
    me, peer = identities.add("cam-1", "ova"), identities.add("cam-2", "ova")
    peer_device = await open_client()
    assert await peer_device.connect(identities.connect(peer)) == 0
    await peer_device.subscribe(iot_hub.inputs_subscribe("cam-2", "ova"))
    service = await open_service("watcher")
    await service.subscribe(namespace.service_filter("#"))
    device = await open_client()
    assert await device.connect(identities.connect(me)) == 0

    await device.publish(iot_hub.input_topic("cam-2", "ova", "in", {}), b"evil")
    closed = await device.closed(within=2)
    attacker = await open_client()
    assert await attacker.connect(identities.connect(me)) == 0
    await attacker.publish(iot_hub.events_topic("cam-2", "ova", {}), b"evil")

    assert closed
    assert await attacker.closed(within=2)
    assert await peer_device.no_message(within=0.3)
    assert await service.no_message(within=0.1)
    assert await peer_device.ping()


async def test_mqtt5_works_through_mosquitto_and_the_embedded_broker_answers_unsupported_version(
    broker: BrokerEndpoint, identities: InMemoryIdentities, open_client: OpenClient, open_service: OpenService
) -> None:
    module = identities.add("v5-edge", "ova")
    connect = replace(
        identities.connect(module, level=codec.V5), properties=[(props.TOPIC_ALIAS_MAXIMUM, 10)]
    )
    device = await open_client()
    device.level = codec.V5
    await device.send(codec.encode_connect(connect))
    connack = await device.expect(PacketType.CONNACK)
    if codec.V5 not in broker.levels:
        assert codec.connack_code(connack) == 0x84
        assert await device.closed(within=2)
        return
    assert codec.connack_code(connack) == 0
    assert props.find(props.decode(connack.body, 2)[0], props.TOPIC_ALIAS_MAXIMUM) is None
    assert await device.subscribe(iot_hub.METHODS_SUBSCRIBE) == b"\x01"
    service = await open_service("v5-service")
    await service.publish(namespace.to_broker(module, iot_hub.method_request_topic("m", "9")), b"{}")
    assert (await device.message()).topic == iot_hub.method_request_topic("m", "9")


@pytest.mark.parametrize("broker", ["mosquitto"], indirect=True)  # the embedded one refuses MQTT 5
async def test_an_mqtt5_topic_alias_is_refused_with_reason_0x94(
    identities: InMemoryIdentities, open_client: OpenClient
) -> None:
    module = identities.add("alias-edge", "ova")
    device = await open_client()
    assert await device.connect(identities.connect(module, level=codec.V5)) == 0
    topic = iot_hub.events_topic("alias-edge", "ova", {})
    publish = codec.Publish(topic, b"{}", properties=[(props.TOPIC_ALIAS, 1)])

    await device.send(codec.encode_publish(publish, codec.V5))

    disconnect = await device.expect(PacketType.DISCONNECT)
    assert disconnect.body == b"\x94"
    assert await device.closed(within=2)


@pytest.mark.parametrize("broker", ["mosquitto"], indirect=True)
async def test_paho_mqtt5_answers_a_method_through_the_gateway(
    identities: InMemoryIdentities, gateway: Gateway, open_service: OpenService
) -> None:
    module = identities.add("paho5", "ova")
    service = await open_service("paho-service")
    await service.subscribe(namespace.service_filter("$iothub/methods/res/#"))
    connected, subscribed = threading.Event(), threading.Event()
    client = paho.Client(client_id=module.client_id, protocol=paho.MQTTv5)
    client.username_pw_set(iot_hub.username(identities.host, "paho5", "ova"), identities.token(module))
    client.on_connect = lambda c, _u, _f, code, _p: connected.set() if code == 0 else None
    client.on_subscribe = lambda c, _u, _m, _codes, _p: subscribed.set()

    def answer(c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
        parsed = iot_hub.parse_method_request(message.topic)
        if parsed is not None:
            c.publish(iot_hub.method_response_topic(200, parsed[1]), b'{"answered": true}', qos=1)

    client.on_message = answer
    client.connect("127.0.0.1", gateway.port, keepalive=30)
    client.loop_start()
    try:
        assert await asyncio.to_thread(connected.wait, 5)
        client.subscribe(iot_hub.METHODS_SUBSCRIBE, qos=1)
        assert await asyncio.to_thread(subscribed.wait, 5)
        await service.publish(namespace.to_broker(module, iot_hub.method_request_topic("ping", "42")), qos=1)
        response = await service.message()
    finally:
        client.disconnect()
        client.loop_stop()
    assert namespace.from_broker(response.topic) == (module, iot_hub.method_response_topic(200, "42"))
    assert response.payload == b'{"answered": true}'
