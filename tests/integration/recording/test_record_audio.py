"""Audio is recorded: AAC as it comes, and G.711 transcoded to AAC; the simulator sends both.

The ``Recorder`` records a generated H.264 stream (320x240, 30 fps, an IDR every half second)
with a 1 kHz tone, AAC or G.711 µ-law, in 2 s segments, from a local file and from the
simulator over RTSP (where the audio's RTP clock must first be put on the video's). The
segments are laid out with an HLS playlist written by ``media.hls``, and ffprobe reads them:
every segment holds an AAC stream beside the video, lasting as long as the video within an
audio frame. ``ova camera --audio pcmu`` is read by ffprobe over RTSP as G.711.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ova.camera.server import CameraServer
from ova.camera.settings import CameraSettings
from ova.media.cmaf import InitSegment, MediaSegment
from ova.media.hls import playlist
from ova.media.ingest_settings import IngestSettings
from ova.media.preview import PreviewImage
from ova.media.timeline import TimelineSegment, Track, runs
from ova.recording.recorder import Recorder, RecorderSettings

SEGMENTS, FPS, SECONDS = 3, 30, 7
ENCODERS = {"aac": ("aac", 48_000), "pcmu": ("pcm_mulaw", 8000)}


def source(tmp_path: Path, codec: str) -> Path:
    """``SECONDS`` of test picture and tone, the audio in ``codec`` (Matroska holds G.711)."""
    encoder, rate = ENCODERS[codec]
    path = tmp_path / f"source-{codec}.mkv"
    inputs = ["-f", "lavfi", "-i", f"testsrc=size=320x240:rate={FPS}"]
    inputs += ["-f", "lavfi", "-i", f"sine=frequency=1000:sample_rate={rate}"]
    video = ["-c:v", "libx264", "-g", "15", "-bf", "0", "-pix_fmt", "yuv420p"]
    command = ["ffmpeg", "-v", "error", "-y", *inputs, "-t", str(SECONDS), *video, "-c:a", encoder, str(path)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return path


@dataclass
class MemorySink:
    """Keeps what the recorder stores; ``enough`` is set after ``SEGMENTS`` media segments."""

    inits: list[InitSegment] = field(default_factory=list)
    segments: list[MediaSegment] = field(default_factory=list)
    enough: asyncio.Event = field(default_factory=asyncio.Event)

    async def init_segment(self, init: InitSegment) -> None:
        self.inits.append(init)

    async def media_segment(self, segment: MediaSegment) -> None:
        self.segments.append(segment)
        if len(self.segments) >= SEGMENTS:
            self.enough.set()

    async def preview(self, images: list[PreviewImage], at_ms: int) -> None:
        pass


async def record(path: Path | str) -> tuple[MemorySink, Recorder]:
    sink, stop = MemorySink(), asyncio.Event()
    if isinstance(path, Path):
        ingest = IngestSettings(local_file=True, max_drift_ms=None, keep_final_access_unit=True)
    else:
        ingest = IngestSettings()
    settings = RecorderSettings(segment_ms=2000, previews=False, ingest=ingest)
    recorder = Recorder(str(path), sink, settings)
    task = asyncio.create_task(recorder.run(stop))
    try:
        await asyncio.wait_for(sink.enough.wait(), 40)
    finally:
        stop.set()
        await task
    return sink, recorder


def lay_out(sink: MemorySink, root: Path) -> Path:
    """The init and media segments as files, with the media playlist a player would get."""
    tracks = {}
    for init in sink.inits:
        (root / f"{init.config_hash}.mp4").write_bytes(init.data)
        tracks[init.config_hash] = Track(f"{init.config_hash}.mp4", init.codec, init.width, init.height)
    timeline = []
    for segment in sink.segments:
        name = f"{segment.start_ms}-{segment.sequence}.m4s"
        (root / name).write_bytes(segment.data)
        timeline.append(TimelineSegment(name, segment.start_ms, segment.duration_ms, segment.config_hash))
    path = root / "index.m3u8"
    path.write_text(playlist.render(runs(timeline, tracks), ended=True))
    return path


def probe(path: Path, *extra: str) -> Any:
    entries = [
        "-show_entries",
        "stream=codec_type,codec_name,sample_rate,channels:packet=stream_index,pts_time,duration_time",
    ]
    done = subprocess.run(
        ["ffprobe", "-v", "error", *extra, *entries, "-of", "json", str(path)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return json.loads(done.stdout)


def span(packets: list[dict[str, str]], index: int) -> float:
    """Seconds from the first packet of stream ``index`` to the end of its last (ffprobe gives
    no duration for a fragment's only audio packet: it then ends where it starts)."""
    own = sorted(
        (float(p["pts_time"]), float(p.get("duration_time", 0)))
        for p in packets
        if p["stream_index"] == index
    )
    return own[-1][0] + own[-1][1] - own[0][0]


@pytest.mark.parametrize("codec", ["aac", "pcmu"])
async def test_camera_audio_is_recorded_as_aac_beside_the_video(codec: str, tmp_path: Path) -> None:
    sink, recorder = await record(source(tmp_path, codec))
    check_audio_beside_video(sink, recorder, codec, tmp_path)


@pytest.mark.parametrize("codec", ["aac", "pcmu"])
async def test_audio_from_an_rtsp_camera_is_recorded_on_the_video_clock(codec: str, tmp_path: Path) -> None:
    """Over RTSP each track's timestamps start at a random value: unrelated, the audio would be
    dropped as lying seconds away from the video (a video-only recording)."""
    settings = CameraSettings(port=0, width=320, height=240, fps=FPS, audio=True, audio_codec=codec)
    server = CameraServer(settings)
    await server.start()
    try:
        await server.wait_ready(30)
        sink, recorder = await record(server.url("cam"))
    finally:
        await server.close()
    check_audio_beside_video(sink, recorder, codec, tmp_path)


def check_audio_beside_video(sink: MemorySink, recorder: Recorder, codec: str, tmp_path: Path) -> None:
    rate = ENCODERS[codec][1]
    assert [init.codec.split(",")[1] for init in sink.inits] == ["mp4a.40.2"]
    manifest = lay_out(sink, tmp_path)
    streams = probe(manifest, "-allowed_extensions", "ALL")["streams"]
    assert {(s["codec_type"], s["codec_name"]) for s in streams} == {("video", "h264"), ("audio", "aac")}
    audio_frame = 1024 / rate
    for segment in sink.segments:
        (tmp_path / "one.mp4").write_bytes(sink.inits[0].data + segment.data)
        found = probe(tmp_path / "one.mp4")
        audio = next(s for s in found["streams"] if s["codec_type"] == "audio")
        assert (audio["codec_name"], int(audio["sample_rate"]), audio["channels"]) == ("aac", rate, 1)
        video_s, audio_s = span(found["packets"], 0), span(found["packets"], 1)
        assert video_s == pytest.approx(segment.duration_ms / 1000, abs=1 / FPS)
        assert abs(audio_s - video_s) <= audio_frame + 1 / FPS, (segment.sequence, video_s, audio_s)
    if codec == "pcmu":
        assert recorder.audio.stats.transcoded > 0 and recorder.audio.stats.undecodable == 0


async def test_the_simulator_sends_g711_when_asked() -> None:
    settings = CameraSettings(port=0, width=320, height=240, fps=FPS, audio=True, audio_codec="pcmu")
    server = CameraServer(settings)
    await server.start()
    try:
        await server.wait_ready(30)
        command = ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-of", "json"]
        command += ["-show_entries", "stream=codec_name,sample_rate,channels", server.url("cam")]
        done = await asyncio.to_thread(subprocess.run, command, capture_output=True, timeout=30, check=False)
    finally:
        await server.close()
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    streams = json.loads(done.stdout)["streams"]
    assert {"codec_name": "pcm_mulaw", "sample_rate": "8000", "channels": 1} in streams
