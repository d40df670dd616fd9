"""Record density: how many 1080p30 streams one machine records with zero lost segments, simulator included.

For each N in ``--streams`` (default 8, 16, 32, 64; it stops after the first step that loses
media), on loopback only:

1. ``ova camera --mounts N --loop-seconds 10 --width 1920 --height 1080 --fps 30
   --bitrate-kbps 4000 --port 0`` starts (it pre-encodes the loop once, then replays it);
2. **ova**: one recorder process runs N ``Recorder``s in one asyncio loop, each writing through
   the real ``ArchiveSink`` into a temporary deployment (filesystem blob store, SQLite in WAL
   mode), in 2 s segments, previews on (what ``ova record`` and cloud live pipelines do);
3. **ffmpeg** (the reference, for N ≤ ``--ffmpeg-max``): the same N streams, one
   ``ffmpeg -rtsp_transport tcp -i URL -c copy -f hls -hls_segment_type fmp4 -hls_time 2``
   process each, against the same simulator process.

Each side records ``--seconds`` (default 40). CPU is sampled with psutil from ``--warmup``
seconds after the start until two seconds before the stop (steady state; connection and
probing excluded) and given in % of one core (the machine has ``os.cpu_count()`` cores).
Memory: for ova, (RSS(N) - RSS(0)) / N, with RSS(0) the same recorder process after its
imports and the deployment are up but before any recorder starts; for ffmpeg, the RSS and the
USS (memory unique to the process) of each process.

Loss per stream: ``expected = floor((stop - start of the first segment) / 2 s)`` (the last
partial segment is flushed at the stop, the first one starts at the first keyframe after
connecting); ``lost = max(0, expected - recorded)``. For ova the recorded segments are read
back from the segment index, and timeline gaps (``gap_before`` or a hole over 500 ms between
neighbours) count as lost media too; a stream that reconnected, had a segment rejected by the
recorder's first-picture check or not stored by the sink, or whose recorder task died (an
exception out of ``Recorder.run``, e.g. ``database is locked`` from the sink) also fails the
step. For ffmpeg,
segments come from each playlist (``-hls_flags program_date_time``). Two more columns tell
a recorder that keeps up from one that does not: ``media/wall``, the media seconds recorded per
wall second since the first segment (the range over streams; 1.00 is real time; outside
0.9-1.1 a stream counts one more loss, its timeline being wrong), and for ova the worst lag of
a 100 ms timer on the recorder's event loop.

Usage::

    .venv/bin/python bench/record_density.py                        # 8, 16, 32, 64
    .venv/bin/python bench/record_density.py --streams 8 16 --seconds 60
    .venv/bin/python bench/record_density.py --no-previews          # the record path without previews

Needs ``ffmpeg`` on PATH and ``psutil`` in the venv (``pip install psutil``; benchmarks only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import psutil

SEGMENT_MS = 2000
GAP_TOLERANCE_MS = 500
MAX_CLOCK_ERROR = 0.1  # media seconds per wall second may be 0.9-1.1 (a 40 s run, 2 s segments)
MIB = 1024 * 1024
CAMERA_READY_S = 300.0
ACCOUNT_ID = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/bench"
ACCOUNT_ID += "/providers/Microsoft.Media/videoAnalyzers/bench"


# --- the recorder child process ----------------------------------------------------------------


async def child_main(config: dict[str, Any]) -> None:
    """N Recorders into a temporary deployment; waits for 'go' on stdin, reports JSON on stdout."""
    from ova.cloud.domain import accounts, segment_index
    from ova.cloud.domain.arm import Principal
    from ova.cloud.recording.archive_sink import ArchiveSink, next_sequence
    from ova.cloud.recording.command import ensure_video, parse_account_id
    from ova.cloud.runtime import build
    from ova.cloud.settings import CloudSettings
    from ova.recording.recorder import Recorder, RecorderSettings

    cloud = await build(CloudSettings(data_dir=Path(config["data_dir"])))
    services, scope = cloud.services, parse_account_id(ACCOUNT_ID)
    async with services.sessions.begin() as session:
        await accounts.put(services, session, scope, {"location": "westus2"}, Principal("bench"))
    recorders, stop = [], asyncio.Event()
    for index, url in enumerate(config["urls"]):
        video_id, _ = await ensure_video(cloud, scope, f"cam{index + 1}")
        settings = RecorderSettings(
            segment_ms=SEGMENT_MS,
            previews=config["previews"],
            first_sequence=await next_sequence(services, video_id),
        )
        recorders.append((video_id, Recorder(url, ArchiveSink(services, video_id), settings)))
    report({"event": "ready", "rss": psutil.Process().memory_info().rss})
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    started_ms = time.time() * 1000
    tasks = [asyncio.create_task(recorder.run(stop)) for _, recorder in recorders]
    lags: list[float] = []
    ticker = asyncio.create_task(loop_lag(lags))
    await asyncio.sleep(config["seconds"])
    ticker.cancel()
    stop.set()
    stopped_ms = time.time() * 1000
    outcomes = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=60)
    streams = []
    async with services.sessions.begin() as session:
        for (video_id, recorder), outcome in zip(recorders, outcomes, strict=True):
            stored = await segment_index.window(session, video_id, 0, int(stopped_ms) + 60_000)
            status = recorder.status
            crashed = None
            if isinstance(outcome, BaseException):  # a driver's own error says it best
                cause = getattr(outcome, "orig", None) or outcome
                crashed = f"{type(outcome).__name__}: {cause}"[:200]
            streams.append(
                {
                    "segments": [[s.start_ms, s.duration_ms, s.gap_before] for s in stored],
                    "reported": status.segments,
                    "reconnects": status.reconnects,
                    "rejected": getattr(status, "rejected_segments", 0),
                    "store_failures": getattr(status, "store_failures", 0),
                    "previews": status.previews,
                    "error": crashed or status.last_error,
                    "crashed": crashed is not None,
                }
            )
    await cloud.close()
    report(
        {
            "event": "done",
            "started_ms": started_ms,
            "stopped_ms": stopped_ms,
            "streams": streams,
            "loop_lag_ms": sorted(lags),
        }
    )


async def loop_lag(lags: list[float]) -> None:
    """How late the event loop runs a 100 ms timer, every 100 ms: its lag when it is saturated."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + 0.1
        await asyncio.sleep(0.1)
        lags.append((loop.time() - due) * 1000)


