"""Acceptance: an operator runs the whole edge flow with Microsoft's own SDKs, as Video Analyzer's samples do.

Everything real, on loopback, with TLS from a test CA:

- the cloud with its device hub (``support.hub_stack``: one HTTPS listener and the MQTT gateway
  on 127.0.0.N:8883, the port the official device SDK always dials), served by uvicorn in the
  test's event loop; the SDKs' blocking calls run in threads;
- the operator, with ``azure-mgmt-videoanalyzer``, creates an account, an edge module and its
  provisioning token;
- with ``azure-iot-hub`` (the service SDK) it creates the IoT device and module identity and sets
  the module twin's desired ``ProvisioningToken`` and ``ApplicationDataDirectory``;
- ``ova edge`` starts as a child process with the module's connection string, as IoT Edge starts
  ``avaedge``;
- the published continuous-recording topology (Azure/video-analyzer
  ``pipelines/live/topologies/cvr-video-sink``) is set and activated with the
  ``azure-media-videoanalyzer-edge`` request models sent by ``invoke_device_module_method``
  (the samples' ``CloudToDeviceMethod(method_name=request.method_name, payload=request.serialize())``);
  the camera is ``ova camera``;
- a viewer gets a content token through the client API with a customer JWT, fetches the HLS
  manifest and a segment, and ffprobe reads H.264 from it;
- ``livePipelineDeactivate`` returns once the local cache reached the cloud, and the module's
  ``RecordingStarted`` / ``RecordingAvailable`` operational events reached the hub.
"""

from __future__ import annotations

import asyncio
import gc
import json
import shutil
import ssl
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken
from azure.iot.hub import IoTHubRegistryManager
from azure.iot.hub.models import CloudToDeviceMethod, Twin, TwinProperties
from azure.media import videoanalyzeredge as edge_sdk
from azure.mgmt.videoanalyzer import VideoAnalyzer
from azure.mgmt.videoanalyzer import models as m

from integration.camera.camera_process import CameraProcess
from ova.auth.iot_sas import new_key
from ova.cloud.domain.operator_keys import create_key
from ova.contracts.iot_hub import ConnectionString
from ova.hub.namespace import Identity
from support.customer_issuer import CustomerIssuer
from support.edge_process import EdgeProcess, wait_for
from support.hub_stack import HubStack, hub_stack

SUBSCRIPTION = "5f0b1c2d-0000-4000-8000-0000000000e7"
GROUP = "edge-flow"
ACCOUNT = "factory"
EDGE_MODULE = "avaedge"
DEVICE = "factory-gateway"
VIDEO = "sample-cvr-video-sink"
TOPOLOGY = "CVRToVideoSink"
PIPELINE = "gate-camera"
API_VERSION = "2021-11-01-preview"
HLS = "manifest(format=m3u8-cmaf).m3u8"
SEGMENT_MS = "2000"  # the module's test-only override of the topology's PT30S
MEDIA_TIMEOUT_S = 90.0


class OperatorKeyCredential:
    """A ``TokenCredential`` that hands the SDK an operator API key as its bearer token."""

    def __init__(self, key: str) -> None:
        self._key = key

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._key, int(time.time()) + 3600)


def cvr_topology(cache: Path) -> edge_sdk.PipelineTopology:
    """The published ``cvr-video-sink`` topology, built with the edge SDK's models; its cache
    under the application data directory, as the sample's ``/var/lib/videoanalyzer/tmp/``."""
    selector = edge_sdk.OutputSelector(property="mediaType", operator="is", value="video")
    credentials = edge_sdk.UsernamePasswordCredentials(username="${rtspUserName}", password="${rtspPassword}")
    source = edge_sdk.RtspSource(
        name="rtspSource", endpoint=edge_sdk.UnsecuredEndpoint(url="${rtspUrl}", credentials=credentials)
    )
    sink = edge_sdk.VideoSink(
        name="videoSink",
        video_name=VIDEO,
        inputs=[edge_sdk.NodeInput(node_name="rtspSource", output_selectors=[selector])],
        video_creation_properties=edge_sdk.VideoCreationProperties(
            title=VIDEO, description="Sample video using CVR video sink", segment_length="PT30S"
        ),
        local_media_cache_path=f"{cache}/",
        local_media_cache_maximum_size_mi_b="2048",
    )
    parameters = [
        edge_sdk.ParameterDeclaration(name="rtspUserName", type="String", default="dummyUserName"),
        edge_sdk.ParameterDeclaration(name="rtspPassword", type="String", default="dummyPassword"),
        edge_sdk.ParameterDeclaration(name="rtspUrl", type="String", description="rtsp Url"),
    ]
    properties = edge_sdk.PipelineTopologyProperties(
        description="Continuous video recording to Azure Video Sink",
        parameters=parameters,
        sources=[source],
        sinks=[sink],
    )
    return edge_sdk.PipelineTopology(name=TOPOLOGY, properties=properties)


