"""A Debian Mosquitto broker on a free loopback port (plain, or TLS with the session's test CA), and
a gmqtt client that plays IoT Hub's side of the device protocol on the plain topics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTv311

MOSQUITTO = "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Broker:
    port: int
    process: subprocess.Popen[bytes]
    log: Path


@contextlib.contextmanager
def mosquitto(
    directory: Path,
    tls: tuple[Path, Path, Path] | None = None,
    port: int | None = None,
    anonymous: bool = True,
) -> Iterator[Broker]:
    """``tls``: (CA, server certificate, server key) for a TLS listener; ``port``: a given one;
    ``anonymous=False``: every client is refused (no user is known)."""
    if shutil.which(MOSQUITTO) is None:
        raise RuntimeError("Mosquitto is not installed (/usr/sbin/mosquitto)")
    port = port or free_port()
    lines = [f"listener {port} 127.0.0.1", f"allow_anonymous {str(anonymous).lower()}", "persistence false"]
    if os.geteuid() == 0:
        lines.append("user root")  # else it drops to 'mosquitto', who cannot read the test's files
    if tls:
        lines += [f"cafile {tls[0]}", f"certfile {tls[1]}", f"keyfile {tls[2]}", "tls_version tlsv1.2"]
    config = directory / f"mosquitto-{port}.conf"
    config.write_text("\n".join(lines) + "\n")
    log = directory / f"mosquitto-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([MOSQUITTO, "-c", str(config), "-v"], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"Mosquitto did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield Broker(port, process, log)
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)
        if process.poll() is None:
            process.kill()
            process.wait(5)


@dataclass
class HubSide:
    """The service side of IoT Hub on a plain broker: sees what the module publishes, answers it."""

    client: Any
    messages: asyncio.Queue[tuple[str, bytes]] = field(default_factory=asyncio.Queue)

    async def next_message(self, prefix: str, timeout_s: float = 10.0) -> tuple[str, bytes]:
        async with asyncio.timeout(timeout_s):
            while True:
                topic, payload = await self.messages.get()
                if topic.startswith(prefix):
                    return topic, payload

    def publish(self, topic: str, payload: Any) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.client.publish(topic, body, qos=0)


@contextlib.asynccontextmanager
async def hub_side(port: int, subscriptions: list[str]) -> AsyncIterator[HubSide]:
    client = gmqtt.Client("test-hub-side")
    side = HubSide(client)

    def on_message(_c: Any, topic: str, payload: bytes, _qos: int, _p: Any) -> int:
        side.messages.put_nowait((topic, bytes(payload)))
        return 0

    acked = asyncio.Event()
    client.on_message = on_message
    client.on_subscribe = lambda *_: acked.set()
    await client.connect("127.0.0.1", port, version=MQTTv311)
    for topic in subscriptions:
        acked.clear()
        client.subscribe(topic, qos=1)
        await asyncio.wait_for(acked.wait(), 5)
    try:
        yield side
    finally:
        await client.disconnect()
