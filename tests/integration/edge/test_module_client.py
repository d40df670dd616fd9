"""``ModuleClient`` against a real MQTT broker (Mosquitto), the test playing IoT Hub's side on the
plain device topics: direct methods, twin GET/PATCH, desired patches, outputs, inputs, token
renewal, reconnects, TLS with a CA file."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from edge_broker import Broker, HubSide, hub_side, mosquitto

from ova.auth import iot_sas
from ova.contracts import iot_hub
from ova.edge.errors import HubUnavailable
from ova.edge.iothub.client import MAX_PAYLOAD_BYTES, ClientOptions, ModuleClient
from ova.edge.iothub.credentials import KeyCredential
from ova.edge.iothub.endpoint import HubEndpoint, tls_context
from ova.edge.ports import HubMessage
from support.tls import write_tls_files

KEY = iot_sas.new_key()
FAST = ClientOptions(
    backoff_initial_s=0.05, backoff_max_s=0.3, request_timeout_s=5, connect_timeout_s=5, publish_wait_s=0.2
)


class RecordingCredential(KeyCredential):
    """A key credential that remembers the tokens it made (to see renewals)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.tokens: list[str] = []

    async def token(self, resource: str, expiry: int) -> str:
        token = await super().token(resource, expiry)
        self.tokens.append(token)
        return token


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with mosquitto(tmp_path) as running:
        yield running


def endpoint_of(port: int) -> HubEndpoint:
    text = f"HostName=127.0.0.1:{port};DeviceId=camera-box;ModuleId=avaedge;SharedAccessKey={KEY}"
    return HubEndpoint.from_connection_string(iot_hub.ConnectionString.parse(text))


@pytest.fixture
async def module(broker: Broker) -> AsyncIterator[ModuleClient]:
    client = ModuleClient(endpoint_of(broker.port), KeyCredential(KEY), None, FAST)
    assert await client.start(wait_s=10)
    yield client
    await client.stop()


@pytest.fixture
async def hub(broker: Broker) -> AsyncIterator[HubSide]:
    topics = [
        "$iothub/methods/res/#",
        "$iothub/twin/GET/#",
        "$iothub/twin/PATCH/properties/reported/#",
        "devices/#",
    ]
    async with hub_side(broker.port, topics) as side:
        yield side


async def test_connects_with_iot_hub_identity(broker: Broker, module: ModuleClient) -> None:
    await asyncio.sleep(0.2)
    log = broker.log.read_text()
    username = f"127.0.0.1:{broker.port}/camera-box/avaedge/?api-version={iot_hub.API_VERSION}"
    assert re.search(rf"as camera-box/avaedge \(p[24], c1, k60, u'{re.escape(username)}'\)", log), log[-800:]
    for topic in (
        "$iothub/methods/POST/#",
        "$iothub/twin/res/#",
        "$iothub/twin/PATCH/properties/desired/#",
        "devices/camera-box/modules/avaedge/inputs/#",
    ):
        assert topic in log


async def test_direct_method_round_trip(module: ModuleClient, hub: HubSide) -> None:
    seen: list[tuple[str, Any]] = []

    async def handler(name: str, payload: Any) -> tuple[int, Any]:
        seen.append((name, payload))
        return 201, {"name": payload["name"], "ok": True}

    module.set_method_handler(handler)
    hub.publish("$iothub/methods/POST/pipelineTopologySet/?$rid=42", {"@apiVersion": "1.1", "name": "t1"})
    topic, body = await hub.next_message("$iothub/methods/res/")
    assert topic == "$iothub/methods/res/201/?$rid=42"
    assert json.loads(body) == {"name": "t1", "ok": True}
    assert seen == [("pipelineTopologySet", {"@apiVersion": "1.1", "name": "t1"})]


async def test_method_payload_checks(module: ModuleClient, hub: HubSide) -> None:
    async def handler(name: str, payload: Any) -> tuple[int, Any]:
        return 200, None

    module.set_method_handler(handler)
    hub.publish("$iothub/methods/POST/m/?$rid=1", b"{not json")
    topic, body = await hub.next_message("$iothub/methods/res/")
    assert topic == "$iothub/methods/res/400/?$rid=1"
    assert json.loads(body)["error"]["code"] == "BadRequest"
    hub.publish("$iothub/methods/POST/m/?$rid=2", b'"' + b"x" * MAX_PAYLOAD_BYTES + b'"')
    topic, _ = await hub.next_message("$iothub/methods/res/")
    assert topic == "$iothub/methods/res/413/?$rid=2"
    hub.publish("$iothub/methods/POST/m/?$rid=3", b"")
    topic, body = await hub.next_message("$iothub/methods/res/")
    assert (topic, body) == ("$iothub/methods/res/200/?$rid=3", b"null")


