"""Bad packets and limits (M7), flapping (M6), TLS: the offender is cut off, everyone else carries on."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

from ova.contracts import iot_hub
from ova.hub.brokers import BrokerEndpoint
from ova.hub.gateway import Gateway
from ova.hub.mqtt import codec
from ova.hub.namespace import Identity
from ova.hub.settings import HubMqttSettings
from support.hub_identities import InMemoryIdentities
from support.mqtt_wire import WireClient
from support.tls import legacy_client_context, legacy_server_handshake, write_tls_files

OpenClient = Callable[[], Awaitable[WireClient]]
StartGateway = Callable[..., Awaitable[Gateway]]
LIMIT = 256 * 1024
RATE_EXCEEDED_V311 = SERVER_UNAVAILABLE_V311 = 3


async def _connected(identities: InMemoryIdentities, open_client: OpenClient, device_id: str) -> WireClient:
    client = await open_client()
    assert await client.connect(identities.connect(identities.add(device_id))) == 0
    return client


async def test_a_packet_over_256_kib_disconnects_its_sender_only(
    identities: InMemoryIdentities, open_client: OpenClient
) -> None:
    bystander = await _connected(identities, open_client, "bystander")
    sender = await _connected(identities, open_client, "sender")
    topic = iot_hub.events_topic("sender", None, {})

    await sender.publish(topic, b"x" * (LIMIT - 1024), qos=1)
    await sender.expect(codec.PacketType.PUBACK)
    await sender.publish(topic, b"x" * (LIMIT + 1))

    assert await sender.closed(within=3)
    assert await bystander.ping()
    assert await _connected(identities, open_client, "newcomer")


async def test_a_fifth_remaining_length_byte_disconnects(
    identities: InMemoryIdentities, open_client: OpenClient
) -> None:
    bystander = await _connected(identities, open_client, "bystander")
    sender = await _connected(identities, open_client, "sender")

    await sender.send(b"\x30\xff\xff\xff\xff\x01")

    assert await sender.closed(within=3)
    assert await bystander.ping()


async def test_qos_2_from_a_device_disconnects(
    identities: InMemoryIdentities, open_client: OpenClient
) -> None:
    bystander = await _connected(identities, open_client, "bystander")
    sender = await _connected(identities, open_client, "sender")

    await sender.publish(iot_hub.events_topic("sender", None, {}), qos=2, packet_id=3)

    assert await sender.closed(within=3)
    assert await bystander.ping()


async def test_silence_before_connect_and_after_keep_alive_is_cut(
    identities: InMemoryIdentities, start_gateway: StartGateway, clients: list[WireClient]
) -> None:
    gateway = await start_gateway(connect_timeout_seconds=0.3)
    mute = await WireClient.open(gateway.port)
    sleepy = await WireClient.open(gateway.port)
    clients += [mute, sleepy]
    assert await sleepy.connect(identities.connect(identities.add("sleepy"), keep_alive=1)) == 0

    assert await mute.closed(within=2)
    assert await sleepy.closed(within=3)


async def test_connections_over_the_maximum_are_closed_at_accept(
    identities: InMemoryIdentities, start_gateway: StartGateway, clients: list[WireClient]
) -> None:
    gateway = await start_gateway(max_connections=2)
    first, second = await WireClient.open(gateway.port), await WireClient.open(gateway.port)
    clients += [first, second]
    assert await first.connect(identities.connect(identities.add("one"))) == 0
    third = await WireClient.open(gateway.port)
    clients.append(third)

    assert await third.closed(within=2)
    assert await second.connect(identities.connect(identities.add("two"))) == 0
    assert gateway.open_connections == 2


async def test_a_flapping_client_id_is_banned_without_asking_the_registry(
    identities: InMemoryIdentities, start_gateway: StartGateway, clients: list[WireClient]
) -> None:
    gateway = await start_gateway(flap_connects_per_minute=30, flap_ban_seconds=60)
    identity = identities.add("flapper")
    codes = []
    for _ in range(40):
        client = await WireClient.open(gateway.port)
        codes.append(await client.connect(identities.connect(identity)))
        await client.close()
    other = await WireClient.open(gateway.port)
    clients.append(other)

    assert codes == [0] * 30 + [RATE_EXCEEDED_V311] * 10
    assert identities.calls == 30
    assert await other.connect(identities.connect(identities.add("calm"))) == 0


async def test_rotating_client_ids_from_one_address_gets_the_address_banned_for_a_while(
    identities: InMemoryIdentities, start_gateway: StartGateway, clients: list[WireClient]
) -> None:
    now = [1000.0]
    gateway = await start_gateway(flap_ip_connects_per_minute=20, flap_ban_seconds=60)
    gateway.flood_guard._clock = lambda: now[0]
    codes = []
    for index in range(25):
        client = await WireClient.open(gateway.port)
        codes.append(await client.connect(identities.connect(identities.add(f"rotating-{index}"))))
        await client.close()
    now[0] += 61
    after_ban = await WireClient.open(gateway.port)
    clients.append(after_ban)

    assert codes == [0] * 20 + [RATE_EXCEEDED_V311] * 5
    assert await after_ban.connect(identities.connect(identities.add("later"))) == 0
    assert len(gateway.flood_guard) <= 3 * 27


async def test_tls_1_2_is_served_and_tls_1_1_refused(
    identities: InMemoryIdentities, start_gateway: StartGateway, clients: list[WireClient], tmp_path: Path
) -> None:
    files = write_tls_files(tmp_path / "tls")
    gateway = await start_gateway(tls_cert=files.server_cert, tls_key=files.server_key)
    context = ssl.create_default_context(cafile=files.ca_cert)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    secure = await WireClient.open(gateway.port, tls=context)
    clients.append(secure)

    assert await secure.connect(identities.connect(identities.add("secure"))) == 0
    legacy = legacy_client_context(files.ca_cert)
    assert await asyncio.to_thread(legacy_server_handshake, files, legacy) in ("TLSv1", "TLSv1.1")
    refused = False
    try:
        client = await WireClient.open(gateway.port, tls=legacy)
        await client.close()
    except (ssl.SSLError, ConnectionError, asyncio.IncompleteReadError):
        refused = True
    assert refused


async def test_stopping_closes_every_connection_promptly(
    identities: InMemoryIdentities, start_gateway: StartGateway, clients: list[WireClient]
) -> None:
    gateway = await start_gateway(connect_timeout_seconds=30)
    idle, connected = await WireClient.open(gateway.port), await WireClient.open(gateway.port)
    clients += [idle, connected]
    assert await connected.connect(identities.connect(identities.add("running"))) == 0
    started = asyncio.get_running_loop().time()

    await gateway.stop()

    assert await idle.closed(within=2)
    assert await connected.closed(within=2)
    assert asyncio.get_running_loop().time() - started < 4


async def test_a_registry_that_does_not_answer_gets_server_unavailable(
    identities: InMemoryIdentities, broker: BrokerEndpoint, clients: list[WireClient]
) -> None:
    class StuckRegistry:
        async def authenticate(self, client_id: str, username: str, password: str, peer: str) -> Identity:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

    gateway = Gateway(HubMqttSettings(port=0, connect_timeout_seconds=0.5), broker, StuckRegistry())
    await gateway.start()
    try:
        client = await WireClient.open(gateway.port)
        clients.append(client)
        code = await client.connect(identities.connect(identities.add("waiting")))
    finally:
        await gateway.stop()
    assert code == SERVER_UNAVAILABLE_V311
