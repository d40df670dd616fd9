"""One video sink's part of the local media cache: ``ports.VideoSpool`` plus what the uploader needs.

The recorder hands init segments, media segments and previews in order; each is written as a
cache entry (``cache_entry``) through ``spool.LocalMediaCache.store``, which bounds the whole
cache. The uploader reads ``pending()`` oldest first, marks what it is sending ``in flight``
(never evicted meanwhile), and removes what the cloud committed; the highest sequence number
committed is kept in ``video.json`` so ``last_sequence`` survives the cache being emptied.
An init segment whose write failed is written again before the next segment that needs it.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ova.contracts.edge_api import PublishVideoRequest
from ova.edge import crash_points
from ova.edge.cache_entry import MANIFEST_SUFFIX, MEDIA_SUFFIX, Entry, EntryKind, check_media
from ova.media.cmaf import InitSegment, MediaSegment
from ova.media.preview import PreviewImage
from ova.recording import archive_layout
from ova.storage import durable

if TYPE_CHECKING:
    from ova.edge.spool import LocalMediaCache


class VideoCache:
    def __init__(
        self,
        cache: LocalMediaCache,
        folder: Path,
        video_name: str,
        publish: PublishVideoRequest,
        subject: str,
    ) -> None:
        self.cache, self.folder, self.video_name = cache, folder, video_name
        self.publish, self.subject = publish, subject
        self.uploaded_sequence = 0
        self._entries: dict[int, Entry] = {}
        self._uploaded: set[int] = set()
        self._in_flight: set[int] = set()
        self._inits: dict[str, InitSegment] = {}
        self._cached_configs: set[str] = set()
        self._highest = 0
        self.changed = asyncio.Event()
        self.closed = False

    @property
    def entries_dir(self) -> Path:
        return self.folder / "entries"

    # -- ports.VideoSpool ----------------------------------------------------------------------

    @property
    def last_sequence(self) -> int:
        return max(self.uploaded_sequence, self._highest)

    async def init_segment(self, init: InitSegment) -> None:
        self._inits[init.config_hash] = init
        await self._store_init(init)

    async def media_segment(self, segment: MediaSegment) -> None:
        init = self._inits.get(segment.config_hash)
        if init is not None and segment.config_hash not in self._cached_configs:
            await self._store_init(init)  # its first write failed: try again before it is needed
        details = {
            "startMs": segment.start_ms,
            "durationMs": max(1, segment.duration_ms),
            "sequence": segment.sequence,
            "configHash": segment.config_hash,
            "gapBefore": segment.gap_before,
        }
        name = archive_layout.segment_blob_name(segment.start_ms, segment.sequence)
        self._highest = max(self._highest, segment.sequence)
        await self.cache.store(self, EntryKind.SEGMENT, name, segment.data, details)

    async def preview(self, images: list[PreviewImage], at_ms: int) -> None:
        if not self.publish.enable_preview_image:
            return
        for image in images:
            name = archive_layout.preview_blob_name(at_ms, image.name)
            await self.cache.store(
                self, EntryKind.PREVIEW, name, image.jpeg, {"atMs": at_ms, "size": image.name}
            )

    async def close(self, flush_timeout_s: float) -> bool:
        """Stop taking media; True once every cached file reached the cloud (and left the disk)
        within the timeout."""
        self.closed = True
        self.changed.set()
        try:
            async with asyncio.timeout(flush_timeout_s):
                while self._entries:
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            return False
        return True

    async def _store_init(self, init: InitSegment) -> None:
        details = {
            "configHash": init.config_hash,
            "codec": init.codec,
            "width": init.width,
            "height": init.height,
            "timescale": init.timescale,
        }
        name = archive_layout.init_blob_name(init.config_hash)
        if await self.cache.store(self, EntryKind.INIT, name, init.data, details) is not None:
            self._cached_configs.add(init.config_hash)

    # -- what the uploader uses ----------------------------------------------------------------

    def pending(self) -> list[Entry]:
        """Entries not yet committed, oldest first."""
        return [entry for order, entry in sorted(self._entries.items()) if order not in self._uploaded]

    def read(self, entry: Entry) -> bytes:
        """The entry's bytes, checked against its manifest (``CorruptEntry`` if they changed)."""
        data = (self.entries_dir / f"{entry.stem}{MEDIA_SUFFIX}").read_bytes()
        check_media(entry, data)
        return data

    def begin(self, entries: list[Entry]) -> None:
        self._in_flight.update(entry.order for entry in entries)

    def end(self, entries: list[Entry]) -> None:
        self._in_flight.difference_update(entry.order for entry in entries)

    def is_uploaded(self, entry: Entry) -> bool:
        return entry.order in self._uploaded

    def mark_uploaded(self, entries: list[Entry]) -> None:
        """The cloud committed these: they may go (``remove``), and go first when room is short."""
        self._uploaded.update(entry.order for entry in entries)
        sequences = [entry.sequence for entry in entries if entry.kind is EntryKind.SEGMENT]
        self.uploaded_sequence = max([self.uploaded_sequence, *sequences])
        self.changed.set()

    def remove(self, entries: list[Entry]) -> None:
        """Delete committed entries from the disk (blocking: run in a thread; sets nothing on the loop)."""
        self.save_state()
        crash_points.reached("pre-delete")
        for entry in entries:
            if entry.order in self._entries:
                self.evict(entry, committed=True)
        durable.fsync_dir(self.entries_dir)

    # -- what the cache uses -------------------------------------------------------------------

    def update(self, publish: PublishVideoRequest, subject: str) -> None:
        self.publish, self.subject, self.closed = publish, subject, False

    def create(self) -> None:
        durable.make_dirs(self.entries_dir, self.cache.root)
        self.save_state()

    def save_state(self) -> None:
        state: dict[str, Any] = {
            "videoName": self.video_name,
            "publish": self.publish.model_dump(mode="json", by_alias=True),
            "subject": self.subject,
            "lastSequence": self.uploaded_sequence,
        }
        temp = self.cache.tmp / uuid.uuid4().hex
        _write_synced(temp, json.dumps(state).encode())
        os.replace(temp, self.folder / "video.json")
        durable.fsync_dir(self.folder)

    def write_entry(self, entry: Entry, data: bytes) -> None:
        """Media, then manifest, each temp → fsync → link → fsync folder (blocking)."""
        for suffix, payload in ((MEDIA_SUFFIX, data), (MANIFEST_SUFFIX, entry.to_json())):
            temp = self.cache.tmp / uuid.uuid4().hex
            try:
                _write_synced(temp, payload)
                if not durable.link_new(temp, self.entries_dir / f"{entry.stem}{suffix}", self.cache.root):
                    raise FileExistsError(f"cache entry {entry.stem} exists already")
                crash_points.reached("post-rename")
            except BaseException:
                (self.entries_dir / f"{entry.stem}{MEDIA_SUFFIX}").unlink(missing_ok=True)
                raise
            finally:
                temp.unlink(missing_ok=True)

    def adopt(self, entry: Entry) -> None:
        self._entries[entry.order] = entry
        self.cache.stats.files_cached += 1
        self.cache.stats.bytes_cached += entry.size
        if entry.kind is EntryKind.SEGMENT:
            self._highest = max(self._highest, entry.sequence)
        if entry.kind is EntryKind.INIT:
            self._cached_configs.add(str(entry.details.get("configHash")))
        self.changed.set()

    def evictable(self) -> list[Entry]:
        return [entry for order, entry in self._entries.items() if order not in self._in_flight]

    def evict(self, entry: Entry, *, committed: bool = False) -> None:
        """Forget ``entry`` and delete its files (manifest first: never a manifest without media)."""
        self._entries.pop(entry.order, None)
        committed = committed or entry.order in self._uploaded
        self._uploaded.discard(entry.order)
        if entry.kind is EntryKind.INIT and not committed:
            self._cached_configs.discard(str(entry.details.get("configHash")))
        self.cache.stats.files_cached -= 1
        self.cache.stats.bytes_cached -= entry.size
        (self.entries_dir / f"{entry.stem}{MANIFEST_SUFFIX}").unlink(missing_ok=True)
        (self.entries_dir / f"{entry.stem}{MEDIA_SUFFIX}").unlink(missing_ok=True)


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, durable.PRIVATE_FILE_MODE)
    try:
        half = len(data) // 2
        _write_all(fd, memoryview(data)[:half])
        crash_points.reached("writing")
        _write_all(fd, memoryview(data)[half:])
        crash_points.reached("pre-fsync")
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view) :]
