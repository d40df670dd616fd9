"""``AudioLane``: audio frames waiting for the video fragment they are recorded with.

The CMAF segmenter cuts at video keyframes; audio only follows. Each audio frame is placed on
the wall clock like video (``tfdt`` in the audio track's timescale, its sample rate, counted
from the Unix epoch) and waits here until the video GOP it falls in is written: a fragment
takes every waiting frame that starts before the GOP's end, so audio and video of one
fragment cover the same stretch of time. A segment's audio starts at its first keyframe, or,
when it follows the previous segment without a gap, where that segment's audio ended (at most
``MAX_CARRY_MS`` earlier): audio that arrives after the keyframe that closed its segment (a
transcoder's delay, network jitter) opens the next one, so the audio stays continuous.

Frames are dropped, and counted, when they cannot be placed: before that start (late, or no
segment open), further than ``max_ahead`` past the newest video (a stalled video track must
not buffer audio without bound), on a different wall-clock anchor epoch, or of a
configuration the open segment's init segment does not describe (it takes effect at the
next keyframe). Each frame lasts until the next one starts; the last frame of a run lasts
as long as the step seen between frames (1024 samples before any).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ova.media.codec import CodecParameters
from ova.media.fmp4 import AUDIO_TRACK_ID, Sample, TrackRun
from ova.media.packet import IngestPacket

AAC_FRAME_SAMPLES = 1024
MAX_CARRY_MS = 1000


@dataclass
class AudioStats:
    samples: int = 0
    """Frames written into segments."""
    dropped_early: int = 0
    """Before the open segment's start (or while no segment was open)."""
    dropped_late: int = 0
    """Too far past the video, on a redrawn clock, or of a configuration not yet announced."""


@dataclass(frozen=True, slots=True)
class _Frame:
    decode_time: int
    data: bytes


class AudioLane:
    """The audio waiting for video of one segmenter (not thread-safe)."""

    def __init__(self, video_timescale: int, max_ahead_ticks: int) -> None:
        self.stats = AudioStats()
        self.config: CodecParameters | None = None
        """The configuration the next segment records (the newest seen or expected)."""
        self.last_seen: int | None = None
        """Video ticks of the newest audio frame pushed, placed or not."""
        self._video_timescale = video_timescale
        self._max_ahead = max_ahead_ticks
        self._pending: deque[_Frame] = deque()
        self._step = AAC_FRAME_SAMPLES
        self._floor = 0
        self._written_until: int | None = None
        """End of the audio written so far, in video ticks (``None``: nothing to continue)."""

    def expect(self, config: CodecParameters | None) -> None:
        """The source announced ``config``: the next segment records it before any frame came."""
        self.config, self.last_seen = config, None

    def push(
        self, packet: IngestPacket, recording: CodecParameters | None, is_open: bool, newest: int
    ) -> None:
        """Queue ``packet`` for the open segment (``is_open``), which records ``recording``;
        ``newest`` is the last video sample's time (video ticks). Drops what cannot be placed."""
        self.config = packet.codec
        wall = packet.anchor.wall_time(packet.media_time)
        video_time = round(wall * self._video_timescale / 1000)
        self.last_seen = video_time
        if not is_open or video_time < self._floor:
            self.stats.dropped_early += 1
            return
        announced = recording is not None and recording.config_hash == packet.codec.config_hash
        if recording is None or not announced or video_time > newest + self._max_ahead:
            self.stats.dropped_late += 1
            return
        self._queue(_Frame(round(wall * recording.sample_rate / 1000), packet.data))

    def reached(self, at: int) -> bool:
        """Whether a frame starting at or after ``at`` (video ticks) was seen."""
        return self.last_seen is not None and self.last_seen >= at

    def recent(self, at: int, within: int) -> bool:
        """Whether the newest frame seen lies within ``within`` of ``at`` (video ticks): audio
        on another clock (far ahead or behind the video) is not recorded."""
        return self.last_seen is not None and abs(self.last_seen - at) <= within

    def _queue(self, frame: _Frame) -> None:
        if self._pending:
            step = frame.decode_time - self._pending[-1].decode_time
            if step <= 0:
                self.stats.dropped_late += 1
                return
            if step <= 4 * AAC_FRAME_SAMPLES:
                self._step = step
        self._pending.append(frame)

    def take(self, recording: CodecParameters | None, until: int) -> TrackRun | None:
        """The waiting frames that start before ``until`` (video ticks), as one track run."""
        if recording is None or not self._pending:
            return None
        limit = until * recording.sample_rate // self._video_timescale
        frames: list[_Frame] = []
        while self._pending and self._pending[0].decode_time < limit:
            frames.append(self._pending.popleft())
        if not frames:
            return None
        ends = [frame.decode_time for frame in frames[1:]]
        ends.append(self._pending[0].decode_time if self._pending else frames[-1].decode_time + self._step)
        samples = [
            Sample((frame.data,), len(frame.data), end - frame.decode_time, 0, True)
            for frame, end in zip(frames, ends, strict=True)
        ]
        self.stats.samples += len(samples)
        self._written_until = ends[-1] * self._video_timescale // recording.sample_rate
        return TrackRun(AUDIO_TRACK_ID, frames[0].decode_time, samples)

    def restart(self, recording: CodecParameters | None, start: int, continuous: bool) -> None:
        """A segment recording ``recording`` opens at ``start`` (video ticks), right after the
        previous one with the same audio when ``continuous``; frames waiting from before the
        segment's audio start are dropped, and all of them when the audio is not continued."""
        if recording is None or not continuous or self._written_until is None:
            self._written_until = None
            self._floor = start
            self.stats.dropped_early += len(self._pending)
            self._pending.clear()
            return
        carry = self._video_timescale * MAX_CARRY_MS // 1000
        self._floor = max(min(start, self._written_until), start - carry)
        limit = self._floor * recording.sample_rate // self._video_timescale
        while self._pending and self._pending[0].decode_time < limit:
            self._pending.popleft()
            self.stats.dropped_early += 1
