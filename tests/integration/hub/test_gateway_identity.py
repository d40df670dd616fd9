"""Who may connect: identity binding (M1), live revocation (M3), token expiry and key rotation (M5)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import paho.mqtt.client as paho  # type: ignore[import-untyped]

from ova.contracts import iot_hub
from ova.hub import namespace
from ova.hub.brokers import BrokerEndpoint
from ova.hub.gateway import Gateway
from ova.hub.mqtt import codec
from ova.hub.mqtt.codec import PacketType
from ova.hub.namespace import Identity
from ova.hub.settings import HubMqttSettings
from support.hub_identities import InMemoryIdentities
from support.mqtt_wire import WireClient

OpenClient = Callable[[], Awaitable[WireClient]]
OpenService = Callable[[str], Awaitable[WireClient]]
NOT_AUTHORIZED_V311 = 5


def _paho_connect(port: int, client_id: str, username: str, password: str) -> int | None:
    """paho-mqtt 1.6.1's CONNACK return code for one CONNECT (None when none came in 5 s)."""
    codes: list[int] = []
    client = paho.Client(client_id=client_id, protocol=paho.MQTTv311)
    client.username_pw_set(username, password)
    client.on_connect = lambda _c, _u, _f, rc: codes.append(rc)
    client.connect("127.0.0.1", port, keepalive=30)
    deadline = time.monotonic() + 5
    while not codes and time.monotonic() < deadline:
        client.loop(timeout=0.05)
    client.disconnect()
    client.loop(timeout=0.05)
    return codes[0] if codes else None


async def test_the_sdk_wire_format_connects_and_a_borrowed_client_id_is_not_authorized(
    identities: InMemoryIdentities, gateway: Gateway
) -> None:
    alice, bob = identities.add("alice"), identities.add("bob")
    alice_user = iot_hub.username(identities.host, "alice")
    own = await asyncio.to_thread(_paho_connect, gateway.port, "alice", alice_user, identities.token(alice))
    borrowed = await asyncio.to_thread(
        _paho_connect, gateway.port, "bob", alice_user, identities.token(alice)
    )
    assert own == 0
    assert borrowed == NOT_AUTHORIZED_V311
    assert gateway.connections_of(bob) == 0


async def test_every_mismatch_of_client_id_username_and_token_is_refused(
    identities: InMemoryIdentities, open_client: OpenClient
) -> None:
    alice, bob = identities.add("alice"), identities.add("bob", "ova")
    good = identities.connect(alice)
    variants = [
        replace(good, client_id="bob/ova"),
        replace(good, username=iot_hub.username(identities.host, "bob", "ova")),
        replace(good, password=identities.token(bob).encode()),
        identities.connect(alice, of=bob),
        identities.connect(alice, ttl=-10),
        replace(good, password=b"not a token"),
        replace(good, username=None, password=None),
    ]
    codes = []
    for variant in variants:
        client = await open_client()
        codes.append(await client.connect(variant))
    assert codes == [NOT_AUTHORIZED_V311] * len(variants)
    client = await open_client()
    assert await client.connect(good) == 0


async def test_a_revoked_identity_is_cut_off_at_once_and_cannot_resume_its_session(
    identities: InMemoryIdentities, gateway: Gateway, open_client: OpenClient, open_service: OpenService
) -> None:
    module = identities.add("edge-7", "ova")
    device = await open_client()
    assert await device.connect(identities.connect(module, clean=False)) == 0
    await device.subscribe(iot_hub.METHODS_SUBSCRIBE)

    identities.revoke(module)
    assert await gateway.disconnect(module) == 1
    assert gateway.connections_of(module) == 0
    assert await device.closed(within=2)

    service = await open_service("methods")
    await service.publish(namespace.to_broker(module, iot_hub.method_request_topic("x", "1")), qos=1)
    await service.expect(PacketType.PUBACK)
    resumed = await open_client()
    assert await resumed.connect(identities.connect(module, clean=False)) == NOT_AUTHORIZED_V311
    assert await resumed.no_message(within=0.3)
    assert gateway.connections_of(module) == 0


