"""``ova demo``: everything on embedded defaults, recording a simulated camera you can watch.

It starts the cloud service, a simulated camera (``ova camera`` in a child process), and a
cloud live pipeline recording the camera into the video ``demo``; it creates an operator key,
an access policy with a demo issuer key, and a customer JWT, and prints a player URL. Once the
first segment is playable it writes ``DATA_DIR/demo.json`` for scripts and tests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ova.cloud.domain import accounts, segment_index
from ova.cloud.domain.arm import API_VERSION, AccountScope, Principal
from ova.cloud.domain.kinds import access_policies, live_pipelines, pipeline_topologies, videos
from ova.cloud.domain.operator_keys import create_key
from ova.cloud.domain.resources import KindContext, find, put
from ova.cloud.runtime import Cloud, build
from ova.cloud.settings import CloudSettings, Family, RecordingSettings

DEMO_SCOPE = AccountScope("00000000-0000-0000-0000-000000000000", "demo", "demo")
VIDEO, TOPOLOGY, PIPELINE, ISSUER, KID = "demo", "demo-record", "demo-camera", "ova-demo", "demo-key"
PATTERN = "${System.Runtime.BaseResourceUrlPattern}"
PREFIX = "#Microsoft.VideoAnalyzer."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def issuer_key(data_dir: Path) -> ec.EllipticCurvePrivateKey:
    """The demo customer's signing key, kept so tokens survive restarts of the demo."""
    path = data_dir / "demo-issuer-key.pem"
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    return key


def b64(number: int) -> str:
    return jwt.utils.base64url_encode(number.to_bytes(32, "big")).decode()


def topology_body() -> dict[str, Any]:
    endpoint = {
        "@type": PREFIX + "UnsecuredEndpoint",
        "url": "${rtspUrl}",
        "credentials": {"@type": PREFIX + "UsernamePasswordCredentials", "username": "", "password": ""},
    }
    return {
        "kind": "Live",
        "sku": {"name": "Live_S1"},
        "properties": {
            "description": "Record one RTSP camera reachable from the cloud.",
            "parameters": [{"name": "rtspUrl", "type": "String", "description": "Camera URL."}],
            "sources": [
                {"@type": PREFIX + "RtspSource", "name": "camera", "transport": "Tcp", "endpoint": endpoint}
            ],
            "sinks": [
                {
                    "@type": PREFIX + "VideoSink",
                    "name": "archive",
                    "videoName": VIDEO,
                    "inputs": [{"nodeName": "camera"}],
                    "videoCreationProperties": {"title": "Demo camera", "segmentLength": "PT30S"},
                }
            ],
        },
    }