def invoke(registry: IoTHubRegistryManager, request: Any) -> tuple[int, Any]:
    """What the sample's ``invoke_method_helper`` does: one direct method on the module."""
    method = CloudToDeviceMethod(
        method_name=request.method_name, payload=request.serialize(), response_timeout_in_seconds=120
    )
    result = registry.invoke_device_module_method(DEVICE, EDGE_MODULE, method)
    return int(result.status), result.payload


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
async def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[HubStack]:
    """``support.hub_stack``'s deployment on a known port: the URLs the cloud hands out (client API
    endpoint, archive, upload SAS, the provisioning token's issuer) name the port it serves on."""
    async with hub_stack(tmp_path, known_port=True) as running:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(running.tls.ca_cert))  # azure-iot-hub's HTTPS
        yield running


@pytest.fixture
def registry(stack: HubStack) -> Iterator[IoTHubRegistryManager]:
    """``azure-iot-hub``'s registry manager on the hub's service connection string."""
    manager = IoTHubRegistryManager.from_connection_string(stack.service_connection_string)
    manager.protocol.config.headers["Connection"] = "close"  # no keep-alive socket outlives a call
    yield manager
    # The SDK's errors (404 while the module was offline) hold their responses, and with them
    # keep-alive sockets, in reference cycles: collect them while the server still runs.
    gc.collect()
    manager.protocol.close()  # its requests session: keep-alive sockets to the hub


@pytest.fixture
def camera(tmp_path: Path) -> Iterator[CameraProcess]:
    process = CameraProcess(tmp_path / "camera.log", "--width", "640", "--height", "360")
    yield process
    process.stop()


# --- the operator's steps (blocking SDK calls, run in a thread) --------------------------------


def provisioning_token(stack: HubStack, operator_key: str) -> str:
    """Account, edge module and provisioning token through ``azure-mgmt-videoanalyzer``."""
    sdk = VideoAnalyzer(
        OperatorKeyCredential(operator_key),
        SUBSCRIPTION,
        base_url=stack.base_url,
        connection_verify=str(stack.tls.ca_cert),
        polling_interval=0,
        retry_total=0,
    )
    with sdk:
        sdk.video_analyzers.begin_create_or_update(GROUP, ACCOUNT, m.VideoAnalyzer(location="local")).result()
        sdk.edge_modules.create_or_update(GROUP, ACCOUNT, EDGE_MODULE, m.EdgeModuleEntity())
        expires = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
        token = sdk.edge_modules.list_provisioning_token(
            GROUP, ACCOUNT, EDGE_MODULE, m.ListProvisioningTokenInput(expiration_date=expires)
        )
    assert token.token
    return str(token.token)


def module_identity(stack: HubStack, registry: IoTHubRegistryManager, app_data: Path, token: str) -> str:
    """Device + module identity, the module twin's desired properties; the module connection string."""
    registry.create_device_with_sas(DEVICE, new_key(), new_key(), "enabled", iot_edge=True)
    primary = new_key()
    registry.create_module_with_sas(DEVICE, EDGE_MODULE, "", primary, new_key())
    desired = {
        "applicationDataDirectory": str(app_data),  # key casing as the samples mix it
        "ProvisioningToken": token,
        "diagnosticsEventsOutputName": "diagnostics",
        "operationalEventsOutputName": "operational",
        "logLevel": "information",
        "LogCategories": "Application,Events",
        "allowUnsecuredEndpoints": "true",
        "telemetryOptOut": True,
    }
    twin = registry.get_module_twin(DEVICE, EDGE_MODULE)
    registry.update_module_twin(
        DEVICE, EDGE_MODULE, Twin(properties=TwinProperties(desired=desired)), twin.etag
    )
    return stack.module_connection_string(DEVICE, EDGE_MODULE, primary)


