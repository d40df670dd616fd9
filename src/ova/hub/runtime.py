"""The device hub as one object: broker, gateway, identity registry, twins, methods and messages.

``Hub`` is built by the process that runs it (``ova cloud``'s composition root) with the shared
store's sessions and a ``KeyWrapper``; its ``app`` is the ``hub`` endpoint family. ``start``
starts the broker (embedded amqtt, or connects to the external one), the services' broker link
and then the gateway; ``close`` undoes it in reverse order. The registry revokes through the
gateway (``Gateway.disconnect``) and the direct-method invoker asks the gateway who is
connected.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ova.common.clock import Clock
from ova.hub.brokers import BrokerEndpoint, EmbeddedBroker, external_endpoint
from ova.hub.gateway import Gateway
from ova.hub.messages import MessageStore
from ova.hub.methods import MethodInvoker
from ova.hub.namespace import Identity
from ova.hub.registry import Registry
from ova.hub.service_api import HubServices, create_app
from ova.hub.service_auth import ServiceAuthenticator
from ova.hub.service_link import BrokerAddress, ServiceLink
from ova.hub.settings import HubSettings
from ova.hub.store import KeyWrapper
from ova.hub.twins import TwinService


class Hub:
    """The hub's parts, built once; ``start``/``close`` run its network side."""

    def __init__(
        self,
        settings: HubSettings,
        sessions: async_sessionmaker[AsyncSession],
        keys: KeyWrapper,
        clock: Clock,
    ) -> None:
        self.settings = settings
        lifetime = settings.max_token_lifetime_seconds
        self.registry = Registry(sessions, keys, clock, settings.host_name, max_token_lifetime_s=lifetime)
        self.service_auth = ServiceAuthenticator(
            sessions, keys, clock, settings.host_name, max_token_lifetime_s=lifetime
        )
        self.twins = TwinService(sessions, self.registry, self)
        self.methods = MethodInvoker(
            self,
            self.is_connected,
            max_timeout_s=settings.max_method_timeout_seconds,
            max_pending=settings.max_pending_methods,
        )
        self.messages = MessageStore(
            sessions,
            clock,
            max_per_identity=settings.message_retention_per_identity,
            retention_days=settings.message_retention_days,
            max_body_bytes=settings.mqtt.max_packet_bytes,
            sink_path=settings.message_sink,
        )
        self.app: FastAPI = create_app(
            HubServices(
                self.service_auth, self.registry, self.twins, self.methods, self.messages, self.is_connected
            )
        )
        self.gateway: Gateway | None = None
        self._embedded: EmbeddedBroker | None = None
        self._link: ServiceLink | None = None

    async def start(self) -> None:
        try:
            endpoint = await self._start_broker()
            password = endpoint.password.get_secret_value()
            address = BrokerAddress(endpoint.host, endpoint.port, endpoint.username, password, endpoint.tls)
            self._link = ServiceLink(address, self)
            await self._link.start()
            self.gateway = Gateway(self.settings.mqtt, endpoint, self.registry)
            await self.gateway.start()
            self.registry.revoker = self.gateway.disconnect
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        self.registry.revoker = None
        if self.gateway is not None:
            gateway, self.gateway = self.gateway, None
            await gateway.stop()
        if self._link is not None:
            link, self._link = self._link, None
            await link.close()
        if self._embedded is not None:
            embedded, self._embedded = self._embedded, None
            await embedded.stop()

    @property
    def mqtt_port(self) -> int:
        """The gateway's bound port (after ``start``)."""
        return self.gateway.port if self.gateway is not None else 0

    async def _start_broker(self) -> BrokerEndpoint:
        if self.settings.mqtt.external_broker is not None:
            return external_endpoint(self.settings.mqtt)
        self._embedded = EmbeddedBroker()
        return await self._embedded.start()

    # What the services need from the hub as a whole

    def is_connected(self, identity: Identity) -> bool:
        return self.gateway is not None and self.gateway.connections_of(identity) > 0

    async def publish(self, topic: str, payload: bytes) -> None:
        """Publish to the broker; before ``start`` nothing is connected, so nothing is sent (a device
        reads its twin with GET when it connects)."""
        if self._link is not None:
            await self._link.publish(topic, payload)

    async def method_response(self, identity: Identity, status: int, rid: str, payload: bytes) -> None:
        await self.methods.on_response(identity, status, rid, payload)

    async def twin_request(self, identity: Identity, kind: str, rid: str, payload: bytes) -> None:
        await self.twins.on_request(identity, kind, rid, payload)

    async def device_message(self, identity: Identity, properties: dict[str, str], payload: bytes) -> None:
        await self.messages.on_message(identity, properties, payload)
