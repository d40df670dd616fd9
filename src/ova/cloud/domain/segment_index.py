"""The segment index: what is stored for each video, queried by time and never by listing storage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ova.cloud.db.models import InitSegmentRow, ResourceRow, SegmentRow
from ova.cloud.domain import coverage
from ova.media.timeline import is_boundary

# Segments are at most five minutes long (the original's PT5M); a window query looks back this
# far before its start so the range query stays on the (video, start) index.
MAX_SEGMENT_MS = 6 * 60 * 1000

# What a ``StoredSegment`` holds, in its field order: selected as plain columns, so a window of
# thousands of segments is read without building (and then discarding) an ORM object per row.
SEGMENT_COLUMNS = (
    SegmentRow.start_ms,
    SegmentRow.duration_ms,
    SegmentRow.sequence,
    SegmentRow.blob_name,
    SegmentRow.size,
    SegmentRow.sha256,
    SegmentRow.config_hash,
    SegmentRow.gap_before,
    SegmentRow.ordinal,
    SegmentRow.discontinuity,
    SegmentRow.run_start_ms,
)


@dataclass(frozen=True)
class StoredInit:
    config_hash: str
    blob_name: str
    codec: str
    width: int
    height: int
    timescale: int


@dataclass(frozen=True)
class StoredSegment:
    start_ms: int
    duration_ms: int
    sequence: int
    blob_name: str
    size: int
    sha256: str
    config_hash: str
    gap_before: bool
    # Assigned by the index on insert (see ``numbered``); not part of what was recorded.
    ordinal: int = field(default=0, compare=False)
    discontinuity: int = field(default=0, compare=False)
    run_start_ms: int = field(default=0, compare=False)


async def add_init(session: AsyncSession, video_id: str, init: StoredInit, now: datetime) -> None:
    """Record a codec configuration; recording the same one again changes nothing."""
    values = dict(
        video_id=video_id,
        config_hash=init.config_hash,
        blob_name=init.blob_name,
        codec=init.codec,
        width=init.width,
        height=init.height,
        timescale=init.timescale,
        created_at=now,
    )
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(insert(InitSegmentRow).values(**values).on_conflict_do_nothing())


async def add_segment(session: AsyncSession, video_id: str, segment: StoredSegment, now: datetime) -> None:
    """Index a stored segment, numbered after the newest one, and count it in its days' coverage."""
    numbered = await number(session, video_id, segment)
    session.add(SegmentRow(video_id=video_id, created_at=now, **numbered.__dict__))
    await coverage.add(session, video_id, numbered.start_ms, numbered.duration_ms, numbered.size)
    await set_has_data(session, video_id, True)
    await session.flush()


async def set_has_data(session: AsyncSession, video_id: str, has_data: bool) -> None:
    """Record on the video whether it holds media (its ``flags.hasData``)."""
    video = await session.get(ResourceRow, video_id)
    internal = video.document.get("internal", {}) if video is not None else {}
    if video is not None and bool(internal.get("hasData")) != has_data:
        video.document = {**video.document, "internal": {**internal, "hasData": has_data}}


async def holds_segments(session: AsyncSession, video_id: str) -> bool:
    statement = select(SegmentRow.id).where(SegmentRow.video_id == video_id).limit(1)
    return (await session.execute(statement)).first() is not None


async def number(session: AsyncSession, video_id: str, segment: StoredSegment) -> StoredSegment:
    """``segment`` with its stable numbers: one past the newest segment's ordinal, and its
    discontinuity count and run start carried on, or a new run where the timeline starts one.
    A segment indexed later than a newer one (a late upload) still takes the next ordinal."""
    statement = (
        select(*SEGMENT_COLUMNS)
        .where(SegmentRow.video_id == video_id)
        .order_by(SegmentRow.start_ms.desc(), SegmentRow.sequence.desc())
        .limit(1)
    )
    row = (await session.execute(statement)).first()
    if row is None:
        return replace(segment, ordinal=0, discontinuity=0, run_start_ms=segment.start_ms)
    newest = StoredSegment(*row)
    boundary = is_boundary(
        newest.start_ms + newest.duration_ms,
        newest.config_hash,
        segment.start_ms,
        segment.config_hash,
        segment.gap_before,
    )
    return replace(
        segment,
        ordinal=newest.ordinal + 1,
        discontinuity=newest.discontinuity + int(boundary),
        run_start_ms=segment.start_ms if boundary else newest.run_start_ms,
    )


async def window(session: AsyncSession, video_id: str, start_ms: int, end_ms: int) -> list[StoredSegment]:
    """Segments overlapping ``[start_ms, end_ms)``, oldest first."""
    statement = (
        select(*SEGMENT_COLUMNS)
        .where(
            SegmentRow.video_id == video_id,
            SegmentRow.start_ms > start_ms - MAX_SEGMENT_MS,
            SegmentRow.start_ms < end_ms,
        )
        .order_by(SegmentRow.start_ms, SegmentRow.sequence)
    )
    rows = (await session.execute(statement)).all()  # rows unpack like tuples
    return [StoredSegment(*row) for row in rows if row[0] + row[1] > start_ms]


async def newest_end_ms(session: AsyncSession, video_id: str) -> int | None:
    """The end of the newest media. Only segments starting within ``MAX_SEGMENT_MS`` of the newest
    start can end last, so both steps are (video, start) index range scans. They are two
    statements on purpose: with the bound as a subquery, PostgreSQL plans a sequential scan."""
    newest_start = select(func.max(SegmentRow.start_ms)).where(SegmentRow.video_id == video_id)
    start = (await session.execute(newest_start)).scalar_one_or_none()
    if start is None:
        return None
    statement = select(func.max(SegmentRow.start_ms + SegmentRow.duration_ms)).where(
        SegmentRow.video_id == video_id, SegmentRow.start_ms > int(start) - MAX_SEGMENT_MS
    )
    value = (await session.execute(statement)).scalar_one_or_none()
    return int(value) if value is not None else None


async def segment_at(
    session: AsyncSession, video_id: str, start_ms: int, sequence: int
) -> StoredSegment | None:
    statement = select(SegmentRow).where(
        SegmentRow.video_id == video_id, SegmentRow.start_ms == start_ms, SegmentRow.sequence == sequence
    )
    row = (await session.execute(statement)).scalar_one_or_none()
    return to_stored(row) if row is not None else None


async def inits(
    session: AsyncSession, video_id: str, hashes: Sequence[str] | None = None
) -> dict[str, StoredInit]:
    statement = select(InitSegmentRow).where(InitSegmentRow.video_id == video_id)
    if hashes is not None:
        statement = statement.where(InitSegmentRow.config_hash.in_(set(hashes)))
    return {
        row.config_hash: StoredInit(
            row.config_hash, row.blob_name, row.codec, row.width, row.height, row.timescale
        )
        for row in (await session.execute(statement)).scalars()
    }


async def last_sequence(session: AsyncSession, video_id: str) -> int:
    statement = select(func.max(SegmentRow.sequence)).where(SegmentRow.video_id == video_id)
    value = (await session.execute(statement)).scalar_one_or_none()
    return int(value) if value is not None else 0


def to_stored(row: SegmentRow) -> StoredSegment:
    return StoredSegment(
        start_ms=row.start_ms,
        duration_ms=row.duration_ms,
        sequence=row.sequence,
        blob_name=row.blob_name,
        size=row.size,
        sha256=row.sha256,
        config_hash=row.config_hash,
        gap_before=row.gap_before,
        ordinal=row.ordinal,
        discontinuity=row.discontinuity,
        run_start_ms=row.run_start_ms,
    )
