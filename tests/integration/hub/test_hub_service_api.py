"""The hub's service API over HTTPS without the SDKs: refusals, bounds, direct-method timeouts and replays.

A raw MQTT client (``support.mqtt_wire``) stands in for a module where a test needs to misbehave
(never answer, answer late, forge a request id).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ova.auth import iot_sas
from ova.contracts import iot_hub
from ova.hub.mqtt.codec import Connect
from ova.hub.namespace import Identity
from ova.hub.registry import IdentitySpec
from ova.hub.service_auth import Right
from support.hub_stack import MQTT_TLS_PORT, HubStack, hub_stack
from support.mqtt_wire import WireClient

API = {"api-version": "2021-04-12"}


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[HubStack]:
    async with hub_stack(tmp_path) as running:
        yield running


def sas(stack: HubStack, policy: str, key: str, ttl: int = 3600) -> str:
    return iot_sas.sign(f"{stack.address}:{stack.https_port}", key, int(time.time()) + ttl, policy)


def owner_key(stack: HubStack) -> str:
    return iot_hub.ConnectionString.parse(stack.service_connection_string).shared_access_key


@pytest.fixture
async def http(stack: HubStack) -> AsyncIterator[httpx.AsyncClient]:
    context = ssl.create_default_context(cafile=str(stack.tls.ca_cert))
    async with httpx.AsyncClient(base_url=stack.base_url, verify=context, timeout=30) as client:
        yield client


def owner(stack: HubStack) -> dict[str, str]:
    return {"Authorization": sas(stack, "iothubowner", owner_key(stack))}


def error_code(response: httpx.Response) -> str:
    return str(response.json()["Message"]).split(";", 1)[0]


async def test_requests_without_a_valid_service_signature_are_refused(
    stack: HubStack, http: httpx.AsyncClient
) -> None:
    missing = await http.get("/devices/camera-1", params=API)
    assert missing.status_code == 401 and error_code(missing) == "ErrorCode:IotHubUnauthorizedAccess"
    forged = await http.get(
        "/devices/camera-1",
        params=API,
        headers={"Authorization": sas(stack, "iothubowner", iot_sas.new_key())},
    )
    assert forged.status_code == 401
    expired = await http.get(
        "/devices/camera-1",
        params=API,
        headers={"Authorization": sas(stack, "iothubowner", owner_key(stack), -5)},
    )
    assert expired.status_code == 401
    unknown_policy = await http.get(
        "/devices/camera-1", params=API, headers={"Authorization": sas(stack, "nobody", owner_key(stack))}
    )
    assert unknown_policy.status_code == 401
    assert owner_key(stack) not in missing.text + forged.text + expired.text


async def test_a_policy_only_reaches_what_its_rights_allow(stack: HubStack, http: httpx.AsyncClient) -> None:
    reader = await stack.hub.service_auth.create_policy("registryReader", {Right.REGISTRY_READ})
    headers = {"Authorization": sas(stack, "registryReader", reader.shared_access_key)}
    created = await http.put("/devices/camera-1", params=API, headers=headers, json={"deviceId": "camera-1"})
    assert created.status_code == 403 and error_code(created) == "ErrorCode:IotHubUnauthorizedAccess"
    missing = await http.get("/devices/camera-1", params=API, headers=headers)
    assert missing.status_code == 404 and error_code(missing) == "ErrorCode:DeviceNotFound"
    twin = await http.get("/twins/camera-1", params=API, headers=headers)
    assert twin.status_code == 403


async def test_registry_writes_follow_etags_and_bounds(stack: HubStack, http: httpx.AsyncClient) -> None:
    headers = owner(stack)
    created = await http.put("/devices/camera-1", params=API, headers=headers, json={"deviceId": "camera-1"})
    assert created.status_code == 200
    keys = created.json()["authentication"]["symmetricKey"]
    assert iot_sas.decode_key(keys["primaryKey"]) and keys["primaryKey"] != keys["secondaryKey"]
    again = await http.put("/devices/camera-1", params=API, headers=headers, json={"deviceId": "camera-1"})
    assert again.status_code == 409 and error_code(again) == "ErrorCode:DeviceAlreadyExists"
    stale = await http.put(
        "/devices/camera-1", params=API, headers=headers | {"If-Match": '"nope"'}, json={"status": "disabled"}
    )
    assert stale.status_code == 412
    orphan = await http.put("/devices/ghost/modules/m", params=API, headers=headers, json={})
    assert orphan.status_code == 404 and error_code(orphan) == "ErrorCode:DeviceNotFound"
    bad_key = {"authentication": {"type": "sas", "symmetricKey": {"primaryKey": "not base64!"}}}
    refused = await http.put("/devices/camera-2", params=API, headers=headers, json=bad_key)
    assert refused.status_code == 400
    huge = await http.put(
        "/devices/camera-3", params=API, headers=headers, json={"statusReason": "x" * (300 * 1024)}
    )
    assert huge.status_code == 400 and error_code(huge) == "ErrorCode:MessageTooLarge"
    bad_id = await http.get("/devices/a%2Bb%23c", params=API, headers=headers)
    assert bad_id.status_code in (400, 404)


async def module_on_the_wire(stack: HubStack, device_id: str, module_id: str) -> WireClient:
    """A module connected through the gateway with raw MQTT, subscribed to direct methods."""
    spec = IdentitySpec(primary_key=iot_sas.new_key())
    await stack.hub.registry.put(Identity(device_id), spec, None)
    await stack.hub.registry.put(Identity(device_id, module_id), spec, None)
    assert spec.primary_key is not None
    resource = iot_hub.sas_resource(stack.address, device_id, module_id)
    token = iot_sas.sign(resource, spec.primary_key, int(time.time()) + 600)
    tls = ssl.create_default_context(cafile=str(stack.tls.ca_cert))
    client = await WireClient.open(MQTT_TLS_PORT, stack.address, tls)
    username = iot_hub.username(stack.address, device_id, module_id)
    assert (
        await client.connect(Connect(f"{device_id}/{module_id}", username=username, password=token.encode()))
        == 0
    )
    await client.subscribe(iot_hub.METHODS_SUBSCRIBE)
    return client


async def test_direct_method_timeouts_and_replayed_answers(stack: HubStack, http: httpx.AsyncClient) -> None:
    headers = owner(stack)
    offline = await stack.hub.registry.put(Identity("camera-9"), IdentitySpec(), None)
    assert offline.status == "enabled"
    not_online = await http.post(
        "/twins/camera-9/methods", params=API, headers=headers, json={"methodName": "ping", "payload": {}}
    )
    assert not_online.status_code == 404 and error_code(not_online) == "ErrorCode:DeviceNotOnline"

    module = await module_on_the_wire(stack, "camera-1", "avaedge")
    try:
        too_long = {"methodName": "ping", "payload": {}, "responseTimeoutInSeconds": 301}
        refused = await http.post(
            "/twins/camera-1/modules/avaedge/methods", params=API, headers=headers, json=too_long
        )
        assert refused.status_code == 400

        silent = {"methodName": "ping", "payload": {"n": 1}, "responseTimeoutInSeconds": 5}
        call = asyncio.create_task(
            http.post("/twins/camera-1/modules/avaedge/methods", params=API, headers=headers, json=silent)
        )
        request = await module.message(within=10)
        name, rid = iot_hub.parse_method_request(request.topic) or ("", "")
        assert name == "ping" and len(rid) >= 32 and json.loads(request.payload) == {"n": 1}
        metrics = (await http.get("/metrics")).text
        assert "ova_hub_methods_pending 1.0" in metrics and "ova_hub_device_connections 1.0" in metrics
        await module.publish(iot_hub.method_response_topic(200, "forged-rid"), b'{"forged": true}', qos=0)
        timed_out = await asyncio.wait_for(call, 15)
        assert timed_out.status_code == 504 and error_code(timed_out) == "ErrorCode:GatewayTimeout"
        await module.publish(iot_hub.method_response_topic(200, rid), b'{"late": true}', qos=0)

        answered = asyncio.create_task(
            http.post("/twins/camera-1/modules/avaedge/methods", params=API, headers=headers, json=silent)
        )
        second = await module.message(within=10)
        _, second_rid = iot_hub.parse_method_request(second.topic) or ("", "")
        assert second_rid != rid
        await module.publish(iot_hub.method_response_topic(201, second_rid), b'{"ok": true}', qos=0)
        await module.publish(iot_hub.method_response_topic(500, second_rid), b'{"replayed": true}', qos=0)
        result = await asyncio.wait_for(answered, 15)
        assert result.status_code == 200 and result.json() == {"status": 201, "payload": {"ok": True}}
        assert stack.hub.methods.pending == 0
    finally:
        await module.close()


async def test_device_to_cloud_messages_read_back_in_pages(stack: HubStack, http: httpx.AsyncClient) -> None:
    module = await module_on_the_wire(stack, "camera-1", "avaedge")
    try:
        for n in range(3):
            topic = iot_hub.events_topic("camera-1", "avaedge", {"$.on": "output1", "n": str(n)})
            await module.publish(topic, json.dumps({"n": n}).encode(), qos=1, packet_id=n + 1)
        identity = Identity("camera-1", "avaedge")
        for _ in range(200):
            if len(await stack.hub.messages.read(identity)) == 3:
                break
            await asyncio.sleep(0.05)
    finally:
        await module.close()
    path = "/devices/camera-1/modules/avaedge/messages/events"
    first = await http.get(path, params=API | {"top": "2"}, headers=owner(stack))
    page = first.json()
    assert [json.loads(item["body"]) for item in page["value"]] == [{"n": 0}, {"n": 1}]
    assert (
        page["value"][0]["properties"] == {"n": "0"}
        and page["value"][0]["systemProperties"]["$.on"] == "output1"
    )
    rest = await http.get(path, params=API | {"after": str(page["nextAfter"])}, headers=owner(stack))
    assert [json.loads(item["body"]) for item in rest.json()["value"]] == [{"n": 2}]
    unknown = await http.get(
        "/devices/camera-1/modules/ghost/messages/events", params=API, headers=owner(stack)
    )
    assert unknown.status_code == 404 and error_code(unknown) == "ErrorCode:ModuleNotFound"
