"""Recorded audio plays in Chromium with hls.js and dash.js, from muxed audio+video segments.

The ``Recorder`` records a generated stream (H.264 and a 1 kHz tone, AAC or G.711 µ-law, which
it transcodes to AAC) in 2 s segments. The HLS playlist and the MPD written by ``media.hls`` and
``media.dash`` for them are played by hls.js and dash.js in headless Chromium; every request
is answered by the test (``page.route``), nothing is served over the network. Both must play
the video and decode audio (``webkitAudioDecodedByteCount`` grows).
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Route

from ova.media.cmaf import InitSegment, MediaSegment
from ova.media.dash import mpd
from ova.media.hls import playlist
from ova.media.ingest_settings import IngestSettings
from ova.media.preview import PreviewImage
from ova.media.timeline import TimelineSegment, Track, runs
from ova.recording.recorder import Recorder, RecorderSettings
from support.player_page import two_player_page

pytestmark = pytest.mark.e2e

BASE = "http://127.0.0.1:9/media"
VENDOR = Path(__file__).parents[2] / "player/node_modules"
SCRIPTS = {
    "hls.min.js": VENDOR / "hls.js/dist/hls.min.js",
    "dash.all.min.js": VENDOR / "dashjs/dist/dash.all.min.js",
}
ENCODERS = {"aac": ("aac", 48_000), "pcmu": ("pcm_mulaw", 8000)}
PLAYED_WITH_AUDIO = """(id) => {
  const video = document.getElementById(id);
  return video.readyState >= 2 && video.currentTime > 1.5 && video.webkitAudioDecodedByteCount > 0;
}"""


@dataclass
class MemorySink:
    files: dict[str, bytes] = field(default_factory=dict)
    inits: dict[str, InitSegment] = field(default_factory=dict)
    segments: list[MediaSegment] = field(default_factory=list)
    passed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the whole file is recorded: 3 segments of 2 s, then the last second."""

    async def init_segment(self, init: InitSegment) -> None:
        self.inits[init.config_hash] = init
        self.files[f"{init.config_hash}.mp4"] = init.data

    async def media_segment(self, segment: MediaSegment) -> None:
        self.segments.append(segment)
        self.files[f"{segment.start_ms}-{segment.sequence}.m4s"] = segment.data
        if len(self.segments) >= 4:
            self.passed.set()

    async def preview(self, images: list[PreviewImage], at_ms: int) -> None:
        pass


def source(root: Path, codec: str) -> Path:
    encoder, rate = ENCODERS[codec]
    path = root / f"source-{codec}.mkv"
    inputs = [
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=30",
        "-f",
        "lavfi",
        "-i",
        f"sine=1000:sample_rate={rate}",
    ]
    video = ["-c:v", "libx264", "-g", "15", "-bf", "0", "-pix_fmt", "yuv420p"]
    command = ["ffmpeg", "-v", "error", "-y", *inputs, "-t", "7", *video, "-c:a", encoder, str(path)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return path


def record(path: Path) -> MemorySink:
    """One pass over ``path`` (in a thread: Playwright's sync API owns this thread's loop)."""
    sink = MemorySink()

    async def run() -> None:
        stop = asyncio.Event()
        ingest = IngestSettings(local_file=True, max_drift_ms=None, keep_final_access_unit=True)
        recorder = Recorder(str(path), sink, RecorderSettings(segment_ms=2000, previews=False, ingest=ingest))
        task = asyncio.create_task(recorder.run(stop))
        try:
            await asyncio.wait_for(sink.passed.wait(), 40)
        finally:
            stop.set()
            await task

    worker = threading.Thread(target=asyncio.run, args=(run(),))
    worker.start()
    worker.join(60)
    return sink


def manifests(sink: MemorySink) -> dict[str, bytes]:
    """The files with an HLS playlist and a static MPD over the first pass of the file."""
    tracks = {h: Track(f"{h}.mp4", i.codec, i.width, i.height, 300_000) for h, i in sink.inits.items()}
    timeline, first = [], sink.segments[0].start_ms
    for segment in sink.segments:
        if segment.gap_before and timeline:
            break  # the second pass over the file
        uri = f"{segment.start_ms}-{segment.sequence}.m4s"
        timeline.append(TimelineSegment(uri, segment.start_ms, segment.duration_ms, segment.config_hash))
    played = runs(timeline, tracks)
    assert first == timeline[0].start_ms
    return {
        "index.m3u8": playlist.render(played, ended=True).encode(),
        "index.mpd": mpd.render(played, ended=True, now_ms=int(time.time() * 1000)).encode(),
    }


@pytest.mark.parametrize("codec", ["aac", "pcmu"])
def test_hls_js_and_dash_js_play_recorded_audio(browser: Browser, codec: str, tmp_path: Path) -> None:
    sink = record(source(tmp_path, codec))
    assert all(init.codec.endswith(",mp4a.40.2") for init in sink.inits.values())
    files = {**sink.files, **manifests(sink), **{name: path.read_bytes() for name, path in SCRIPTS.items()}}
    files["page.html"] = two_player_page("index.m3u8", "index.mpd").encode()

    def answer(route: Route) -> None:
        name = route.request.url.removeprefix(BASE + "/").split("?")[0]
        if name not in files:
            route.fulfill(status=404)
            return
        kind = {"html": "text/html", "js": "text/javascript", "m3u8": "application/vnd.apple.mpegurl"}
        kind |= {"mpd": "application/dash+xml", "mp4": "video/mp4", "m4s": "video/iso.segment"}
        route.fulfill(body=files[name], content_type=kind[name.rsplit(".", 1)[1]])

    page = browser.new_page()
    page.route(f"{BASE}/**", answer)
    page.goto(f"{BASE}/page.html")
    for player in ("hls", "dash"):
        page.wait_for_function(PLAYED_WITH_AUDIO, arg=player, timeout=30_000)
    assert page.evaluate("window.playbackErrors") == []
    assert 'codecs="avc1.' in files["index.mpd"].decode() and ",mp4a.40.2" in files["index.mpd"].decode()
    page.close()
