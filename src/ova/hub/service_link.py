"""The hub services' own MQTT connection to the broker, subscribed across every identity.

One ``gmqtt`` client (MQTT 3.1.1, TCP_NODELAY, the hub's internal broker credential) subscribes
with ``namespace.service_filter`` to what devices send the services: method responses, twin
requests and device-to-cloud messages. The identity of a message is the namespace prefix of its
broker topic, which only the gateway writes (devices cannot name another identity's topics), so
handlers trust it. Each message goes to the one handler whose topic grammar it matches;
anything else is dropped. Handlers run as tasks; a failing one is logged, never fatal.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import ssl
from dataclasses import dataclass
from typing import Any, Protocol

from gmqtt import Client, Subscription  # type: ignore[import-untyped]
from gmqtt.mqtt.constants import MQTTv311  # type: ignore[import-untyped]

from ova.contracts import iot_hub
from ova.hub.errors import BrokerUnavailable
from ova.hub.namespace import Identity, from_broker, service_filter

log = logging.getLogger(__name__)
FILTERS = (
    "$iothub/methods/res/#",
    "$iothub/twin/GET/#",
    "$iothub/twin/PATCH/properties/reported/#",
    "devices/#",
)
CONNECT_TIMEOUT_S = 10.0


class Publisher(Protocol):
    """Sends one message to a broker topic (QoS 1)."""

    async def publish(self, topic: str, payload: bytes) -> None: ...


class ServiceHandlers(Protocol):
    """What the services do with what devices send them (``ova.hub.runtime`` wires it)."""

    async def method_response(self, identity: Identity, status: int, rid: str, payload: bytes) -> None: ...

    async def twin_request(self, identity: Identity, kind: str, rid: str, payload: bytes) -> None: ...

    async def device_message(
        self, identity: Identity, properties: dict[str, str], payload: bytes
    ) -> None: ...


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: ssl.SSLContext | None = None
    """TLS to the broker (``mqtts://``); None for plain TCP."""

    def __repr__(self) -> str:  # never print the password
        return f"BrokerAddress(host={self.host!r}, port={self.port})"


class ServiceLink:
    """The services' connection to the broker; also their ``Publisher``."""

    def __init__(self, broker: BrokerAddress, handlers: ServiceHandlers) -> None:
        self._broker = broker
        self._handlers = handlers
        self._client = Client(f"ova-hub-services-{secrets.token_hex(6)}", clean_session=True)
        self._client.on_message = self._on_message
        self._client.on_connect = self._on_connect
        self._tasks: set[asyncio.Task[None]] = set()
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        if self._broker.username is not None:
            self._client.set_auth_credentials(self._broker.username, self._broker.password)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                await self._client.connect(
                    self._broker.host,
                    self._broker.port,
                    ssl=self._broker.tls or False,
                    version=MQTTv311,
                    keepalive=30,
                )
                _set_nodelay(self._client)
                await self._subscribed.wait()
        except (OSError, TimeoutError) as error:
            raise BrokerUnavailable(
                f"The hub's broker at {self._broker.host}:{self._broker.port} is unreachable."
            ) from error

    async def close(self) -> None:
        if self._client.is_connected:
            await self._client.disconnect()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def publish(self, topic: str, payload: bytes) -> None:
        self._client.publish(topic, payload, qos=1)

    def _on_connect(self, client: Any, flags: Any, rc: Any, properties: Any) -> None:
        client.subscribe([_subscription(service_filter(topic)) for topic in FILTERS])
        _set_nodelay(client)
        self._subscribed.set()

    async def _on_message(self, client: Any, topic: str, payload: bytes, qos: int, properties: Any) -> int:
        task = asyncio.create_task(self._dispatch(topic, bytes(payload)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return 0

    async def _dispatch(self, broker_topic: str, payload: bytes) -> None:
        parsed = from_broker(broker_topic) if isinstance(broker_topic, str) else None
        if parsed is None:
            return
        identity, topic = parsed
        try:
            if (response := iot_hub.parse_method_response(topic)) is not None:
                await self._handlers.method_response(identity, response[0], response[1], payload)
            elif (request := iot_hub.parse_twin_request(topic)) is not None:
                await self._handlers.twin_request(identity, request[0], request[1], payload)
            elif (
                bag := iot_hub.parse_events_topic(topic, identity.device_id, identity.module_id)
            ) is not None:
                await self._handlers.device_message(identity, bag, payload)
        except Exception:
            log.exception("hub service failed on a message of %s", identity)


def _subscription(topic_filter: str) -> Any:
    return Subscription(topic_filter, qos=1)


def _set_nodelay(client: Any) -> None:
    connection = getattr(client, "_connection", None)
    transport = getattr(connection, "_transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
