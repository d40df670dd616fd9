"""The demo's edge module: one ``ova edge`` child process provisioned and driven through the hub.

``start_edge`` does what an operator does for a new module: the edge module resource and a
provisioning token (management), the IoT device and module identity and the module twin's
desired properties (the hub), then starts ``ova edge`` with the module connection string in its
environment and waits until it is connected. ``EdgeChain.record`` sets Video Analyzer's
published continuous-recording topology (``cvr-video-sink``, its video name a parameter) and
one live pipeline per camera, and activates it, all through direct methods;
``EdgeChain.deactivate`` returns once the module's cache reached the cloud. ``ova demo`` and
``bench/edge_streams.py`` use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from ova.auth import iot_sas
from ova.cloud.domain import accounts
from ova.cloud.domain.arm import AccountScope, Principal
from ova.cloud.domain.kinds import edge_modules
from ova.cloud.domain.resources import KindContext, find, put
from ova.cloud.runtime import Cloud
from ova.cloud.settings import Family
from ova.common.clock import isoformat
from ova.common.errors import OvaError
from ova.contracts.iot_hub import ConnectionString
from ova.hub.errors import IdentityExists, IdentityNotFound
from ova.hub.namespace import Identity
from ova.hub.registry import IdentitySpec
from ova.hub.runtime import Hub
from ova.hub.service_auth import Right

EDGE_MODULE, DEVICE_ID, MODULE_ID, HUB_POLICY = "demo-edge", "demo-gateway", "avaedge", "demo"
TOPOLOGY = "CVRToVideoSink"
DEFAULT_VIDEO = "demo-edge-camera"
PREFIX = "#Microsoft.VideoAnalyzer."
METHOD_TIMEOUT_S = 120  # livePipelineDeactivate answers once the local cache reached the cloud
CONNECT_TIMEOUT_S = 120.0


def cvr_topology(cache: Path, segment_length: str = "PT30S") -> dict[str, Any]:
    """The ``pipelineTopologySet`` payload of Video Analyzer's published continuous-recording
    topology (``cvr-video-sink``), its video name a parameter so one topology serves many cameras;
    its cache ``cache`` (the sample's ``/var/lib/videoanalyzer/tmp/``)."""
    credentials = {
        "@type": PREFIX + "UsernamePasswordCredentials",
        "username": "${rtspUserName}",
        "password": "${rtspPassword}",
    }
    endpoint = {"@type": PREFIX + "UnsecuredEndpoint", "url": "${rtspUrl}", "credentials": credentials}
    video_only = [{"property": "mediaType", "operator": "is", "value": "video"}]
    sink = {
        "@type": PREFIX + "VideoSink",
        "name": "videoSink",
        "videoName": "${videoName}",
        "inputs": [{"nodeName": "rtspSource", "outputSelectors": video_only}],
        "videoCreationProperties": {"title": "${videoName}", "segmentLength": segment_length},
        "localMediaCachePath": f"{cache}/",
        "localMediaCacheMaximumSizeMiB": "2048",
    }
    parameters = [
        {"name": "rtspUserName", "type": "String", "default": "dummyUserName"},
        {"name": "rtspPassword", "type": "SecretString", "default": "dummyPassword"},
        {"name": "rtspUrl", "type": "String", "description": "rtsp Url"},
        {"name": "videoName", "type": "String", "default": DEFAULT_VIDEO},
    ]
    properties = {
        "description": "Continuous video recording to Azure Video Sink",
        "parameters": parameters,
        "sources": [{"@type": PREFIX + "RtspSource", "name": "rtspSource", "endpoint": endpoint}],
        "sinks": [sink],
    }
    return {"@apiVersion": "1.1", "name": TOPOLOGY, "properties": properties}


def live_pipeline(name: str, camera_url: str, video: str) -> dict[str, Any]:
    """The ``livePipelineSet`` payload recording ``camera_url`` into ``video``."""
    parameters = [{"name": "rtspUrl", "value": camera_url}, {"name": "videoName", "value": video}]
    properties = {"topologyName": TOPOLOGY, "parameters": parameters}
    return {"@apiVersion": "1.1", "name": name, "properties": properties}


async def provisioning_token(cloud: Cloud, scope: AccountScope, name: str = EDGE_MODULE) -> str:
    """The edge module resource ``name`` of the account and a fresh provisioning token for it."""
    services = cloud.services
    async with services.sessions.begin() as session:
        account = await accounts.find(session, scope)
        assert account is not None, "the account exists before its edge module"
        ctx = KindContext(services=services, session=session, account=account, principal=Principal("demo"))
        if await find(session, account, edge_modules.KIND, name) is None:
            await put(ctx, edge_modules.KIND, name, {})
        expires = isoformat(services.clock.now() + timedelta(days=1))
        issued = await edge_modules.list_provisioning_token(ctx, name, {"expirationDate": expires})
    token: str = issued["token"]
    return token


async def module_key(hub: Hub, identity: Identity) -> str:
    """The module identity's primary key; the device and the module are created when missing."""
    try:
        return (await hub.registry.get(identity)).keys.primary
    except IdentityNotFound:
        pass
    with contextlib.suppress(IdentityExists):
        await hub.registry.put(Identity(identity.device_id), IdentitySpec(), None)
    return (await hub.registry.put(identity, IdentitySpec(managed_by="ova-demo"), None)).keys.primary


async def hub_policy(hub: Hub, previous: str | None) -> ConnectionString:
    """A hub service policy with every right: ``previous`` (a connection string) while it still
    signs, else a new one."""
    if previous is not None:
        with contextlib.suppress(ValueError, OvaError):
            connection = ConnectionString.parse(previous)
            expiry = int(time.time()) + 60
            name = connection.shared_access_key_name
            await hub.service_auth.authenticate(
                iot_sas.sign(hub.settings.host_name, connection.shared_access_key, expiry, name)
            )
            return connection
    rights = list(Right)
    try:
        return await hub.service_auth.create_policy(HUB_POLICY, rights)
    except IdentityExists:  # demo.json was lost: the old policy's key with it
        return await hub.service_auth.create_policy(f"{HUB_POLICY}-{os.urandom(4).hex()}", rights)


@dataclass
class EdgeChain:
    """One ``ova edge`` child process, connected to the cloud's hub as ``identity``."""

    hub: Hub
    identity: Identity
    process: subprocess.Popen[bytes]
    app_data: Path

    async def invoke(self, method: str, payload: dict[str, Any]) -> Any:
        """A direct method on the module; its payload, or ``RuntimeError`` for an error status."""
        result = await self.hub.methods.invoke(self.identity, method, payload, METHOD_TIMEOUT_S)
        if result.status >= 400:
            raise RuntimeError(f"{method} answered {result.status}: {json.dumps(result.payload)[:500]}")
        return result.payload

    async def record(self, pipeline: str, camera_url: str, video: str, segment_length: str = "PT30S") -> None:
        """What an operator does with the edge SDK: topology, live pipeline, activate. A pipeline
        the module resumed from its last run is deactivated first (its topology cannot change
        under it, nor its camera URL while active)."""
        await self.deactivate_if_active(pipeline)
        await self.set_topology(segment_length)
        await self.activate(pipeline, camera_url, video)

    async def set_topology(self, segment_length: str = "PT30S") -> None:
        await self.invoke("pipelineTopologySet", cvr_topology(self.app_data / "tmp", segment_length))

    async def activate(self, pipeline: str, camera_url: str, video: str) -> None:
        """``livePipelineSet`` then ``livePipelineActivate`` of ``pipeline`` recording the camera."""
        await self.invoke("livePipelineSet", live_pipeline(pipeline, camera_url, video))
        await self.invoke("livePipelineActivate", {"@apiVersion": "1.1", "name": pipeline})

    async def deactivate_if_active(self, pipeline: str) -> None:
        state = await self._state(pipeline)
        if state is not None and state != "inactive":
            await self.deactivate(pipeline)

    async def _state(self, pipeline: str) -> str | None:
        result = await self.hub.methods.invoke(
            self.identity, "livePipelineGet", {"@apiVersion": "1.1", "name": pipeline}, METHOD_TIMEOUT_S
        )
        if result.status != 200 or not isinstance(result.payload, dict):
            return None
        state = result.payload.get("properties", {}).get("state")
        return state if isinstance(state, str) else None

    async def deactivate(self, pipeline: str) -> None:
        """Returns once the pipeline is inactive and its cache reached the cloud."""
        await self.invoke("livePipelineDeactivate", {"@apiVersion": "1.1", "name": pipeline})

    def stop(self, timeout_s: float = 10) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def edge_environment(connection: str, data_dir: Path, tls: bool, extra: dict[str, str]) -> dict[str, str]:
    """The child's environment: no ``OVA_`` settings of ours, the module's own ``OVA_EDGE_`` ones."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("OVA_")}
    return {
        **base,
        "OVA_EDGE_CONNECTION_STRING": connection,  # the environment, not argv: ps shows argv
        "OVA_EDGE_DATA_DIR": str(data_dir),
        "OVA_EDGE_HUB__TLS": "true" if tls else "false",
        **extra,
    }


async def wait_connected(
    hub: Hub, identity: Identity, process: subprocess.Popen[bytes], limit_s: float
) -> None:
    deadline = time.monotonic() + limit_s
    while not hub.is_connected(identity):
        if process.poll() is not None:
            raise RuntimeError(f"ova edge exited with {process.returncode} before it connected to the hub")
        if time.monotonic() > deadline:
            raise RuntimeError(f"ova edge did not connect to the hub within {limit_s:.0f} s")
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)  # its subscriptions follow the CONNACK


async def start_edge(
    cloud: Cloud,
    scope: AccountScope,
    data_dir: Path,
    *,
    module: str = MODULE_ID,
    extra_environment: dict[str, str] | None = None,
    log: IO[bytes] | None = None,
) -> EdgeChain:
    """Provision the edge module (token, hub identity, twin) and start ``ova edge`` for it."""
    hub = cloud.hub
    assert hub is not None and hub.gateway is not None, "the hub runs (hub.enabled) before the edge starts"
    identity = Identity(DEVICE_ID, module)
    token = await provisioning_token(cloud, scope)
    key = await module_key(hub, identity)
    app_data = (data_dir / "edge" / module).resolve()
    desired = {
        "ProvisioningToken": token,
        "ApplicationDataDirectory": str(app_data),
        "OperationalEventsOutputName": "operational",
        "DiagnosticsEventsOutputName": "diagnostics",
        "AllowUnsecuredEndpoints": True,
        "TelemetryOptOut": True,
    }
    await hub.twins.update(identity, {"properties": {"desired": desired}}, "*")
    host = f"{hub.settings.host_name}:{hub.mqtt_port}"
    connection = ConnectionString(host, key, device_id=identity.device_id, module_id=module)
    environment = edge_environment(
        str(connection), app_data, hub.settings.mqtt.tls_cert is not None, extra_environment or {}
    )
    command = [sys.executable, "-m", "ova.cli", "edge"]
    process = await asyncio.to_thread(
        subprocess.Popen, command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=environment
    )
    chain = EdgeChain(hub, identity, process, app_data)
    try:
        await wait_connected(hub, identity, process, CONNECT_TIMEOUT_S)
    except BaseException:
        chain.stop()
        raise
    return chain


async def hub_details(cloud: Cloud, previous: str | None) -> dict[str, Any]:
    """``hubUrl``, ``hubConnectionString`` (what ``azure-iot-hub`` takes: ``HostName`` is the service
    API's host and port), ``deviceId``, ``moduleId``; ``previous``: the last run's connection string."""
    hub = cloud.hub
    assert hub is not None
    listener = cloud.settings.listener_for(Family.HUB)
    base = listener.base_url() if listener else ""
    policy = await hub_policy(hub, previous)
    rest_host = base.split("://", 1)[-1].rstrip("/")
    connection = ConnectionString(
        rest_host, policy.shared_access_key, shared_access_key_name=policy.shared_access_key_name
    )
    return {
        "hubUrl": base,
        "hubConnectionString": str(connection),
        "deviceId": DEVICE_ID,
        "moduleId": MODULE_ID,
    }
