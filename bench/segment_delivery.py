"""Segment bytes/s through the streaming family vs nginx serving the same files.

Builds one data directory (embedded SQLite, filesystem blob store) with an account, a video
and ``--segments`` (16) random media segments of ``--segment-kib`` (1024) KiB, written and
indexed as the recorder does, takes a content token for the video, then serves those segments
on loopback from all the servers below at once and runs ``wrk -t1 -c50 -d10s`` against each
in turn (three runs each, interleaved a b c d e, a b c d e, ...; a Lua script rotates over the
segment URLs; medians and the ratio of MB/s to nginx's are printed):

a. nginx, ``sendfile on``, serving ``DATA_DIR/blobs`` as static files, without any check
   (``/<container>/<blob>``): the reference, 1.0x;
b. ``ova cloud`` (uvicorn, h11, as deployed), default mode: the streaming family checks the
   token and sends the file with Starlette's ``FileResponse`` (64 KiB reads through Python);
c. the same cloud app under granian (``--interface asgi``; built from the same config file by
   ``granian_app`` below), which sends ``FileResponse`` natively (``http.response.pathsend``);
d. nginx in front of ``ova cloud`` with ``streaming.accel_redirect_prefix: /ova-blobs/``: ova
   checks the token and answers an empty 200 with ``X-Accel-Redirect``; nginx sends the file
   from an ``internal`` location (``alias DATA_DIR/blobs/``), with sendfile;
e. ova of row d asked directly: the token check alone (empty 200s naming the blob), the bound
   of row d's request rate.

Every server is first checked to return the stored bytes of one segment (and, for b-d, to
refuse a request without the token); wrk fails a run on any non-2xx answer or socket error.
Row c is skipped when granian is missing. Each process runs in its own session (process group),
killed at the end.

Needs ``wrk`` and ``nginx`` (``apt-get install -y --no-install-recommends nginx wrk``) and, for
row c, ``granian`` in the venv. Run: ``.venv/bin/python bench/segment_delivery.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from starlette.types import ASGIApp, Receive, Scope, Send

from ova.cloud.domain import accounts, segment_index
from ova.cloud.domain.arm import AccountScope, Principal
from ova.cloud.domain.kinds import videos
from ova.cloud.domain.resources import KindContext, put
from ova.cloud.runtime import Cloud, build
from ova.cloud.settings import CloudSettings, ListenerSettings, load_settings

SEGMENT_MS = 4000
ACCEL_PREFIX = "/ova-blobs/"
BENCH_DIR = Path(__file__).resolve().parent
SCOPE = AccountScope("00000000-0000-0000-0000-000000000000", "bench", "bench")
CONFIG_ENV = "OVA_BENCH_CONFIG"
PASSED_HEADERS = [
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Vary",
    "Referrer-Policy",
]


# -- the ASGI entry point for granian --------------------------------------------------------


class CloudAsgi:
    """The cloud's (single) listener app, built on the server's own event loop.

    ``build`` opens an async engine, which must live on the loop that serves requests, so the
    app is built at lifespan start-up (or on the first request if the server sends no lifespan).
    """

    def __init__(self, settings: CloudSettings) -> None:
        self._settings = settings
        self._cloud: Cloud | None = None
        self._app: ASGIApp | None = None
        self._lock: asyncio.Lock | None = None

    async def _ready(self) -> ASGIApp:
        if self._app is None:
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:
                if self._app is None:
                    self._cloud = await build(self._settings)
                    self._app = self._cloud.listeners[0][1]
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await self._ready()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if self._cloud is not None:
                        await self._cloud.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await (await self._ready())(scope, receive, send)


def granian_app() -> CloudAsgi:
    """``granian --interface asgi --factory segment_delivery:granian_app`` (config in $OVA_BENCH_CONFIG)."""
    return CloudAsgi(load_settings(Path(os.environ[CONFIG_ENV])))


# -- the data: one video with indexed segments -----------------------------------------------


@dataclass(frozen=True)
class Corpus:
    archive_path: str  # /streaming/<account key>/videos/<video id>
    container: str
    token: str
    segments: list[tuple[str, str]]  # (URL path under archive_path, blob name)
    sha256: dict[str, str]  # blob name -> digest

    def ova_paths(self, token: bool = True) -> list[str]:
        suffix = f"?token={quote(self.token, safe='')}" if token else ""
        return [f"{self.archive_path}/{path}{suffix}" for path, _ in self.segments]

    def static_paths(self) -> list[str]:
        return [f"/{self.container}/{blob}" for _, blob in self.segments]


async def provision(settings: CloudSettings, count: int, size: int) -> Corpus:
    """Account ``bench``, video ``cam``, ``count`` segments of ``size`` bytes stored and indexed, and
    a content token for the video."""
    cloud = await build(settings)
    try:
        services = cloud.services
        async with services.sessions.begin() as session:
            account, _ = await accounts.put(services, session, SCOPE, {"location": "local"}, Principal("b"))
            ctx = KindContext(services=services, session=session, account=account, principal=Principal("b"))
            video, _ = await put(ctx, videos.KIND, "cam", {"properties": {"title": "bench"}})
            token = (await videos.list_content_token(ctx, "cam"))["token"]
        container = segment_index.container_name(video.id)
        await services.blobs.create_container(container)
        config_hash = "0" * 16
        init = segment_index.StoredInit(
            config_hash, segment_index.init_blob_name(config_hash), "avc1.64001f", 1280, 720, 90000
        )
        await services.blobs.put(container, init.blob_name, os.urandom(1024), "video/mp4")
        start = int(time.time() * 1000) - count * SEGMENT_MS - 3_600_000
        segments, digests = [], {}
        async with services.sessions.begin() as session:
            await segment_index.add_init(session, video.id, init, services.clock.now())
            for sequence in range(count):
                start_ms = start + sequence * SEGMENT_MS
                name = segment_index.segment_blob_name(start_ms, sequence)
                data = os.urandom(size)
                info = await services.blobs.put(container, name, data, "video/iso.segment")
                digests[name] = hashlib.sha256(data).hexdigest()
                stored = segment_index.StoredSegment(
                    start_ms, SEGMENT_MS, sequence, name, len(data), info.sha256 or "", config_hash, False
                )
                await segment_index.add_segment(session, video.id, stored, services.clock.now())
                segments.append((f"segments/{start_ms}-{sequence}.m4s", name))
        archive_path = f"/streaming/{account.id.replace('-', '')}/videos/{videos.video_id(video)}"
        return Corpus(archive_path, container, token, segments, digests)
    finally:
        await cloud.close()


# -- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not start:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def running(command: list[str], port: int, log: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    """Runs ``command`` in its own process group until the block ends, then kills the group."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            cwd=BENCH_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_port(port, process, log)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def nginx_config(work: Path, name: str, port: int, server: str, upstream: str = "") -> Path:
    # As root, nginx workers would run as nobody; the blobs are world-readable, so either works,
    # but keep the workers as the user that wrote them (as a deployment would, via a group).
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = work / f"{name}-temp"
    temp.mkdir(exist_ok=True)
    config = work / f"{name}.conf"
    config.write_text(
        f"""{user}worker_processes 1;
daemon off;
pid {work}/{name}.pid;
error_log {work}/{name}-error.log;
events {{ worker_connections 1024; }}
http {{
    sendfile on; tcp_nopush on; access_log off;
    client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy; fastcgi_temp_path {temp}/fcgi;
    uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;
    default_type application/octet-stream;
    {upstream}
    server {{
        listen 127.0.0.1:{port};
        {server}
    }}
}}
"""
    )
    return config


