"""HLS media playlists (RFC 8216, version 7, fMP4/CMAF segments).

Every segment carries ``EXT-X-PROGRAM-DATE-TIME`` so players show wall-clock time; every
run of the timeline after the first starts with ``EXT-X-DISCONTINUITY`` and its own
``EXT-X-MAP``. A live playlist (recording continues) has no ``EXT-X-ENDLIST``.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Sequence

from ova.media.timeline import Run

VERSION = 7


def program_date_time(epoch_ms: int) -> str:
    """``2021-12-21T08:00:00.000Z``; integer arithmetic, the hour's prefix formatted once (a
    24-h playlist has thousands of these)."""
    hour, rest = divmod(epoch_ms, 3_600_000)
    minute, rest = divmod(rest, 60_000)
    second, milli = divmod(rest, 1000)
    return f"{_hour_prefix(hour)}{minute:02d}:{second:02d}.{milli:03d}Z"


@functools.lru_cache(maxsize=64)
def _hour_prefix(hours_since_epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:", time.gmtime(hours_since_epoch * 3600))


def target_duration(runs: Sequence[Run]) -> int:
    longest = max((s.duration_ms for run in runs for s in run.segments), default=1000)
    return max(1, math.ceil(longest / 1000))


def render(runs: Sequence[Run], *, ended: bool) -> str:
    """The playlist text for ``runs`` (time-ordered, non-empty).

    ``EXT-X-MEDIA-SEQUENCE`` and ``EXT-X-DISCONTINUITY-SEQUENCE`` are the first segment's own
    stable numbers, so a segment keeps its media sequence number as a live window slides.
    """
    first = runs[0].segments[0]
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{VERSION}",
        f"#EXT-X-TARGETDURATION:{target_duration(runs)}",
        f"#EXT-X-MEDIA-SEQUENCE:{first.ordinal}",
        f"#EXT-X-DISCONTINUITY-SEQUENCE:{first.discontinuity}",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    lines.append("#EXT-X-PLAYLIST-TYPE:VOD" if ended else "#EXT-X-PLAYLIST-TYPE:EVENT")
    for index, run in enumerate(runs):
        if index:
            lines.append("#EXT-X-DISCONTINUITY")
        lines.append(f'#EXT-X-MAP:URI="{run.track.init_uri}"')
        lines.extend(
            f"#EXT-X-PROGRAM-DATE-TIME:{program_date_time(segment.start_ms)}\n"
            f"#EXTINF:{segment.duration_ms / 1000:.3f},\n{segment.uri}"
            for segment in run.segments
        )
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
