"""Record-path CPU per 1080p30 stream: ova's ingest + CMAF segmenter against ``ffmpeg -c copy``.

Both sides read the same 60 s 1080p30 H.264 MPEG-TS file (about 5 Mbit/s, generated once
with PyAV/libx264 and cached) and write fMP4 segments of the same length to disk:

- **ova**: a child Python process running ``RtspIngest`` (PyAV demuxer in its worker thread,
  access-unit hygiene, wall-clock anchoring) into ``CmafSegmenter`` (ova's own fMP4 boxes),
  writing ``init/<hash>.mp4`` and ``segments/*.m4s``;
- **ffmpeg**: ``ffmpeg -c copy -f hls -hls_segment_type fmp4`` (Debian's ffmpeg, C only).

CPU time is user + system of each child process (``os.wait4`` rusage), so interpreter start-up
and imports count against ova; the ova child also reports the CPU of its packet loop alone.
Runs are interleaved; the table shows medians of ``--runs`` runs and the ratio.

Usage::

    python bench/record_cpu.py                       # 3 runs, 30 s segments
    python bench/record_cpu.py --runs 5 --segment-seconds 2
    python bench/record_cpu.py --source camera.ts    # any H.264/H.265 file FFmpeg reads
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ova.media.cmaf import CmafSegmenter, InitSegment, SegmenterSettings
from ova.media.ingest_settings import IngestSettings
from ova.media.packet import IngestPacket
from ova.media.rtsp_ingest import RtspIngest
from ova.media.synthetic import StreamSpec, write_stream

SOURCE_SPEC = StreamSpec(width=1920, height=1080, fps=30, frames=1800, gop=30, bit_rate=5_000_000, noise=True)


@dataclass(frozen=True)
class Run:
    cpu_s: float
    wall_s: float
    loop_cpu_s: float | None = None


def source_file(cache: Path) -> Path:
    path = cache / "record_cpu_1080p30_60s.ts"
    if not path.exists():
        print(f"generating {path} (60 s 1080p30 H.264, ~5 Mbit/s)...", flush=True)
        partial = path.with_suffix(".partial.ts")
        write_stream(partial, SOURCE_SPEC)
        partial.rename(path)
    return path


def measure(command: list[str]) -> tuple[Run, str]:
    started = time.monotonic()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - started
    assert child.stdout is not None and child.stderr is not None
    output, errors = child.stdout.read(), child.stderr.read()
    child.stdout.close()
    child.stderr.close()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"{command[0]} failed ({child.returncode}): {errors.strip()[-2000:]}")
    return Run(usage.ru_utime + usage.ru_stime, wall), output


def run_ova(source: Path, out: Path, segment_s: int) -> Run:
    command = [sys.executable, __file__, "--child", str(source), str(out), str(segment_s)]
    run, output = measure(command)
    report = json.loads(output.strip().splitlines()[-1])
    return Run(run.cpu_s, run.wall_s, report["loop_cpu_s"])


def run_ffmpeg(source: Path, out: Path, segment_s: int) -> Run:
    out.mkdir(parents=True, exist_ok=True)
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source), "-map", "0:v", "-c", "copy"]
    command += ["-f", "hls", "-hls_time", str(segment_s), "-hls_segment_type", "fmp4"]
    command += ["-hls_playlist_type", "vod", "-hls_fmp4_init_filename", "init.mp4", str(out / "index.m3u8")]
    return measure(command)[0]


async def record(source: Path, out: Path, segment_s: int) -> dict[str, float]:
    """The child's work: ingest the file, segment it, write the archive layout."""
    (out / "init").mkdir(parents=True, exist_ok=True)
    (out / "segments").mkdir(exist_ok=True)
    started = time.process_time()
    ingest = RtspIngest(
        str(source), IngestSettings(max_drift_ms=None, keep_final_access_unit=True, local_file=True)
    )
    segmenter = CmafSegmenter(SegmenterSettings(target_duration_ms=segment_s * 1000))
    count = 0
    async with contextlib.aclosing(ingest.session()) as items:
        async for item in items:
            if isinstance(item, IngestPacket):
                for segment in segmenter.push(item):
                    count += write(out, segment)
    for segment in segmenter.flush():
        count += write(out, segment)
    return {"loop_cpu_s": time.process_time() - started, "segments": count, "packets": ingest.stats.packets}


def write(out: Path, segment: object) -> int:
    if isinstance(segment, InitSegment):
        (out / "init" / f"{segment.config_hash}.mp4").write_bytes(segment.data)
        return 0
    start_ms, sequence, data = segment.start_ms, segment.sequence, segment.data  # type: ignore[attr-defined]
    (out / "segments" / f"{start_ms}-{sequence}.m4s").write_bytes(data)
    return 1


def table(source: Path, ova: list[Run], ffmpeg: list[Run], media_s: float) -> str:
    ova_cpu = statistics.median(r.cpu_s for r in ova)
    ffmpeg_cpu = statistics.median(r.cpu_s for r in ffmpeg)
    loop_cpu = statistics.median(r.loop_cpu_s or 0.0 for r in ova)
    rows = [
        ("ova ingest + CmafSegmenter (process)", ova_cpu, statistics.median(r.wall_s for r in ova)),
        ("  of which the packet loop", loop_cpu, None),
        ("ffmpeg -c copy -f hls fmp4", ffmpeg_cpu, statistics.median(r.wall_s for r in ffmpeg)),
    ]
    size_mbit = source.stat().st_size * 8 / 1e6
    lines = [
        f"source: {source.name}, {media_s:.0f} s, {size_mbit / media_s:.2f} Mbit/s",
        f"medians of {len(ova)} interleaved runs",
        f"{'path':<40} {'CPU s':>8} {'wall s':>8} {'% of a core (real time)':>25}",
    ]
    for name, cpu, wall in rows:
        wall_text = f"{wall:8.2f}" if wall is not None else f"{'':>8}"
        lines.append(f"{name:<40} {cpu:8.3f} {wall_text} {cpu / media_s * 100:24.2f}%")
    lines.append(f"ratio ova / ffmpeg (process CPU): {ova_cpu / ffmpeg_cpu:.2f}x")
    lines.append(
        f"per-run CPU s: ova {[round(r.cpu_s, 3) for r in ova]}, ffmpeg {[round(r.cpu_s, 3) for r in ffmpeg]}"
    )
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        report = asyncio.run(record(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])))
        print(json.dumps(report))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--segment-seconds", type=int, default=30)
    parser.add_argument("--source", type=Path, help="input file (default: generated and cached)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "ova-bench")
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        sys.exit("ffmpeg not found: apt-get install -y --no-install-recommends ffmpeg")
    args.cache.mkdir(parents=True, exist_ok=True)
    source = args.source or source_file(args.cache)
    media_s = SOURCE_SPEC.frames / SOURCE_SPEC.fps if args.source is None else probe_duration(source)
    ova_runs, ffmpeg_runs = [], []
    with tempfile.TemporaryDirectory(prefix="ova-bench-") as scratch:
        for index in range(args.runs):
            ova_runs.append(run_ova(source, Path(scratch) / f"ova{index}", args.segment_seconds))
            ffmpeg_runs.append(run_ffmpeg(source, Path(scratch) / f"ffmpeg{index}", args.segment_seconds))
    print(table(source, ova_runs, ffmpeg_runs, media_s))


def probe_duration(source: Path) -> float:
    command = ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(source)]
    return float(subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip())


if __name__ == "__main__":
    main()
