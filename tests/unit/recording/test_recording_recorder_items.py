"""Recorder fed by a graph (``items``) instead of its camera: ``Pause`` stores at once, a resumed
stream starts a segment with ``gap_before``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from dataclasses import replace
from pathlib import Path

from test_recording_recorder import ONE_SESSION, ListSink

from ova.media.packet import IngestPacket
from ova.media.rtsp_ingest import RtspIngest
from ova.recording.recorder import Pause, Recorder, RecorderSettings


async def packets_of(source: Path) -> list[IngestPacket]:
    found: list[IngestPacket] = []
    async with contextlib.aclosing(RtspIngest(str(source), ONE_SESSION).session()) as items:
        async for item in items:
            if isinstance(item, IngestPacket):
                found.append(item)
    return found


async def test_a_pause_stores_what_is_buffered_and_the_resumed_stream_shows_a_gap(camera_file: Path) -> None:
    packets = await packets_of(camera_file)  # 3 s, a keyframe every second
    first, second = packets[:45], packets[60:]
    assert second[0].is_keyframe
    sink = ListSink()
    stored_at_pause: list[int] = []
    done = asyncio.Event()

    async def items() -> AsyncGenerator[object, None]:
        for packet in first:
            yield packet
        yield Pause("the signal gate closed")
        stored_at_pause.append(len(sink.segments))
        yield replace(second[0], discontinuity=True)
        for packet in second[1:]:
            yield packet
        done.set()
        await asyncio.Event().wait()  # a graph's feed waits for more

    recorder = Recorder("rtsp://never-opened/", sink, RecorderSettings(segment_ms=1000), items=items)
    stop = asyncio.Event()
    task = asyncio.create_task(recorder.run(stop))
    async with asyncio.timeout(30):
        await done.wait()
        stop.set()
        status = await task
    assert stored_at_pause == [2], "the two GOPs before the pause were stored when it came"
    segments = sink.segments
    assert [segment.gap_before for segment in segments] == [False, False, True]
    assert status.reconnects == 0 and status.segments == 3
