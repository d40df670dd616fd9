"""Retention: a video's archival ``retentionPeriod`` applied to its archive.

Segments that ended before ``now - retentionPeriod`` are deleted, oldest first, in bounded
batches. The order makes both failure modes harmless:

1. one transaction deletes the segment rows, recounts the coverage of their days and writes a
   tombstone per blob (players stop seeing the segments in that same commit);
2. the blobs named by tombstones are deleted, then the tombstones.

So the index never names a deleted blob, and a crash between 1 and 2 leaves tombstones that
the next pass finishes (no blob is leaked). Init segments are kept: they are a few hundred
bytes per codec configuration and a live recorder may still be using them.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ova.cloud.db.models import BlobTombstoneRow, ResourceRow, SegmentRow
from ova.cloud.domain import coverage, segment_index
from ova.cloud.domain.services import CloudServices
from ova.contracts.topology_values import parse_duration
from ova.recording import archive_layout
from ova.storage.errors import BlobNotFound, ContainerNotFound


@dataclass(frozen=True)
class Expiry:
    """Everything of ``video_id`` that ended at or before ``cutoff_ms`` goes."""

    video_id: str
    cutoff_ms: int


def retention_seconds(document: dict[str, object]) -> float | None:
    """The video's retention period in seconds, if it has one."""
    properties = document.get("properties")
    archival = properties.get("archival") if isinstance(properties, dict) else None
    period = archival.get("retentionPeriod") if isinstance(archival, dict) else None
    seconds = parse_duration(period) if isinstance(period, str) else None
    return seconds if seconds and seconds > 0 else None


async def expiries(session: AsyncSession, now: datetime) -> list[Expiry]:
    """The videos with a retention period, and where each one's archive now begins."""
    statement = select(ResourceRow.id, ResourceRow.document).where(ResourceRow.kind == "videos")
    found = []
    for video_id, document in (await session.execute(statement)).all():
        seconds = retention_seconds(document)
        if seconds is not None:
            found.append(Expiry(video_id, int((now.timestamp() - seconds) * 1000)))
    return found


async def expire(session: AsyncSession, expiry: Expiry, limit: int, now: datetime) -> int:
    """Step 1 for at most ``limit`` of the oldest expired segments; how many went."""
    statement = (
        select(SegmentRow.id, SegmentRow.blob_name, SegmentRow.start_ms, SegmentRow.duration_ms)
        .where(
            SegmentRow.video_id == expiry.video_id,
            SegmentRow.start_ms < expiry.cutoff_ms,
            SegmentRow.start_ms + SegmentRow.duration_ms <= expiry.cutoff_ms,
        )
        .order_by(SegmentRow.start_ms)
        .limit(limit)
    )
    rows = (await session.execute(statement)).all()
    if not rows:
        return 0
    container = archive_layout.container_name(expiry.video_id)
    session.add_all(BlobTombstoneRow(container=container, blob_name=row[1], created_at=now) for row in rows)
    await session.execute(delete(SegmentRow).where(SegmentRow.id.in_([row[0] for row in rows])))
    days = {day for row in rows for day in coverage.days_touched(row[2], row[3])}
    await coverage.recount(session, expiry.video_id, days)
    if not await segment_index.holds_segments(session, expiry.video_id):
        await segment_index.set_has_data(session, expiry.video_id, False)
    return len(rows)


async def purge(services: CloudServices, limit: int) -> int:
    """Step 2 for at most ``limit`` tombstones: delete their blobs, then them; how many."""
    async with services.sessions.begin() as session:
        statement = select(BlobTombstoneRow).order_by(BlobTombstoneRow.id).limit(limit)
        tombstones = [(t.id, t.container, t.blob_name) for t in (await session.execute(statement)).scalars()]
    for _, container, name in tombstones:
        with contextlib.suppress(BlobNotFound, ContainerNotFound):  # already gone: done
            await services.blobs.delete(container, name)
    if tombstones:
        async with services.sessions.begin() as session:
            ids = [tombstone_id for tombstone_id, _, _ in tombstones]
            await session.execute(delete(BlobTombstoneRow).where(BlobTombstoneRow.id.in_(ids)))
    return len(tombstones)
