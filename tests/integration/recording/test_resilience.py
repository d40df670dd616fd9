"""Cameras that die, change size, stall, send noise or too much: recording goes on where it can,
says why where it cannot, and never indexes a segment that does not decode.

Each test runs a cloud service in this process (SQLite, its listener served by uvicorn on a
loopback port, so ffmpeg can read manifests by URL) with its live-pipeline host started,
and drives it through the management API. Cameras are ``ova camera`` processes or the
impostors of ``recording_impostors``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from recording_arm import TOPOLOGY, account_body, account_path, pipeline_body, topology_body
from recording_impostors import dribbling_camera, garbage_camera
from recording_media import decode, hls_segments
from recording_processes import CameraProcess, free_port
from sqlalchemy import select

from ova.cloud.db.models import ResourceRow
from ova.cloud.domain import segment_index
from ova.cloud.domain.operator_keys import create_key
from ova.cloud.recording.archive_sink import ArchiveSink
from ova.cloud.runtime import Cloud, build
from ova.cloud.server import uvicorn_server
from ova.cloud.settings import CloudSettings, ListenerSettings, RecordingSettings
from ova.media.ingest_settings import IngestSettings
from ova.recording import archive_layout
from ova.recording.recorder import Recorder, RecorderSettings, RecorderStatus

ACCOUNT = account_path()
SEGMENT_S = 2
# Impostors are given up on quickly; a real camera gets the defaults (10 s).
IMPATIENT = IngestSettings(open_timeout_s=3, read_timeout_s=3, backoff_initial_s=0.5, backoff_max_s=1)


@dataclass
class Deployment:
    cloud: Cloud
    arm: httpx.AsyncClient
    streaming: httpx.AsyncClient

    async def activate(
        self, name: str, camera_url: str, video: str, bitrate_kbps: int = 3000
    ) -> RecorderStatus:
        """Create and activate live pipeline ``name``; the status of its recorder."""
        await ok(
            self.arm.put(
                f"{ACCOUNT}/livePipelines/{name}", json=pipeline_body(camera_url, video, bitrate_kbps)
            )
        )
        await ok(self.arm.post(f"{ACCOUNT}/livePipelines/{name}/activate"))
        pipeline = await ok(self.arm.get(f"{ACCOUNT}/livePipelines/{name}"))
        assert self.cloud.pipelines is not None
        status = self.cloud.pipelines.status_of(await self.row_id("livePipelines", pipeline["name"]))
        assert status is not None, "activation did not start a recorder"
        return status

    async def deactivate(self, name: str) -> None:
        await ok(self.arm.post(f"{ACCOUNT}/livePipelines/{name}/deactivate"))

    async def row_id(self, kind: str, name: str) -> str:
        async with self.cloud.services.sessions.begin() as session:
            found = await session.execute(
                select(ResourceRow.id).where(ResourceRow.kind == kind, ResourceRow.name == name)
            )
            return str(found.scalar_one())

    async def video_id(self, name: str) -> str:
        await ok(self.arm.put(f"{ACCOUNT}/videos/{name}", json={"properties": {"title": name}}))
        return await self.row_id("videos", name)

    async def record(self, url: str, video: str, seconds: float) -> RecorderStatus:
        """Record ``url`` into ``video`` for ``seconds`` with the recorder the host runs."""
        sink = ArchiveSink(self.cloud.services, await self.video_id(video))
        recorder = Recorder(url, sink, RecorderSettings(segment_ms=SEGMENT_S * 1000, ingest=IMPATIENT))
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(seconds, stop.set)
        async with asyncio.timeout(seconds + 20):
            return await recorder.run(stop)

    async def manifest_url(self, video: str) -> str:
        """The HLS manifest of everything ``video`` holds, as video on demand (both bounds given)."""
        found = await ok(self.arm.get(f"{ACCOUNT}/videos/{video}"))
        token = (await ok(self.arm.post(f"{ACCOUNT}/videos/{video}/listContentToken")))["token"]
        archive = found["properties"]["contentUrls"]["archiveBaseUrl"]
        _, segments = await self.indexed(video)
        start, end = (
            (segments[0].start_ms, segments[-1].start_ms + segments[-1].duration_ms) if segments else (0, 1)
        )
        bounds = f"starttime={iso(start)},endtime={iso(end)}"
        return f"{archive}/manifest(format=m3u8-cmaf,{bounds}).m3u8?token={token}"

    async def indexed(
        self, video: str
    ) -> tuple[dict[str, segment_index.StoredInit], list[segment_index.StoredSegment]]:
        video_id = await self.row_id("videos", video)
        async with self.cloud.services.sessions.begin() as session:
            segments = await segment_index.window(session, video_id, 0, 1 << 62)
            return await segment_index.inits(session, video_id), segments

    async def undecodable(self, video: str, workdir: Path) -> list[str]:
        """Every indexed segment of ``video`` that ffmpeg cannot decode after its init segment."""
        inits, segments = await self.indexed(video)
        container = archive_layout.container_name(await self.row_id("videos", video))
        failures = []
        for stored in segments:
            init = await self.cloud.services.blobs.get(container, inits[stored.config_hash].blob_name)
            media = await self.cloud.services.blobs.get(container, stored.blob_name)
            path = workdir / f"{video}-{stored.sequence}.mp4"
            path.write_bytes(init + media)
            decoded = await asyncio.to_thread(decode, path)
            if decoded.errors or not decoded.frames:
                failures.append(f"{stored.blob_name}: {decoded.errors or 'no frames'}")
        return failures


async def ok(request: Awaitable[httpx.Response]) -> Any:
    """The JSON of a request that must succeed (``None`` when it has no body)."""
    response = await request
    assert response.status_code < 300, (response.request.url, response.status_code, response.text)
    return response.json() if response.content else None


def iso(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def until(condition: Callable[[], bool], limit_s: float, what: str) -> None:
    for _ in range(int(limit_s * 10)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {limit_s:g} s: {what}")


@pytest.fixture
async def deployment(tmp_path: Path) -> AsyncIterator[Deployment]:
    listener = ListenerSettings(host="127.0.0.1", port=free_port())
    settings = CloudSettings(
        data_dir=tmp_path / "data",
        listeners=[listener],
        recording=RecordingSettings(segment_seconds=SEGMENT_S),
    )
    cloud = await build(settings)
    server = uvicorn_server(*cloud.listeners[0])
    serving = asyncio.create_task(server.serve())
    try:
        await cloud.start()
        await until(lambda: server.started, 10, "uvicorn serving")
        async with cloud.services.sessions.begin() as session:
            key = await create_key(session, cloud.services.clock, "resilience")
        headers = {"Authorization": f"Bearer {key}"}
        params = {"api-version": "2021-11-01-preview"}
        async with (
            httpx.AsyncClient(
                base_url=listener.base_url(), headers=headers, params=params, timeout=30
            ) as arm,
            httpx.AsyncClient(timeout=30) as streaming,
        ):
            await ok(arm.put(ACCOUNT, json=account_body()))
            await ok(arm.put(f"{ACCOUNT}/pipelineTopologies/{TOPOLOGY}", json=topology_body()))
            yield Deployment(cloud, arm, streaming)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        await cloud.close()


async def test_a_camera_killed_and_back_with_another_size_is_recorded_on_behind_a_new_init(
    deployment: Deployment, tmp_path: Path
) -> None:
    with CameraProcess(tmp_path) as camera:
        await asyncio.to_thread(camera.start, 320, 240)
        status = await deployment.activate("yard-camera", camera.url, "yard")
        await until(lambda: status.segments >= 2, 30, "two segments before the kill")
        camera.stop(kill=True)
        before = status.segments
        await asyncio.to_thread(camera.start, 480, 272)
        await until(lambda: status.segments >= before + 2, 30, "two segments after the restart")
        await deployment.deactivate("yard-camera")

    assert status.reconnects >= 1 and status.rejected_segments == 0
    inits, segments = await deployment.indexed("yard")
    assert sorted((init.width, init.height) for init in inits.values()) == [(320, 240), (480, 272)]
    playlist_url = await deployment.manifest_url("yard")
    playlist = (await deployment.streaming.get(playlist_url)).text
    played = hls_segments(playlist)
    assert len(played) == len(segments)
    assert playlist.count("#EXT-X-DISCONTINUITY\n") == 1
    assert len({segment.map_uri for segment in played}) == 2
    after = next(segment for segment in played if segment.discontinuity)
    assert inits[after.map_uri.split("/")[1].split(".")[0]].width == 480
    decoded = await asyncio.to_thread(decode, playlist_url)
    recorded_frames = sum(segment.duration_ms for segment in segments) * 30 / 1000
    assert decoded.errors == "" and abs(decoded.frames - recorded_frames) <= 15, (decoded, recorded_frames)
    assert await deployment.undecodable("yard", tmp_path) == []


async def test_a_camera_dribbling_one_byte_a_second_is_reported_and_nothing_is_indexed(
    deployment: Deployment,
) -> None:
    async with dribbling_camera() as url:
        status = await deployment.record(url, "dribble", seconds=5)

    assert status.segments == 0 and not status.connected
    assert status.last_error is not None and "did not open within 3 s" in status.last_error
    assert "127.0.0.1" not in status.last_error  # no URL in the diagnostic
    assert await deployment.indexed("dribble") == ({}, [])
    response = await deployment.streaming.get(await deployment.manifest_url("dribble"))
    assert response.status_code == 404 and response.json()["error"]["code"] == "NoMedia"


async def test_a_camera_sending_random_rtp_is_reported_and_no_undecodable_segment_is_indexed(
    deployment: Deployment, tmp_path: Path
) -> None:
    async with garbage_camera() as url:
        status = await deployment.record(url, "noise", seconds=8)

    assert status.rejected_segments >= 1, status
    assert status.last_error is not None, status
    assert status.segments == 0, status
    assert await deployment.undecodable("noise", tmp_path) == []
    inits, segments = await deployment.indexed("noise")
    assert (inits, segments) == ({}, [])


async def test_a_camera_over_the_pipeline_bitrate_is_disconnected(
    deployment: Deployment, tmp_path: Path
) -> None:
    with CameraProcess(tmp_path) as camera:
        await asyncio.to_thread(camera.start, 640, 360, 2000)
        status = await deployment.activate("busy-camera", camera.url, "busy", bitrate_kbps=500)
        await until(lambda: status.bitrate_disconnects >= 1, 30, "a bitrate disconnect")
        reason = status.last_error
        await deployment.deactivate("busy-camera")

    assert reason is not None and "over the allowed 500" in reason and "kbit/s" in reason
    rate = float(reason.split("sends ", 1)[1].split(" ", 1)[0])
    assert rate > 500 * 1.25
    assert await deployment.undecodable("busy", tmp_path) == []
