"""Edge streams: how many simulated cameras one edge module records and uploads with zero lost segments.

For each N in ``--streams`` (default 1, 4, 8, 16; it stops after the first step that loses
media), on loopback only:

1. ``ova camera --mounts N --loop-seconds 10 --width 1920 --height 1080 --fps 30
   --bitrate-kbps 4000 --port 0`` (as ``bench/record_density.py``: the loop is encoded once);
2. the cloud with its device hub (embedded broker, filesystem blobs, SQLite in WAL mode) in this
   process, served by uvicorn;
3. one ``ova edge`` child process, provisioned and driven through the hub as ``ova demo`` does
   (``ova.demo_edge``): Video Analyzer's published ``cvr-video-sink`` topology, one live
   pipeline per camera mount, each into its own video, 2 s segments (``OVA_EDGE_SEGMENT_MS``,
   the module's test override of ``segmentLength``), previews on;
4. after ``--seconds``, every pipeline is deactivated (``livePipelineDeactivate`` answers once
   the module's local cache reached the cloud) and the cloud's segment index is read back.

CPU: user + system of the edge process (all its threads), from ``--warmup`` seconds after the
last activation to the stop, in % of one core; the cloud process (this one, the uploads'
receiver) is reported beside it. Memory: the edge process's RSS at the stop, and per stream
(RSS(N) - RSS at start-up) / N. Loss per stream, as in ``bench/record_density.py``:
``expected = floor((last end - first start) / 2 s)``, ``lost = max(0, expected - recorded)``
plus every timeline gap (``gap_before`` or a hole over 500 ms); ``media/wall`` is the indexed
media seconds per wall second since the first segment (outside 0.9-1.1 counts one more loss).

Usage::

    .venv/bin/python bench/edge_streams.py                   # 1, 4, 8, 16
    .venv/bin/python bench/edge_streams.py --streams 4 --seconds 60

Needs ``psutil`` in the venv (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import math
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from ova.cloud.domain import accounts, segment_index
from ova.cloud.domain.arm import AccountScope, Principal
from ova.cloud.domain.kinds import videos
from ova.cloud.domain.resources import find
from ova.cloud.runtime import Cloud, build
from ova.cloud.server import uvicorn_server
from ova.cloud.settings import CloudSettings, ListenerSettings
from ova.demo_edge import EdgeChain, start_edge
from ova.hub.settings import HubMqttSettings, HubSettings

SEGMENT_MS = 2000
GAP_TOLERANCE_MS = 500
MAX_CLOCK_ERROR = 0.1
MIB = 1024 * 1024
CAMERA_READY_S = 300.0
SCOPE = AccountScope("00000000-0000-0000-0000-0000000000b7", "bench", "edge")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Camera:
    """``ova camera`` with N mounts; ready once it printed every mount's URL."""

    def __init__(self, streams: int, log: Path) -> None:
        command = [sys.executable, "-m", "ova.cli", "camera", "--mounts", str(streams), "--port", "0"]
        command += ["--loop-seconds", "10", "--width", "1920", "--height", "1080", "--fps", "30"]
        command += ["--bitrate-kbps", "4000", "--host", "127.0.0.1"]
        self._log = log.open("w")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._log, text=True)
        self.urls: list[str] = []

    async def ready(self) -> None:
        assert self.process.stdout is not None
        async with asyncio.timeout(CAMERA_READY_S):
            while True:
                line = await asyncio.to_thread(self.process.stdout.readline)
                if not line:
                    raise RuntimeError("ova camera exited before it was ready")
                if line.startswith("ova camera: rtsp://"):
                    self.urls.append(line.split(": ", 1)[1].strip())
                elif line.strip() == "ova camera: ready":
                    return

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()


@contextlib.asynccontextmanager
async def deployment(root: Path) -> Any:
    """The cloud and its hub, started and served in this event loop."""
    settings = CloudSettings(
        data_dir=root / "cloud",
        listeners=[ListenerSettings(host="127.0.0.1", port=free_port())],
        hub=HubSettings(enabled=True, mqtt=HubMqttSettings(port=free_port())),
    )
    cloud = await build(settings)
    await cloud.start()
    servers = [uvicorn_server(listener, app) for listener, app in cloud.listeners]
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    try:
        async with asyncio.timeout(10):
            while not all(server.started for server in servers):  # noqa: ASYNC110 - uvicorn's flag
                await asyncio.sleep(0.05)
        async with cloud.services.sessions.begin() as session:
            await accounts.put(cloud.services, session, SCOPE, {"location": "local"}, Principal("bench"))
        yield cloud
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        await cloud.close()


@dataclass
class Step:
    streams: int
    expected: int
    recorded: int
    lost: int
    media_per_wall: tuple[float, float]
    edge_cpu: float
    cloud_cpu: float
    edge_rss_mib: float
    mib_per_stream: float
    deactivate_s: float


