"""Per-day coverage of a video's segment index: which UTC days hold media, kept as segments come
and go, so ``availableMedia`` at day, month or year precision reads a few dozen rows instead of
every segment of a month.

A segment counts towards each UTC day it touches (the day of its start and the day of its last
millisecond; segments are minutes long, so at most two). ``add`` runs in the transaction that
indexes a segment; ``recount`` in the one that deletes segments (retention).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, case, delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped

from ova.cloud.db.models import SegmentDayRow, SegmentRow

DAY_MS = 86_400_000
# As segment_index.MAX_SEGMENT_MS: how far before a day a segment touching it may start.
LOOK_BACK_MS = 6 * 60 * 1000


def days_touched(start_ms: int, duration_ms: int) -> list[int]:
    """The UTC midnights (epoch ms) of the days a segment touches."""
    first = start_ms // DAY_MS * DAY_MS
    last = (start_ms + max(duration_ms, 1) - 1) // DAY_MS * DAY_MS
    return list(range(first, last + 1, DAY_MS))


async def add(session: AsyncSession, video_id: str, start_ms: int, duration_ms: int, size: int) -> None:
    """Count one new segment in the days it touches."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    end_ms = start_ms + duration_ms
    for day_ms in days_touched(start_ms, duration_ms):
        statement = insert(SegmentDayRow).values(
            video_id=video_id,
            day_ms=day_ms,
            first_start_ms=start_ms,
            last_end_ms=end_ms,
            segment_count=1,
            total_bytes=size,
        )
        new = statement.excluded
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[SegmentDayRow.video_id, SegmentDayRow.day_ms],
                set_={
                    "first_start_ms": least(SegmentDayRow.first_start_ms, new.first_start_ms),
                    "last_end_ms": greatest(SegmentDayRow.last_end_ms, new.last_end_ms),
                    "segment_count": SegmentDayRow.segment_count + 1,
                    "total_bytes": SegmentDayRow.total_bytes + new.total_bytes,
                },
            )
        )


def least(a: ColumnElement[int] | Mapped[int], b: ColumnElement[int]) -> ColumnElement[int]:
    return case((a < b, a), else_=b)


def greatest(a: ColumnElement[int] | Mapped[int], b: ColumnElement[int]) -> ColumnElement[int]:
    return case((a > b, a), else_=b)


async def recount(session: AsyncSession, video_id: str, days: Iterable[int]) -> None:
    """Recompute the coverage of ``days`` from the segments left (after a delete)."""
    for day_ms in sorted(set(days)):
        touching = (
            SegmentRow.video_id == video_id,
            SegmentRow.start_ms > day_ms - LOOK_BACK_MS,
            SegmentRow.start_ms < day_ms + DAY_MS,
            SegmentRow.start_ms + SegmentRow.duration_ms > day_ms,
        )
        totals = select(
            func.min(SegmentRow.start_ms),
            func.max(SegmentRow.start_ms + SegmentRow.duration_ms),
            func.count(),
            func.coalesce(func.sum(SegmentRow.size), literal(0)),
        ).where(*touching)
        first, last, count, size = (await session.execute(totals)).one()
        key = (SegmentDayRow.video_id == video_id, SegmentDayRow.day_ms == day_ms)
        await session.execute(delete(SegmentDayRow).where(*key))
        if count:
            session.add(
                SegmentDayRow(
                    video_id=video_id,
                    day_ms=day_ms,
                    first_start_ms=int(first),
                    last_end_ms=int(last),
                    segment_count=int(count),
                    total_bytes=int(size),
                )
            )
    await session.flush()


async def days_with_media(session: AsyncSession, video_id: str, start_ms: int, end_ms: int) -> list[int]:
    """UTC midnights of the days in ``[start_ms, end_ms)`` holding media, oldest first."""
    statement = (
        select(SegmentDayRow.day_ms)
        .where(
            SegmentDayRow.video_id == video_id,
            SegmentDayRow.day_ms > start_ms - DAY_MS,
            SegmentDayRow.day_ms < end_ms,
        )
        .order_by(SegmentDayRow.day_ms)
    )
    return [int(day) for day in (await session.execute(statement)).scalars()]


async def rebuild(session: AsyncSession, video_id: str) -> None:
    """Coverage of a video rebuilt from its segments (after a bulk load that bypassed ``add``)."""
    await session.execute(delete(SegmentDayRow).where(SegmentDayRow.video_id == video_id))
    bounds = select(func.min(SegmentRow.start_ms), func.max(SegmentRow.start_ms)).where(
        SegmentRow.video_id == video_id
    )
    low, high = (await session.execute(bounds)).one()
    if low is None:
        return
    await recount(session, video_id, range(int(low) // DAY_MS * DAY_MS, int(high) + DAY_MS, DAY_MS))
