"""Messages flow through the gateway: device-to-cloud to the hub's services, methods to one device."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from ova.contracts import iot_hub
from ova.hub import namespace
from ova.hub.brokers import BrokerEndpoint
from ova.hub.mqtt import codec
from ova.hub.mqtt.codec import PacketType
from support.hub_identities import InMemoryIdentities
from support.mqtt_wire import WireClient

OpenClient = Callable[[], Awaitable[WireClient]]
OpenService = Callable[[str], Awaitable[WireClient]]


async def test_device_to_cloud_message_reaches_a_service_subscriber(
    identities: InMemoryIdentities, open_client: OpenClient, open_service: OpenService
) -> None:
    module = identities.add("edge-1", "ova")
    service = await open_service("events")
    events_filter = namespace.service_filter("devices/+/modules/+/messages/events/#")
    assert await service.subscribe(events_filter) == b"\x01"
    device = await open_client()
    assert await device.connect(identities.connect(module)) == 0

    topic = iot_hub.events_topic("edge-1", "ova", {"$.on": "inferences"})
    await device.publish(topic, b'{"n": 1}', qos=1, packet_id=7)
    puback = await device.expect(PacketType.PUBACK)

    message = await service.message()
    assert message.payload == b'{"n": 1}'
    assert namespace.from_broker(message.topic) == (module, topic)
    assert puback.body == b"\x00\x07"


async def test_a_method_request_reaches_only_its_device_and_the_answer_comes_back(
    identities: InMemoryIdentities, open_client: OpenClient, open_service: OpenService
) -> None:
    target, other = identities.add("cam-a", "ova"), identities.add("cam-b", "ova")
    devices: list[WireClient] = []
    for identity in (target, other):
        device = await open_client()
        assert await device.connect(identities.connect(identity)) == 0
        assert await device.subscribe(iot_hub.METHODS_SUBSCRIBE, qos=0) == b"\x00"
        devices.append(device)
    service = await open_service("methods")
    await service.subscribe(namespace.service_filter("$iothub/methods/res/#"), qos=0)

    request = iot_hub.method_request_topic("livePipelineList", "1")
    await service.publish(namespace.to_broker(target, request), b'{"@apiVersion": "1.1"}')

    received = await devices[0].message()
    assert received.topic == request
    assert await devices[1].no_message(within=0.5)
    await devices[0].publish(iot_hub.method_response_topic(200, "1"), b'{"value": []}')
    answer = await service.message()
    assert namespace.from_broker(answer.topic) == (target, iot_hub.method_response_topic(200, "1"))
    assert answer.payload == b'{"value": []}'


async def test_ping_passes_through_to_the_broker(
    identities: InMemoryIdentities, open_client: OpenClient
) -> None:
    device = await open_client()
    assert await device.connect(identities.connect(identities.add("pinger"))) == 0
    assert await device.ping()


async def test_the_broker_admits_only_the_hubs_internal_credential(broker: BrokerEndpoint) -> None:
    codes = []
    for username, password in [(broker.username, b"wrong"), ("intruder", b"x"), (None, None)]:
        client = await WireClient.open(broker.port)
        codes.append(await client.connect(codec.Connect("intruder", username=username, password=password)))
        await client.close()
    assert all(code != 0 for code in codes)


async def test_a_second_connection_of_one_identity_takes_over_the_first(
    identities: InMemoryIdentities, open_client: OpenClient, open_service: OpenService
) -> None:
    identity = identities.add("twice")
    first, second = await open_client(), await open_client()
    assert await first.connect(identities.connect(identity)) == 0
    assert await second.connect(identities.connect(identity)) == 0
    assert await first.closed(within=3)
    await second.subscribe(iot_hub.METHODS_SUBSCRIBE)
    service = await open_service("caller")
    await service.publish(namespace.to_broker(identity, iot_hub.method_request_topic("m", "1")))
    assert (await second.message()).topic == iot_hub.method_request_topic("m", "1")


async def test_a_device_will_reaches_the_services_and_a_foreign_will_is_refused(
    identities: InMemoryIdentities, open_client: OpenClient, open_service: OpenService
) -> None:
    identity, peer = identities.add("mortal"), identities.add("peer")
    service = await open_service("wills")
    await service.subscribe(namespace.service_filter("devices/+/messages/events/#"))
    will_topic = iot_hub.events_topic("mortal", None, {"state": "gone"})
    device = await open_client()
    foreign = await open_client()
    will = codec.Will(will_topic, b"gone", qos=1)

    assert await device.connect(replace(identities.connect(identity), will=will)) == 0
    refused = await foreign.connect(replace(identities.connect(peer), will=will))
    await device.close()

    message = await service.message()
    assert namespace.from_broker(message.topic) == (identity, will_topic)
    assert message.payload == b"gone"
    assert refused == 5


async def test_a_device_cannot_leave_retained_messages_on_the_broker(
    identities: InMemoryIdentities, open_client: OpenClient, open_service: OpenService
) -> None:
    device = await open_client()
    assert await device.connect(identities.connect(identities.add("hoarder"))) == 0
    for index in range(3):
        topic = iot_hub.events_topic("hoarder", None, {"n": str(index)})
        await device.send(
            codec.encode_publish(codec.Publish(topic, b"kept?", 1, index + 1, retain=True), codec.V311)
        )
        await device.expect(PacketType.PUBACK)

    late_subscriber = await open_service("late")
    await late_subscriber.subscribe(namespace.service_filter("devices/+/messages/events/#"))

    assert await late_subscriber.no_message(within=0.5)
