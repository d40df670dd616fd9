"""Writes a recording into a video's archive: blobs first, then the segment index.

A segment is indexed only after its blob is stored (create-only, so a retried upload of
the same bytes is harmless), so the index never names a blob that isn't there. Preview
images get a new name per refresh; the video remembers the newest set.
"""

from __future__ import annotations

import hashlib

from ova.cloud.db.models import ResourceRow
from ova.cloud.domain import segment_index
from ova.cloud.domain.segment_index import StoredInit, StoredSegment
from ova.cloud.domain.services import CloudServices
from ova.media.cmaf import InitSegment, MediaSegment
from ova.media.preview import PreviewImage
from ova.recording import archive_layout, sequences


class ArchiveSink:
    def __init__(self, services: CloudServices, video_id: str) -> None:
        self._services, self._video_id = services, video_id
        self._container = archive_layout.container_name(video_id)
        self._ready = False

    async def _ensure_container(self) -> None:
        if not self._ready:
            await self._services.blobs.create_container(self._container)
            self._ready = True

    async def init_segment(self, init: InitSegment) -> None:
        await self._ensure_container()
        name = archive_layout.init_blob_name(init.config_hash)
        await self._services.blobs.put(self._container, name, init.data, archive_layout.MP4)
        stored = StoredInit(init.config_hash, name, init.codec, init.width, init.height, init.timescale)
        async with self._services.sessions.begin() as session:
            await segment_index.add_init(session, self._video_id, stored, self._services.clock.now())

    async def media_segment(self, segment: MediaSegment) -> None:
        await self._ensure_container()
        name = archive_layout.segment_blob_name(segment.start_ms, segment.sequence)
        info = await self._services.blobs.put(self._container, name, segment.data, archive_layout.M4S)
        stored = StoredSegment(
            start_ms=segment.start_ms,
            duration_ms=segment.duration_ms,
            sequence=segment.sequence,
            blob_name=name,
            size=len(segment.data),
            sha256=info.sha256 or hashlib.sha256(segment.data).hexdigest(),
            config_hash=segment.config_hash,
            gap_before=segment.gap_before,
        )
        async with self._services.sessions.begin() as session:
            await segment_index.add_segment(session, self._video_id, stored, self._services.clock.now())

    async def preview(self, images: list[PreviewImage], at_ms: int) -> None:
        await self._ensure_container()
        for image in images:
            await self._services.blobs.put(
                self._container,
                archive_layout.preview_blob_name(at_ms, image.name),
                image.jpeg,
                archive_layout.JPEG,
            )
        async with self._services.sessions.begin() as session:
            video = await session.get(ResourceRow, self._video_id)
            if video is None:
                return
            previous = video.document.get("internal", {}).get("previewAtMs")
            internal = {**video.document.get("internal", {}), "previewAtMs": at_ms}
            video.document = {**video.document, "internal": internal}
        if previous is not None and previous != at_ms:
            for image in images:
                await self._services.blobs.delete(
                    self._container, archive_layout.preview_blob_name(previous, image.name)
                )


class IndexedSequences:
    """The sequence numbers a video's segment index has used (a ``SequenceHistory``)."""

    def __init__(self, services: CloudServices) -> None:
        self._services = services

    async def last_sequence(self, video_id: str) -> int:
        async with self._services.sessions.begin() as session:
            return await segment_index.last_sequence(session, video_id)


async def next_sequence(services: CloudServices, video_id: str) -> int:
    """Sequence numbers keep rising across restarts, so blob names never collide."""
    return await sequences.next_sequence(video_id, IndexedSequences(services))
