"""The edge's durable local media cache (Video Analyzer's ``localMediaCachePath``).

Layout under the cache folder::

    tmp/                          temp files (swept at start-up)
    videos/<key>/video.json       the video sink's name, publish request, subject, last uploaded sequence
    videos/<key>/entries/         <order>.media + <order>.json per cached file (``cache_entry``)
    videos/<key>/quarantine/      entries that failed validation at start-up (kept for an operator)

What a ``VideoCache`` call hands in is durable when the call returns (write temp → fsync →
link → fsync folder, media first, manifest second), so after a crash only entries whose
manifest and media both reached the disk are listed. The whole cache is bounded by
``max_size_mib``: when a new file does not fit, entries already uploaded go first, then the
oldest un-uploaded ones (init segments last); each un-uploaded one dropped raises a
``DataDropped`` diagnostics event and counts in ``SpoolStats.data_dropped``. A write that
fails (``EIO`` from fsync, disk full, ``RLIMIT_FSIZE``) marks that file failed (it is never
retried into the cache), raises a ``StorageError`` event and counts; recording goes on.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ova.common.clock import Clock, SystemClock
from ova.contracts.edge_api import PublishVideoRequest
from ova.contracts.edge_events import EdgeEvent, EventKind
from ova.edge import cache_entry
from ova.edge.cache_entry import CorruptEntry, Entry, EntryKind
from ova.edge.ports import EventSink
from ova.edge.video_cache import VideoCache
from ova.storage import durable

log = logging.getLogger(__name__)
MIB = 1024 * 1024
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Errors that mean "no room": evict, then try once more.
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


class SpoolSettings(BaseModel):
    """The local media cache of the video sinks."""

    path: Path = Field(description="The cache folder (localMediaCachePath).")
    max_size_mib: int = Field(
        2048, ge=1, description="localMediaCacheMaximumSizeMiB: the most media the cache holds (MiB = 1024²)."
    )


@dataclass
class SpoolStats:
    """Counters an operator (telemetry, metrics) reads."""

    files_cached: int = 0
    bytes_cached: int = 0
    data_dropped: int = 0
    """Un-uploaded files evicted to make room."""
    write_failures: int = 0
    quarantined: int = 0


def video_key(video_name: str) -> str:
    """The folder name of a video: the name itself when it is plain, else a hash of it."""
    if _SAFE_NAME.match(video_name):
        return video_name
    return "h-" + hashlib.sha256(video_name.encode()).hexdigest()[:32]


class LocalMediaCache:
    """``ports.RecordingSpool``: every video sink's cache, sharing one size bound."""

    def __init__(self, settings: SpoolSettings, events: EventSink, clock: Clock | None = None) -> None:
        self.settings, self.events, self.clock = settings, events, clock or SystemClock()
        self.stats = SpoolStats()
        self.root = settings.path
        self.tmp = self.root / "tmp"
        self._videos: dict[str, VideoCache] = {}
        self._next_order = 1
        self._lock = asyncio.Lock()
        self._started = False
        self.on_open: list[Callable[[VideoCache], None]] = []
        """Called with each video's cache as it opens (the uploader starts draining it)."""

    @property
    def max_bytes(self) -> int:
        return self.settings.max_size_mib * MIB

    @property
    def videos(self) -> list[VideoCache]:
        return list(self._videos.values())

    def video(self, video_name: str) -> VideoCache | None:
        return self._videos.get(video_name)

    async def start(self) -> None:
        """Create the folders, sweep temp files and load (validating) what a previous run left.

        Called by ``open_video`` when nobody called it before."""
        if self._started:
            return
        self._started = True
        await asyncio.to_thread(self._prepare)
        for folder in sorted(await asyncio.to_thread(_video_folders, self.root / "videos")):
            video = await asyncio.to_thread(self._load_video, folder)
            if video is not None:
                self._register(video)

    async def open_video(self, video_name: str, publish: PublishVideoRequest, subject: str) -> VideoCache:
        await self.start()
        video = self._videos.get(video_name)
        if video is not None:
            video.update(publish, subject)
            await asyncio.to_thread(video.save_state)
            return video
        folder = self.root / "videos" / video_key(video_name)
        video = VideoCache(self, folder, video_name, publish, subject)
        await asyncio.to_thread(video.create)
        self._register(video)
        return video

    def _register(self, video: VideoCache) -> None:
        self._videos[video.video_name] = video
        for callback in self.on_open:
            callback(video)

    def _prepare(self) -> None:
        for folder in (self.root, self.tmp, self.root / "videos"):
            folder.mkdir(mode=durable.PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        durable.sweep_temp(self.tmp, older_than=0)

    def _load_video(self, folder: Path) -> VideoCache | None:
        for media in (folder / "entries").glob(f"*{cache_entry.MEDIA_SUFFIX}"):
            if media.stem.isdigit():  # never reuse a number, even one of a folder that is skipped
                self._next_order = max(self._next_order, int(media.stem) + 1)
        try:
            state = json.loads((folder / "video.json").read_bytes())
            publish = PublishVideoRequest.model_validate(state["publish"])
            video = VideoCache(self, folder, str(state["videoName"]), publish, str(state["subject"]))
            video.uploaded_sequence = int(state.get("lastSequence", 0))
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("ignoring cache folder %s: its video.json is unreadable", folder.name)
            return None
        for entry in self._load_entries(folder / "entries", folder / "quarantine"):
            video.adopt(entry)
            self._next_order = max(self._next_order, entry.order + 1)
        return video

    def _load_entries(self, entries: Path, quarantine: Path) -> list[Entry]:
        found: list[Entry] = []
        for media in entries.glob(f"*{cache_entry.MEDIA_SUFFIX}"):
            if not media.with_suffix(cache_entry.MANIFEST_SUFFIX).exists():
                media.unlink()  # its manifest never reached the disk: never listed
        for manifest in sorted(entries.glob(f"*{cache_entry.MANIFEST_SUFFIX}")):
            try:
                found.append(cache_entry.validate(manifest))
            except CorruptEntry as error:
                log.warning("quarantined a cached file: %s", error)
                _quarantine(manifest, quarantine)
                self.stats.quarantined += 1
                self._emit(EventKind.DIAGNOSTICS, "StorageError", "", {"reason": "CorruptCacheEntry"})
        durable.fsync_dir(entries)
        return found

    # -- what the video caches call ------------------------------------------------------------

    async def store(
        self, video: VideoCache, kind: EntryKind, blob_name: str, data: bytes, details: dict[str, Any]
    ) -> Entry | None:
        """Write one file durably into ``video``'s cache, making room first; None when it failed."""
        async with self._lock:
            entry = cache_entry.new_entry(self._next_order, kind, blob_name, data, details)
            self._next_order += 1
            if entry.size > self.max_bytes:
                self._failed(video, entry, "the file is larger than the whole cache")
                return None
            self._make_room(entry.size)
            for attempt in range(2):
                try:
                    await asyncio.to_thread(video.write_entry, entry, data)
                except OSError as error:
                    if attempt == 0 and error.errno in _NO_ROOM and self._make_room(entry.size, urgent=True):
                        continue
                    self._failed(video, entry, error.strerror or "write failed")
                    return None
                video.adopt(entry)
                return entry
            return None

    def _make_room(self, size: int, *, urgent: bool = False) -> bool:
        """Evict until ``size`` more bytes fit (or, when ``urgent``, at least one entry went)."""
        evicted = False
        while self.stats.bytes_cached + size > self.max_bytes or (urgent and not evicted):
            victim = self._victim()
            if victim is None:
                return evicted
            video, entry = victim
            dropped = not video.is_uploaded(entry)
            video.evict(entry)
            evicted = True
            if dropped:
                self.stats.data_dropped += 1
                self._emit(
                    EventKind.DIAGNOSTICS,
                    "DataDropped",
                    video.subject,
                    {"reason": "LocalMediaCacheFull", "blobName": entry.blob_name, "bytes": entry.size},
                )
        return evicted

    def _victim(self) -> tuple[VideoCache, Entry] | None:
        candidates = [(video, entry) for video in self._videos.values() for entry in video.evictable()]
        if not candidates:
            return None

        def rank(item: tuple[VideoCache, Entry]) -> tuple[bool, bool, int]:
            video, entry = item
            return (not video.is_uploaded(entry), entry.kind is EntryKind.INIT, entry.order)

        return min(candidates, key=rank)

    def _failed(self, video: VideoCache, entry: Entry, reason: str) -> None:
        self.stats.write_failures += 1
        log.warning("could not cache %s of video %s: %s", entry.kind.value, video.video_name, reason)
        self._emit(
            EventKind.DIAGNOSTICS,
            "StorageError",
            video.subject,
            {"reason": "LocalMediaCacheWriteFailed", "blobName": entry.blob_name, "errorMessage": reason},
        )

    def _emit(self, kind: EventKind, event_type: str, subject: str, body: dict[str, Any]) -> None:
        self.events.emit(EdgeEvent(kind, event_type, subject, body, self.clock.now()))

    def emit_operational(self, event_type: str, subject: str, body: dict[str, Any]) -> None:
        self._emit(EventKind.OPERATIONAL, event_type, subject, body)

    def emit_diagnostics(self, event_type: str, subject: str, body: dict[str, Any]) -> None:
        self._emit(EventKind.DIAGNOSTICS, event_type, subject, body)


def _video_folders(videos: Path) -> list[Path]:
    return [folder for folder in videos.iterdir() if folder.is_dir()]


def _quarantine(manifest: Path, quarantine: Path) -> None:
    quarantine.mkdir(mode=durable.PRIVATE_DIR_MODE, exist_ok=True)
    for path in (manifest, manifest.with_suffix(cache_entry.MEDIA_SUFFIX)):
        if path.exists():
            os.replace(path, quarantine / path.name)
    durable.fsync_dir(quarantine)
