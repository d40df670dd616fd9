"""Recording the camera simulator (``ova.camera``) over real RTSP/TCP on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import pytest
from media_recording import decode_errors, joined, record

from ova.media.cmaf import CmafSegmenter, MediaSegment, SegmenterSettings
from ova.media.ingest_events import Disconnected
from ova.media.ingest_settings import IngestSettings
from ova.media.packet import IngestPacket
from ova.media.preview import decode_keyframe
from ova.media.rtsp_ingest import RtspIngest

camera_server = pytest.importorskip(
    "ova.camera.server", reason="the camera simulator (ova.camera) is missing"
)
camera_settings = pytest.importorskip("ova.camera.settings")
camera_pattern = pytest.importorskip("ova.camera.pattern")

CAMERA = IngestSettings(open_timeout_s=5, read_timeout_s=3)


async def start_camera(port: int = 0, *, audio: bool = False) -> Any:
    """A running ``CameraServer``: 320x240, 30 fps, an IDR every half second."""
    settings = camera_settings.CameraSettings(
        port=port, width=320, height=240, fps=30, gop=15, bitrate_kbps=400, audio=audio
    )
    server = camera_server.CameraServer(settings)
    await server.start()
    try:
        await server.wait_ready(30)
    except BaseException:
        await server.close()
        raise
    return server


async def test_a_recorded_camera_decodes_and_sits_on_the_wall_clock(tmp_path: Path) -> None:
    server = await start_camera(audio=True)
    try:
        started_ms = time.time() * 1000
        recording = await record(
            server.url("cam"), CAMERA, SegmenterSettings(target_duration_ms=0), video_packets=45
        )
    finally:
        await server.close()
    video = [p for p in recording.packets if p.kind == "video"]
    audio = [p for p in recording.packets if p.kind == "audio"]
    assert video[0].is_keyframe and audio and audio[0].codec.codec_string.startswith("mp4a.40.")
    assert abs(video[0].wall_ms - started_ms) < 5_000
    assert len(recording.segments) >= 2
    for segment in recording.segments:
        assert decode_errors(joined(tmp_path, recording, segment)) == ""
    first = recording.segments[0]
    keyframe = next(p for p in video if p.is_keyframe)
    picture = decode_keyframe(keyframe.data, keyframe.codec).to_ndarray(format="rgb24")
    stamp = camera_pattern.read_stamp(picture)
    assert stamp is not None
    lag_ms = first.start_ms - stamp
    assert 0 <= lag_ms < 3_000, "anchored when the first packet arrived: capture time plus the open delay"


async def test_a_camera_that_goes_away_is_reconnected_and_the_gap_is_marked() -> None:
    async def short_sleep(seconds: float) -> None:
        await asyncio.sleep(min(seconds, 0.2))

    segmenter = CmafSegmenter(SegmenterSettings(target_duration_ms=0))
    segments: list[MediaSegment] = []
    reasons: list[str] = []
    server = await start_camera()
    port = server.port
    ingest = RtspIngest(server.url("cam"), CAMERA, sleep=short_sleep)
    async with contextlib.aclosing(ingest.run()) as items:
        try:
            async for item in items:
                if isinstance(item, IngestPacket) and item.kind == "video":
                    segments += [s for s in segmenter.push(item) if isinstance(s, MediaSegment)]
                    if ingest.stats.packets >= 20:
                        break
        finally:
            await server.close()  # the camera goes away while the ingest is connected
        server = await start_camera(port)  # back on the same address
        try:
            async for item in items:
                if isinstance(item, Disconnected):
                    reasons.append(item.reason)
                elif isinstance(item, IngestPacket) and item.kind == "video":
                    segments += [s for s in segmenter.push(item) if isinstance(s, MediaSegment)]
                    if any(s.gap_before for s in segments):
                        break
            await items.aclose()
        finally:
            await server.close()
    assert reasons and ingest.stats.reconnects >= 1
    resumed = next(s for s in segments if s.gap_before)
    assert resumed.start_ms > segments[0].start_ms
