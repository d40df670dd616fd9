"""The live source: draws and encodes each frame in real time, in a thread, paced by the clock.

Frame ``n`` is due ``n / fps`` seconds after the start and carries the wall-clock time it was
drawn at as its stamp. When the encoder falls more than two frames behind it skips ahead (the
RTP timestamps jump with it), so the stream never drifts from real time. Units reach the
event loop through a bounded queue; when the loop is slow the encoder thread waits instead of
queueing without bound.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time

from ova.camera.audio import AudioFormat, ToneEncoder, audio_track, audio_unit
from ova.camera.encoder import EncodedFrame, H264Encoder, VideoFormat
from ova.camera.mount import Mount
from ova.camera.stream import MediaUnit, Track, video_track, video_unit

log = logging.getLogger(__name__)
QUEUE_SIZE = 8
MAX_LAG_FRAMES = 2

Item = MediaUnit | tuple[Track, ...]


class LiveSource:
    """Feeds one mount from its own encoder thread."""

    def __init__(self, video: VideoFormat, mtu: int, audio: AudioFormat | None = None) -> None:
        self.video = video
        self.mtu = mtu
        self.audio = audio
        self._queue: queue.Queue[Item] = queue.Queue(QUEUE_SIZE)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    async def start(self, mount: Mount) -> None:
        loop = asyncio.get_running_loop()
        self._thread = threading.Thread(
            target=self._run, args=(loop, mount), name=f"ova-camera-{mount.name}", daemon=True
        )
        self._thread.start()

    async def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)

    def _run(self, loop: asyncio.AbstractEventLoop, mount: Mount) -> None:
        try:
            self._encode_until_stopped(loop, mount)
        except Exception:
            log.exception("camera mount %s: encoder failed", mount.name)

    def _encode_until_stopped(self, loop: asyncio.AbstractEventLoop, mount: Mount) -> None:
        encoder = H264Encoder(self.video)
        tone = ToneEncoder(self.audio) if self.audio is not None else None
        fps, start, index, opened = self.video.fps, time.monotonic(), 0, False
        while not self._stop.is_set():
            late = time.monotonic() - (start + index / fps)
            if late < 0 and self._stop.wait(-late):
                return
            if late > MAX_LAG_FRAMES / fps:
                index = int((time.monotonic() - start) * fps)
            frame = encoder.encode(index, time.time_ns() // 1_000_000)
            index += 1
            if frame is None:
                continue
            if not opened:
                opened = self._hand_over(loop, mount, self._tracks(encoder, tone))
            units = [video_unit(frame, fps, self.mtu), *self._audio_units(tone, frame)]
            if not all(self._hand_over(loop, mount, unit) for unit in units):
                return

    def _tracks(self, encoder: H264Encoder, tone: ToneEncoder | None) -> tuple[Track, ...]:
        assert encoder.parameter_sets is not None
        video = video_track(self.video, encoder.parameter_sets)
        return (video,) if tone is None else (video, audio_track(tone))

    def _audio_units(self, tone: ToneEncoder | None, frame: EncodedFrame) -> list[MediaUnit]:
        """The audio frames that cover the stream up to the end of ``frame``."""
        if tone is None:
            return []
        until = (frame.index + 1) * tone.sample_rate // self.video.fps
        return [audio_unit(aac, frame.stamp_ms, tone.codec) for aac in tone.encode_until(until)]

    def _hand_over(self, loop: asyncio.AbstractEventLoop, mount: Mount, item: Item) -> bool:
        """Queue ``item`` for the event loop; ``False`` once stopped or the loop is gone."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
            except queue.Full:
                continue
            try:
                loop.call_soon_threadsafe(self._drain, mount)
            except RuntimeError:
                return False
            return True
        return False

    def _drain(self, mount: Mount) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, tuple):
                mount.open(item)
            else:
                mount.publish(item)
