"""Segment sequence numbers that keep rising across restarts, wherever the recorder runs.

A segment's blob name carries its sequence number (``archive_layout.segment_blob_name``), so
names stay unique however the clock moves as long as every new recording starts past the
highest number anyone has used for that video. Each side knows part of that: the cloud's
segment index, the edge's local cache and what the cloud told the edge when it published
the video. ``next_sequence`` takes the highest of what is known.
"""

from __future__ import annotations

from typing import Protocol


class SequenceHistory(Protocol):
    """What one side knows about the sequence numbers a video has used (0: none)."""

    async def last_sequence(self, video_id: str) -> int: ...


async def next_sequence(video_id: str, *histories: SequenceHistory) -> int:
    """The first sequence number a new recording of ``video_id`` may use."""
    known = [await history.last_sequence(video_id) for history in histories]
    return max(known, default=0) + 1
