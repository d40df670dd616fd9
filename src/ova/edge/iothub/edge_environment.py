"""The Azure IoT Edge environment a module runs in, and its workload API (signing, trust bundle).

IoT Edge starts a module with ``IOTEDGE_IOTHUBHOSTNAME``, ``IOTEDGE_GATEWAYHOSTNAME``,
``IOTEDGE_DEVICEID``, ``IOTEDGE_MODULEID``, ``IOTEDGE_MODULEGENERATIONID``,
``IOTEDGE_WORKLOADURI`` (``unix:///var/run/iotedge/workload.sock``), ``IOTEDGE_APIVERSION`` and
``IOTEDGE_AUTHSCHEME=sasToken``. The module holds no key: the workload API signs for it::

    POST /modules/{m}/genid/{g}/sign?api-version=…
         {"keyId": "primary", "algo": "HMACSHA256", "data": base64(string to sign)} → {"digest": base64}
    GET  /trust-bundle?api-version=…  → {"certificate": PEM}   (the edge hub's CA, to verify TLS)

as the official SDK does (``azure.iot.device.iothub.edge_hsm``). Answers are bounded in size and time.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from ova.edge.iothub.credentials import assemble, string_to_sign
from ova.edge.iothub.endpoint import HubEndpoint

VARIABLES = (
    "IOTEDGE_IOTHUBHOSTNAME",
    "IOTEDGE_GATEWAYHOSTNAME",
    "IOTEDGE_DEVICEID",
    "IOTEDGE_MODULEID",
    "IOTEDGE_MODULEGENERATIONID",
    "IOTEDGE_WORKLOADURI",
    "IOTEDGE_APIVERSION",
)
MAX_ANSWER_BYTES = 64 * 1024
TIMEOUT_S = 10.0


class EdgeEnvironmentError(ValueError):
    """The IoT Edge environment is incomplete, or its workload API gave no usable answer."""


@dataclass(frozen=True)
class EdgeEnvironment:
    iothub_host_name: str
    gateway_host_name: str
    device_id: str
    module_id: str
    generation_id: str
    workload_socket: str
    """The path of the workload API's unix socket."""
    api_version: str

    @classmethod
    def detect(cls, environ: Mapping[str, str]) -> EdgeEnvironment | None:
        """The environment when IoT Edge started this process (None when no ``IOTEDGE_*`` is set)."""
        if not any(name in environ for name in VARIABLES):
            return None
        missing = [name for name in VARIABLES if not environ.get(name)]
        if missing:
            raise EdgeEnvironmentError(f"The IoT Edge environment lacks {', '.join(missing)}.")
        scheme = environ.get("IOTEDGE_AUTHSCHEME", "sasToken")
        if scheme != "sasToken":
            raise EdgeEnvironmentError(f"IOTEDGE_AUTHSCHEME {scheme!r} is not supported (sasToken only).")
        uri = environ["IOTEDGE_WORKLOADURI"]
        if not uri.startswith("unix://"):
            raise EdgeEnvironmentError("IOTEDGE_WORKLOADURI must be a unix:// socket.")
        return cls(
            iothub_host_name=environ["IOTEDGE_IOTHUBHOSTNAME"],
            gateway_host_name=environ["IOTEDGE_GATEWAYHOSTNAME"],
            device_id=environ["IOTEDGE_DEVICEID"],
            module_id=environ["IOTEDGE_MODULEID"],
            generation_id=environ["IOTEDGE_MODULEGENERATIONID"],
            workload_socket=uri[len("unix://") :].rstrip("/") or "/",
            api_version=environ["IOTEDGE_APIVERSION"],
        )

    def endpoint(self) -> HubEndpoint:
        return HubEndpoint.build(
            self.iothub_host_name, self.device_id, self.module_id, gateway=self.gateway_host_name
        )


class WorkloadClient:
    """The workload API over its unix socket; also a ``SasCredential`` (it signs tokens)."""

    def __init__(self, environment: EdgeEnvironment) -> None:
        self.environment = environment

    def _client(self) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(uds=self.environment.workload_socket)
        return httpx.AsyncClient(transport=transport, base_url="http://workload", timeout=TIMEOUT_S)

    async def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        params = {"api-version": self.environment.api_version}
        try:
            async with self._client() as client:
                response = await client.request(method, path, params=params, json=body)
        except httpx.HTTPError as error:
            raise EdgeEnvironmentError(
                f"The IoT Edge workload API is unreachable ({type(error).__name__})."
            ) from None
        if response.status_code != 200 or len(response.content) > MAX_ANSWER_BYTES:
            raise EdgeEnvironmentError(f"The IoT Edge workload API answered {response.status_code}.")
        try:
            answer = json.loads(response.content)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise EdgeEnvironmentError("The IoT Edge workload API answered something other than JSON.")
        return answer

    async def sign(self, data: str) -> str:
        """The base64 HMAC-SHA256 of ``data`` under the module's primary key."""
        env = self.environment
        path = f"/modules/{quote(env.module_id, safe='')}/genid/{quote(env.generation_id, safe='')}/sign"
        request = {"keyId": "primary", "algo": "HMACSHA256", "data": base64.b64encode(data.encode()).decode()}
        digest = (await self._call("POST", path, request)).get("digest")
        if not isinstance(digest, str) or not digest:
            raise EdgeEnvironmentError("The IoT Edge workload API returned no digest.")
        return digest

    async def trust_bundle(self) -> str:
        """PEM certificates that sign the edge hub's TLS certificate."""
        certificate = (await self._call("GET", "/trust-bundle")).get("certificate")
        if not isinstance(certificate, str) or "BEGIN CERTIFICATE" not in certificate:
            raise EdgeEnvironmentError("The IoT Edge trust bundle holds no certificate.")
        return certificate

    async def token(self, resource: str, expiry: int) -> str:
        signature = await self.sign(string_to_sign(resource, expiry))
        return assemble(resource, signature, expiry)
