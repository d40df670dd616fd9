"""The hub's MQTT gateway: the listener devices and modules connect to, in front of the broker.

Each connection must send CONNECT within ``connect_timeout_seconds``; the gateway refuses it
(CONNACK, then close) when its client id, username or IP is banned for flapping
(``FloodGuard``; 3.1.1 rc 3 / v5 0x9F), when client id, username and SAS token do not name one
identity the ``DeviceAuthenticator`` accepts (rc 5 / 0x87), or when it is MQTT 5 and the broker
speaks only 3.1.1 (the embedded one: v5 0x84). Otherwise it opens one connection to the broker
for the identity (client id ``ova-hub/{d}/{m or $device}``, the hub's internal credential) and
proxies (``DeviceConnection``). ``disconnect(identity)`` closes an identity's connections at once
(revocation, key rotation); ``end_session(identity)`` also discards its broker session; a
connection closes by itself when its SAS token expires. TLS, when configured, is 1.2 or newer.
Every socket has TCP_NODELAY.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import replace

from ova.hub import connect_auth, namespace
from ova.hub.brokers import BrokerEndpoint
from ova.hub.connect_auth import Admission, DeviceAuthenticator
from ova.hub.device_connection import DeviceConnection, Streams
from ova.hub.errors import BrokerUnavailable, ConnectRefused, HubError, ProtocolViolation
from ova.hub.flood_guard import FloodGuard
from ova.hub.mqtt import codec
from ova.hub.mqtt import properties as props
from ova.hub.mqtt.codec import PacketType
from ova.hub.mqtt.reason_codes import (
    BAD_AUTHENTICATION_METHOD,
    CONNECTION_RATE_EXCEEDED,
    NOT_AUTHORIZED,
    SERVER_SHUTTING_DOWN,
    SERVER_UNAVAILABLE,
    SESSION_TAKEN_OVER,
    UNSUPPORTED_VERSION,
)
from ova.hub.namespace import Identity
from ova.hub.settings import HubMqttSettings

__all__ = ["DeviceAuthenticator", "Gateway", "upstream_client_id"]
log = logging.getLogger(__name__)
STOP_TIMEOUT_SECONDS = 5.0
MAX_CONNACK_BYTES = 1024


def _no_delay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def server_tls(settings: HubMqttSettings) -> ssl.SSLContext | None:
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.tls_cert, settings.tls_key)
    return context


def upstream_client_id(identity: Identity) -> str:
    """The broker client id of an identity's connection: ``ova-hub/{d}/{m or $device}``."""
    return identity.prefix.rstrip("/")