def answers_methods(registry: IoTHubRegistryManager, edge: EdgeProcess) -> bool | None:
    """True once the module answers a direct method (the hub answers 404 while it is offline)."""
    edge.check_running()
    try:
        status, _ = invoke(registry, edge_sdk.PipelineTopologyListRequest())
    except Exception:
        return None
    return True if status == 200 else None


def record(registry: IoTHubRegistryManager, camera_url: str, cache: Path) -> None:
    """pipelineTopologySet, livePipelineSet, livePipelineActivate, as the sample's operations.json."""
    topology = edge_sdk.PipelineTopologySetRequest(pipeline_topology=cvr_topology(cache))
    status, created = invoke(registry, topology)
    assert status == 201, created
    assert created["name"] == TOPOLOGY and "createdAt" in created["systemData"]
    parameters = [edge_sdk.ParameterDefinition(name="rtspUrl", value=camera_url)]
    pipeline = edge_sdk.LivePipeline(
        name=PIPELINE,
        properties=edge_sdk.LivePipelineProperties(topology_name=TOPOLOGY, parameters=parameters),
    )
    status, created = invoke(registry, edge_sdk.LivePipelineSetRequest(live_pipeline=pipeline))
    assert status == 201, created
    status, activated = invoke(registry, edge_sdk.LivePipelineActivateRequest(name=PIPELINE))
    assert status == 200, activated


# --- the viewer's steps ------------------------------------------------------------------------


def trust(stack: HubStack) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(stack.tls.ca_cert))


def client_endpoint(stack: HubStack, operator_key: str, issuer: CustomerIssuer) -> str:
    """An access policy trusting the customer's issuer; the account's Client API endpoint."""
    account = f"{stack.base_url}/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}"
    account += f"/providers/Microsoft.Media/videoAnalyzers/{ACCOUNT}"
    headers = {"Authorization": f"Bearer {operator_key}"}
    params = {"api-version": API_VERSION}
    with httpx.Client(verify=trust(stack), headers=headers, timeout=10) as arm:
        put = arm.put(f"{account}/accessPolicies/viewers", params=params, json=issuer.policy())
        assert put.status_code in (200, 201), put.text
        endpoint: str = arm.get(account, params=params).json()["properties"]["endpoints"][0]["endpointUrl"]
    return endpoint


def playable_manifest(http: httpx.Client, endpoint: str, jwt: str) -> tuple[str, str, str] | None:
    """(archive base URL, content token, HLS manifest) once the video has media, else None."""
    url, params = f"{endpoint}/videos/{VIDEO}", {"api-version": API_VERSION}
    headers = {"Authorization": f"Bearer {jwt}"}
    video = http.get(url, params=params, headers=headers)
    if video.status_code != 200 or not video.json()["properties"]["flags"]["hasData"]:
        return None
    base: str = video.json()["properties"]["contentUrls"]["archiveBaseUrl"]
    token = http.post(f"{url}/listContentToken", params=params, headers=headers).json()["token"]
    playlist = http.get(f"{base}/{HLS}", params={"token": token})
    if playlist.status_code != 200 or "#EXTINF:" not in playlist.text:
        return None
    return base, token, playlist.text


def first_segment(http: httpx.Client, base: str, token: str, playlist: str, into: Path) -> Path:
    """The init segment and the first media segment, concatenated as a player feeds them."""
    lines = playlist.splitlines()
    init_uri = next(
        line.split('URI="', 1)[1].split('"', 1)[0] for line in lines if line.startswith("#EXT-X-MAP")
    )
    media_uri = next(line for line in lines if line and not line.startswith("#"))
    parts = []
    for uri in (init_uri, media_uri):
        absolute = httpx.URL(f"{base}/{HLS}").join(uri)
        if "token=" not in uri:
            absolute = absolute.copy_add_param("token", token)
        response = http.get(absolute)
        assert response.status_code == 200, (uri, response.status_code)
        parts.append(response.content)
    path = into / "first.mp4"
    path.write_bytes(b"".join(parts))
    return path