async def provision(cloud: Cloud, camera_url: str) -> dict[str, Any]:
    services = cloud.services
    key = issuer_key(cloud.settings.data_dir)
    numbers = key.public_key().public_numbers()
    policy = {
        "properties": {
            "role": "Reader",
            "authentication": {
                "@type": PREFIX + "JwtAuthentication",
                "issuers": [ISSUER],
                "audiences": [PATTERN],
                "keys": [
                    {
                        "@type": PREFIX + "EccTokenKey",
                        "kid": KID,
                        "alg": "ES256",
                        "x": b64(numbers.x),
                        "y": b64(numbers.y),
                    }
                ],
            },
        }
    }
    async with services.sessions.begin() as session:
        operator_key = await create_key(session, services.clock, "demo")
        account = await accounts.find(session, DEMO_SCOPE)
        if account is None:
            account, _ = await accounts.put(
                services, session, DEMO_SCOPE, {"location": "local"}, Principal("demo")
            )
        ctx = KindContext(services=services, session=session, account=account, principal=Principal("demo"))
        await put(ctx, access_policies.KIND, "demo", policy)
        await put(ctx, pipeline_topologies.KIND, TOPOLOGY, topology_body())
        pipeline = await find(session, account, live_pipelines.KIND, PIPELINE)
        if pipeline is not None and pipeline.document["properties"]["state"] != live_pipelines.INACTIVE:
            await live_pipelines.deactivate(ctx, PIPELINE)
        body = {
            "properties": {
                "topologyName": TOPOLOGY,
                "bitrateKbps": 3000,
                "parameters": [{"name": "rtspUrl", "value": camera_url}],
            }
        }
        await put(ctx, live_pipelines.KIND, PIPELINE, body)
        await live_pipelines.activate(ctx, PIPELINE)
        video = await find(session, account, videos.KIND, VIDEO)
        assert video is not None
        rendered = accounts.render(services, account)
    client_api = rendered["properties"]["endpoints"][0]["endpointUrl"]
    token = jwt.encode(
        {"iss": ISSUER, "aud": f"{client_api}/videos/*", "exp": int(time.time()) + 7 * 86400},
        key,
        algorithm="ES256",
        headers={"kid": KID},
    )
    listener = cloud.settings.listener_for(Family.MANAGEMENT)
    base = listener.base_url() if listener else ""
    return {
        "managementUrl": base,
        "operatorKey": operator_key,
        "caCert": str(listener.tls_cert) if listener and listener.tls else None,
        "account": rendered["id"],
        "video": VIDEO,
        "videoId": video.id,
        "clientApiUrl": client_api,
        "customerToken": token,
        "playerUrl": f"{base}/player/?" + urlencode({"api": client_api, "video": VIDEO, "token": token}),
        "cameraUrl": camera_url,
    }


async def announce_when_playable(cloud: Cloud, info: dict[str, Any], limit_s: float = 120) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        async with cloud.services.sessions.begin() as session:
            if await segment_index.newest_end_ms(session, info["videoId"]) is not None:
                break
        await asyncio.sleep(0.5)
    else:
        print("ova demo: no segment recorded yet; is the camera running?", file=sys.stderr, flush=True)
        return
    public = {key: value for key, value in info.items() if key != "videoId"}
    (cloud.settings.data_dir / "demo.json").write_text(json.dumps(public, indent=2) + "\n")
    print_summary(info, cloud.settings.data_dir / "demo.json")


def print_summary(info: dict[str, Any], details: Path) -> None:
    base = info["managementUrl"]
    print("Open Video Analyzer demo is running; the first segment is playable.")
    print(f"  player         : {info['playerUrl']}")
    print(f"  camera         : {info['cameraUrl']}")
    print(f"  management API : {base}/subscriptions/...  (OpenAPI: {base}/openapi/management.json)")
    print(f"  demo account   : {info['account']}")
    print(f"  operator key   : {info['operatorKey']}")
    print(
        f"  try            : curl -H 'Authorization: Bearer {info['operatorKey']}' "
        f"'{base}{info['account']}/videos?api-version={API_VERSION}'"
    )
    print(f"  details        : {details}", flush=True)


def start_camera(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "ova.cli", "camera", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL)  # noqa: S603 - our own CLI


async def run(settings: CloudSettings) -> None:
    from ova.cloud.server import serve

    camera_port = free_port()
    camera = start_camera(camera_port)
    try:
        cloud = await build(settings)
        info = await provision(cloud, f"rtsp://127.0.0.1:{camera_port}/cam")
        announcer = asyncio.create_task(announce_when_playable(cloud, info))
        try:
            await serve(cloud)
        finally:
            announcer.cancel()
    finally:
        camera.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            camera.wait(timeout=10)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_demo(args: argparse.Namespace) -> int:
    from ova.cli import settings_from

    # SIGTERM stops the demo as Ctrl-C does, so the camera child process is stopped too
    # (otherwise the default action ends this process and leaves the camera running).
    signal.signal(signal.SIGTERM, _interrupt)

    if args.data_dir is None:
        args.data_dir = Path("data/demo")
    settings = settings_from(args)
    if settings.recording.segment_seconds is None:
        settings = settings.model_copy(update={"recording": RecordingSettings(segment_seconds=4)})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(settings))
    return 0
