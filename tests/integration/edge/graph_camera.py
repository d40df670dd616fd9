"""``ova camera`` for the pipeline-graph tests: a small picture, one GOP a second, on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

READY = "ova camera: ready"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def camera(log_path: Path, fps: int = 10) -> Iterator[str]:
    """``rtsp://127.0.0.1:PORT/cam`` served until the block ends."""
    port = free_port()
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
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OVA_")}
    command = [sys.executable, "-m", "ova.cli", "camera", "--host", "127.0.0.1", "--port", str(port), *flags]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment
        )
    try:
        deadline = time.monotonic() + 30
        while READY not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"ova camera did not start:\n{log_path.read_text(errors='replace')[-2000:]}"
                )
            time.sleep(0.1)
        yield f"rtsp://127.0.0.1:{port}/cam"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
