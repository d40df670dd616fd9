"""``TrackSync``: puts the audio track's RTP clock on the video track's media clock.

Each RTP stream starts its timestamps at a random value (RFC 3550 §5.1), so an audio timestamp
says nothing about the video until the two are related. In order of preference:

1. ``RTP-Info`` of the PLAY response (RFC 2326 §12.33): each track's ``rtptime`` at the same
   instant, the start of playback.
2. RTCP sender reports of both tracks: each pairs an RTP time with the camera's wall clock.
3. Arrival: the first audio packet is placed at the newest video time (off by the camera's
   audio/video interleaving, tens of milliseconds).

The relation is drawn once per session, when the first audio packet arrives, from the best
source known then; an arrival guess is replaced once by sender reports if they come later.
The result is ``shift``, added to an extended audio timestamp to give audio units on the video
clock (so ``(timestamp + shift) / audio_rate`` is a video media time in seconds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

TrackClock = Callable[[int], int]
"""A raw 32-bit RTP timestamp on its track's extended timeline (``TimestampUnwrapper.peek``)."""


@dataclass(frozen=True)
class ClockPair:
    """An RTP time and the wall-clock milliseconds it was sampled at (a sender report)."""

    rtp_timestamp: int
    unix_ms: int


class TrackSync:
    def __init__(
        self,
        rates: tuple[int, int],
        clocks: tuple[TrackClock, TrackClock],
        rtptimes: tuple[int | None, int | None] = (None, None),
    ) -> None:
        """``rates``, ``clocks`` and ``rtptimes`` are each ``(video, audio)``."""
        (self._video_rate, self._audio_rate), (self._video_clock, self._audio_clock) = rates, clocks
        self._video_rtptime, self._audio_rtptime = rtptimes
        self._video_report: ClockPair | None = None
        self._audio_report: ClockPair | None = None
        self._shift: int | None = None
        self._guessed = False

    @property
    def source(self) -> str:
        """How the relation was drawn: ``rtp-info``, ``sender-reports``, ``arrival`` or ``none``."""
        if self._shift is None:
            return "none"
        if self._guessed:
            return "arrival"
        return "rtp-info" if self._has_rtp_info else "sender-reports"

    @property
    def _has_rtp_info(self) -> bool:
        return self._video_rtptime is not None and self._audio_rtptime is not None

    def video_report(self, rtp_timestamp: int, unix_ms: int) -> None:
        self._video_report = ClockPair(rtp_timestamp, unix_ms)
        self._refine()

    def audio_report(self, rtp_timestamp: int, unix_ms: int) -> None:
        self._audio_report = ClockPair(rtp_timestamp, unix_ms)
        self._refine()

    def shift(self, extended_audio: int, newest_video: int) -> int:
        """The session's shift, drawn at the first audio packet (``extended_audio``).

        ``newest_video`` is the newest video timestamp (extended), for the arrival guess.
        """
        if self._shift is None:
            self._shift = self._from_rtp_info()
            if self._shift is None:
                self._shift = self._from_reports()
            if self._shift is None:
                self._guessed = True
                self._shift = self._to_audio_units(newest_video) - extended_audio
        return self._shift

    def _from_rtp_info(self) -> int | None:
        if self._video_rtptime is None or self._audio_rtptime is None:
            return None
        video_start = self._video_clock(self._video_rtptime)
        return self._to_audio_units(video_start) - self._audio_clock(self._audio_rtptime)

    def _from_reports(self) -> int | None:
        video, audio = self._video_report, self._audio_report
        if video is None or audio is None:
            return None
        video_time = Fraction(self._video_clock(video.rtp_timestamp), self._video_rate)
        at_audio_report = video_time + Fraction(audio.unix_ms - video.unix_ms, 1000)
        return round(at_audio_report * self._audio_rate) - self._audio_clock(audio.rtp_timestamp)

    def _refine(self) -> None:
        if self._guessed:
            better = self._from_reports()
            if better is not None:
                self._shift, self._guessed = better, False

    def _to_audio_units(self, video_timestamp: int) -> int:
        return round(Fraction(video_timestamp * self._audio_rate, self._video_rate))
