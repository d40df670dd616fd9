"""``ova demo``: everything on embedded defaults, recording a simulated camera you can watch.

It starts the cloud service with its device hub (embedded MQTT broker), a simulated camera
(``ova camera`` in a child process) and one edge module (``ova edge`` in a child process,
connected to the hub with its module connection string, provisioned with a token from the
edge module resource ``demo-edge``). The continuous-recording topology is set and activated on
the module through the hub's direct methods, as an operator does with Video Analyzer's edge
SDK; the module records the camera into the video ``demo-edge-camera``. It creates an access
policy with a demo issuer key and a customer JWT, and prints a player URL. Once the first
segment is playable it writes ``DATA_DIR/demo.json`` (mode 0600) for scripts and tests: the
player URL and token, the operator key, the hub's service REST base (``hubUrl``) and a hub
service connection string (``hubConnectionString``), ``deviceId`` and ``moduleId``.

The demo's operator key (label ``demo``) is kept in ``demo.json`` and reused across restarts
while it is still live in the store; only when it is missing or revoked is a new one minted,
and every other live ``demo`` key is revoked then, so one demo key is live at a time. The hub
policy (``demo``) is created once; its key is kept in ``demo.json`` the same way.
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
from ova.cloud.domain.kinds import access_policies, live_pipelines, videos
from ova.cloud.domain.resources import KindContext, find, put
from ova.cloud.runtime import Cloud, build, prepare_store
from ova.cloud.settings import CloudSettings, Family, RecordingSettings
from ova.common.clock import Clock
from ova.common.errors import OvaError
from ova.demo_edge import DEFAULT_VIDEO, EdgeChain, hub_details, start_edge

DEMO_SCOPE = AccountScope("00000000-0000-0000-0000-000000000000", "demo", "demo")
VIDEO, PIPELINE, ISSUER, KID = DEFAULT_VIDEO, "demo-camera", "ova-demo", "demo-key"
OLD_CLOUD_PIPELINE = "demo-camera"  # what earlier demos recorded with in the cloud
OPERATOR_LABEL = "demo"
EDGE_SETTINGS = {
    "OVA_EDGE_METRICS_PORT": "0",  # any free port (it prints where): demos can run side by side
    "OVA_EDGE_DEACTIVATE_FLUSH_TIMEOUT_S": "5",  # at the demo's stop the cloud is already gone
}
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


def previous_detail(data_dir: Path, name: str) -> str | None:
    """A value the last run wrote into demo.json, if any."""
    try:
        value = json.loads(details_path(data_dir).read_text()).get(name)
    except (FileNotFoundError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def previous_operator_key(data_dir: Path) -> str | None:
    """The operator key the last run wrote into demo.json, if any."""
    return previous_detail(data_dir, "operatorKey")


async def demo_operator_key(session: AsyncSession, clock: Clock, data_dir: Path) -> str:
    """The last run's key while it is live; else a new one, every other demo key revoked."""
    previous = previous_operator_key(data_dir)
    if previous is not None and await operator_keys.is_live(session, previous):
        return previous
    await operator_keys.revoke_labelled(session, clock, OPERATOR_LABEL)
    return await operator_keys.create_key(session, clock, OPERATOR_LABEL)


def b64(number: int) -> str:
    return jwt.utils.base64url_encode(number.to_bytes(32, "big")).decode()


def access_policy(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    numbers = key.public_key().public_numbers()
    token_key = {"@type": PREFIX + "EccTokenKey", "kid": KID, "alg": "ES256", "x": b64(numbers.x)}
    authentication = {
        "@type": PREFIX + "JwtAuthentication",
        "issuers": [ISSUER],
        "audiences": [PATTERN],
        "keys": [{**token_key, "y": b64(numbers.y)}],
    }
    return {"properties": {"role": "Reader", "authentication": authentication}}


async def provision(cloud: Cloud, camera_url: str) -> dict[str, Any]:
    """The demo account, its access policy, the operator key and a customer token; a player URL."""
    services = cloud.services
    key = issuer_key(cloud.settings.data_dir)
    async with services.sessions.begin() as session:
        operator_key = await demo_operator_key(session, services.clock, cloud.settings.data_dir)
        account = await accounts.find(session, DEMO_SCOPE)
        if account is None:
            account, _ = await accounts.put(
                services, session, DEMO_SCOPE, {"location": "local"}, Principal("demo")
            )
        ctx = KindContext(services=services, session=session, account=account, principal=Principal("demo"))
        await put(ctx, access_policies.KIND, "demo", access_policy(key))
        old = await find(session, account, live_pipelines.KIND, OLD_CLOUD_PIPELINE)
        if old is not None and old.document["properties"]["state"] != live_pipelines.INACTIVE:
            await live_pipelines.deactivate(ctx, OLD_CLOUD_PIPELINE)  # the edge records the camera now
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
        "clientApiUrl": client_api,
        "customerToken": token,
        "playerUrl": f"{base}/player/?" + urlencode({"api": client_api, "video": VIDEO, "token": token}),
        "cameraUrl": camera_url,
    }


# --- the demo -----------------------------------------------------------------------------------


