"""Small, well-formed fMP4 media for the edge tests, and an ``EventSink`` that keeps what it gets.

Light on purpose: the crash tests' child process imports it (no cloud code).
"""

from __future__ import annotations

from ova.contracts.edge_events import EdgeEvent
from ova.media.cmaf import InitSegment, MediaSegment
from ova.media.isobmff import box

START_MS = 1_780_000_000_000
CONFIG = "c0ffee0123456789"


class Events:
    """An ``EventSink`` that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[EdgeEvent] = []

    def emit(self, event: EdgeEvent) -> None:
        self.events.append(event)

    def of_type(self, event_type: str) -> list[EdgeEvent]:
        return [event for event in self.events if event.type == event_type]


def init_segment() -> InitSegment:
    data = box("ftyp", b"iso6\x00\x00\x00\x00") + box("moov", box("mvhd", bytes(100)))
    return InitSegment(CONFIG, data, "avc1.42C01F", 320, 240, 90000)


def media_segment(sequence: int, size: int = 4096, start_ms: int | None = None) -> MediaSegment:
    payload = bytes((sequence * 7 + index) % 251 for index in range(size))
    data = box("moof", box("mfhd", sequence.to_bytes(8, "big"))) + box("mdat", payload)
    start = START_MS + sequence * 2000 if start_ms is None else start_ms
    return MediaSegment(sequence, start, 2000, data, CONFIG, 60, False, sequence * 180000, 180000)