def accel_locations(blobs: Path) -> tuple[str, str]:
    """(upstream block, server body) of the deployment in docs/deployment-nginx.md."""
    upstream = "upstream ova { server 127.0.0.1:{ova_port}; keepalive 32; }"
    # nginx drops the upstream's headers on X-Accel-Redirect (but Content-Type and Cache-Control):
    # pass on what the streaming family sets for browsers.
    passed = "\n            ".join(
        f"add_header {name} $upstream_http_{name.lower().replace('-', '_')} always;"
        for name in PASSED_HEADERS
    )
    server = f"""location ^~ {ACCEL_PREFIX} {{
            internal;
            alias {blobs}/;
            {passed}
        }}
        location / {{
            proxy_pass http://ova;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
        }}"""
    return upstream, server


# -- load ------------------------------------------------------------------------------------


def wrk_script(work: Path, paths: list[str], name: str) -> Path:
    script = work / f"{name}.lua"
    listed = ",\n  ".join(f'"{path}"' for path in paths)
    script.write_text(
        f"local paths = {{\n  {listed}\n}}\nlocal i = 0\n"
        'request = function()\n  i = i % #paths + 1\n  return wrk.format("GET", paths[i])\nend\n'
    )
    return script


def run_wrk(port: int, script: Path, args: argparse.Namespace) -> tuple[float, float]:
    """Requests/s and MB/s (10^6 bytes) of one wrk run; any non-2xx answer or socket error fails."""
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", f"--timeout={args.timeout}s"]
    command += ["-s", str(script)]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}"],
        check=True,
        capture_output=True,
        text=True,
        timeout=args.duration + 60,
    ).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    requests = re.search(r"Requests/sec:\s+([\d.]+)", output)
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", output)
    assert requests is not None and transfer is not None, output
    scale = {"B": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30}[transfer.group(2)] / 1e6
    return float(requests.group(1)), float(transfer.group(1)) * scale


