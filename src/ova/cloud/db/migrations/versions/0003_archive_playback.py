"""Archive playback: stable segment numbers, per-day coverage, recording leases, blob tombstones.

Existing segments are numbered (ordinal, discontinuity count, run start) in time order per
video with the timeline's run rule, and the per-day coverage is built from them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GAP_TOLERANCE_MS = 500  # as ova.media.timeline at the time of writing
# Days are 86,400,000 ms: a segment counts on the day of its start and of its last millisecond.
BACKFILL_DAYS = """
INSERT INTO segment_days (video_id, day_ms, first_start_ms, last_end_ms, segment_count, total_bytes)
SELECT video_id, day_ms, MIN(start_ms), MAX(start_ms + duration_ms), COUNT(*), SUM(size) FROM (
    SELECT video_id, (start_ms / 86400000) * 86400000 AS day_ms, start_ms, duration_ms, size
    FROM segments
    UNION ALL
    SELECT video_id, ((start_ms + duration_ms - 1) / 86400000) * 86400000, start_ms, duration_ms, size
    FROM segments WHERE (start_ms + duration_ms - 1) / 86400000 <> start_ms / 86400000
) AS touched GROUP BY video_id, day_ms
"""


def _video() -> sa.ForeignKey:
    return sa.ForeignKey("resources.id", ondelete="CASCADE")


def upgrade() -> None:
    for column in ("ordinal", "discontinuity", "run_start_ms"):
        op.add_column("segments", sa.Column(column, sa.BigInteger(), nullable=False, server_default="0"))
    op.create_table(
        "segment_days",
        sa.Column("video_id", sa.String(36), _video(), primary_key=True),
        sa.Column("day_ms", sa.BigInteger(), primary_key=True),
        sa.Column("first_start_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_end_ms", sa.BigInteger(), nullable=False),
        sa.Column("segment_count", sa.BigInteger(), nullable=False),
        sa.Column("total_bytes", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "recording_leases",
        sa.Column("video_id", sa.String(36), _video(), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
    )
    op.create_table(
        "blob_tombstones",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("container", sa.String(128), nullable=False),
        sa.Column("blob_name", sa.String(1024), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    _number_existing_segments()
    op.execute(BACKFILL_DAYS)


def _number_existing_segments() -> None:
    """Ordinal, discontinuity count and run start of every existing segment, per video in time order."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, video_id, start_ms, duration_ms, config_hash, gap_before FROM segments "
            "ORDER BY video_id, start_ms, sequence"
        )
    )
    updates: list[dict[str, int]] = []
    previous: tuple[str, int, str] | None = None  # video, end, config of the segment before
    ordinal = discontinuity = run_start = 0
    for row_id, video_id, start, duration, config, gap in rows:
        if previous is None or previous[0] != video_id:
            ordinal, discontinuity, run_start = 0, 0, start
        else:
            ordinal += 1
            if gap or config != previous[2] or abs(start - previous[1]) > GAP_TOLERANCE_MS:
                discontinuity, run_start = discontinuity + 1, start
        updates.append({"i": row_id, "o": ordinal, "d": discontinuity, "r": run_start})
        previous = (video_id, start + duration, config)
    statement = sa.text(
        "UPDATE segments SET ordinal = :o, discontinuity = :d, run_start_ms = :r WHERE id = :i"
    )
    for offset in range(0, len(updates), 5000):
        bind.execute(statement, updates[offset : offset + 5000])


def downgrade() -> None:
    op.drop_table("blob_tombstones")
    op.drop_table("recording_leases")
    op.drop_table("segment_days")
    with op.batch_alter_table("segments") as batch:
        for column in ("ordinal", "discontinuity", "run_start_ms"):
            batch.drop_column(column)
