"""Direct-method-style round trips through the hub: service → broker → gateway → module and back.

A hub service (this process) publishes a method request to ``to_broker(module, "$iothub/methods/
POST/ping/?$rid=N")`` with QoS 1; a module in a child process, connected to the gateway with a
real SAS token, answers on ``$iothub/methods/res/200/?$rid=N``; the service waits for that answer
on ``service_filter("$iothub/methods/res/#")`` before sending the next request. Rows: the
embedded amqtt broker (in this process, as in ``ova cloud``) and Mosquitto (``/usr/sbin/mosquitto``,
``set_tcp_nodelay true``), each with the module connected through the gateway and, for the
gateway's cost, straight to the broker under its namespaced topics.

    python bench/hub_round_trip.py                  # 500 sequential round trips per row
    python bench/hub_round_trip.py --round-trips 2000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from ova.auth import iot_sas
from ova.contracts import iot_hub
from ova.hub import namespace
from ova.hub.brokers import INTERNAL_USERNAME, BrokerEndpoint, EmbeddedBroker
from ova.hub.gateway import Gateway, upstream_client_id
from ova.hub.mqtt import codec
from ova.hub.mqtt.codec import Packet, PacketType
from ova.hub.namespace import Identity
from ova.hub.settings import HubMqttSettings

HOST = "bench.hub"
MODULE = Identity("bench-edge", "ova")
TIMEOUT = 10.0


class Client:
    """A bare MQTT 3.1.1 client on the hub's codec (TCP_NODELAY is asyncio's default)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.next_id = reader, writer, 0

    @classmethod
    async def connect(cls, port: int, client_id: str, username: str, password: str) -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        await client.send(
            codec.encode_connect(codec.Connect(client_id, username=username, password=password.encode()))
        )
        connack = await client.read()
        if codec.connack_code(connack):
            raise SystemExit(f"CONNECT refused: {codec.connack_code(connack):#x}")
        return client

    async def send(self, packet: Packet) -> None:
        self.writer.write(packet.encode())
        await self.writer.drain()

    async def read(self) -> Packet:
        packet = await asyncio.wait_for(codec.read_packet(self.reader, 1 << 20), TIMEOUT)
        if packet is None:
            raise SystemExit("the connection closed")
        return packet

    async def subscribe(self, topic_filter: str) -> None:
        await self.send(codec.encode_subscribe(codec.Subscribe(1, [(topic_filter, 1)]), codec.V311))
        while (await self.read()).type != PacketType.SUBACK:
            pass

    async def publish(self, topic: str, payload: bytes) -> None:
        self.next_id = self.next_id % 65535 + 1
        await self.send(codec.encode_publish(codec.Publish(topic, payload, 1, self.next_id), codec.V311))

    async def next_message(self) -> codec.Publish:
        """The next PUBLISH (acknowledged when QoS 1); PUBACKs are skipped."""
        while True:
            packet = await self.read()
            if packet.type == PacketType.PUBLISH:
                publish = codec.parse_publish(packet, codec.V311)
                if publish.packet_id:
                    await self.send(Packet(PacketType.PUBACK, 0, publish.packet_id.to_bytes(2, "big")))
                return publish


async def respond(port: int, through_gateway: bool) -> None:
    """The module: answer every method request until the service stops."""
    password = os.environ["BENCH_PASSWORD"]
    if through_gateway:
        username = iot_hub.username(HOST, MODULE.device_id, MODULE.module_id)
        client = await Client.connect(port, MODULE.client_id, username, password)
        prefix = ""
    else:
        client = await Client.connect(port, upstream_client_id(MODULE), INTERNAL_USERNAME, password)
        prefix = MODULE.prefix
    await client.subscribe(prefix + iot_hub.METHODS_SUBSCRIBE)
    print("ready", flush=True)
    while True:
        request = await client.next_message()
        parsed = iot_hub.parse_method_request(request.topic[len(prefix) :])
        if parsed is None:
            return
        await client.publish(prefix + iot_hub.method_response_topic(200, parsed[1]), b'{"status": "ok"}')


