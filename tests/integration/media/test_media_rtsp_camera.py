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


@pytest.mark.parametrize("scheme", ["digest", "basic"])
async def test_the_camera_is_recorded_with_credentials_from_the_url_and_no_task_is_left(scheme: str) -> None:
    settings = camera_settings.CameraSettings(
        port=0,
        width=320,
        height=240,
        fps=30,
        gop=15,
        bitrate_kbps=400,
        audio=False,
        username="viewer",
        password="s3cr:t",
        auth_scheme=scheme,
    )
    server = camera_server.CameraServer(settings)
    await server.start()
    tasks_before = len(asyncio.all_tasks())
    try:
        await server.wait_ready(30)
        url = server.url("cam").replace("rtsp://", "rtsp://viewer:s3cr%3At@")
        ingest = RtspIngest(url, CAMERA)
        packets = 0
        async with contextlib.aclosing(ingest.session()) as items:
            async for item in items:
                packets += isinstance(item, IngestPacket)
                if packets == 10:
                    break
        wrong = RtspIngest(url.replace("s3cr%3At", "wrong"), CAMERA)
        async with contextlib.aclosing(wrong.session()) as items:
            refused = [item async for item in items]
    finally:
        await server.close()
    assert packets == 10 and ingest.stats.protocol_errors == 0
    last = refused[-1]
    assert isinstance(last, Disconnected) and "401" in last.reason and "s3cr" not in last.reason
    assert len(asyncio.all_tasks()) <= tasks_before


async def test_keep_alives_hold_a_session_past_the_camera_session_timeout() -> None:
    settings = camera_settings.CameraSettings(
        port=0, width=320, height=240, fps=30, gop=15, bitrate_kbps=400, audio=False, session_timeout_s=2
    )
    server = camera_server.CameraServer(settings)
    await server.start()
    try:
        await server.wait_ready(30)
        ingest = RtspIngest(server.url("cam"), CAMERA)
        packets = 0
        async with contextlib.aclosing(ingest.session()) as items:
            async for item in items:
                assert not isinstance(item, Disconnected), item
                packets += isinstance(item, IngestPacket)
                if packets == 150:  # 5 s at 30 fps: two and a half session timeouts
                    break
    finally:
        await server.close()
    assert ingest.stats.sessions == 1 and ingest.stats.lost_packets == 0
