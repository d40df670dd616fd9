"""The archive as players see it: segments on the wall clock, grouped into continuous runs.

A run ends where a gap was recorded or the codec configuration changes; HLS marks the
boundary with ``EXT-X-DISCONTINUITY`` (and a new ``EXT-X-MAP``), DASH starts a new Period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TimelineSegment:
    """A segment starting at ``start_ms`` (UTC epoch ms, which is also its ``tfdt`` in ms)."""

    uri: str
    start_ms: int
    duration_ms: int
    config_hash: str
    gap_before: bool = False
    # Stable per video (kept in the segment index): the HLS media sequence number, the count of
    # run boundaries before the segment (HLS discontinuity sequence, DASH Period id) and the
    # start of its run (a DASH Period's start, wherever the window cuts the run).
    ordinal: int = 0
    discontinuity: int = 0
    run_start_ms: int | None = None

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.duration_ms


@dataclass(frozen=True)
class Track:
    """What a codec configuration looks like to a player."""

    init_uri: str
    codec: str
    width: int
    height: int
    bandwidth: int = 0


@dataclass
class Run:
    """Segments that play back to back with one configuration."""

    track: Track
    config_hash: str
    segments: list[TimelineSegment] = field(default_factory=list)

    @property
    def start_ms(self) -> int:
        return self.segments[0].start_ms

    @property
    def end_ms(self) -> int:
        return self.segments[-1].end_ms


# A boundary shorter than this between two segments is jitter, not a gap.
GAP_TOLERANCE_MS = 500


def runs(segments: Sequence[TimelineSegment], tracks: dict[str, Track]) -> list[Run]:
    """Split time-ordered segments wherever a gap or a configuration change lies between them."""
    result: list[Run] = []
    for segment in segments:
        current = result[-1] if result else None
        if current is None or starts_new_run(current.segments[-1], segment):
            current = Run(track=tracks[segment.config_hash], config_hash=segment.config_hash)
            result.append(current)
        current.segments.append(segment)
    return result


def starts_new_run(previous: TimelineSegment, segment: TimelineSegment) -> bool:
    return is_boundary(
        previous.end_ms, previous.config_hash, segment.start_ms, segment.config_hash, segment.gap_before
    )


def is_boundary(
    previous_end_ms: int, previous_config: str, start_ms: int, config: str, gap_before: bool
) -> bool:
    """Whether a segment starting at ``start_ms`` begins a new run after one ending at ``previous_end_ms``."""
    return gap_before or config != previous_config or abs(start_ms - previous_end_ms) > GAP_TOLERANCE_MS
