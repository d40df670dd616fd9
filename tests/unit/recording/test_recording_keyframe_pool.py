"""KeyframePool: the segment check runs in limited child processes, and what goes wrong there stays there.

The hostile cases are test-only job functions run in the same children: a check that hangs,
one that crashes, one that allocates past the memory limit and one that spins past the CPU
limit. Each must fail only its own segment; the next check gets a fresh child.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from test_recording_recorder import ONE_SESSION, ListSink, segments_of

from ova.media.cmaf import InitSegment, MediaSegment
from ova.recording.keyframe_pool import DecodeLimits, KeyframePool
from ova.recording.recorder import Recorder, RecorderSettings
from ova.recording.segment_check import KeyframeVerdict, check_keyframe

FAST = DecodeLimits(memory_mib=512, cpu_seconds=5, timeout_s=1.5)


def hang(init: InitSegment, segment: MediaSegment, previews: bool) -> KeyframeVerdict:
    time.sleep(3600)
    raise AssertionError("unreachable")


def crash(init: InitSegment, segment: MediaSegment, previews: bool) -> KeyframeVerdict:
    os.abort()


def hog_memory(init: InitSegment, segment: MediaSegment, previews: bool) -> KeyframeVerdict:
    return KeyframeVerdict(defect=f"allocated {len(bytearray(4 * 1024**3))} bytes")


def spin(init: InitSegment, segment: MediaSegment, previews: bool) -> KeyframeVerdict:
    while True:
        pass


def hostile_on_odd_sequences(init: InitSegment, segment: MediaSegment, previews: bool) -> KeyframeVerdict:
    """The real check, except that the decoder 'crashes' on every odd segment."""
    if segment.sequence % 2:
        os.abort()
    return check_keyframe(init, segment, previews)


def rss_kib() -> int:
    line = next(
        line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmRSS")
    )
    return int(line.split()[1])


@pytest.fixture
async def good(camera_file: Path) -> tuple[InitSegment, list[MediaSegment]]:
    inits, segments = await segments_of(camera_file)
    return next(iter(inits.values())), segments


async def test_a_child_gives_the_verdict_the_check_gives_in_process(
    good: tuple[InitSegment, list[MediaSegment]], noise_file: Path
) -> None:
    init, segments = good
    _, noisy = await segments_of(noise_file)
    pool = KeyframePool(FAST)
    try:
        verdict = await pool.check(init, segments[0], previews=True)
        rejected = await pool.check(init, noisy[0], previews=True)
    finally:
        await pool.close()

    assert verdict.defect is None and verdict.checked and not verdict.check_failed
    assert {image.name for image in verdict.images} == {"small", "medium", "large"}
    assert verdict.images == check_keyframe(init, segments[0], True).images
    assert rejected.defect is not None and "keyframe" in rejected.defect and not rejected.check_failed


@pytest.mark.parametrize(
    ("job", "defect"),
    [
        (hang, "took longer than 1.5 s"),
        (crash, "crashed"),
        (hog_memory, "ran out of memory"),
        (spin, "crashed"),  # RLIMIT_CPU: SIGXCPU ends the child before the wall-clock timeout
    ],
    ids=["hang", "crash", "memory-limit", "cpu-limit"],
)
async def test_a_check_that_fails_fails_only_its_segment_and_the_child_is_replaced(
    good: tuple[InitSegment, list[MediaSegment]], job: object, defect: str
) -> None:
    init, segments = good
    limits = DecodeLimits(memory_mib=512, cpu_seconds=1, timeout_s=30) if job is spin else FAST
    pool = KeyframePool(limits, job=job)  # type: ignore[arg-type]
    before = rss_kib()
    try:
        started = time.monotonic()
        failed = await pool.check(init, segments[0], previews=False)
        second = await pool.check(init, segments[1], previews=False)
    finally:
        await pool.close()

    assert failed.check_failed and failed.defect is not None and defect in failed.defect
    assert time.monotonic() - started < 20
    assert second.check_failed  # a fresh child ran the second check (and failed it the same way)
    assert rss_kib() - before < 32 * 1024  # the allocation happened elsewhere


async def test_a_full_queue_skips_the_check_instead_of_waiting(
    good: tuple[InitSegment, list[MediaSegment]],
) -> None:
    init, segments = good
    pool = KeyframePool(DecodeLimits(workers=1, queue_size=1, timeout_s=1.5), job=hang)
    try:
        running = asyncio.create_task(pool.check(init, segments[0], False))
        await asyncio.sleep(0.05)
        waiting = asyncio.create_task(pool.check(init, segments[1], False))
        await asyncio.sleep(0.05)
        skipped = await pool.check(init, segments[2], False)
        assert not skipped.checked and skipped.defect is None and pool.skipped == 1
        assert (await running).check_failed and (await waiting).check_failed
    finally:
        await pool.close()


async def test_the_recorder_keeps_recording_when_the_check_crashes(camera_file: Path) -> None:
    sink = ListSink()
    pool = KeyframePool(FAST, job=hostile_on_odd_sequences)
    recorder = Recorder(
        str(camera_file), sink, RecorderSettings(segment_ms=1000, ingest=ONE_SESSION), keyframes=pool
    )
    stop = asyncio.Event()
    try:
        task = asyncio.create_task(recorder.run(stop))
        for _ in range(3000):  # up to 60 s for the file to end, which ends its session
            if recorder.status.reconnects:
                break
            await asyncio.sleep(0.02)
        stop.set()
        status = await task
    finally:
        await pool.close()

    assert [segment.sequence for segment in sink.segments] == [0, 2]
    assert sink.segments[1].gap_before  # the dropped segment left a hole, and says so
    assert (status.segments, status.rejected_segments, status.check_failures) == (2, 1, 1)
    assert status.previews == 2 and len([call for call in sink.calls if isinstance(call, list)]) == 2
