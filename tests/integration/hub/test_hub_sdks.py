"""The hub against Microsoft's own SDKs, unchanged: ``azure-iot-hub`` (service, HTTPS) and
``azure-iot-device`` (a module, MQTT over TLS to port 8883), through the gateway and the broker.

The device SDK runs on an event loop of its own thread (``ModuleSide``), as it would in its own
process: its handler setters block their loop until the hub answers the SUBSCRIBE, so sharing
the hub's loop would deadlock. The service SDK is blocking and runs in worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from azure.iot.device import Message, MethodResponse
from azure.iot.device.aio import IoTHubModuleClient
from azure.iot.device.exceptions import NoConnectionError
from azure.iot.hub import IoTHubRegistryManager
from azure.iot.hub.models import CloudToDeviceMethod, Twin, TwinProperties
from msrest.exceptions import HttpOperationError

from ova.auth import iot_sas
from ova.hub.namespace import Identity
from support.hub_stack import HubStack, hub_stack

WAIT_SECONDS = 15.0
T = TypeVar("T")
# azure-iot-device 2.14 builds its TLS context with the deprecated PROTOCOL_TLSv1_2 (its code, not ours).
pytestmark = pytest.mark.filterwarnings("ignore:ssl.PROTOCOL_TLS:DeprecationWarning")


@pytest.fixture(params=["embedded", "mosquitto"])
async def stack(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[HubStack]:
    """The hub on its embedded broker, and on a real Mosquitto."""
    broker = None
    if request.param == "mosquitto":
        broker = request.getfixturevalue("mosquitto").endpoint
    async with hub_stack(tmp_path, broker) as running:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(running.tls.ca_cert))
        yield running


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(int(WAIT_SECONDS / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting: {what}")


async def service(stack: HubStack, call: Callable[[IoTHubRegistryManager], Any]) -> Any:
    """Run one blocking service-SDK call off the event loop."""

    def run() -> Any:
        manager = IoTHubRegistryManager.from_connection_string(stack.service_connection_string)
        # The SDK's requests session sits in a reference cycle and would keep its connection open
        # (and the server's graceful shutdown waiting) until a garbage collection.
        manager.protocol.config.headers["Connection"] = "close"
        return call(manager)

    return await asyncio.to_thread(run)


class ModuleSide:
    """An event loop in its own thread for the device SDK; ``run`` awaits a coroutine made there."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="module-side", daemon=True)
        self._thread.start()

    async def run(self, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        async def bounded() -> T:
            return await asyncio.wait_for(make(), WAIT_SECONDS)

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(bounded(), self.loop))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(WAIT_SECONDS)
        self.loop.close()


@pytest.fixture
def side() -> Iterator[ModuleSide]:
    module_side = ModuleSide()
    yield module_side
    module_side.close()


async def connect_module(
    side: ModuleSide, stack: HubStack, device_id: str, module_id: str, key: str
) -> IoTHubModuleClient:
    async def connect() -> IoTHubModuleClient:
        client = IoTHubModuleClient.create_from_connection_string(
            stack.module_connection_string(device_id, module_id, key),
            server_verification_cert=stack.tls.ca_cert.read_text(),
            connection_retry=False,
        )
        try:
            await client.connect()
        except BaseException:
            await client.shutdown()
            raise
        return client

    return await side.run(connect)


async def test_a_module_is_managed_and_driven_with_the_official_sdks(
    stack: HubStack, side: ModuleSide
) -> None:
    primary, secondary = iot_sas.new_key(), iot_sas.new_key()
    device = await service(
        stack, lambda m: m.create_device_with_sas("camera-1", primary, secondary, "enabled")
    )
    assert device.device_id == "camera-1" and device.status == "enabled"
    module = await service(
        stack, lambda m: m.create_module_with_sas("camera-1", "avaedge", "", primary, secondary)
    )
    assert module.module_id == "avaedge" and module.authentication.symmetric_key.primary_key == primary
    listed = await service(stack, lambda m: m.get_modules("camera-1"))
    assert [item.module_id for item in listed] == ["avaedge"]

    client = await connect_module(side, stack, "camera-1", "avaedge", secondary)
    try:
        await until(lambda: stack.hub.is_connected(Identity("camera-1", "avaedge")), "module connected")
        seen = await service(stack, lambda m: m.get_module("camera-1", "avaedge"))
        assert seen.connection_state == "Connected"
        await _direct_method_round_trip(stack, side, client)
        await _twin_both_ways(stack, side, client)
        await _device_to_cloud_message(stack, side, client)
    finally:
        await side.run(client.shutdown)


async def _direct_method_round_trip(stack: HubStack, side: ModuleSide, client: IoTHubModuleClient) -> None:
    async def answer(request: Any) -> None:
        payload = {"echo": request.payload, "name": request.name}
        await client.send_method_response(MethodResponse.create_from_method_request(request, 200, payload))

    async def subscribe() -> None:
        client.on_method_request_received = answer

    await side.run(subscribe)
    request = CloudToDeviceMethod(method_name="pipelineTopologyList", payload={"@apiVersion": "1.1"})
    result = await service(stack, lambda m: m.invoke_device_module_method("camera-1", "avaedge", request))
    assert result.status == 200
    assert result.payload == {"echo": {"@apiVersion": "1.1"}, "name": "pipelineTopologyList"}
    assert stack.hub.methods.pending == 0


