"""``HubEndpoint``: which host and port a module connects to, and the identity it presents there.

IoT Hub speaks MQTT over TLS on port 8883. ``HostName`` is written into the SAS token's ``sr``
and the MQTT user name exactly as given; ``HostName=host:port`` is an ova extension that also
picks the port (an ova hub or a broker on another port). ``GatewayHostName`` (IoT Edge) names
the edge hub to connect to instead, the identity staying the IoT Hub's.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from ova.contracts import iot_hub

MQTT_TLS_PORT = 8883


@dataclass(frozen=True)
class HubEndpoint:
    host_name: str
    """``HostName`` as written (the ``sr`` and user name use it)."""
    connect_host: str
    port: int
    device_id: str
    module_id: str

    @classmethod
    def from_connection_string(cls, connection: iot_hub.ConnectionString) -> HubEndpoint:
        """Raises ``ConnectionStringError`` when the string does not name a module."""
        if not connection.device_id or not connection.module_id:
            raise iot_hub.ConnectionStringError("A module connection string needs DeviceId and ModuleId.")
        return cls.build(
            connection.host_name,
            connection.device_id,
            connection.module_id,
            gateway=connection.gateway_host_name,
        )

    @classmethod
    def build(
        cls, host_name: str, device_id: str, module_id: str, *, gateway: str | None = None
    ) -> HubEndpoint:
        for identity in (device_id, module_id):
            if not iot_hub.IDENTITY_ID.match(identity):
                raise iot_hub.ConnectionStringError("DeviceId and ModuleId must be IoT Hub identity names.")
        host, port = split_host_port(gateway or host_name)
        return cls(
            host_name=host_name, connect_host=host, port=port, device_id=device_id, module_id=module_id
        )

    @property
    def client_id(self) -> str:
        return iot_hub.client_id(self.device_id, self.module_id)

    @property
    def username(self) -> str:
        return iot_hub.username(self.host_name, self.device_id, self.module_id)

    @property
    def sas_resource(self) -> str:
        return iot_hub.sas_resource(self.host_name, self.device_id, self.module_id)


def split_host_port(text: str) -> tuple[str, int]:
    """``host`` → (host, 8883); ``host:port`` or ``[v6]:port`` → (host, port)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""
    if not port:
        return host, MQTT_TLS_PORT
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise iot_hub.ConnectionStringError("HostName's port must be a number from 1 to 65535.")
    return host, int(port)


def tls_context(ca_file: Path | None = None, ca_pem: str | None = None) -> ssl.SSLContext:
    """A client context verifying the hub: the system trust unless a CA file or PEM is given; TLS ≥ 1.2."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None, cadata=ca_pem)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
