"""``ModuleClient`` against ova's own device hub (TLS on 8883, gateway, broker), driven from the
service side with Microsoft's ``azure-iot-hub`` SDK: direct method, twin both ways, output message."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from azure.iot.hub import IoTHubRegistryManager
from azure.iot.hub.models import CloudToDeviceMethod, Twin, TwinProperties

from ova.auth import iot_sas
from ova.contracts import iot_hub
from ova.edge.iothub.client import ClientOptions, ModuleClient
from ova.edge.iothub.credentials import KeyCredential
from ova.edge.iothub.endpoint import HubEndpoint, tls_context
from ova.hub.namespace import Identity
from support.hub_stack import HubStack, hub_stack

WAIT_SECONDS = 15.0


@pytest.fixture
async def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[HubStack]:
    async with hub_stack(tmp_path) as running:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(running.tls.ca_cert))
        yield running


async def service(stack: HubStack, call: Any) -> Any:
    def run() -> Any:
        manager = IoTHubRegistryManager.from_connection_string(stack.service_connection_string)
        manager.protocol.config.headers["Connection"] = "close"  # no keep-alive socket outlives the call
        try:
            return call(manager)
        finally:
            manager.protocol.close()

    return await asyncio.to_thread(run)


async def test_module_client_speaks_to_the_ova_hub(stack: HubStack) -> None:
    key = iot_sas.new_key()
    await service(stack, lambda m: m.create_device_with_sas("camera-1", key, iot_sas.new_key(), "enabled"))
    await service(
        stack, lambda m: m.create_module_with_sas("camera-1", "avaedge", "", key, iot_sas.new_key())
    )
    connection = iot_hub.ConnectionString.parse(stack.module_connection_string("camera-1", "avaedge", key))
    client = ModuleClient(
        HubEndpoint.from_connection_string(connection),
        KeyCredential(key),
        tls_context(stack.tls.ca_cert),
        ClientOptions(backoff_initial_s=0.05, connect_timeout_s=10),
    )
    patches: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def on_desired(patch: dict[str, Any], complete: bool) -> None:
        await patches.put(patch)

    async def answer(name: str, payload: Any) -> tuple[int, Any]:
        return 200, {"name": name, "echo": payload}

    client.on_desired(on_desired)
    client.set_method_handler(answer)
    try:
        assert await client.start(wait_s=WAIT_SECONDS)
        assert stack.hub.is_connected(Identity("camera-1", "avaedge"))

        request = CloudToDeviceMethod(method_name="pipelineTopologyList", payload={"@apiVersion": "1.1"})
        result = await service(stack, lambda m: m.invoke_device_module_method("camera-1", "avaedge", request))
        assert (result.status, result.payload) == (
            200,
            {"name": "pipelineTopologyList", "echo": {"@apiVersion": "1.1"}},
        )

        twin = await service(stack, lambda m: m.get_module_twin("camera-1", "avaedge"))
        desired = Twin(properties=TwinProperties(desired={"LogLevel": "Verbose"}))
        await service(stack, lambda m: m.update_module_twin("camera-1", "avaedge", desired, twin.etag))
        patch = await asyncio.wait_for(patches.get(), WAIT_SECONDS)
        assert patch["LogLevel"] == "Verbose" and isinstance(patch["$version"], int)
        assert (await client.get_twin())["desired"]["LogLevel"] == "Verbose"
        assert await client.patch_reported({"ProvisioningState": "Provisioned"}) is not None
        after = await service(stack, lambda m: m.get_module_twin("camera-1", "avaedge"))
        assert after.properties.reported["ProvisioningState"] == "Provisioned"

        await client.send_to_output("operational", b'{"hello":1}', {"eventType": "Microsoft.VideoAnalyzer.X"})
        identity = Identity("camera-1", "avaedge")
        async with asyncio.timeout(WAIT_SECONDS):
            while not (stored := await stack.hub.messages.read(identity)):  # noqa: ASYNC110 (bounded poll)
                await asyncio.sleep(0.05)
        assert json.loads(stored[0].body) == {"hello": 1}
        assert stored[0].system_properties["$.on"] == "operational"
        assert stored[0].properties["eventType"] == "Microsoft.VideoAnalyzer.X"
    finally:
        await client.stop()
