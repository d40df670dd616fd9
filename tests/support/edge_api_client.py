"""An edge module as the edge family sees it, for tests: handshake, signed requests, uploads via SAS."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from ova.auth import iot_sas
from ova.common.clock import FrozenClock
from ova.recording import archive_layout
from support.management import Arm

Json = dict[str, Any]
CONFIG = "c0ffee0123456789"


def expiration_in(clock: FrozenClock, days: float) -> str:
    return (clock.now() + timedelta(days=days)).isoformat().replace("+00:00", "Z")


@dataclass
class Instance:
    """One handshaken module instance: its id, key and the keys it held before."""

    edge: Edge
    edge_module_id: str
    instance_id: str
    key_id: str
    key: str
    handshake: Json

    def authorization(self, key_id: str | None = None, key: str | None = None, ahead_s: int = 600) -> str:
        expiry = int(self.edge.clock.now().timestamp()) + ahead_s
        return iot_sas.sign(self.edge_module_id, key or self.key, expiry, key_name=key_id or self.key_id)

    async def call(self, method: str, path: str, body: Any = None, **auth: Any) -> httpx.Response:
        headers = {"Authorization": self.authorization(**auth)}
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        return await self.edge.client.request(method, f"/edge{path}", headers=headers, **kwargs)

    async def rotate(self) -> Json:
        response = await self.call("POST", "/v1/keys")
        assert response.status_code == 200, response.text
        answer: Json = response.json()
        self.key_id, self.key = answer["keyId"], answer["key"]
        return answer

    async def publish(self, video: str, body: Json | None = None) -> httpx.Response:
        return await self.call("PUT", f"/v1/videos/{video}", body or {})


@dataclass
class Upload:
    """Media put into a video's container with its SAS, and the commit body describing it."""

    sas_url: str
    inits: list[Json] = field(default_factory=list)
    segments: list[Json] = field(default_factory=list)

    def blob_url(self, name: str) -> str:
        base, _, query = self.sas_url.partition("?")
        return f"{base}/{name}?{query}"

    async def put(
        self, client: httpx.AsyncClient, name: str, data: bytes, content_type: str
    ) -> httpx.Response:
        headers = {"Content-Type": content_type, "If-None-Match": "*", "x-ms-blob-type": "BlockBlob"}
        return await client.put(self.blob_url(name), content=data, headers=headers)

    async def init(self, client: httpx.AsyncClient) -> Json:
        name = archive_layout.init_blob_name(CONFIG)
        response = await self.put(client, name, b"\0\0\0\x18ftypiso6" + os.urandom(16), archive_layout.MP4)
        assert response.status_code == 201, response.text
        entry = {"configHash": CONFIG, "blobName": name, "codec": "avc1.64001f", "width": 640, "height": 360}
        self.inits.append({**entry, "timescale": 90000})
        return self.inits[-1]

    async def segment(self, client: httpx.AsyncClient, start_ms: int, sequence: int, size: int = 256) -> Json:
        name = archive_layout.segment_blob_name(start_ms, sequence)
        data = os.urandom(size)
        response = await self.put(client, name, data, archive_layout.M4S)
        assert response.status_code == 201, response.text
        entry = {
            "startMs": start_ms,
            "durationMs": 2000,
            "sequence": sequence,
            "blobName": name,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "configHash": CONFIG,
        }
        self.segments.append(entry)
        return entry

    def commit_body(self) -> Json:
        return {"inits": self.inits, "segments": self.segments}


@dataclass
class Edge:
    client: httpx.AsyncClient
    arm: Arm
    clock: FrozenClock

    async def token(self, module: str = "edge1", days: float = 7) -> str:
        path = f"edgeModules/{module}/listProvisioningToken"
        answer = await self.arm.ok("POST", path, {"expirationDate": expiration_in(self.clock, days)})
        token: str = answer["token"]
        return token

    async def provision(self, token: str, instance_id: str = "instance-0001") -> httpx.Response:
        body = {"provisioningToken": token, "instanceId": instance_id, "moduleVersion": "1.0.0"}
        return await self.client.post("/edge/v1/provisioning", json=body)

    async def instance(self, module: str = "edge1", instance_id: str = "instance-0001") -> Instance:
        response = await self.provision(await self.token(module), instance_id)
        assert response.status_code == 200, response.text
        answer = response.json()
        key = answer["moduleKey"]
        return Instance(self, answer["edgeModuleId"], instance_id, key["keyId"], key["key"], answer)
