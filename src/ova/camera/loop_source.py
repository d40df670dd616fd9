"""The pre-encoded loop source, for density benchmarks: encode once, replay forever.

``record_loop`` encodes ``seconds`` of the stream once (in a thread) with stamps spaced
exactly one frame apart; every mount with the same ``LoopKey`` shares that recording through
the ``LoopLibrary``. ``LoopSource`` replays it in real time on the event loop, with RTP
timestamps that keep increasing from one pass to the next, so a client sees one endless
stream (whose picture, stamp included, repeats every pass). Each pass starts on an IDR frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from dataclasses import dataclass, replace

from ova.camera.audio import AudioFormat, ToneEncoder, audio_track, audio_unit
from ova.camera.encoder import H264Encoder, VideoFormat
from ova.camera.mount import Mount
from ova.camera.rtp import frame_timestamp
from ova.camera.stream import AUDIO_TRACK, VIDEO_TRACK, MediaUnit, Track, video_track, video_unit

MAX_LATENESS_SECONDS = 1.0


class RecordingCancelled(Exception):
    """The server closed while a loop was being encoded."""


@dataclass(frozen=True)
class LoopKey:
    """Everything a recording depends on."""

    video: VideoFormat
    seconds: float
    mtu: int
    audio: AudioFormat | None = None

    @property
    def frame_count(self) -> int:
        return max(1, round(self.seconds * self.video.fps))


@dataclass(frozen=True)
class Recording:
    """One pass of a loop: units with their offsets (seconds) from the start of the pass."""

    tracks: tuple[Track, ...]
    units: tuple[tuple[float, MediaUnit], ...]
    period: float
    period_ticks: dict[int, int]


def record_loop(key: LoopKey, cancel: threading.Event) -> Recording:
    """Encode one pass of ``key``'s stream."""
    video, frames = key.video, key.frame_count
    encoder = H264Encoder(video)
    base_ms = time.time_ns() // 1_000_000
    units: list[tuple[float, MediaUnit]] = []
    for index in range(frames):
        if cancel.is_set():
            raise RecordingCancelled
        encoded = encoder.encode(index, base_ms + index * 1000 // video.fps)
        if encoded is not None:
            units.append((index / video.fps, video_unit(encoded, video.fps, key.mtu)))
    assert encoder.parameter_sets is not None
    tracks = [video_track(video, encoder.parameter_sets)]
    ticks = {VIDEO_TRACK: frame_timestamp(frames, video.fps)}
    if key.audio is not None:
        tone = ToneEncoder(key.audio)
        ticks[AUDIO_TRACK] = frames * tone.sample_rate // video.fps
        for aac in tone.encode_until(ticks[AUDIO_TRACK] - tone.frame_samples + 1):
            units.append((aac.timestamp / tone.sample_rate, audio_unit(aac, base_ms, tone.codec)))
        tracks.append(audio_track(tone))
    units.sort(key=lambda pair: pair[0])
    return Recording(tuple(tracks), tuple(units), frames / video.fps, ticks)


class LoopLibrary:
    """Recordings shared by every mount of the same ``LoopKey``, each encoded once."""

    def __init__(self) -> None:
        self._recordings: dict[LoopKey, asyncio.Task[Recording]] = {}
        self._cancel = threading.Event()

    async def get(self, key: LoopKey) -> Recording:
        task = self._recordings.get(key)
        if task is None:
            task = asyncio.create_task(asyncio.to_thread(record_loop, key, self._cancel))
            self._recordings[key] = task
        return await asyncio.shield(task)

    async def close(self) -> None:
        self._cancel.set()
        for task in self._recordings.values():
            with contextlib.suppress(RecordingCancelled, asyncio.CancelledError):
                await task


class LoopSource:
    """Feeds one mount by replaying a shared recording in real time."""

    def __init__(self, library: LoopLibrary, key: LoopKey) -> None:
        self.library = library
        self.key = key
        self._task: asyncio.Task[None] | None = None

    async def start(self, mount: Mount) -> None:
        self._task = asyncio.create_task(self._run(mount), name=f"ova-camera-loop-{mount.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, RecordingCancelled):
                await self._task

    async def _run(self, mount: Mount) -> None:
        recording = await self.library.get(self.key)
        mount.open(recording.tracks)
        loop = asyncio.get_running_loop()
        start = loop.time()
        for cycle in itertools.count():
            for offset, unit in recording.units:
                delay = start + cycle * recording.period + offset - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -MAX_LATENESS_SECONDS:
                    start -= delay
                timestamp = unit.timestamp + cycle * recording.period_ticks[unit.track]
                mount.publish(replace(unit, timestamp=timestamp, stamp_ms=time.time_ns() // 1_000_000))
