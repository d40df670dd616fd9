"""A mount: one path (``/cam``) whose single stream every client of that path shares.

A source (``LiveSource`` or ``LoopSource``) feeds the mount on the event loop: ``open`` once
with the tracks (which makes the SDP available), then ``publish`` for every unit. ``publish``
hands the unit to each subscriber, which decides on its own whether to send it (a client
starts at the next keyframe and drops frames when it falls behind).
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Protocol

from ova.camera.errors import MountNotReady
from ova.camera.sdp import session_description
from ova.camera.stream import MediaUnit, Track


class Subscriber(Protocol):
    def deliver(self, unit: MediaUnit) -> None: ...


class MediaSource(Protocol):
    """Something that feeds a mount until stopped."""

    async def start(self, mount: Mount) -> None: ...

    async def stop(self) -> None: ...


class Mount:
    """One RTSP path and its shared stream."""

    def __init__(self, name: str, source: MediaSource) -> None:
        self.name = name
        self.source = source
        self.tracks: tuple[Track, ...] = ()
        self.units_published = 0
        self._subscribers: set[Subscriber] = set()
        self._last_timestamp: dict[int, int] = {}
        self._ready = asyncio.Event()
        self._session_id = secrets.randbelow(1 << 48)

    def open(self, tracks: tuple[Track, ...]) -> None:
        self.tracks = tracks
        self._ready.set()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self, limit_s: float) -> None:
        try:
            await asyncio.wait_for(self._ready.wait(), limit_s)
        except TimeoutError as exc:
            raise MountNotReady(f"mount {self.name} has no stream yet") from exc

    def track(self, index: int) -> Track | None:
        return next((track for track in self.tracks if track.index == index), None)

    def publish(self, unit: MediaUnit) -> None:
        self._last_timestamp[unit.track] = unit.timestamp
        self.units_published += 1
        for subscriber in list(self._subscribers):
            subscriber.deliver(unit)

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def subscribers(self) -> tuple[Subscriber, ...]:
        return tuple(self._subscribers)

    def next_timestamp(self, track_index: int) -> int:
        """The media-clock time the track's next unit is expected at (for ``RTP-Info``)."""
        track = self.track(track_index)
        last = self._last_timestamp.get(track_index)
        if track is None or last is None:
            return 0
        return last + track.unit_duration

    def describe(self, origin_address: str) -> str:
        """The SDP of this mount (call once ``ready``)."""
        media = [track.media for track in self.tracks]
        return session_description(f"ova camera {self.name}", self._session_id, origin_address, media)

    async def start(self) -> None:
        await self.source.start(self)

    async def stop(self) -> None:
        await self.source.stop()
        self._subscribers.clear()
