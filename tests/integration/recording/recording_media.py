"""Asking ffprobe and ffmpeg about manifests and segments, and reading what the camera burned in.

Every helper runs a real ffmpeg/ffprobe on a URL (or file) with a time limit; none of them
parses media in Python except ``read_stamp`` on decoded RGB pixels.
"""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from ova.camera.pattern import read_stamp

DASH = {"d": "urn:mpeg:dash:schema:mpd:2011"}
LIMIT_S = 90


def _run(command: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command, capture_output=True, timeout=LIMIT_S, check=False)


def probe_streams(url: str) -> list[dict[str, Any]]:
    """The streams ``ffprobe`` finds behind ``url``."""
    entries = ["-show_entries", "stream=codec_name,codec_type,width,height", "-of", "json"]
    done = _run(["ffprobe", "-v", "error", *entries, url])
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    streams: list[dict[str, Any]] = json.loads(done.stdout)["streams"]
    return streams


@dataclass(frozen=True)
class Decoded:
    frames: int
    errors: str


def decode(url: str | Path) -> Decoded:
    """Decode every video frame of ``url`` (``ffmpeg -v error ... -f null``-style, counting frames)."""
    output = ["-map", "0:v", "-fps_mode", "passthrough", "-f", "framecrc", "-"]
    done = _run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(url), *output])
    frames = sum(1 for line in done.stdout.decode().splitlines() if line and not line.startswith("#"))
    errors = done.stderr.decode(errors="replace").strip()
    return Decoded(frames, errors + ("" if done.returncode == 0 else f" (exit {done.returncode})"))


def first_stamp(url: str, width: int, height: int) -> int:
    """The wall clock burned into the first frame ffmpeg decodes from ``url`` (UTC ms)."""
    command = ["ffmpeg", "-nostdin", "-v", "error", "-i", url, "-frames:v", "1"]
    done = _run([*command, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
    assert done.returncode == 0 and len(done.stdout) == width * height * 3, done.stderr.decode(
        errors="replace"
    )
    stamp = read_stamp(np.frombuffer(done.stdout, np.uint8).reshape(height, width, 3))
    assert stamp is not None, "no readable stamp in the first frame"
    return stamp


def epoch_ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


@dataclass(frozen=True)
class HlsSegment:
    program_date_time: int
    duration_ms: int
    uri: str
    discontinuity: bool
    map_uri: str


def hls_segments(playlist: str) -> list[HlsSegment]:
    """The segments of a media playlist; checks that each has its own EXT-X-PROGRAM-DATE-TIME."""
    segments: list[HlsSegment] = []
    date: int | None = None
    duration, discontinuity, map_uri = 0, False, ""
    for line in playlist.splitlines():
        if line == "#EXT-X-DISCONTINUITY":
            discontinuity = True
        elif line.startswith("#EXT-X-MAP:"):
            found = re.fullmatch(r'#EXT-X-MAP:URI="([^"]+)"', line)
            assert found is not None, line
            map_uri = found.group(1)
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            date = epoch_ms(line.split(":", 1)[1])
        elif line.startswith("#EXTINF:"):
            duration = round(float(line.split(":", 1)[1].rstrip(",")) * 1000)
        elif line and not line.startswith("#"):
            assert date is not None, f"{line} has no EXT-X-PROGRAM-DATE-TIME"
            segments.append(HlsSegment(date, duration, line, discontinuity, map_uri))
            date, discontinuity = None, False
    return segments


def mpd_periods(text: str) -> list[ET.Element]:
    root = ET.fromstring(text.encode())  # noqa: S314 - the service's own MPD, parsed to check it
    assert root.tag == f"{{{DASH['d']}}}MPD"
    return root.findall("d:Period", DASH)


def mpd_type(text: str) -> str:
    return str(ET.fromstring(text.encode()).get("type"))  # noqa: S314 - as above