def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # loopback only
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def check_serves(port: int, path: str, digest: str, refused: str | None) -> None:
    """The server returns the stored bytes for ``path`` and refuses ``refused`` (no token)."""
    status, body, headers = fetch(f"http://127.0.0.1:{port}{path}")
    if status != 200 or hashlib.sha256(body).hexdigest() != digest:
        raise RuntimeError(f"{path}: status {status}, {len(body)} bytes, not the stored blob ({headers})")
    if refused is not None:
        status, body, headers = fetch(f"http://127.0.0.1:{port}{refused}")
        if status != 401 or "X-Accel-Redirect" in headers or len(body) > 1024:
            raise RuntimeError(f"{refused}: expected 401 without the segment, got {status} ({headers})")


def check_accel(port: int, path: str, expected: str) -> None:
    """ova in accel mode answers an empty 200 that names the blob for nginx."""
    status, body, headers = fetch(f"http://127.0.0.1:{port}{path}")
    if status != 200 or body or headers.get("x-accel-redirect") != expected:
        raise RuntimeError(f"{path}: status {status}, {len(body)} bytes, headers {headers}")


@dataclass
class Target:
    name: str
    port: int
    paths: list[str]
    sends_bytes: bool = True  # False: the row measures the token check alone (empty bodies)
    runs: list[tuple[float, float]] = field(default_factory=list)

    @property
    def requests(self) -> float:
        return statistics.median(r for r, _ in self.runs)

    @property
    def megabytes(self) -> float:
        return statistics.median(m for _, m in self.runs)


