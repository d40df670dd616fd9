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

Media mapped to the wall clock never runs ahead of the time it is read at: a sample whose
mapped time is later than now by more than ``max_ahead_ms`` redraws the anchor (counted as
``Placement.ahead``). Without that check an anchor drawn late (the first packets delayed by
probing or a loaded process, then the backlog read fast) put every later sample in the future:
the 1.4-1.6x timelines of the density benchmark. Where the camera sends RTCP sender reports,
``refer`` gives the mapper the camera's own clock for a media time, and a new anchor uses it
when it lies within ``jump_ms`` before now (never after).
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
    ahead: bool = False
    """Whether it was redrawn because the mapped time had run ahead of the wall clock."""


class WallClockMapper:
    """Places samples of several streams of one source on the wall clock (not thread-safe)."""

    def __init__(
        self,
        now_ms: Callable[[], int] = system_time_ms,
        *,
        jump_ms: int = 5_000,
        max_drift_ms: int | None = 30_000,
        max_ahead_ms: int | None = None,
    ) -> None:
        self._now_ms = now_ms
        self._jump = Fraction(jump_ms, 1000)
        self._max_drift_ms = max_drift_ms
        self._max_ahead_ms = max_ahead_ms
        self._reference: tuple[Fraction, int] | None = None
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
            self._anchor = ClockAnchor(self._wall_for(media_time), media_time)
            return Placement(self._anchor, None)
        ahead = self._ahead_reason(media_time)
        reason = (
            self._restart_reason
            or self._jump_reason(previous, media_time)
            or self._drift_reason(media_time)
            or ahead
        )
        self._restart_reason = None
        if reason is not None:
            self._anchor = ClockAnchor(self._wall_for(media_time), media_time, self._anchor.epoch + 1)
            self._previous = {stream: media_time}
        return Placement(self._anchor, reason, reason is not None and reason == ahead)

    def refer(self, media_time: Fraction, camera_ms: int) -> None:
        """The camera's wall clock at ``media_time`` of the primary stream (an RTCP sender report)."""
        self._reference = (media_time, camera_ms)

    def _wall_for(self, media_time: Fraction) -> int:
        """Where a new anchor puts ``media_time``: the camera's clock when plausible, else now."""
        now = self._now_ms()
        if self._reference is None:
            return now
        reference_time, reference_ms = self._reference
        camera = reference_ms + (media_time - reference_time) * 1000
        return int(camera) if now - self._jump * 1000 <= camera <= now else now

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
        self._reference = None
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

    def _ahead_reason(self, media_time: Fraction) -> str | None:
        if self._max_ahead_ms is None or self._anchor is None:
            return None
        ahead = self._anchor.wall_time(media_time) - self._now_ms()
        if ahead > self._max_ahead_ms:
            return f"media time ran {float(ahead):.0f} ms ahead of the wall clock"
        return None