async def answer_twin(hub: HubSide, twin: dict[str, Any]) -> str:
    topic, _ = await hub.next_message("$iothub/twin/GET/")
    rid = topic.rsplit("=", 1)[1]
    hub.publish(f"$iothub/twin/res/200/?$rid={rid}", twin)
    return rid


async def test_twin_get_and_reported_patch(module: ModuleClient, hub: HubSide) -> None:
    twin = {"desired": {"LogLevel": "Verbose", "$version": 4}, "reported": {"$version": 1}}
    getting = asyncio.create_task(module.get_twin())
    await answer_twin(hub, twin)
    assert await getting == twin

    patching = asyncio.create_task(module.patch_reported({"ProvisioningState": "Provisioned"}))
    topic, body = await hub.next_message("$iothub/twin/PATCH/properties/reported/")
    rid = topic.rsplit("=", 1)[1]
    assert json.loads(body) == {"ProvisioningState": "Provisioned"}
    hub.publish(f"$iothub/twin/res/204/?$rid={rid}&$version=7", b"")
    assert await patching == 7


async def test_twin_request_fails_without_answer(module: ModuleClient) -> None:
    module.options = ClientOptions(request_timeout_s=0.3)
    with pytest.raises(HubUnavailable, match="did not answer"):
        await module.get_twin()


async def test_desired_patches_reach_the_callback(module: ModuleClient, hub: HubSide) -> None:
    patches: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def on_desired(patch: dict[str, Any], complete: bool) -> None:
        assert not complete
        await patches.put(patch)

    module.on_desired(on_desired)
    hub.publish("$iothub/twin/PATCH/properties/desired/?$version=9", {"logLevel": "Error"})
    assert await asyncio.wait_for(patches.get(), 5) == {"logLevel": "Error", "$version": 9}


async def test_send_to_output_topic_and_properties(module: ModuleClient, hub: HubSide) -> None:
    await module.send_to_output("operational", b'{"a":1}', {"eventType": "Microsoft.VideoAnalyzer.X"})
    topic, body = await hub.next_message("devices/camera-box/modules/avaedge/messages/events/")
    assert body == b'{"a":1}'
    bag = iot_hub.parse_events_topic(topic, "camera-box", "avaedge")
    assert bag is not None
    assert bag["$.on"] == "operational"
    assert bag["$.ct"] == "application/json" and bag["$.ce"] == "utf-8"
    assert bag["eventType"] == "Microsoft.VideoAnalyzer.X"
    assert re.fullmatch(r"[0-9a-f-]{36}", bag["$.mid"])
    assert "application%2Fjson" in topic  # URL-encoded as IoT Hub expects


async def test_inputs_reach_their_handler(module: ModuleClient, hub: HubSide) -> None:
    got: asyncio.Queue[HubMessage] = asyncio.Queue()

    async def handler(message: HubMessage) -> None:
        await got.put(message)

    unregister = module.on_input("recordingTrigger", handler)
    topic = iot_hub.input_topic("camera-box", "avaedge", "recordingTrigger", {"$.mid": "1", "kind": "motion"})
    hub.publish(topic, b'{"fire":true}')
    message = await asyncio.wait_for(got.get(), 5)
    assert (message.input_name, message.body) == ("recordingTrigger", b'{"fire":true}')
    assert message.properties["kind"] == "motion"
    unregister()
    hub.publish(topic, b"{}")
    await asyncio.sleep(0.3)
    assert got.empty() and module.dropped_inputs == 1


async def test_token_renewed_by_reconnecting(broker: Broker, hub: HubSide) -> None:
    credential = RecordingCredential(KEY)
    options = ClientOptions(token_lifetime_s=3, renew_margin_s=1, backoff_initial_s=0.05, backoff_max_s=0.2)
    client = ModuleClient(endpoint_of(broker.port), credential, None, options)
    try:
        assert await client.start(wait_s=5)
        async with asyncio.timeout(10):
            while client.connections < 3:  # noqa: ASYNC110 (bounded poll)
                await asyncio.sleep(0.05)
        assert await client.wait_connected(5)
        expiries = [int(dict(parse_qsl(token.split(" ", 1)[1]))["se"]) for token in credential.tokens]
        assert expiries == sorted(expiries) and len(set(expiries)) >= 2
        await client.send_to_output("o", b"{}", {})
        _, body = await hub.next_message("devices/camera-box/modules/avaedge/messages/events/")
        assert body == b"{}"
    finally:
        await client.stop()


