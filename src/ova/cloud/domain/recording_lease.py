"""Recording leases: how the service knows a video is being recorded right now.

A recorder (a cloud live pipeline or ``ova record``) takes the video's lease when it starts,
renews it while it runs and drops it when it stops (end of ``--seconds``, SIGTERM/SIGINT,
deactivation; each after the last segment is flushed). A recorder that dies without dropping
it stops renewing, and the lease expires on its own. While the lease holds, the video's
``isInUse`` flag is true and its open-ended manifests are live (HLS ``EVENT`` without
``EXT-X-ENDLIST``, a dynamic MPD); otherwise they are video on demand.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ova.cloud.db.models import RecordingLeaseRow

# A recorder renews its lease this often and the lease lasts two segment lengths plus this
# slack, so a crashed recorder's video stops playing as live within about two segments.
SLACK = timedelta(seconds=10)


def lease_length(segment_ms: int) -> timedelta:
    return timedelta(milliseconds=2 * segment_ms) + SLACK


def renew_every(segment_ms: int) -> float:
    """Seconds between renewals: a few per lease, so one late renewal does not end it."""
    return max(1.0, min(lease_length(segment_ms).total_seconds() / 4, 30.0))


async def hold(session: AsyncSession, video_id: str, holder: str, now: datetime, length: timedelta) -> None:
    """Take or renew the lease of ``video_id`` until ``now + length``."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(RecordingLeaseRow).values(
        video_id=video_id, holder=holder, started_at=now, expires_at=now + length
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[RecordingLeaseRow.video_id],
            set_={"holder": holder, "expires_at": statement.excluded.expires_at},
        )
    )


async def release(session: AsyncSession, video_id: str, holder: str) -> None:
    """Drop the lease, unless another recorder has taken it since."""
    await session.execute(
        delete(RecordingLeaseRow).where(
            RecordingLeaseRow.video_id == video_id, RecordingLeaseRow.holder == holder
        )
    )


async def recording(session: AsyncSession, video_ids: Iterable[str], now: datetime) -> set[str]:
    """Those of ``video_ids`` whose lease holds at ``now``."""
    wanted = set(video_ids)
    if not wanted:
        return set()
    statement = select(RecordingLeaseRow.video_id).where(
        RecordingLeaseRow.video_id.in_(wanted), RecordingLeaseRow.expires_at > now
    )
    return set((await session.execute(statement)).scalars())


async def is_recording(session: AsyncSession, video_id: str, now: datetime) -> bool:
    return video_id in await recording(session, [video_id], now)
