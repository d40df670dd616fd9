"""An external broker reached over TLS (``broker = mqtts://…``), here a Mosquitto with a TLS listener."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from ova.contracts import iot_hub
from ova.hub import namespace
from ova.hub.brokers import external_endpoint
from ova.hub.gateway import Gateway
from ova.hub.mqtt import codec
from ova.hub.settings import HubMqttSettings
from support.hub_identities import InMemoryIdentities
from support.mosquitto import MosquittoServer
from support.mqtt_wire import WireClient
from support.tls import TlsFiles, write_tls_files

SERVER_UNAVAILABLE_V311 = 3


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return write_tls_files(tmp_path / "tls")


@pytest.fixture
def tls_mosquitto(tmp_path: Path, tls: TlsFiles) -> Iterator[MosquittoServer]:
    server = MosquittoServer(tmp_path / "mosquitto", tls=tls)
    server.start()
    yield server
    server.stop()


async def _gateway(server: MosquittoServer, ca_file: Path, identities: InMemoryIdentities) -> Gateway:
    settings = HubMqttSettings(
        port=0,
        broker=f"mqtts://127.0.0.1:{server.port}",
        broker_password=server.password,
        broker_ca_file=ca_file,
    )
    gateway = Gateway(settings, external_endpoint(settings), identities)
    await gateway.start()
    return gateway


async def test_devices_reach_an_external_broker_over_tls(
    tls_mosquitto: MosquittoServer, tls: TlsFiles
) -> None:
    identities = InMemoryIdentities()
    gateway = await _gateway(tls_mosquitto, tls.ca_cert, identities)
    service = await WireClient.open(tls_mosquitto.port, tls=ssl.create_default_context(cafile=tls.ca_cert))
    device = await WireClient.open(gateway.port)
    try:
        password = tls_mosquitto.password.encode()
        assert await service.connect(codec.Connect("svc", username="ova-hub", password=password)) == 0
        await service.subscribe(namespace.service_filter("devices/+/messages/events/#"))
        identity = identities.add("far-away")
        assert await device.connect(identities.connect(identity)) == 0
        topic = iot_hub.events_topic("far-away", None, {})
        await device.publish(topic, b"over tls")
        message = await service.message()
    finally:
        await device.close()
        await service.close()
        await gateway.stop()
    assert namespace.from_broker(message.topic) == (identity, topic)
    assert message.payload == b"over tls"


async def test_a_broker_whose_certificate_is_not_trusted_is_never_spoken_to(
    tls_mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    other_ca = write_tls_files(tmp_path / "other").ca_cert
    identities = InMemoryIdentities()
    gateway = await _gateway(tls_mosquitto, other_ca, identities)
    device = await WireClient.open(gateway.port)
    try:
        code = await device.connect(identities.connect(identities.add("cautious")))
    finally:
        await device.close()
        await gateway.stop()
    assert code == SERVER_UNAVAILABLE_V311