def cloud_config(work: Path, name: str, data_dir: Path, port: int, accel: bool) -> Path:
    config: dict[str, Any] = {
        "data_dir": str(data_dir),
        "listeners": [{"host": "127.0.0.1", "port": port}],
        "streaming": {"accel_redirect_prefix": ACCEL_PREFIX if accel else None},
    }
    path = work / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def start_servers(stack: contextlib.ExitStack, args: argparse.Namespace, corpus: Corpus) -> list[Target]:
    """Starts every server (idle ones cost nothing) and checks what each one answers."""
    work: Path = args.work
    data_dir, blobs = work / "data", (work / "data" / "blobs").resolve()
    env = {key: value for key, value in os.environ.items() if not key.startswith("OVA_")}
    ova = [sys.executable, "-m", "ova.cli", "cloud", "--config"]
    paths, no_token = corpus.ova_paths(), corpus.ova_paths(token=False)[0]
    digest = corpus.sha256[corpus.segments[0][1]]
    targets: list[Target] = []

    port = free_port()
    config = nginx_config(work, "nginx-static", port, f"root {blobs};")
    stack.enter_context(running(["nginx", "-c", str(config)], port, work / "nginx-static.log"))
    check_serves(port, corpus.static_paths()[0], digest, None)
    targets.append(Target("a. nginx static, no auth", port, corpus.static_paths()))

    port = free_port()
    config = cloud_config(work, "uvicorn", data_dir, port, accel=False)
    stack.enter_context(running([*ova, str(config)], port, work / "uvicorn.log", env))
    check_serves(port, paths[0], digest, no_token)
    targets.append(Target("b. ova, uvicorn, FileResponse", port, paths))

    granian = Path(sys.executable).parent / "granian"
    if granian.exists():
        port = free_port()
        config = cloud_config(work, "granian", data_dir, port, accel=False)
        command = [str(granian), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--workers", "1", "--no-access-log", "--factory", "segment_delivery:granian_app"]
        stack.enter_context(running(command, port, work / "granian.log", {**env, CONFIG_ENV: str(config)}))
        check_serves(port, paths[0], digest, no_token)
        targets.append(Target("c. ova, granian, FileResponse", port, paths))
    else:
        print("c. skipped: granian is not installed in this venv", flush=True)

    ova_port, port = free_port(), free_port()
    config = cloud_config(work, "accel", data_dir, ova_port, accel=True)
    upstream, server = accel_locations(blobs)
    nginx = nginx_config(work, "nginx-accel", port, server, upstream.replace("{ova_port}", str(ova_port)))
    stack.enter_context(running([*ova, str(config)], ova_port, work / "accel-ova.log", env))
    stack.enter_context(running(["nginx", "-c", str(nginx)], port, work / "nginx-accel.log"))
    check_serves(port, paths[0], digest, no_token)
    targets.append(Target("d. nginx -> ova accel-redirect", port, paths))
    check_accel(ova_port, paths[0], f"{ACCEL_PREFIX}{corpus.container}/{corpus.segments[0][1]}")
    targets.append(Target("e. ova accel, no nginx: check only", ova_port, paths, sends_bytes=False))
    return targets


def run_all(args: argparse.Namespace) -> list[Target]:
    """Runs are interleaved (a b c d e, a b c d e, ...) so that drifting load hits every row alike."""
    settings = CloudSettings(data_dir=args.work / "data", listeners=[ListenerSettings(port=0)])
    corpus = asyncio.run(provision(settings, args.segments, args.segment_kib * 1024))
    with contextlib.ExitStack() as stack:
        targets = start_servers(stack, args, corpus)
        scripts = [wrk_script(args.work, target.paths, f"paths-{n}") for n, target in enumerate(targets)]
        for run in range(args.runs):
            for target, script in zip(targets, scripts, strict=True):
                target.runs.append(run_wrk(target.port, script, args))
                requests, megabytes = target.runs[-1]
                print(f"run {run + 1} {target.name}: {requests:.0f} req/s, {megabytes:.0f} MB/s", flush=True)
    return targets


def report(targets: list[Target], args: argparse.Namespace) -> None:
    baseline = targets[0].megabytes
    load = f"wrk -t1 -c{args.connections} -d{args.duration}s"
    print(f"\n{args.segments} segments of {args.segment_kib} KiB, {load}, {args.runs} runs each, medians")
    average = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average at the end: {average}; {os.cpu_count()} CPUs\n")
    print(f"| {'server':<36} | {'req/s (runs)':<20} | {'req/s':>6} | {'MB/s':>6} | {'vs nginx':>8} |")
    print(f"|{'-' * 38}|{'-' * 22}|{'-' * 7}:|{'-' * 7}:|{'-' * 9}:|")
    for target in targets:
        each = ", ".join(f"{r:.0f}" for r, _ in target.runs)
        ratio = f"{target.megabytes / baseline:.2f}x" if target.sends_bytes else "-"
        print(
            f"| {target.name:<36} | {each:<20} | {target.requests:>6.0f} | {target.megabytes:>6.0f} "
            f"| {ratio:>8} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=16, help="segment URLs wrk rotates over")
    parser.add_argument("--segment-kib", type=int, default=1024, help="size of each segment")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--timeout", type=int, default=10, help="wrk's per-request timeout, seconds")
    args = parser.parse_args()
    missing = [tool for tool in ("wrk", "nginx") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: apt-get install -y --no-install-recommends nginx wrk")
    with tempfile.TemporaryDirectory(prefix="ova-segments-") as temp:
        args.work = Path(temp)
        args.work.chmod(0o755)  # nginx workers may run as another user
        report(run_all(args), args)


if __name__ == "__main__":
    main()