class Gateway:
    """The MQTT listener; ``start`` binds it, ``stop`` closes it and every connection."""

    def __init__(
        self,
        settings: HubMqttSettings,
        broker: BrokerEndpoint,
        authenticator: DeviceAuthenticator,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._broker = broker
        self._authenticator = authenticator
        self.flood_guard = FloodGuard(
            per_minute=settings.flap_connects_per_minute,
            ip_per_minute=settings.flap_ip_connects_per_minute,
            ban_seconds=settings.flap_ban_seconds,
            max_keys=settings.flap_tracked_keys,
            clock=clock,
        )
        self._server: asyncio.Server | None = None
        self._handlers: dict[asyncio.Task[None], Streams] = {}
        self._connections: dict[Identity, set[DeviceConnection]] = {}
        self.port = 0

    @property
    def open_connections(self) -> int:
        return len(self._handlers)

    async def start(self) -> None:
        tls = server_tls(self._settings)
        self._server = await asyncio.start_server(
            self._accept,
            self._settings.host,
            self._settings.listen_port,
            ssl=tls,
            ssl_handshake_timeout=self._settings.connect_timeout_seconds if tls else None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("MQTT gateway listening on %s:%d (TLS %s).", self._settings.host, self.port, bool(tls))

    async def stop(self) -> None:
        """Stop listening, close every connection (v5 devices get 0x8B) and wait for them, bounded."""
        if self._server is not None:
            self._server.close()
        admitted = set()
        for connections in list(self._connections.values()):
            for connection in connections:
                connection.revoke(SERVER_SHUTTING_DOWN)
                admitted.add(connection.device)
        for device in self._handlers.values():
            if device not in admitted:
                device.close()  # still before CONNECT or its answer
        handlers = set(self._handlers)
        if handlers:
            _, late = await asyncio.wait(handlers, timeout=STOP_TIMEOUT_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def disconnect(self, identity: Identity) -> int:
        """Close every connection of ``identity`` (one still being admitted will be refused) and
        wait, at most ``STOP_TIMEOUT_SECONDS``, until the live ones are closed; how many there were."""
        connections = set(self._connections.get(identity, set()))
        for connection in connections:
            connection.revoke()
        waits = [asyncio.create_task(c.ended.wait()) for c in connections if c.online]
        if waits:
            _, late = await asyncio.wait(waits, timeout=STOP_TIMEOUT_SECONDS)
            for task in late:
                task.cancel()
        return len(connections)

    async def end_session(self, identity: Identity) -> None:
        """Close ``identity``'s connections and discard its broker session (subscriptions, queued
        messages), so nothing stale reaches it should it ever be enabled again."""
        await self.disconnect(identity)
        upstream = await self._dial()
        timeout = self._settings.connect_timeout_seconds
        try:
            await upstream.send(codec.encode_connect(self._upstream_connect(identity, codec.Connect(""))))
            await asyncio.wait_for(codec.read_packet(upstream.reader, MAX_CONNACK_BYTES), timeout)
            await upstream.send(codec.encode_disconnect(codec.V311))
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ProtocolViolation) as error:
            raise BrokerUnavailable("The broker did not end the session.") from error
        finally:
            upstream.close()

    def connections_of(self, identity: Identity) -> int:
        """Connections of ``identity`` that are admitted and proxying (not ones still being checked)."""
        return sum(connection.online for connection in self._connections.get(identity, ()))

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _no_delay(writer)
        task = asyncio.current_task()
        assert task is not None
        if len(self._handlers) >= self._settings.max_connections:
            log.warning("Refused a connection: %d connections are open.", len(self._handlers))
            writer.close()
            return
        device = Streams(reader, writer)
        self._handlers[task] = device
        try:
            await self._serve(device)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, HubError) as ended:
            # the device went away or broke the protocol: its socket is closed below
            log.debug("a device connection ended: %s", type(ended).__name__)
        finally:
            self._handlers.pop(task, None)
            device.close()

    async def _serve(self, device: Streams) -> None:
        first = await asyncio.wait_for(
            codec.read_packet(device.reader, self._settings.max_packet_bytes),
            self._settings.connect_timeout_seconds,
        )
        if first is None or first.type != PacketType.CONNECT:
            return
        try:
            connect = codec.parse_connect(first.body)
        except ProtocolViolation as violation:
            if violation.reason == UNSUPPORTED_VERSION:
                await device.send(codec.encode_connack(codec.V311, UNSUPPORTED_VERSION))
            return
        peer = device.writer.get_extra_info("peername")
        peer_ip = str(peer[0]) if peer else ""
        try:
            self._check_connect(connect, peer_ip)
            identity = connect_auth.identity_of(connect.client_id)
        except ConnectRefused as refusal:
            await device.send(codec.encode_connack(connect.level, refusal.reason))
            return
        connection = DeviceConnection(identity, connect, device, self._settings.max_packet_bytes)
        self._connections.setdefault(identity, set()).add(connection)
        try:
            await self._admit_and_proxy(connection, connect, device, peer_ip)
        finally:
            device.close()
            live = self._connections.get(identity, set())
            live.discard(connection)
            if not live:
                self._connections.pop(identity, None)
            connection.ended.set()

    def _check_connect(self, connect: codec.Connect, peer_ip: str) -> None:
        """Checks that need no registry: version, flapping, authentication method."""
        if connect.level not in self._broker.levels:
            raise ConnectRefused("The broker does not speak this MQTT version.", UNSUPPORTED_VERSION)
        if not self.flood_guard.admit(connect.client_id, connect.username or "", peer_ip):
            log.warning("Refused a CONNECT from %s: banned for flapping.", peer_ip)
            raise ConnectRefused("Too many connects.", CONNECTION_RATE_EXCEEDED)
        if props.find(connect.properties, props.AUTHENTICATION_METHOD) is not None:
            raise ConnectRefused("Enhanced authentication is not offered.", BAD_AUTHENTICATION_METHOD)

    async def _admit_and_proxy(
        self, connection: DeviceConnection, connect: codec.Connect, device: Streams, peer_ip: str
    ) -> None:
        try:
            admission = await self._admission(connect, peer_ip)
            self._check_will(connect, admission.identity)
            broker, connack = await self._open_upstream(connect, admission)
        except (ConnectRefused, BrokerUnavailable) as refusal:
            log.info("Refused CONNECT of %r: %s", connect.client_id[:256], refusal.message)
            reason = refusal.reason if isinstance(refusal, ConnectRefused) else SERVER_UNAVAILABLE
            await device.send(codec.encode_connack(connect.level, reason))
            return
        if connection.revoked or codec.connack_code(connack) != 0:
            broker.close()
            reason = NOT_AUTHORIZED if connection.revoked else SERVER_UNAVAILABLE
            await device.send(codec.encode_connack(connect.level, reason))
            return
        await device.send(codec.connack_without(connack, connect.level, props.TOPIC_ALIAS_MAXIMUM))
        log.info("%s connected (MQTT level %d).", admission.identity, connect.level)
        for older in self._connections.get(admission.identity, set()) - {connection}:
            older.revoke(
                SESSION_TAKEN_OVER
            )  # IoT Hub keeps one connection per identity, whatever the broker does
        await connection.run(broker, admission.expires_at)

    async def _admission(self, connect: codec.Connect, peer_ip: str) -> Admission:
        try:
            async with asyncio.timeout(self._settings.connect_timeout_seconds):
                return await connect_auth.admit(connect, self._authenticator, peer_ip)
        except TimeoutError:
            raise ConnectRefused(
                "The identity registry did not answer in time.", SERVER_UNAVAILABLE
            ) from None

    @staticmethod
    def _check_will(connect: codec.Connect, identity: Identity) -> None:
        will = connect.will
        if will is not None and (will.qos == 2 or not namespace.allowed_publication(identity, will.topic)):
            raise ConnectRefused("The will's topic or QoS is not allowed.")

    async def _dial(self) -> Streams:
        broker = self._broker
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(broker.host, broker.port, ssl=broker.tls),
                self._settings.connect_timeout_seconds,
            )
        except (OSError, TimeoutError) as error:
            raise BrokerUnavailable("The broker cannot be reached.") from error
        _no_delay(writer)
        return Streams(reader, writer)

    async def _open_upstream(
        self, connect: codec.Connect, admission: Admission
    ) -> tuple[Streams, codec.Packet]:
        """The identity's broker connection and the broker's CONNACK."""
        upstream = await self._dial()
        try:
            await upstream.send(codec.encode_connect(self._upstream_connect(admission.identity, connect)))
            connack = await asyncio.wait_for(
                codec.read_packet(upstream.reader, MAX_CONNACK_BYTES), self._settings.connect_timeout_seconds
            )
            if connack is None or connack.type != PacketType.CONNACK:
                raise BrokerUnavailable("The broker did not answer CONNECT.")
        except (OSError, TimeoutError, asyncio.IncompleteReadError, HubError) as error:
            upstream.close()
            if isinstance(error, BrokerUnavailable):
                raise
            raise BrokerUnavailable("The broker did not answer CONNECT.") from error
        if codec.connack_code(connack):
            log.error(
                "The broker refused the connection of %s (code %d).", admission.identity, connack.body[1]
            )
        return upstream, connack

    def _upstream_connect(self, identity: Identity, connect: codec.Connect) -> codec.Connect:
        """The CONNECT the hub sends the broker for a device's: its own client id and credential."""
        will = connect.will
        if will is not None:
            will = replace(will, topic=namespace.to_broker(identity, will.topic), retain=False)
        return replace(
            connect,
            client_id=upstream_client_id(identity),
            username=self._broker.username,
            password=self._broker.password.get_secret_value().encode(),
            will=will,
            properties=props.without(connect.properties, props.TOPIC_ALIAS_MAXIMUM),
        )
