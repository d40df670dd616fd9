"""``ova demo``: everything on embedded defaults, recording a simulated camera you can watch.

It starts the cloud service, a simulated camera (``ova camera`` in a child process), and a
cloud live pipeline recording the camera into the video ``demo``; it creates an access policy
with a demo issuer key and a customer JWT, and prints a player URL. Once the first segment is
playable it writes ``DATA_DIR/demo.json`` (mode 0600) for scripts and tests.

The demo's operator key (label ``demo``) is kept in ``demo.json`` and reused across restarts
while it is still live in the store; only when it is missing or revoked is a new one minted,
and every other live ``demo`` key is revoked then, so one demo key is live at a time.
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
from sqlalchemy.ext.asyncio import AsyncSession

from ova.cloud.data_dir import write_private_file
from ova.cloud.domain import accounts, operator_keys, segment_index
from ova.cloud.domain.arm import API_VERSION, AccountScope, Principal
from ova.cloud.domain.kinds import access_policies, live_pipelines, pipeline_topologies, videos
from ova.cloud.domain.resources import KindContext, find, put
from ova.cloud.runtime import Cloud, build, prepare_store
from ova.cloud.settings import CloudSettings, Family, RecordingSettings
from ova.common.clock import Clock
from ova.common.errors import OvaError

DEMO_SCOPE = AccountScope("00000000-0000-0000-0000-000000000000", "demo", "demo")
VIDEO, TOPOLOGY, PIPELINE, ISSUER, KID = "demo", "demo-record", "demo-camera", "ova-demo", "demo-key"
OPERATOR_LABEL = "demo"
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
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_private_file(path, pem)
    return key


def details_path(data_dir: Path) -> Path:
    return data_dir / "demo.json"


def previous_operator_key(data_dir: Path) -> str | None:
    """The operator key the last run wrote into demo.json, if any."""
    try:
        value = json.loads(details_path(data_dir).read_text()).get("operatorKey")
    except (FileNotFoundError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


async def demo_operator_key(session: AsyncSession, clock: Clock, data_dir: Path) -> str:
    """The last run's key while it is live; else a new one, every other demo key revoked."""
    previous = previous_operator_key(data_dir)
    if previous is not None and await operator_keys.is_live(session, previous):
        return previous
    await operator_keys.revoke_labelled(session, clock, OPERATOR_LABEL)
    return await operator_keys.create_key(session, clock, OPERATOR_LABEL)


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
        operator_key = await demo_operator_key(session, services.clock, cloud.settings.data_dir)
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
    longest = cloud.settings.client_api.max_token_lifetime_seconds
    token = jwt.encode(
        # As long as the client API accepts (client_api.max_token_lifetime_seconds, 24 h by default).
        {"iss": ISSUER, "aud": f"{client_api}/videos/*", "exp": int(time.time()) + longest},
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
    details = await asyncio.to_thread(write_details, cloud.settings.data_dir, info)
    print_summary(info, details)


def write_details(data_dir: Path, info: dict[str, Any]) -> Path:
    """Write demo.json (mode 0600: it holds the operator key) atomically; its path."""
    public = {key: value for key, value in info.items() if key != "videoId"}
    path = details_path(data_dir)
    write_private_file(path, (json.dumps(public, indent=2) + "\n").encode())
    return path


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

    await prepare_store(settings)  # refuses a data directory open to others before anything starts
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
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run(settings))
    except OvaError as error:
        print(f"ova demo: {error.message}", file=sys.stderr)
        return 2
    return 0
