"""DASH MPDs (ISO/IEC 23009-1) with one Period per timeline run and explicit segment lists.

Each Period uses ``SegmentList`` with a ``SegmentTimeline`` in milliseconds, so segment URLs
can be anything (they carry the archive's own names and, when needed, the token). A Period's
``presentationTimeOffset`` is the start of its first segment: segment decode times (``tfdt``)
are wall-clock milliseconds, so they line up with the Period start. A live MPD (recording
continues) is ``dynamic``.

Period ids are the start time of their run (``p<epoch ms>``), the same in every MPD that
holds the run. A dynamic MPD anchors each Period on its run's own start, not on the first
segment the window still holds, so Period ids, starts and ``availabilityStartTime`` stay put
while the live window slides (they move only when a whole run leaves the window).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from xml.sax.saxutils import quoteattr

from ova.media.timeline import Run

NAMESPACE = "urn:mpeg:dash:schema:mpd:2011"
PROFILE = "urn:mpeg:dash:profile:isoff-live:2011"


def duration(ms: int) -> str:
    return f"PT{ms / 1000:.3f}S"


def wall_clock(epoch_ms: int) -> str:
    return (
        datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def timeline_entries(run: Run) -> list[str]:
    """One ``<S>`` per segment, in ``SegmentURL`` order; ``t`` only where time does not follow on.

    Never ``r``: with a ``SegmentList``, dash.js (4.x) takes an ``S`` element's position as the
    index of its ``SegmentURL``, so every repeat of ``<S r="5"/>`` would load the first URL and
    a live player that joins past the first segment stalls.
    """
    entries: list[str] = []
    expected: int | None = None
    for segment in run.segments:
        start = "" if segment.start_ms == expected else f't="{segment.start_ms}" '
        entries.append(f'<S {start}d="{segment.duration_ms}"/>')
        expected = segment.start_ms + segment.duration_ms
    return entries


def run_start(run: Run) -> int:
    """Where the run began, even when the window holds only its later segments."""
    first = run.segments[0]
    return first.start_ms if first.run_start_ms is None else min(first.run_start_ms, first.start_ms)


def period(run: Run, availability_start_ms: int, anchor_ms: int) -> list[str]:
    """One Period; ``anchor_ms`` (its start and ``presentationTimeOffset``) is on the wall clock."""
    track = run.track
    index = run_start(run)
    lines = [
        f'  <Period id="p{index}" start="{duration(anchor_ms - availability_start_ms)}">',
        '    <AdaptationSet contentType="video" mimeType="video/mp4" '
        'segmentAlignment="true" startWithSAP="1">',
        f'      <Representation id="v{index}" codecs={quoteattr(track.codec)} width="{track.width}" '
        f'height="{track.height}" bandwidth="{max(track.bandwidth, 1)}">',
        f'        <SegmentList timescale="1000" presentationTimeOffset="{anchor_ms}">',
        f"          <Initialization sourceURL={quoteattr(track.init_uri)}/>",
        "          <SegmentTimeline>",
        *(f"            {entry}" for entry in timeline_entries(run)),
        "          </SegmentTimeline>",
        *(f"          <SegmentURL media={quoteattr(segment.uri)}/>" for segment in run.segments),
        "        </SegmentList>",
        "      </Representation>",
        "    </AdaptationSet>",
        "  </Period>",
    ]
    return lines


def render(runs: Sequence[Run], *, ended: bool, now_ms: int, refresh_ms: int = 2000) -> str:
    """The MPD for ``runs`` (time-ordered, non-empty); ``ended`` makes it static (VOD)."""
    total = runs[-1].end_ms - runs[0].start_ms
    start = runs[0].start_ms if ended else run_start(runs[0])
    if ended:
        header = f'type="static" mediaPresentationDuration="{duration(total)}"'
    else:
        header = (
            f'type="dynamic" availabilityStartTime="{wall_clock(start)}" publishTime="{wall_clock(now_ms)}" '
            f'minimumUpdatePeriod="{duration(refresh_ms)}" timeShiftBufferDepth="{duration(total)}" '
            f'suggestedPresentationDelay="{duration(2 * refresh_ms)}"'
        )
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<MPD xmlns="{NAMESPACE}" profiles="{PROFILE}" minBufferTime="PT2S" {header}>',
    ]
    for run in runs:
        lines += period(run, start, run.start_ms if ended else run_start(run))
    lines.append("</MPD>")
    return "\n".join(lines) + "\n"