async def test_the_connection_closes_when_its_token_expires_and_the_other_key_reconnects(
    identities: InMemoryIdentities, open_client: OpenClient
) -> None:
    device_identity = identities.add("short-lived")
    device = await open_client()
    started = time.monotonic()
    assert await device.connect(identities.connect(device_identity, ttl=2)) == 0

    assert await device.closed(within=5)
    assert time.monotonic() - started < 4
    fresh = await open_client()
    assert await fresh.connect(identities.connect(device_identity, key="secondary")) == 0
    assert await fresh.ping()


async def test_rotating_a_key_keeps_live_connections_and_refuses_the_old_key_afterwards(
    identities: InMemoryIdentities, open_client: OpenClient
) -> None:
    identity = identities.add("rotating")
    old_connect = identities.connect(identity)
    live = await open_client()
    assert await live.connect(old_connect) == 0

    identities.rotate_primary(identity)

    assert await live.ping()
    late = await open_client()
    assert await late.connect(old_connect) == NOT_AUTHORIZED_V311
    renewed = await open_client()
    assert await renewed.connect(identities.connect(identity)) == 0


async def test_ending_a_session_discards_what_the_broker_queued_for_it(
    identities: InMemoryIdentities, gateway: Gateway, open_client: OpenClient, open_service: OpenService
) -> None:
    module = identities.add("deleted", "ova")
    device = await open_client()
    assert await device.connect(identities.connect(module, clean=False)) == 0
    await device.subscribe(iot_hub.METHODS_SUBSCRIBE)
    await device.close()
    service = await open_service("queue")
    await service.publish(namespace.to_broker(module, iot_hub.method_request_topic("stale", "1")), qos=1)
    await service.expect(PacketType.PUBACK)

    await gateway.end_session(module)

    resumed = await open_client()
    assert await resumed.connect(identities.connect(module, clean=False)) == 0
    assert await resumed.no_message(within=0.5)


class SlowRegistry:
    """The in-memory registry, holding each check until ``release`` is set."""

    def __init__(self, identities: InMemoryIdentities) -> None:
        self.identities = identities
        self.checking, self.release = asyncio.Event(), asyncio.Event()

    async def authenticate(self, client_id: str, username: str, password: str, peer: str) -> Identity:
        self.checking.set()
        await self.release.wait()
        return await self.identities.authenticate(client_id, username, password, peer)


@contextlib.asynccontextmanager
async def connect_being_checked(
    identities: InMemoryIdentities, broker: BrokerEndpoint, clients: list[WireClient], identity: Identity
) -> AsyncIterator[tuple[Gateway, SlowRegistry, WireClient]]:
    """A gateway whose registry is still checking ``identity``'s CONNECT."""
    registry = SlowRegistry(identities)
    gateway = Gateway(HubMqttSettings(port=0), broker, registry)
    await gateway.start()
    try:
        client = await WireClient.open(gateway.port)
        clients.append(client)
        await client.send(codec.encode_connect(identities.connect(identity)))
        await asyncio.wait_for(registry.checking.wait(), 5)
        yield gateway, registry, client
    finally:
        await gateway.stop()


async def test_revoking_while_the_registry_is_still_checking_refuses_the_connect(
    identities: InMemoryIdentities, broker: BrokerEndpoint, clients: list[WireClient]
) -> None:
    identity = identities.add("racing")
    async with connect_being_checked(identities, broker, clients, identity) as (gateway, registry, client):
        assert await gateway.disconnect(identity) == 1
        registry.release.set()
        connack = await client.expect(PacketType.CONNACK)
    assert codec.connack_code(connack) == NOT_AUTHORIZED_V311


async def test_a_connect_still_being_checked_does_not_count_as_online(
    identities: InMemoryIdentities, broker: BrokerEndpoint, clients: list[WireClient]
) -> None:
    identity = identities.add("pending")
    async with connect_being_checked(identities, broker, clients, identity) as (gateway, registry, client):
        while_checking = gateway.connections_of(identity)
        registry.release.set()
        await client.expect(PacketType.CONNACK)
        after = gateway.connections_of(identity)
    assert (while_checking, after) == (0, 1)