def stream_loss(segments: list[Any]) -> tuple[int, int, int, float]:
    """(expected, recorded, lost, media/wall) of one video's indexed segments."""
    if not segments:
        return 1, 0, 1, 0.0
    first, last = segments[0], segments[-1]
    span_ms = last.start_ms + last.duration_ms - first.start_ms
    expected = math.floor(span_ms / SEGMENT_MS)
    gaps = sum(
        1
        for before, after in itertools.pairwise(segments)
        if after.gap_before or after.start_ms - (before.start_ms + before.duration_ms) > GAP_TOLERANCE_MS
    )
    media_s = sum(s.duration_ms for s in segments) / 1000
    ratio = media_s / (span_ms / 1000) if span_ms > 0 else 0.0
    lost = max(0, expected - len(segments)) + gaps + (0 if abs(ratio - 1) <= MAX_CLOCK_ERROR else 1)
    return expected, len(segments), lost, ratio


async def indexed(cloud: Cloud, video: str) -> list[Any]:
    async with cloud.services.sessions() as session:
        account = await accounts.find(session, SCOPE)
        assert account is not None
        row = await find(session, account, videos.KIND, video)
        if row is None:
            return []
        return list(await segment_index.window(session, row.id, 0, int(time.time() * 1000) + 60_000))


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def measure(chain: EdgeChain, cloud: Cloud, urls: list[str], seconds: float, warmup: float) -> Step:
    edge, me = psutil.Process(chain.process.pid), psutil.Process()
    rss_idle = edge.memory_info().rss
    await chain.set_topology()
    for index, url in enumerate(urls):
        await chain.activate(f"cam{index + 1}", url, f"cam{index + 1}")
    await asyncio.sleep(warmup)
    start, edge_cpu0, cloud_cpu0 = time.monotonic(), cpu_seconds(edge), cpu_seconds(me)
    await asyncio.sleep(max(1.0, seconds - warmup))
    elapsed = time.monotonic() - start
    edge_cpu = (cpu_seconds(edge) - edge_cpu0) / elapsed * 100
    cloud_cpu = (cpu_seconds(me) - cloud_cpu0) / elapsed * 100
    rss = edge.memory_info().rss
    stopping = time.monotonic()
    await asyncio.gather(*(chain.deactivate(f"cam{index + 1}") for index in range(len(urls))))
    deactivate_s = time.monotonic() - stopping
    totals = [stream_loss(await indexed(cloud, f"cam{index + 1}")) for index in range(len(urls))]
    ratios = [ratio for *_, ratio in totals]
    return Step(
        streams=len(urls),
        expected=sum(t[0] for t in totals),
        recorded=sum(t[1] for t in totals),
        lost=sum(t[2] for t in totals),
        media_per_wall=(min(ratios), max(ratios)),
        edge_cpu=edge_cpu,
        cloud_cpu=cloud_cpu,
        edge_rss_mib=rss / MIB,
        mib_per_stream=(rss - rss_idle) / MIB / len(urls),
        deactivate_s=deactivate_s,
    )


async def run_step(streams: int, seconds: float, warmup: float, root: Path) -> Step:
    camera = Camera(streams, root / "camera.log")
    try:
        await camera.ready()
        async with deployment(root) as cloud:
            with (root / "edge.log").open("wb") as log:
                extra = {"OVA_EDGE_SEGMENT_MS": str(SEGMENT_MS), "OVA_EDGE_METRICS_PORT": "0"}
                chain = await start_edge(cloud, SCOPE, root, extra_environment=extra, log=log)
                try:
                    return await measure(chain, cloud, camera.urls, seconds, warmup)
                finally:
                    await asyncio.to_thread(chain.stop)
    finally:
        camera.close()


def print_table(steps: list[Step]) -> None:
    print(
        "| N | expected | recorded | lost | media/wall | edge CPU % | edge CPU %/stream | cloud CPU % "
        "| edge RSS MiB | MiB/stream | deactivate s |"
    )
    print("|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for s in steps:
        low, high = s.media_per_wall
        ratio = f"{low:.2f}" if abs(high - low) < 0.005 else f"{low:.2f}-{high:.2f}"
        print(
            f"| {s.streams} | {s.expected} | {s.recorded} | {s.lost} | {ratio} | {s.edge_cpu:.0f} "
            f"| {s.edge_cpu / s.streams:.2f} | {s.cloud_cpu:.0f} | {s.edge_rss_mib:.0f} "
            f"| {s.mib_per_stream:.1f} | {s.deactivate_s:.1f} |",
            flush=True,
        )


async def main_async(args: argparse.Namespace) -> None:
    steps: list[Step] = []
    for streams in args.streams:
        with tempfile.TemporaryDirectory(prefix=f"ova-edge-bench-{streams}-") as tmp:
            root = Path(tmp)  # mode 0700, as the cloud's data directory must be
            print(f"N={streams}: recording {args.seconds:.0f} s...", flush=True)
            steps.append(await run_step(streams, args.seconds, args.warmup, root))
        print_table(steps[-1:])
        if steps[-1].lost:
            break
    print()
    print_table(steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--seconds", type=float, default=40.0, help="Recording time per step.")
    parser.add_argument("--warmup", type=float, default=10.0, help="Seconds before CPU sampling starts.")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
