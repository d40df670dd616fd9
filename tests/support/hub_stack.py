"""A real cloud with its device hub enabled, served over TLS on its own loopback address 127.0.0.N.

The official device SDK always connects to port 8883 of the connection string's HostName, so
each stack binds the gateway to 8883 on a loopback address of its own (127.0.0.2 to 127.0.0.30,
the first free one in a random order) and the cloud's HTTPS listener to a free port there;
the test certificate covers that address. ``service_connection_string`` is the
``HostName=127.0.0.N:{port};SharedAccessKeyName=…`` string ``azure-iot-hub`` takes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ova.cloud.runtime import Cloud, build
from ova.cloud.settings import CloudSettings, ListenerSettings
from ova.hub.brokers import BrokerEndpoint
from ova.hub.runtime import Hub
from ova.hub.service_auth import Right
from ova.hub.settings import HubMqttSettings, HubSettings
from support.listeners import serving
from support.tls import TlsFiles, write_tls_files

MQTT_TLS_PORT = 8883


@dataclass
class HubStack:
    cloud: Cloud
    address: str
    https_port: int
    tls: TlsFiles
    service_connection_string: str

    @property
    def hub(self) -> Hub:
        assert self.cloud.hub is not None
        return self.cloud.hub

    @property
    def base_url(self) -> str:
        return f"https://{self.address}:{self.https_port}"

    def module_connection_string(self, device_id: str, module_id: str, key: str) -> str:
        return f"HostName={self.address};DeviceId={device_id};ModuleId={module_id};SharedAccessKey={key}"


def free_loopback_address() -> str:
    """A 127.0.0.N whose port 8883 is free now."""
    candidates = list(range(2, 31))
    random.shuffle(candidates)
    for n in candidates:
        address = f"127.0.0.{n}"
        with contextlib.closing(socket.socket()) as probe:
            try:
                probe.bind((address, MQTT_TLS_PORT))
            except OSError:
                continue
            return address
    raise RuntimeError("no loopback address 127.0.0.2-30 has port 8883 free")


def free_port_on(address: str) -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def hub_stack(
    tmp_path: Path, broker: BrokerEndpoint | None = None, *, known_port: bool = False, **hub_fields: Any
) -> AsyncIterator[HubStack]:
    """A started stack; ``broker`` an external one (e.g. Mosquitto), else the embedded broker.

    ``known_port``: the HTTPS listener binds a port chosen beforehand instead of port 0, so the URLs
    the cloud hands out (client API, archive, upload SAS, a provisioning token's issuer) name it."""
    address = free_loopback_address()
    tls = write_tls_files(tmp_path / "tls", extra_ips=(address,))
    external: dict[str, Any] = {}
    if broker is not None:
        external = {
            "broker": f"mqtt://{broker.host}:{broker.port}",
            "broker_username": broker.username,
            "broker_password": broker.password,
        }
    mqtt = HubMqttSettings(
        **external,
        host=address,
        port=MQTT_TLS_PORT,
        tls_cert=tls.server_cert,
        tls_key=tls.server_key,
        flap_connects_per_minute=1000,
        flap_ip_connects_per_minute=1000,
    )
    settings = CloudSettings(
        data_dir=tmp_path / "data",
        listeners=[
            ListenerSettings(
                host=address,
                port=free_port_on(address) if known_port else 0,
                tls_cert=tls.server_cert,
                tls_key=tls.server_key,
            )
        ],
        hub=HubSettings(enabled=True, host_name=address, mqtt=mqtt, **hub_fields),
    )
    cloud = await build(settings)
    try:
        await cloud.start()
        async with serving(cloud) as ports:
            assert cloud.hub is not None
            policy = await cloud.hub.service_auth.create_policy("iothubowner", set(Right))
            service = dataclasses.replace(policy, host_name=f"{address}:{ports[0]}")
            yield HubStack(cloud, address, ports[0], tls, str(service))
    finally:
        await cloud.close()
