"""Anchoring media timestamps to the wall clock.

A source's timestamps count from an arbitrary origin. The first timestamped sample is
*anchored*: its media time is paired with the wall clock at the moment it was read. Every
later sample's wall time is the anchor's wall time plus its media-time offset, so a
recording's timeline follows the camera's own clock, sample for sample.

The mapping is redrawn (a *re-anchor*, reported as a discontinuity) when the timestamps
jump, backwards or forwards by more than ``jump_ms`` between consecutive samples of one
stream, or when the mapped time drifts further than ``max_drift_ms`` from the wall clock.
A re-anchor is never smoothed over: whoever writes the timeline marks a gap there. Only the
primary stream (video) draws anchors; a secondary stream (audio) ``follow``s the current one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction


def system_time_ms() -> int:
    """Milliseconds since the Unix epoch (UTC), from the system clock."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class ClockAnchor:
    """Pairs a media time with the wall-clock time (UTC epoch ms) it was observed at."""

    wall_ms: int
    media_time: Fraction
    """Seconds on the source's media clock."""
    epoch: int = 0
    """Counts re-anchors: samples with different epochs are not on one continuous timeline."""

    def wall_time(self, media_time: Fraction) -> Fraction:
        """The wall-clock time of ``media_time``, in (fractional) epoch milliseconds."""
        return self.wall_ms + (media_time - self.media_time) * 1000

    def wall_time_ms(self, media_time: Fraction) -> int:
        return int(self.wall_time(media_time))


@dataclass(frozen=True)
class Placement:
    anchor: ClockAnchor
    reanchored: str | None
    """Why the anchor was redrawn for this sample; ``None`` when the timeline continues."""


class WallClockMapper:
    """Places samples of several streams of one source on the wall clock (not thread-safe)."""

    def __init__(
        self,
        now_ms: Callable[[], int] = system_time_ms,
        *,
        jump_ms: int = 5_000,
        max_drift_ms: int | None = 30_000,
    ) -> None:
        self._now_ms = now_ms
        self._jump = Fraction(jump_ms, 1000)
        self._max_drift_ms = max_drift_ms
        self._anchor: ClockAnchor | None = None
        self._previous: dict[str, Fraction] = {}
        self._restart_reason: str | None = None

    @property
    def anchor(self) -> ClockAnchor | None:
        return self._anchor

    def place(self, stream: str, media_time: Fraction) -> Placement:
        """The anchor for a sample of ``stream`` at ``media_time`` (seconds, decode order)."""
        previous = self._previous.get(stream)
        self._previous[stream] = media_time
        if self._anchor is None:
            self._anchor = ClockAnchor(self._now_ms(), media_time)
            return Placement(self._anchor, None)
        reason = (
            self._restart_reason or self._jump_reason(previous, media_time) or self._drift_reason(media_time)
        )
        self._restart_reason = None
        if reason is not None:
            self._anchor = ClockAnchor(self._now_ms(), media_time, self._anchor.epoch + 1)
            self._previous = {stream: media_time}
        return Placement(self._anchor, reason)

    def follow(self, stream: str, media_time: Fraction) -> Placement:
        """Places a secondary stream (audio) on the current anchor without ever redrawing it.

        ``reanchored`` reports a jump in that stream's own timestamps, so its sample can be
        flagged; the anchor is the primary stream's to draw. Call ``place`` first.
        """
        if self._anchor is None:
            raise RuntimeError("no anchor yet: place a sample of the primary stream first")
        previous = self._previous.get(stream)
        self._previous[stream] = media_time
        return Placement(self._anchor, self._jump_reason(previous, media_time))

    def restart(self, reason: str = "the source was reconnected") -> None:
        """Forgets the media clock: the next sample draws a new anchor (a new session)."""
        self._previous = {}
        if self._anchor is not None:
            self._restart_reason = reason

    def _jump_reason(self, previous: Fraction | None, media_time: Fraction) -> str | None:
        if previous is None:
            return None
        step = media_time - previous
        if step < 0:
            return f"timestamps went back by {float(-step * 1000):.0f} ms"
        if step > self._jump:
            return f"timestamps jumped forward by {float(step * 1000):.0f} ms"
        return None

    def _drift_reason(self, media_time: Fraction) -> str | None:
        if self._max_drift_ms is None or self._anchor is None:
            return None
        drift = self._anchor.wall_time(media_time) - self._now_ms()
        if abs(drift) > self._max_drift_ms:
            return f"the source clock drifted {float(drift):.0f} ms from the wall clock"
        return None
