"""A stand-in for Azure IoT Edge's workload API (it cannot run here): a tiny HTTP server on a unix
socket that signs with a module key it holds and hands out a trust bundle, with the request and
answer shapes of the real daemon (as the official SDK, ``azure.iot.device.iothub.edge_hsm``, uses
them). The one allowed fake of the edge tests."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit


@dataclass
class WorkloadDaemon:
    socket_path: Path
    module_id: str
    generation_id: str
    key_b64: str
    trust_bundle: str
    api_version: str = "2019-01-30"
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)

    def environment(self, hub_host: str, gateway: str, device_id: str) -> dict[str, str]:
        return {
            "IOTEDGE_IOTHUBHOSTNAME": hub_host,
            "IOTEDGE_GATEWAYHOSTNAME": gateway,
            "IOTEDGE_DEVICEID": device_id,
            "IOTEDGE_MODULEID": self.module_id,
            "IOTEDGE_MODULEGENERATIONID": self.generation_id,
            "IOTEDGE_WORKLOADURI": f"unix://{self.socket_path}",
            "IOTEDGE_APIVERSION": self.api_version,
            "IOTEDGE_AUTHSCHEME": "sasToken",
        }

    def answer(self, method: str, target: str, body: bytes) -> tuple[int, object]:
        url = urlsplit(target)
        query = dict(parse_qsl(url.query))
        self.requests.append((method, url.path, query, body))
        if query.get("api-version") != self.api_version:
            return 400, {"message": "api-version"}
        if method == "GET" and url.path == "/trust-bundle":
            return 200, {"certificate": self.trust_bundle}
        if method == "POST" and url.path == f"/modules/{self.module_id}/genid/{self.generation_id}/sign":
            request = json.loads(body)
            if request.get("keyId") != "primary" or request.get("algo") != "HMACSHA256":
                return 400, {"message": "keyId/algo"}
            data = base64.b64decode(request["data"])
            digest = hmac.new(base64.b64decode(self.key_b64), data, hashlib.sha256).digest()
            return 200, {"digest": base64.b64encode(digest).decode()}
        return 404, {"message": "not found"}

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            request_line, *header_lines = head.split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status, answer = self.answer(method, target, body)
            payload = json.dumps(answer).encode()
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                f"Connection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def workload_daemon(
    directory: Path, *, module_id: str, generation_id: str, key_b64: str, trust_bundle: str
) -> AsyncIterator[WorkloadDaemon]:
    daemon = WorkloadDaemon(directory / "workload.sock", module_id, generation_id, key_b64, trust_bundle)
    server = await asyncio.start_unix_server(daemon._serve, path=str(daemon.socket_path))
    try:
        yield daemon
    finally:
        server.close()
        await server.wait_closed()