class Keys:
    """The one module this bench admits (a DeviceAuthenticator)."""

    def __init__(self) -> None:
        self.key = iot_sas.new_key()

    async def authenticate(self, client_id: str, username: str, password: str, peer: str) -> Identity:
        resource = iot_hub.sas_resource(HOST, MODULE.device_id, MODULE.module_id)
        iot_sas.verify(password, [self.key], resource=resource, now=datetime.now(UTC))
        return MODULE

    def token(self) -> str:
        resource = iot_hub.sas_resource(HOST, MODULE.device_id, MODULE.module_id)
        return iot_sas.sign(resource, self.key, int(time.time()) + 3600)


async def measure(broker: BrokerEndpoint, through_gateway: bool, round_trips: int) -> list[float]:
    keys = Keys()
    gateway = Gateway(HubMqttSettings(port=0), broker, keys)
    await gateway.start()
    secret = keys.token() if through_gateway else broker.password.get_secret_value()
    port = gateway.port if through_gateway else broker.port
    module = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--respond", str(port), "gateway" if through_gateway else "direct",
        stdout=subprocess.PIPE, env={**os.environ, "BENCH_PASSWORD": secret},
    )  # fmt: skip
    service: Client | None = None
    try:
        assert module.stdout is not None
        await asyncio.wait_for(module.stdout.readline(), TIMEOUT)
        service = await Client.connect(
            broker.port, "bench-service", broker.username, broker.password.get_secret_value()
        )
        await service.subscribe(namespace.service_filter("$iothub/methods/res/#"))
        samples = []
        for rid in range(round_trips + 50):
            started = time.perf_counter()
            await service.publish(
                namespace.to_broker(MODULE, iot_hub.method_request_topic("ping", str(rid))), b"{}"
            )
            answer = await service.next_message()
            samples.append(time.perf_counter() - started)
            assert answer.topic.endswith(f"$rid={rid}")
        return samples[50:]  # the first 50 warm up
    finally:
        if service is not None:
            await service.publish(namespace.to_broker(MODULE, "$iothub/methods/POST/stop"), b"")
        else:
            module.kill()
        await asyncio.wait_for(module.wait(), TIMEOUT)
        await gateway.stop()


def start_mosquitto(directory: Path) -> tuple[subprocess.Popen[bytes], BrokerEndpoint]:
    password = iot_sas.new_key()
    passwords, config = directory / "passwords", directory / "mosquitto.conf"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwords), INTERNAL_USERNAME, password], check=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    user = os.environ.get("USER", "root")
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\n"
        f"persistence false\nset_tcp_nodelay true\nuser {user}\n"
    )
    process = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(config)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.02)
    return process, BrokerEndpoint(
        "127.0.0.1", port, INTERNAL_USERNAME, SecretStr(password), frozenset({4, 5})
    )


def row(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    median = statistics.median(ordered)
    return f"| {name:<34} | {median * 1000:>8.2f} | {p99 * 1000:>8.2f} | {1 / median:>8.0f} |"


async def main(round_trips: int) -> None:
    print(f"{round_trips} sequential round trips (QoS 1 both ways), module in its own process\n")
    print(f"| {'broker / path':<34} | {'median ms':>8} | {'p99 ms':>8} | {'1/median':>8} |")
    print(f"|{'-' * 36}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    embedded = EmbeddedBroker()
    endpoint = await embedded.start()
    try:
        for through in (False, True):
            samples = await measure(endpoint, through, round_trips)
            print(
                row("embedded amqtt, " + ("via gateway" if through else "module direct"), samples), flush=True
            )
    finally:
        await embedded.stop()
    if shutil.which("mosquitto_passwd") is None:
        print("| mosquitto: not installed |")
        return
    with tempfile.TemporaryDirectory() as directory:
        process, endpoint = start_mosquitto(Path(directory))
        try:
            for through in (False, True):
                samples = await measure(endpoint, through, round_trips)
                print(
                    row("mosquitto, " + ("via gateway" if through else "module direct"), samples), flush=True
                )
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--round-trips", type=int, default=500)
    parser.add_argument("--respond", nargs=2, metavar=("PORT", "PATH"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.respond:
        asyncio.run(respond(int(arguments.respond[0]), arguments.respond[1] == "gateway"))
    else:
        asyncio.run(main(arguments.round_trips))