async def test_reconnects_after_the_broker_restarts(tmp_path: Path) -> None:
    with mosquitto(tmp_path) as first:
        client = ModuleClient(endpoint_of(first.port), KeyCredential(KEY), None, FAST)
        assert await client.start(wait_s=5)
        refreshed: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def on_desired(desired: dict[str, Any], complete: bool) -> None:
            assert complete
            await refreshed.put(desired)

        client.on_desired(on_desired)
    try:
        async with asyncio.timeout(5):
            while client.connected:  # noqa: ASYNC110 (bounded poll)
                await asyncio.sleep(0.05)
        with pytest.raises(HubUnavailable):
            await client.send_to_output("o", b"{}", {})
        with mosquitto(tmp_path, port=first.port) as second:
            async with hub_side(second.port, ["$iothub/twin/GET/#"]) as hub:
                # after a reconnect the module reads the whole twin again (patches may have been missed)
                await answer_twin(hub, {"desired": {"LogLevel": "Warning", "$version": 5}, "reported": {}})
                assert await asyncio.wait_for(refreshed.get(), 5) == {"LogLevel": "Warning", "$version": 5}
                assert client.connected and client.connections == 2
    finally:
        await client.stop()


async def test_tls_with_a_ca_file(tmp_path: Path) -> None:
    files = write_tls_files(tmp_path)
    with mosquitto(tmp_path, tls=(files.ca_cert, files.server_cert, files.server_key)) as broker:
        trusted = ModuleClient(endpoint_of(broker.port), KeyCredential(KEY), tls_context(files.ca_cert), FAST)
        untrusted = ModuleClient(endpoint_of(broker.port), KeyCredential(KEY), tls_context(), FAST)
        try:
            assert await trusted.start(wait_s=5)
            assert not await untrusted.start(wait_s=1.5)  # the system trust does not know the test CA
        finally:
            await trusted.stop()
            await untrusted.stop()


async def test_renewal_lets_a_running_method_answer_first(broker: Broker, hub: HubSide) -> None:
    options = ClientOptions(token_lifetime_s=3, renew_margin_s=1, backoff_initial_s=0.05, drain_methods_s=5)
    client = ModuleClient(endpoint_of(broker.port), KeyCredential(KEY), None, options)

    async def slow(name: str, payload: Any) -> tuple[int, Any]:
        await asyncio.sleep(2.5)  # still running when the token's renewal is due (after ~2 s)
        return 200, {"connections": client.connections}

    client.set_method_handler(slow)
    try:
        assert await client.start(wait_s=5)
        hub.publish("$iothub/methods/POST/livePipelineDeactivate/?$rid=9", {})
        topic, body = await hub.next_message("$iothub/methods/res/", timeout_s=10)
        assert topic == "$iothub/methods/res/200/?$rid=9" and json.loads(body) == {"connections": 1}
    finally:
        await client.stop()


async def test_a_refused_connection_is_retried_and_the_token_never_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    credential = RecordingCredential(KEY)
    with mosquitto(tmp_path, anonymous=False) as broker:
        client = ModuleClient(endpoint_of(broker.port), credential, None, FAST)
        try:
            assert not await client.start(wait_s=1.5)
            assert len(credential.tokens) >= 2  # retried, each time with a fresh token
        finally:
            await client.stop()
    assert "IoT Hub connection to 127.0.0.1 failed" in caplog.text
    assert all(token.split("sig=")[1].split("&")[0] not in caplog.text for token in credential.tokens)


async def test_verbose_logging_never_shows_method_payloads(
    module: ModuleClient, hub: HubSide, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # LogLevel Verbose

    async def handler(name: str, payload: Any) -> tuple[int, Any]:
        return 200, {"state": "ok"}

    module.set_method_handler(handler)
    secret = {"name": "p1", "properties": {"parameters": [{"name": "rtspPassword", "value": "hunter2-pw"}]}}
    hub.publish("$iothub/methods/POST/livePipelineSet/?$rid=5", secret)
    topic, _ = await hub.next_message("$iothub/methods/res/")
    assert topic == "$iothub/methods/res/200/?$rid=5"
    assert "hunter2-pw" not in caplog.text