async def video_id(cloud: Cloud, name: str) -> str | None:
    async with cloud.services.sessions() as session:
        account = await accounts.find(session, DEMO_SCOPE)
        video = await find(session, account, videos.KIND, name) if account is not None else None
        return video.id if video is not None else None


async def announce_when_playable(cloud: Cloud, info: dict[str, Any], limit_s: float = 120) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        found = await video_id(cloud, info["video"])
        if found is not None:
            async with cloud.services.sessions.begin() as session:
                if await segment_index.newest_end_ms(session, found) is not None:
                    break
        await asyncio.sleep(0.5)
    else:
        print("ova demo: no segment recorded yet; is the camera running?", file=sys.stderr, flush=True)
        return
    details = await asyncio.to_thread(write_details, cloud.settings.data_dir, info)
    print_summary(info, details)


def write_details(data_dir: Path, info: dict[str, Any]) -> Path:
    """Write demo.json (mode 0600: it holds the operator key and the hub policy key) atomically."""
    path = details_path(data_dir)
    write_private_file(path, (json.dumps(info, indent=2) + "\n").encode())
    return path


def print_summary(info: dict[str, Any], details: Path) -> None:
    base = info["managementUrl"]
    print("Open Video Analyzer demo is running; the first segment is playable.")
    print(f"  player         : {info['playerUrl']}")
    print(f"  camera         : {info['cameraUrl']}")
    print(f"  management API : {base}/subscriptions/...  (OpenAPI: {base}/openapi/management.json)")
    print(f"  demo account   : {info['account']}")
    print(f"  operator key   : {info['operatorKey']}")
    if "hubUrl" in info:
        print(f"  device hub     : {info['hubUrl']}  (module {info['deviceId']}/{info['moduleId']})")
    print(
        f"  try            : curl -H 'Authorization: Bearer {info['operatorKey']}' "
        f"'{base}{info['account']}/videos?api-version={API_VERSION}'"
    )
    print(f"  details        : {details}", flush=True)


def start_camera(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "ova.cli", "camera", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL)  # noqa: S603 - our own CLI


async def hub_started(cloud: Cloud, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while cloud.hub is None or cloud.hub.gateway is None:
        if time.monotonic() > deadline:
            raise RuntimeError("the device hub did not start")
        await asyncio.sleep(0.1)


async def run_edge(cloud: Cloud, info: dict[str, Any]) -> EdgeChain:
    """The edge half of the demo, once the cloud serves: the module records the camera."""
    await hub_started(cloud)
    data_dir = cloud.settings.data_dir
    segment_s = cloud.settings.recording.segment_seconds  # the demo's 4 s, for the module too
    extra = dict(EDGE_SETTINGS)
    if segment_s:
        extra["OVA_EDGE_SEGMENT_MS"] = str(int(segment_s * 1000))
    chain = await start_edge(cloud, DEMO_SCOPE, data_dir, extra_environment=extra)
    try:
        await chain.record(PIPELINE, info["cameraUrl"], VIDEO)
        info.update(await hub_details(cloud, previous_detail(data_dir, "hubConnectionString")))
    except BaseException:
        chain.stop()
        raise
    return chain


async def run(settings: CloudSettings) -> None:
    from ova.cloud.server import serve

    await prepare_store(settings)  # refuses a data directory open to others before anything starts
    camera_port = free_port()
    camera = start_camera(camera_port)
    chain: EdgeChain | None = None
    tasks: list[asyncio.Task[Any]] = []
    try:
        cloud = await build(settings)
        info = await provision(cloud, f"rtsp://127.0.0.1:{camera_port}/cam")
        server = asyncio.create_task(serve(cloud))
        edge = asyncio.create_task(run_edge(cloud, info))
        tasks += [server, edge]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if edge.done():  # else the server stopped (or failed to start) first
            chain = edge.result()
            tasks.append(asyncio.create_task(announce_when_playable(cloud, info)))
        await server
    finally:
        for task in reversed(tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if chain is not None:
            chain.stop()
        camera.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            camera.wait(timeout=10)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def demo_settings(settings: CloudSettings) -> CloudSettings:
    """The demo's defaults over the user's: 4 s segments, the hub on, its MQTT port any free one
    (several demos can run side by side)."""
    hub = settings.hub
    if hub.mqtt.port is None:
        hub = hub.model_copy(update={"mqtt": hub.mqtt.model_copy(update={"port": 0})})
    update: dict[str, Any] = {"hub": hub.model_copy(update={"enabled": True})}
    if settings.recording.segment_seconds is None:
        update["recording"] = RecordingSettings(segment_seconds=4)
    return settings.model_copy(update=update)


def run_demo(args: argparse.Namespace) -> int:
    from ova.cli import settings_from

    # SIGTERM stops the demo as Ctrl-C does, so the camera child process is stopped too
    # (otherwise the default action ends this process and leaves the camera running).
    signal.signal(signal.SIGTERM, _interrupt)

    if args.data_dir is None:
        args.data_dir = Path("data/demo")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run(demo_settings(settings_from(args))))
    except OvaError as error:
        print(f"ova demo: {error.message}", file=sys.stderr)
        return 2
    except RuntimeError as error:  # the edge module did not start or refused the topology
        print(f"ova demo: {error}", file=sys.stderr)
        return 2
    return 0
