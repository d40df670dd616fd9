"""``ova camera`` for the pipeline-graph tests: a small picture, one GOP a second, on loopback."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from integration.camera.camera_process import CameraProcess


@contextmanager
def camera(log_path: Path, fps: int = 10) -> Iterator[str]:
    """``rtsp://127.0.0.1:PORT/cam`` served until the block ends."""
    flags = [
        "--width",
        "320",
        "--height",
        "240",
        "--fps",
        str(fps),
        "--gop",
        str(fps),
        "--bitrate-kbps",
        "300",
    ]
    process = CameraProcess(log_path, "--host", "127.0.0.1", *flags)
    try:
        yield process.url
    finally:
        process.stop()


def ffprobe(path: Path) -> dict[str, Any]:
    """ffprobe's view of ``path``: its format and video stream, frames counted."""
    command = [
        "ffprobe",
        "-v",
        "error",
        "-count_frames",
        "-show_format",
        "-show_streams",
        "-of",
        "json",
        str(path),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def first_frame_time(path: Path) -> float:
    """The presentation time (s) of the first video frame ffprobe reads in ``path``."""
    command = [
        "ffprobe",
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "frame=pts_time",
        "-read_intervals",
        "%+#1",
        "-of",
        "json",
        str(path),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    return float(json.loads(done.stdout)["frames"][0]["pts_time"])