async def _twin_both_ways(stack: HubStack, side: ModuleSide, client: IoTHubModuleClient) -> None:
    patches: list[dict[str, Any]] = []

    async def subscribe() -> None:
        client.on_twin_desired_properties_patch_received = patches.append

    await side.run(subscribe)
    twin = await service(stack, lambda m: m.get_module_twin("camera-1", "avaedge"))
    patch = Twin(properties=TwinProperties(desired={"telemetry": {"enabled": False}}))
    updated = await service(stack, lambda m: m.update_module_twin("camera-1", "avaedge", patch, twin.etag))
    assert updated.properties.desired["telemetry"] == {"enabled": False}
    await until(lambda: len(patches) == 1, "desired patch pushed to the module")
    assert patches[0]["telemetry"] == {"enabled": False} and patches[0]["$version"] == 2

    stale = Twin(properties=TwinProperties(desired={"telemetry": None}))
    with pytest.raises(HttpOperationError) as refused:
        await service(stack, lambda m: m.update_module_twin("camera-1", "avaedge", stale, twin.etag))
    assert refused.value.response.status_code == 412

    device_view = await side.run(client.get_twin)
    assert device_view["desired"]["telemetry"] == {"enabled": False}
    await side.run(lambda: client.patch_twin_reported_properties({"state": "running"}))
    after = await service(stack, lambda m: m.get_module_twin("camera-1", "avaedge"))
    assert after.properties.reported["state"] == "running"

    replaced = Twin(properties=TwinProperties(desired={"mode": "record"}))
    result = await service(stack, lambda m: m.replace_module_twin("camera-1", "avaedge", replaced))
    assert "telemetry" not in result.properties.desired and result.properties.desired["mode"] == "record"
    await until(lambda: len(patches) == 2, "replacement pushed to the module")
    assert patches[1]["telemetry"] is None and patches[1]["mode"] == "record"


async def _device_to_cloud_message(stack: HubStack, side: ModuleSide, client: IoTHubModuleClient) -> None:
    message = Message(json.dumps({"inferences": [{"type": "motion"}]}), content_type="application/json")
    message.custom_properties["eventType"] = "Microsoft.VideoAnalyzer.Analytics.Inference"
    await side.run(lambda: client.send_message_to_output(message, "output1"))
    identity = Identity("camera-1", "avaedge")
    stored: list[Any] = []

    async def arrived() -> bool:
        stored[:] = await stack.hub.messages.read(identity)
        return bool(stored)

    for _ in range(int(WAIT_SECONDS / 0.05)):
        if await arrived():
            break
        await asyncio.sleep(0.05)
    assert json.loads(stored[0].body) == {"inferences": [{"type": "motion"}]}
    assert stored[0].properties["eventType"] == "Microsoft.VideoAnalyzer.Analytics.Inference"
    assert stored[0].system_properties["$.on"] == "output1"


async def test_key_rotation_disconnects_sessions_signed_with_the_retired_key(
    stack: HubStack, side: ModuleSide
) -> None:
    old, other = iot_sas.new_key(), iot_sas.new_key()
    await service(stack, lambda m: m.create_device_with_sas("camera-2", old, other, "enabled"))
    module = await service(stack, lambda m: m.create_module_with_sas("camera-2", "avaedge", "", old, other))
    identity = Identity("camera-2", "avaedge")
    stale_client = await connect_module(side, stack, "camera-2", "avaedge", old)
    try:
        await until(lambda: stack.hub.is_connected(identity), "module connected with the old key")
        fresh = iot_sas.new_key()
        rotated = await service(
            stack, lambda m: m.update_module_with_sas("camera-2", "avaedge", "", module.etag, fresh, other)
        )
        assert rotated.authentication.symmetric_key.primary_key == fresh
        await until(lambda: not stack.hub.is_connected(identity), "old-key session closed")
    finally:
        with contextlib.suppress(NoConnectionError):  # the hub already closed its connection
            await side.run(stale_client.shutdown)
    with pytest.raises(Exception):  # noqa: B017 - the SDK's refusal type depends on its pipeline stage
        await connect_module(side, stack, "camera-2", "avaedge", old)
    assert not stack.hub.is_connected(identity)
    fresh_client = await connect_module(side, stack, "camera-2", "avaedge", other)
    try:
        await until(lambda: stack.hub.is_connected(identity), "the kept key still connects")
    finally:
        await side.run(fresh_client.shutdown)

    await service(stack, lambda m: m.delete_module("camera-2", "avaedge"))
    with pytest.raises(HttpOperationError) as gone:
        await service(stack, lambda m: m.get_module("camera-2", "avaedge"))
    assert gone.value.response.status_code == 404
    assert "ErrorCode:ModuleNotFound" in gone.value.response.json()["Message"]