def ffprobe_video(path: Path) -> dict[str, Any]:
    entries = ["-show_entries", "stream=codec_name,codec_type,width,height", "-of", "json"]
    done = subprocess.run(["ffprobe", "-v", "error", *entries, str(path)], capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    streams: list[dict[str, Any]] = json.loads(done.stdout)["streams"]
    return next(stream for stream in streams if stream["codec_type"] == "video")


def watch(stack: HubStack, operator_key: str, into: Path) -> dict[str, Any]:
    """What a viewer's player does, once the module uploaded media: the first segment's video stream."""
    issuer = CustomerIssuer.generate(f"viewer-{uuid.uuid4().hex[:6]}")
    endpoint = client_endpoint(stack, operator_key, issuer)
    jwt = issuer.token(f"{endpoint}/videos/*", alg="ES256")
    with httpx.Client(verify=trust(stack), timeout=10) as http:
        base, token, playlist = wait_for(
            "the video to have media", lambda: playable_manifest(http, endpoint, jwt), MEDIA_TIMEOUT_S
        )
        return ffprobe_video(first_segment(http, base, token, playlist, into))


# --- the test ----------------------------------------------------------------------------------


async def operational_events(stack: HubStack) -> list[str]:
    """The ``eventType`` of each device-to-cloud message the module sent on its output ``operational``."""
    messages = await stack.hub.messages.read(Identity(DEVICE, EDGE_MODULE), 0, 1000)
    return [
        message.properties.get("eventType", "")
        for message in messages
        if message.system_properties.get("$.on") == "operational"
    ]


async def test_operator_records_a_camera_through_an_edge_module(
    stack: HubStack, registry: IoTHubRegistryManager, camera: CameraProcess, tmp_path: Path
) -> None:
    assert shutil.which("ffprobe"), "ffprobe is needed (apt-get install ffmpeg)"
    async with stack.cloud.services.sessions.begin() as session:
        operator_key = await create_key(session, stack.cloud.services.clock, "edge-flow")
    token = await asyncio.to_thread(provisioning_token, stack, operator_key)
    app_data = tmp_path / "videoanalyzer"
    connection_string = await asyncio.to_thread(module_identity, stack, registry, app_data, token)
    edge = EdgeProcess(
        tmp_path / "edge",
        connection_string,
        stack.tls.ca_cert,
        environment={"OVA_EDGE_SEGMENT_MS": SEGMENT_MS},
    )
    edge.start()
    try:
        await asyncio.to_thread(wait_for, "the module to answer", lambda: answers_methods(registry, edge), 60)
        await asyncio.to_thread(record, registry, camera.url, app_data / "tmp")
        stream = await asyncio.to_thread(watch, stack, operator_key, tmp_path)
        assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", 640, 360)

        request = edge_sdk.LivePipelineDeactivateRequest(name=PIPELINE)
        assert (await asyncio.to_thread(invoke, registry, request))[0] == 200
        request_get = edge_sdk.LivePipelineGetRequest(name=PIPELINE)
        status, got = await asyncio.to_thread(invoke, registry, request_get)
        assert status == 200 and got["properties"]["state"] == "inactive"
        videos = app_data / "tmp" / "videos"
        assert videos.is_dir(), "the module did not cache into the topology's localMediaCachePath"
        cached = [path for path in videos.glob("*/entries/*") if path.is_file()]
        assert cached == [], "deactivate returned before the local cache reached the cloud"
        events = await operational_events(stack)
        for kind in ("RecordingStarted", "RecordingAvailable"):
            assert f"Microsoft.VideoAnalyzer.Operational.{kind}" in events, events
    finally:
        edge.stop()
    log = edge.log_tail(1_000_000)
    assert "Traceback" not in log
    assert token not in log, "the provisioning token was logged"
    assert ConnectionString.parse(connection_string).shared_access_key not in log, "the module key was logged"
