"""An edge module's uploaded media entering the segment index: inits, segments, previews, recording state.

A commit is idempotent and all-or-nothing (one transaction). Every blob name must be exactly the
archive layout's name for the stated config hash, start and sequence (400 otherwise), and every
blob is looked up (HEAD) before it is indexed: it must exist with the stated size, and with the
stated SHA-256 where the store records one (409 ``BlobNotFound`` / ``BlobMismatch`` otherwise).
A segment already indexed at the same start and sequence counts as ``alreadyCommitted`` when it
is the same (size and hash), and is a 409 ``SegmentConflict`` when it differs.

While a module reports its recording started, the video holds a recording lease (renewed by
each commit), so it is ``isInUse`` and plays live; "stopped" drops it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ova.cloud.db.models import ResourceRow
from ova.cloud.domain import recording_lease, segment_index
from ova.cloud.domain.edge_link.link import EdgeLink, take_write_lock
from ova.cloud.domain.edge_link.module_keys import ModuleCaller
from ova.cloud.domain.edge_link.publishing import owned_video
from ova.cloud.domain.segment_index import StoredInit, StoredSegment
from ova.common.errors import Conflict, ValidationFailed
from ova.contracts.edge_api import (
    CommitResult,
    CommittedInit,
    CommittedSegment,
    PreviewCommit,
    RecordingStateChange,
    SegmentCommit,
)
from ova.recording import archive_layout
from ova.recording.plan import duration_ms
from ova.storage.blob_store import BlobStore


class BlobNotFound(Conflict):
    default_code = "BlobNotFound"


class BlobMismatch(Conflict):
    default_code = "BlobMismatch"


class SegmentConflict(Conflict):
    default_code = "SegmentConflict"


async def commit(
    link: EdgeLink, session: AsyncSession, caller: ModuleCaller, name: str, body: SegmentCommit
) -> CommitResult:
    """Index ``body``'s inits and segments for the caller's video ``name``."""
    await take_write_lock(session)
    video = await owned_video(session, caller, name)
    container = archive_layout.container_name(video.id)
    blobs, now = link.services.blobs, link.services.clock.now()
    for index, init in enumerate(body.inits):
        await check_blob(blobs, container, init.blob_name, None, None, f"inits[{index}]", layout_init(init))
        await segment_index.add_init(session, video.id, stored_init(init), now)
    known = set(await segment_index.inits(session, video.id, [s.config_hash for s in body.segments]))
    committed = already = 0
    for index, segment in enumerate(body.segments):
        if await index_segment(link, session, video, segment, known, f"segments[{index}]"):
            committed += 1
        else:
            already += 1
    if committed:
        await renew_lease(link, session, video, now)
    last = await segment_index.last_sequence(session, video.id)
    return CommitResult(committed=committed, already_committed=already, last_sequence=last)


async def index_segment(
    link: EdgeLink,
    session: AsyncSession,
    video: ResourceRow,
    segment: CommittedSegment,
    known_configs: set[str],
    target: str,
) -> bool:
    """Index one segment; False when it already was (the same one), 409 when another one was."""
    expected = archive_layout.segment_blob_name(segment.start_ms, segment.sequence)
    if segment.blob_name != expected:
        raise ValidationFailed(f"The segment's blob name must be '{expected}'.", target=f"{target}.blobName")
    if segment.duration_ms > segment_index.MAX_SEGMENT_MS:
        raise ValidationFailed(
            f"A segment lasts at most {segment_index.MAX_SEGMENT_MS} ms.", target=f"{target}.durationMs"
        )
    if segment.config_hash not in known_configs:
        raise ValidationFailed(
            "The segment's configHash names no committed init segment.", target=f"{target}.configHash"
        )
    stored = stored_segment(segment)
    if await already_indexed(session, video.id, stored, target):
        return False
    container = archive_layout.container_name(video.id)
    await check_blob(link.services.blobs, container, segment.blob_name, segment.size, segment.sha256, target)
    try:
        async with session.begin_nested():  # a racing commit of the same segment: decided below
            await segment_index.add_segment(session, video.id, stored, link.services.clock.now())
    except IntegrityError:
        if await already_indexed(session, video.id, stored, target):
            return False
        raise
    return True


async def already_indexed(session: AsyncSession, video_id: str, stored: StoredSegment, target: str) -> bool:
    """Whether ``stored`` is indexed already; 409 when another segment holds its start and sequence."""
    existing = await segment_index.segment_at(session, video_id, stored.start_ms, stored.sequence)
    if existing is None:
        return False
    same = (existing.size, existing.sha256, existing.blob_name) == (
        stored.size,
        stored.sha256,
        stored.blob_name,
    )
    if not same:
        raise SegmentConflict("Another segment is indexed at this start and sequence.", target=target)
    return True


async def check_blob(
    blobs: BlobStore,
    container: str,
    blob_name: str,
    size: int | None,
    sha256: str | None,
    target: str,
    expected_name: str | None = None,
) -> None:
    """400 for a name off the layout; 409 when the blob is missing or not the stated bytes."""
    if expected_name is not None and blob_name != expected_name:
        raise ValidationFailed(f"The blob name must be '{expected_name}'.", target=f"{target}.blobName")
    info = await blobs.head(container, blob_name)
    if info is None or info.size == 0:
        raise BlobNotFound(f"The blob '{blob_name}' was not uploaded.", target=target)
    if size is not None and info.size != size:
        raise BlobMismatch(f"The blob '{blob_name}' holds {info.size} bytes, not {size}.", target=target)
    if sha256 is not None and info.sha256 is not None and info.sha256 != sha256:
        raise BlobMismatch(f"The blob '{blob_name}' does not have the stated SHA-256.", target=target)


def layout_init(init: CommittedInit) -> str:
    return archive_layout.init_blob_name(init.config_hash)


def stored_init(init: CommittedInit) -> StoredInit:
    return StoredInit(init.config_hash, init.blob_name, init.codec, init.width, init.height, init.timescale)


def stored_segment(segment: CommittedSegment) -> StoredSegment:
    return StoredSegment(
        start_ms=segment.start_ms,
        duration_ms=segment.duration_ms,
        sequence=segment.sequence,
        blob_name=segment.blob_name,
        size=segment.size,
        sha256=segment.sha256,
        config_hash=segment.config_hash,
        gap_before=segment.gap_before,
    )


async def commit_preview(
    link: EdgeLink, session: AsyncSession, caller: ModuleCaller, name: str, body: PreviewCommit
) -> None:
    """Make the uploaded preview images at ``body.at_ms`` the video's preview (newest wins)."""
    await take_write_lock(session)
    video = await owned_video(session, caller, name)
    container, blobs = archive_layout.container_name(video.id), link.services.blobs
    for size in body.sizes:
        await check_blob(
            blobs, container, archive_layout.preview_blob_name(body.at_ms, size), None, None, "sizes"
        )
    internal = video.document.get("internal", {})
    previous = internal.get("previewAtMs")
    if previous is not None and previous >= body.at_ms:
        return
    video.document = {**video.document, "internal": {**internal, "previewAtMs": body.at_ms}}
    await session.flush()
    if previous is not None:
        for old in archive_layout.PREVIEW_SIZES:
            await blobs.delete(container, archive_layout.preview_blob_name(previous, old))


async def change_recording_state(
    link: EdgeLink, session: AsyncSession, caller: ModuleCaller, name: str, body: RecordingStateChange
) -> None:
    """Note RecordingStarted/Stopped on the video; the lease follows."""
    await take_write_lock(session)
    video = await owned_video(session, caller, name)
    now = link.services.clock.now()
    internal = {**video.document.get("internal", {}), "edgeRecording": {"state": body.state, "at": body.at}}
    video.document = {**video.document, "internal": internal}
    if body.state == "started":
        await renew_lease(link, session, video, now)
    else:
        await recording_lease.release(session, video.id, lease_holder(video))
    await session.flush()


async def renew_lease(link: EdgeLink, session: AsyncSession, video: ResourceRow, now: datetime) -> None:
    internal = video.document.get("internal", {})
    if internal.get("edgeRecording", {}).get("state") != "started":
        return
    length = recording_lease.lease_length(duration_ms(internal.get("segmentLength", "PT30S")))
    await recording_lease.hold(session, video.id, lease_holder(video), now, length)


def lease_holder(video: ResourceRow) -> str:
    owner = video.document.get("internal", {}).get("edgeOwner", {})
    return f"edge:{owner.get('instanceId', '')}"[:64]
