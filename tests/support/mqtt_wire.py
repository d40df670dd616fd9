"""A small asyncio MQTT client on the hub's own codec, for tests that need raw control of bytes.

Every read is bounded by a timeout; ``closed`` waits for the peer to end the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field

from ova.hub.mqtt import codec
from ova.hub.mqtt.codec import Packet, PacketType

TIMEOUT = 5.0
MAX_BYTES = 16 * 1024 * 1024


@dataclass
class WireClient:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    level: int = codec.V311
    held: list[Packet] = field(default_factory=list)

    @classmethod
    async def open(cls, port: int, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> WireClient:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=tls), TIMEOUT)
        return cls(reader, writer)

    async def send(self, packet: Packet | bytes) -> None:
        self.writer.write(packet if isinstance(packet, bytes) else packet.encode())
        await self.writer.drain()

    async def read(self, within: float = TIMEOUT) -> Packet | None:
        """The next packet, None at end of stream."""
        try:
            return await asyncio.wait_for(codec.read_packet(self.reader, MAX_BYTES), within)
        except (ConnectionError, asyncio.IncompleteReadError):
            return None

    async def expect(self, kind: PacketType, within: float = TIMEOUT) -> Packet:
        """The next packet of ``kind``, keeping others in ``held``."""
        async with asyncio.timeout(within):
            while True:
                packet = await self.read(within)
                if packet is None:
                    raise AssertionError(f"the connection closed while waiting for {kind.name}")
                if packet.type == kind:
                    return packet
                self.held.append(packet)

    async def connect(self, connect: codec.Connect) -> int:
        """CONNECT; the CONNACK's reason code (None-safe: 0x100 when closed without one)."""
        self.level = connect.level
        await self.send(codec.encode_connect(connect))
        packet = await self.read()
        return 0x100 if packet is None else codec.connack_code(packet)

    async def subscribe(self, *filters: str, packet_id: int = 1, qos: int = 1) -> bytes:
        subscribe = codec.Subscribe(packet_id, [(f, qos) for f in filters])
        await self.send(codec.encode_subscribe(subscribe, self.level))
        return codec.parse_suback(await self.expect(PacketType.SUBACK), self.level).codes

    async def publish(self, topic: str, payload: bytes = b"{}", qos: int = 0, packet_id: int = 1) -> None:
        publish = codec.Publish(topic, payload, qos, packet_id if qos else None)
        await self.send(codec.encode_publish(publish, self.level))

    async def message(self, within: float = TIMEOUT) -> codec.Publish:
        return codec.parse_publish(await self.expect(PacketType.PUBLISH, within), self.level)

    async def no_message(self, within: float = 0.5) -> bool:
        """True when no PUBLISH arrives within ``within`` seconds (the stream may stay open)."""
        try:
            await self.expect(PacketType.PUBLISH, within)
        except TimeoutError:
            return True
        except AssertionError:
            return True
        return False

    async def closed(self, within: float = TIMEOUT) -> bool:
        """True once the peer ends the stream (packets before that are kept in ``held``)."""
        try:
            async with asyncio.timeout(within):
                while (packet := await self.read(within)) is not None:
                    self.held.append(packet)
        except TimeoutError:
            return False
        return True

    async def ping(self) -> bool:
        await self.send(Packet(PacketType.PINGREQ, 0, b""))
        return (await self.expect(PacketType.PINGRESP)).type == PacketType.PINGRESP

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, TimeoutError, ssl.SSLError):
            await asyncio.wait_for(self.writer.wait_closed(), TIMEOUT)
