"""The hub's gateway in front of each broker: the embedded amqtt one and a real Mosquitto.

``broker`` is parametrized, so every gateway test runs against both. ``start_gateway`` builds a
gateway with test-friendly flap limits unless a test passes its own settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ova.hub.brokers import BrokerEndpoint, EmbeddedBroker
from ova.hub.gateway import Gateway
from ova.hub.settings import HubMqttSettings
from support.hub_identities import InMemoryIdentities
from support.mosquitto import MosquittoServer
from support.mqtt_wire import WireClient

StartGateway = Callable[..., Awaitable[Gateway]]


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoServer]:
    if not MosquittoServer.available():
        pytest.fail("mosquitto is not installed: apt-get install mosquitto (the README's test setup does).")
    server = MosquittoServer(tmp_path / "mosquitto")
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "mosquitto"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[BrokerEndpoint]:
    if request.param == "mosquitto":
        yield request.getfixturevalue("mosquitto").endpoint
        return
    embedded = EmbeddedBroker()
    endpoint = await embedded.start()
    yield endpoint
    await embedded.stop()


@pytest.fixture
def identities() -> InMemoryIdentities:
    return InMemoryIdentities()


@pytest.fixture
async def start_gateway(
    broker: BrokerEndpoint, identities: InMemoryIdentities
) -> AsyncIterator[StartGateway]:
    started: list[Gateway] = []

    async def start(**overrides: Any) -> Gateway:
        fields: dict[str, Any] = {
            "port": 0,
            "flap_connects_per_minute": 10_000,
            "flap_ip_connects_per_minute": 10_000,
        }
        gateway = Gateway(HubMqttSettings(**(fields | overrides)), broker, identities)
        await gateway.start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        await gateway.stop()


@pytest.fixture
async def gateway(start_gateway: StartGateway) -> Gateway:
    return await start_gateway()


@pytest.fixture
async def clients() -> AsyncIterator[list[WireClient]]:
    """Clients a test opens, closed after it."""
    opened: list[WireClient] = []
    yield opened
    for client in opened:
        await client.close()


@pytest.fixture
def open_client(gateway: Gateway, clients: list[WireClient]) -> Callable[[], Awaitable[WireClient]]:
    async def open_one() -> WireClient:
        client = await WireClient.open(gateway.port)
        clients.append(client)
        return client

    return open_one


@pytest.fixture
def open_service(broker: BrokerEndpoint, clients: list[WireClient]) -> Callable[[str], Awaitable[WireClient]]:
    """A hub service's client, connected straight to the broker with the internal credential."""
    from ova.hub.mqtt.codec import Connect

    async def open_one(client_id: str = "hub-service") -> WireClient:
        client = await WireClient.open(broker.port)
        clients.append(client)
        password = broker.password.get_secret_value().encode()
        code = await client.connect(Connect(client_id, username=broker.username, password=password))
        assert code == 0
        return client

    return open_one