def report(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


# --- processes and sampling --------------------------------------------------------------------


class Camera:
    """``ova camera`` with N mounts on a free loopback port, ready when every mount streams."""

    def __init__(self, streams: int, log: Path) -> None:
        command = [sys.executable, "-m", "ova.cli", "camera", "--mounts", str(streams), "--port", "0"]
        command += ["--loop-seconds", "10", "--width", "1920", "--height", "1080", "--fps", "30"]
        command += ["--bitrate-kbps", "4000", "--host", "127.0.0.1"]
        self._log = log.open("w")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._log, text=True)
        self.urls: list[str] = []

    def wait_ready(self) -> None:
        assert self.process.stdout is not None
        lines, deadline = LineReader(self.process.stdout), time.monotonic() + CAMERA_READY_S
        while True:
            line = lines.next(max(0.1, deadline - time.monotonic()))
            if line.startswith("ova camera: rtsp://"):
                self.urls.append(line.split(": ", 1)[1].strip())
            elif line.strip() == "ova camera: ready":
                return

    def close(self) -> None:
        stop_process(self.process)
        self._log.close()


class LineReader:
    """A child's stdout lines, read by a thread, each waited for with a timeout."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def next(self, timeout_s: float) -> str:
        try:
            line = self._lines.get(timeout=timeout_s)
        except queue.Empty:
            raise TimeoutError(f"no output within {timeout_s:.0f} s") from None
        if line is None:
            raise EOFError("the child closed its output")
        return line


def stop_process(process: subprocess.Popen[Any], timeout_s: float = 20.0, signalled: bool = False) -> None:
    """SIGTERM once (unless ``signalled`` already) and wait; SIGKILL after ``timeout_s``. Never
    twice SIGTERM: a second signal makes ffmpeg abort its I/O, leaving an empty playlist."""
    if process.poll() is None:
        if not signalled:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class Usage:
    """CPU (% of one core) and memory samples of one group of processes over the steady window."""

    cpu_percent: float
    rss_samples: list[int] = field(default_factory=list)
    uss_per_process: list[int] = field(default_factory=list)


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def rss(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total


def sample(groups: dict[str, list[psutil.Process]], start: float, end: float) -> dict[str, Usage]:
    """CPU of each group between monotonic ``start`` and ``end``, RSS once a second in between."""
    time.sleep(max(0.0, start - time.monotonic()))
    before = {name: cpu_seconds(procs) for name, procs in groups.items()}
    began = time.monotonic()
    samples: dict[str, list[int]] = {name: [] for name in groups}
    while time.monotonic() < end:
        for name, procs in groups.items():
            samples[name].append(rss(procs))
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))
    wall = time.monotonic() - began
    usage = {}
    for name, procs in groups.items():
        cpu = (cpu_seconds(procs) - before[name]) / wall * 100
        uss = []
        for process in procs:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                uss.append(process.memory_full_info().uss)
        usage[name] = Usage(cpu, samples[name], uss)
    return usage


# --- loss --------------------------------------------------------------------------------------


@dataclass
class StreamLoss:
    expected: int
    recorded: int
    gaps: int
    first_after_s: float  # first segment's start, seconds after the recording started
    media_ratio: float = 0.0  # media seconds recorded / wall seconds from the first segment to the stop

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.recorded) + self.gaps


def loss(segments: list[tuple[int, int, bool]], started_ms: float, stopped_ms: float) -> StreamLoss:
    if not segments:
        return StreamLoss(math.floor((stopped_ms - started_ms) / SEGMENT_MS), 0, 0, float("inf"))
    segments = sorted(segments)
    first = segments[0][0]
    gaps = sum(
        1
        for previous, current in itertools.pairwise(segments)
        if current[2] or abs(current[0] - (previous[0] + previous[1])) > GAP_TOLERANCE_MS
    )
    expected = math.floor((stopped_ms - first) / SEGMENT_MS)
    ratio = sum(duration for _, duration, _ in segments) / max(1.0, stopped_ms - first)
    if not 1 - MAX_CLOCK_ERROR <= ratio <= 1 + MAX_CLOCK_ERROR:
        gaps += 1  # the timeline does not follow the wall clock: its media cannot be trusted
    return StreamLoss(expected, len(segments), gaps, (first - started_ms) / 1000, ratio)


PDT = re.compile(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)")
EXTINF = re.compile(r"#EXTINF:([0-9.]+)")


def playlist_segments(path: Path) -> list[tuple[int, int, bool]]:
    """(start ms, duration ms, discontinuity) of each segment of an ffmpeg HLS playlist
    (``-hls_flags program_date_time``: ffmpeg writes the date after ``EXTINF``, before the URI)."""
    if not path.exists():
        return []
    segments: list[tuple[int, int, bool]] = []
    start: int | None = None
    duration, gap = 0, False
    for line in path.read_text().splitlines():
        if line.startswith("#EXT-X-DISCONTINUITY"):
            gap = True
        elif match := PDT.match(line):
            start = int(datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)
        elif match := EXTINF.match(line):
            duration = round(float(match.group(1)) * 1000)
        elif line and not line.startswith("#"):
            if start is None:
                start = segments[-1][0] + segments[-1][1] if segments else 0
            segments.append((start, duration, gap and bool(segments)))
            start, duration, gap = None, 0, False
    return segments


# --- one side of one step ----------------------------------------------------------------------


@dataclass
class SideResult:
    name: str
    streams: int
    losses: list[StreamLoss]
    usage: Usage
    camera: Usage
    rss_base: int = 0
    loop_lag_ms: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return sum(item.lost for item in self.losses)

    @property
    def cpu_per_stream(self) -> float:
        return self.usage.cpu_percent / self.streams

    @property
    def rss_per_stream(self) -> float:
        steady = statistics.median(self.usage.rss_samples[-5:]) if self.usage.rss_samples else 0
        if self.name == "ova":
            return (steady - self.rss_base) / self.streams
        return steady / self.streams

    @property
    def uss_per_stream(self) -> float | None:
        if self.name == "ova" or not self.usage.uss_per_process:
            return None
        return statistics.mean(self.usage.uss_per_process)


def run_ova(urls: list[str], args: argparse.Namespace, scratch: Path, camera: psutil.Process) -> SideResult:
    config = {"urls": urls, "seconds": args.seconds, "data_dir": str(scratch / "deployment")}
    config["previews"] = not args.no_previews
    log = (scratch / "recorder.log").open("w")
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        lines = LineReader(child.stdout)
        ready = json.loads(lines.next(120))
        time.sleep(1.0)
        rss_base = psutil.Process(child.pid).memory_info().rss
        child.stdin.write("go\n")
        child.stdin.flush()
        began = time.monotonic()
        usage = sample(
            {"ova": [psutil.Process(child.pid)], "camera": [camera]},
            began + args.warmup,
            began + args.seconds - 2,
        )
        line = lines.next(args.seconds + 90)
        (scratch / "recorder-report.log").write_text(line)
        done = json.loads(line)
        child.wait(timeout=30)
    except (TimeoutError, EOFError, json.JSONDecodeError, subprocess.TimeoutExpired) as error:
        raise RuntimeError(
            f"the recorder failed ({type(error).__name__}); see {scratch / 'recorder.log'}"
        ) from error
    finally:
        stop_process(child)
        log.close()
    losses = [
        loss([tuple(s) for s in stream["segments"]], done["started_ms"], done["stopped_ms"])
        for stream in done["streams"]
    ]
    result = SideResult("ova", len(urls), losses, usage["ova"], usage["camera"], rss_base=rss_base)
    result.loop_lag_ms = done["loop_lag_ms"]
    result.notes.append(f"RSS(0) {ready['rss'] / MIB:.0f} MiB (child) / {rss_base / MIB:.0f} MiB (psutil)")
    for index, stream in enumerate(done["streams"]):
        failures = stream["reconnects"] + stream["rejected"] + stream["store_failures"]
        if failures or stream["crashed"]:
            result.losses[index].gaps += 1
        if failures or stream["error"]:
            result.notes.append(
                f"stream {index + 1}: {stream['reconnects']} reconnects, {stream['rejected']} rejected "
                f"and {stream['store_failures']} unstored segments"
                f"{', recorder crashed' if stream['crashed'] else ''}; last error: {stream['error']}"
            )
    return result


def ffmpeg_command(url: str, out: Path) -> list[str]:
    command = ["ffmpeg", "-nostdin", "-v", "warning", "-rtsp_transport", "tcp", "-i", url, "-map", "0:v"]
    command += ["-c", "copy", "-f", "hls", "-hls_segment_type", "fmp4", "-hls_time", "2"]
    command += ["-hls_list_size", "0", "-hls_flags", "program_date_time"]
    command += ["-hls_fmp4_init_filename", "init.mp4", "-hls_segment_filename", str(out / "seg%05d.m4s")]
    return [*command, str(out / "index.m3u8")]


def run_ffmpeg(
    urls: list[str], args: argparse.Namespace, scratch: Path, camera: psutil.Process
) -> SideResult:
    outs = [scratch / f"ffmpeg{index + 1}" for index in range(len(urls))]
    log = (scratch / "ffmpeg.log").open("w")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        started_ms = time.time() * 1000
        began = time.monotonic()
        for url, out in zip(urls, outs, strict=True):
            out.mkdir(parents=True)
            processes.append(
                subprocess.Popen(ffmpeg_command(url, out), stdout=subprocess.DEVNULL, stderr=log)
            )
        usage = sample(
            {"ffmpeg": [psutil.Process(p.pid) for p in processes], "camera": [camera]},
            began + args.warmup,
            began + args.seconds - 2,
        )
        time.sleep(max(0.0, began + args.seconds - time.monotonic()))
        stopped_ms = time.time() * 1000
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            stop_process(process, signalled=True)
    finally:
        for process in processes:
            stop_process(process, timeout_s=5, signalled=True)
        log.close()
    losses = [loss(playlist_segments(out / "index.m3u8"), started_ms, stopped_ms) for out in outs]
    result = SideResult("ffmpeg", len(urls), losses, usage["ffmpeg"], usage["camera"])
    failed = [p.returncode for p in processes if p.returncode not in (0, 255, -signal.SIGTERM)]
    if failed:
        result.notes.append(f"ffmpeg exit codes {failed}; see {scratch / 'ffmpeg.log'}")
    return result


# --- the run -----------------------------------------------------------------------------------


def run_step(streams: int, args: argparse.Namespace) -> tuple[list[SideResult], str | None]:
    """One N: the camera, then ova, then ffmpeg against it; and why ova failed, if it did (the
    ffmpeg side runs all the same, for the comparison)."""
    with tempfile.TemporaryDirectory(prefix=f"ova-bench-density-{streams}-") as name:
        scratch = Path(name)
        camera = Camera(streams, scratch / "camera.log")
        try:
            started = time.monotonic()
            camera.wait_ready()
            print(
                f"N={streams}: camera ready in {time.monotonic() - started:.0f} s; load {load()}", flush=True
            )
            camera_process = psutil.Process(camera.process.pid)
            results, failure = [], None
            try:
                results.append(run_ova(camera.urls, args, scratch, camera_process))
            except (RuntimeError, TimeoutError, EOFError) as error:
                failure = f"the ova side failed: {error}"
            print(f"N={streams}: ova done; load {load()}", flush=True)
            if streams <= args.ffmpeg_max:
                results.append(run_ffmpeg(camera.urls, args, scratch, camera_process))
                print(f"N={streams}: ffmpeg done; load {load()}", flush=True)
            return results, failure
        finally:
            camera.close()
            for log in scratch.glob("*.log"):
                if args.keep_logs:
                    shutil.copy(log, Path(args.keep_logs) / f"N{streams}-{log.name}")
                elif log.name == "recorder.log" and log.stat().st_size:
                    print(f"N={streams}: recorder log (tail):\n{log.read_text()[-3000:]}", flush=True)


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def row(result: SideResult) -> list[str]:
    losses = result.losses
    uss = result.uss_per_stream
    return [
        str(result.streams),
        result.name,
        f"{sum(item.expected for item in losses)}",
        f"{sum(item.recorded for item in losses)}",
        f"{result.lost}",
        f"{max(item.first_after_s for item in losses):.1f}",
        f"{min(item.media_ratio for item in losses):.2f}-{max(item.media_ratio for item in losses):.2f}",
        f"{max(result.loop_lag_ms):.0f}" if result.loop_lag_ms else "",
        f"{result.usage.cpu_percent:.0f}",
        f"{result.cpu_per_stream:.2f}",
        f"{result.camera.cpu_percent:.0f}",
        f"{statistics.median(result.usage.rss_samples[-5:]) / MIB:.0f}" if result.usage.rss_samples else "-",
        f"{result.rss_per_stream / MIB:.1f}",
        f"{uss / MIB:.1f}" if uss is not None else "",
    ]


HEADER = ["N", "recorder", "expected", "recorded", "lost", "1st seg s", "media/wall", "loop lag ms",
          "CPU %", "CPU %/stream", "camera CPU %", "RSS MiB", "RSS MiB/stream", "USS MiB/proc"]  # fmt: skip


def print_tables(steps: list[list[SideResult]], args: argparse.Namespace) -> None:
    rows = [row(result) for step in steps for result in step]
    widths = [max(len(cells[i]) for cells in [HEADER, *rows]) for i in range(len(HEADER))]
    print(f"\n{args.seconds:.0f} s per side, CPU over the steady window from {args.warmup:.0f} s to "
          f"{args.seconds - 2:.0f} s; % of one core ({os.cpu_count()} cores); previews "
          f"{'off' if args.no_previews else 'on'}")  # fmt: skip
    for cells in [HEADER, *rows]:
        print("  ".join(cell.rjust(width) for cell, width in zip(cells, widths, strict=True)))
    print("\nova / ffmpeg (same N, same simulator process):")
    for step in steps:
        if len(step) == 2:
            ova, ffmpeg = step
            cpu = ova.cpu_per_stream / max(ffmpeg.cpu_per_stream, 1e-9)
            rss_ratio = ova.rss_per_stream / max(ffmpeg.rss_per_stream, 1)
            uss_ratio = ova.rss_per_stream / max(ffmpeg.uss_per_stream or 1, 1)
            print(
                f"  N={ova.streams}: CPU per stream {cpu:.2f}x, memory per stream {rss_ratio:.2f}x of "
                f"ffmpeg's RSS per process, {uss_ratio:.2f}x of its USS"
            )
    for step in steps:
        for result in step:
            for note in result.notes:
                print(f"  note N={result.streams} {result.name}: {note}")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        asyncio.run(child_main(json.loads(sys.argv[2])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--seconds", type=float, default=40.0, help="recording time per side and step")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before CPU sampling starts")
    parser.add_argument("--ffmpeg-max", type=int, default=64, help="largest N also run with ffmpeg")
    parser.add_argument("--no-previews", action="store_true", help="record without preview images")
    parser.add_argument("--keep-logs", help="copy each step's logs into this folder")
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        sys.exit("ffmpeg not found: apt-get install -y --no-install-recommends ffmpeg")
    print(f"load before: {load()}", flush=True)
    steps = []
    for streams in args.streams:
        step, failure = run_step(streams, args)
        steps.append(step)
        if failure is not None:
            print(f"N={streams}: {failure}; stopping here", flush=True)
            break
        if step[0].lost:
            print(f"N={streams}: ova lost {step[0].lost} segments; stopping here", flush=True)
            break
    print_tables(steps, args)
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
