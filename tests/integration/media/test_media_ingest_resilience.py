"""Sources that end, stall, lie or vanish: sessions end with a clear reason and no broken segment."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from media_recording import FILE_SOURCE, decode_errors, decoded_frames, joined, record

from ova.media.cmaf import CmafSegmenter, SegmenterSettings
from ova.media.demuxer import IngestItem
from ova.media.ingest_events import Connected, Disconnected
from ova.media.ingest_settings import IngestSettings
from ova.media.packet import IngestPacket
from ova.media.rtsp_ingest import RtspIngest
from ova.media.synthetic import StreamSpec, write_stream


@pytest.fixture(scope="module")
def stream(streams_dir: Path) -> Path:
    """Four seconds of 320x240 H.264, one IDR per second."""
    return write_stream(streams_dir / "resilience.ts", StreamSpec(frames=120, gop=30))


def truncated_copy(source: Path, target: Path, fraction: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction) + 77])  # + 77: not on a TS packet boundary
    return target


async def test_a_source_cut_mid_packet_ends_the_session_and_every_segment_still_decodes(
    stream: Path, tmp_path: Path
) -> None:
    cut = truncated_copy(stream, tmp_path / "cut.ts", 0.6)
    # as for a camera: the last unit may be cut short
    live = IngestSettings(max_drift_ms=None, local_file=True)
    recording = await record(str(cut), live, SegmenterSettings(target_duration_ms=1000))
    assert recording.ingest.stats.dropped_at_session_end == 1
    assert isinstance(recording.events[-1], Disconnected)
    assert recording.events[-1].reason == "end of stream"
    assert 2 <= len(recording.segments) <= 3
    for segment in recording.segments:
        path = joined(tmp_path, recording, segment)
        assert decode_errors(path) == ""
        assert decoded_frames(path) == segment.sample_count


async def test_garbage_bytes_end_the_session_with_an_error_and_no_packets(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.ts"
    garbage.write_bytes(random.Random(7).randbytes(300_000))
    for settings in (FILE_SOURCE, IngestSettings(format="mpegts", max_drift_ms=None, local_file=True)):
        recording = await record(str(garbage), settings)
        assert recording.packets == [] and recording.segments == []
        last = recording.events[-1]
        assert isinstance(last, Disconnected)
        assert last.reason != "end of stream" and str(tmp_path) not in last.reason


@contextlib.asynccontextmanager
async def rtsp_impostor(reply: bytes | None) -> AsyncIterator[str]:
    """A loopback TCP server on an RTSP URL that sends ``reply`` (or nothing) and holds on."""
    writers: list[asyncio.StreamWriter] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read(1)
        if reply is not None:
            writer.write(reply)
            await writer.drain()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"rtsp://admin:secret@127.0.0.1:{port}/stream"
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (random.Random(3).randbytes(4000), "did not open within 1 s"),
        (None, "did not open within 1 s"),
        (b"RTSP/1.0 404 Not Found\r\nCSeq: 1\r\n\r\n", "answered OPTIONS with status 404"),
    ],
    ids=["garbage", "silent", "not-found"],
)
async def test_an_rtsp_server_that_is_not_a_camera_gives_a_clean_reason(
    reply: bytes | None, expected: str
) -> None:
    async with rtsp_impostor(reply) as url:
        recording = await record(url, IngestSettings(open_timeout_s=1, read_timeout_s=1))
    assert recording.packets == []
    last = recording.events[-1]
    assert isinstance(last, Disconnected) and expected in last.reason
    assert "secret" not in last.reason


async def test_a_source_that_stalls_ends_on_the_read_timeout_and_keeps_what_it_recorded(
    stream: Path, tmp_path: Path
) -> None:
    fifo = tmp_path / "stalling.ts"
    os.mkfifo(fifo)
    release = threading.Event()

    def camera_that_hangs() -> None:
        descriptor = os.open(fifo, os.O_WRONLY)
        os.write(descriptor, stream.read_bytes()[: stream.stat().st_size // 2])
        release.wait(30)
        os.close(descriptor)

    writer = threading.Thread(target=camera_that_hangs)
    writer.start()
    settings = IngestSettings(
        read_timeout_s=1,
        format="mpegts",
        options={"probesize": "32768", "analyzeduration": "0"},
        local_file=True,
    )
    ingest, segmenter = (
        RtspIngest(str(fifo), settings),
        CmafSegmenter(SegmenterSettings(target_duration_ms=0)),
    )
    reason, produced = None, []
    async with contextlib.aclosing(ingest.session()) as items:
        async for item in items:
            if isinstance(item, IngestPacket):
                produced += segmenter.push(item)
            elif isinstance(item, Disconnected):
                reason = item.reason
                release.set()
    writer.join(5)
    produced += segmenter.flush()
    assert reason == "no packet for 1 s"
    assert 50 <= ingest.stats.packets < 70
    assert (
        sum(item.sample_count for item in produced if hasattr(item, "sample_count")) == ingest.stats.packets
    )


async def test_run_reconnects_and_the_new_session_starts_a_new_timeline(stream: Path) -> None:
    async def no_wait(_: float) -> None:
        return None

    ingest = RtspIngest(str(stream), FILE_SOURCE, sleep=no_wait)
    segmenter = CmafSegmenter(SegmenterSettings(target_duration_ms=2000))
    items: list[IngestItem] = []
    async with contextlib.aclosing(ingest.run()) as stream_items:
        async for item in stream_items:
            items.append(item)
            if isinstance(item, IngestPacket):
                segmenter.push(item)
            if sum(isinstance(i, Connected) for i in items) == 2 and isinstance(item, IngestPacket):
                break
    disconnects = [item for item in items if isinstance(item, Disconnected)]
    assert [(d.reason, d.retry_in_s is not None) for d in disconnects] == [("end of stream", True)]
    resumed = items[-1]
    assert isinstance(resumed, IngestPacket)
    assert resumed.discontinuity and resumed.anchor.epoch == 1
    assert (ingest.stats.sessions, ingest.stats.reconnects) == (2, 1)
    segments = segmenter.flush()
    assert [getattr(s, "gap_before", None) for s in segments][-1] is True
