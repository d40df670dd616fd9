"""HLS media playlists (RFC 8216, version 7, fMP4/CMAF segments).

Every segment carries ``EXT-X-PROGRAM-DATE-TIME`` so players show wall-clock time; every
run of the timeline after the first starts with ``EXT-X-DISCONTINUITY`` and its own
``EXT-X-MAP``. A live playlist (recording continues) has no ``EXT-X-ENDLIST``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

from ova.media.timeline import Run

VERSION = 7


def program_date_time(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def target_duration(runs: Sequence[Run]) -> int:
    longest = max((s.duration_ms for run in runs for s in run.segments), default=1000)
    return max(1, math.ceil(longest / 1000))


def render(runs: Sequence[Run], *, ended: bool, media_sequence: int = 0) -> str:
    """The playlist text for ``runs`` (time-ordered, non-empty)."""
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{VERSION}",
        f"#EXT-X-TARGETDURATION:{target_duration(runs)}",
        f"#EXT-X-MEDIA-SEQUENCE:{media_sequence}",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    lines.append("#EXT-X-PLAYLIST-TYPE:VOD" if ended else "#EXT-X-PLAYLIST-TYPE:EVENT")
    for index, run in enumerate(runs):
        if index:
            lines.append("#EXT-X-DISCONTINUITY")
        lines.append(f'#EXT-X-MAP:URI="{run.track.init_uri}"')
        for segment in run.segments:
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{program_date_time(segment.start_ms)}")
            lines.append(f"#EXTINF:{segment.duration_ms / 1000:.3f},")
            lines.append(segment.uri)
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
