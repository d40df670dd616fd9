"""One device's connection, proxied packet by packet to its own connection on the broker.

Topics are rewritten both ways (``namespace.to_broker`` / the identity's prefix stripped), and
the hub's rules enforced on what the device sends: PUBLISH topics must pass
``namespace.allowed_publication`` and be QoS 0 or 1 (else the connection is closed); SUBSCRIBE
filters failing ``namespace.allowed_subscription`` get SUBACK 0x80 and never reach the broker;
granted QoS is capped at 1; MQTT 5 topic aliases are refused (DISCONNECT 0x94); the retain flag
and MQTT 5 response topics are dropped. Packet ids, QoS flows, PINGREQ and sessions pass
through, so the broker does the MQTT semantics. The connection ends at the device's or broker's
end of stream, a violation, 1.5 x keep-alive of silence, the SAS token's expiry or ``revoke``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, replace

from ova.hub import namespace
from ova.hub.errors import ProtocolViolation
from ova.hub.mqtt import codec
from ova.hub.mqtt import properties as props
from ova.hub.mqtt.codec import Packet, PacketType
from ova.hub.mqtt.reason_codes import (
    ADMINISTRATIVE_ACTION,
    KEEP_ALIVE_TIMEOUT,
    NOT_AUTHORIZED,
    PROTOCOL_ERROR,
    QOS_NOT_SUPPORTED,
    REFUSED,
    TOPIC_ALIAS_INVALID,
)
from ova.hub.namespace import Identity

log = logging.getLogger(__name__)
MAX_KEEP_ALIVE = 1767
"""IoT Hub uses 1767 s when a client asks for 0 or more."""
UPSTREAM_HEADROOM = 64 * 1024
_PASS_UP = {PacketType.PUBACK, PacketType.PUBREC, PacketType.PUBREL, PacketType.PUBCOMP, PacketType.PINGREQ}


@dataclass(frozen=True)
class Streams:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def send(self, packet: Packet) -> None:
        self.writer.write(packet.encode())
        await self.writer.drain()

    def close(self) -> None:
        self.writer.close()


class DeviceConnection:
    """A device's connection, from CONNECT accepted to closed."""

    def __init__(
        self, identity: Identity, connect: codec.Connect, device: Streams, max_packet_bytes: int
    ) -> None:
        self.identity = identity
        self.level = connect.level
        keep_alive = connect.keep_alive if 0 < connect.keep_alive <= MAX_KEEP_ALIVE else MAX_KEEP_ALIVE
        self._silence_limit = 1.5 * keep_alive
        self.device = device
        self._max_bytes = max_packet_bytes
        self._pending_subacks: dict[int, list[bool]] = {}
        self._stop = asyncio.Event()
        self.revoked = False
        self.online = False
        """True from the CONNACK that accepted it until it closes."""
        self.ended = asyncio.Event()
        """Set by the gateway once both sockets are closed."""
        self.close_reason: int | None = None

    def revoke(self, reason: int = ADMINISTRATIVE_ACTION) -> None:
        """Close the connection now (revocation, key rotation, shutdown); v5 devices get ``reason``."""
        self.revoked = True
        self.close_reason = reason
        self._stop.set()

    async def run(self, broker: Streams, expires_at: float) -> None:
        """Proxy until either side ends; closes both."""
        self.online = True
        tasks = [
            asyncio.create_task(self._device_to_broker(broker)),
            asyncio.create_task(self._broker_to_device(broker)),
            asyncio.create_task(self._stop.wait()),
            asyncio.create_task(asyncio.sleep(max(0.0, expires_at - time.time()))),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if tasks[3] in done:
                self.close_reason = NOT_AUTHORIZED
                log.info("Closing %s: its SAS token expired.", self.identity)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.online = False
            self._close(broker)

    def _close(self, broker: Streams) -> None:
        if self.close_reason is not None and self.level == codec.V5:
            with contextlib.suppress(ConnectionError, RuntimeError):
                self.device.writer.write(codec.encode_disconnect(self.level, self.close_reason).encode())
        broker.close()
        self.device.close()

    async def _device_to_broker(self, broker: Streams) -> None:
        try:
            while True:
                packet = await asyncio.wait_for(
                    codec.read_packet(self.device.reader, self._max_bytes), self._silence_limit
                )
                if packet is None or not await self._from_device(packet, broker):
                    return
        except TimeoutError:
            log.info("Closing %s: no packet within 1.5 x keep-alive.", self.identity)
            self.close_reason = KEEP_ALIVE_TIMEOUT
        except ProtocolViolation as violation:
            log.info("Closing %s: %s", self.identity, violation.message)
            self.close_reason = violation.reason
        except (asyncio.IncompleteReadError, ConnectionError):
            return

    async def _from_device(self, packet: Packet, broker: Streams) -> bool:
        """Forward one device packet; False once the device disconnected."""
        if packet.type == PacketType.PUBLISH:
            await broker.send(self._publish_up(packet))
        elif packet.type == PacketType.SUBSCRIBE:
            await self._subscribe(packet, broker)
        elif packet.type == PacketType.UNSUBSCRIBE:
            await broker.send(self._unsubscribe_up(packet))
        elif packet.type in _PASS_UP:
            await broker.send(packet)
        elif packet.type == PacketType.DISCONNECT:
            await broker.send(packet)
            return False
        else:
            raise ProtocolViolation(f"A device may not send {packet.type.name} here.", PROTOCOL_ERROR)
        return True

    def _publish_up(self, packet: Packet) -> Packet:
        publish = codec.parse_publish(packet, self.level)
        if publish.qos == 2:
            raise ProtocolViolation("IoT Hub takes QoS 0 and 1 only.", QOS_NOT_SUPPORTED)
        if props.find(publish.properties, props.TOPIC_ALIAS) is not None:
            raise ProtocolViolation("Topic aliases are not accepted.", TOPIC_ALIAS_INVALID)
        if not namespace.allowed_publication(self.identity, publish.topic):
            raise ProtocolViolation("The topic is not one this identity may publish to.", NOT_AUTHORIZED)
        # IoT Hub keeps no retained messages (a device could fill the broker with them), and a
        # response topic would name a broker topic outside the identity's namespace.
        topic = namespace.to_broker(self.identity, publish.topic)
        properties = props.without(publish.properties, props.RESPONSE_TOPIC)
        upstream = replace(publish, topic=topic, retain=False, properties=properties)
        return codec.encode_publish(upstream, self.level)

    def _unsubscribe_up(self, packet: Packet) -> Packet:
        unsubscribe = codec.parse_unsubscribe(packet, self.level)
        filters = [namespace.to_broker(self.identity, f) for f in unsubscribe.filters]
        return codec.encode_unsubscribe(replace(unsubscribe, filters=filters), self.level)

    async def _subscribe(self, packet: Packet, broker: Streams) -> None:
        subscribe = codec.parse_subscribe(packet, self.level)
        allowed = [namespace.allowed_subscription(self.identity, f) for f, _ in subscribe.entries]
        if not any(allowed):
            codes = bytes([REFUSED] * len(allowed))
            await self.device.send(codec.encode_suback(codec.Suback(subscribe.packet_id, codes), self.level))
            return
        entries = [
            (namespace.to_broker(self.identity, f), options & ~0x03 | min(options & 0x03, 1))
            for (f, options), ok in zip(subscribe.entries, allowed, strict=True)
            if ok
        ]
        if not all(allowed):
            self._pending_subacks[subscribe.packet_id] = allowed
        forwarded = codec.Subscribe(subscribe.packet_id, entries, subscribe.properties)
        await broker.send(codec.encode_subscribe(forwarded, self.level))

    async def _broker_to_device(self, broker: Streams) -> None:
        try:
            while True:
                packet = await codec.read_packet(broker.reader, self._max_bytes + UPSTREAM_HEADROOM)
                if packet is None:
                    return
                down = self._from_broker(packet)
                if down is not None:
                    await self.device.send(down)
                if packet.type == PacketType.DISCONNECT:
                    return
        except ProtocolViolation as violation:
            log.warning("Closing %s: the broker sent a bad packet (%s).", self.identity, violation.message)
        except (asyncio.IncompleteReadError, ConnectionError):
            return

    def _from_broker(self, packet: Packet) -> Packet | None:
        if packet.type == PacketType.PUBLISH:
            publish = codec.parse_publish(packet, self.level)
            if not publish.topic.startswith(self.identity.prefix):
                log.warning("Dropped a broker message for %s outside its namespace.", self.identity)
                return None
            device_topic = publish.topic[len(self.identity.prefix) :]
            return codec.encode_publish(publish.with_topic(device_topic), self.level)
        if packet.type == PacketType.SUBACK:
            suback = codec.parse_suback(packet, self.level)
            allowed = self._pending_subacks.pop(suback.packet_id, None)
            if allowed is not None:
                granted = iter(suback.codes)
                codes = bytes(next(granted, REFUSED) if ok else REFUSED for ok in allowed)
                return codec.encode_suback(
                    codec.Suback(suback.packet_id, codes, suback.properties), self.level
                )
        return packet
