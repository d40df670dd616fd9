"""Segment index: init segments per codec configuration and media segments per video.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def _video() -> sa.ForeignKey:
    return sa.ForeignKey("resources.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "init_segments",
        sa.Column("video_id", sa.String(36), _video(), primary_key=True),
        sa.Column("config_hash", sa.String(64), primary_key=True),
        sa.Column("blob_name", sa.String(1024), nullable=False),
        sa.Column("codec", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("timescale", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "segments",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("video_id", sa.String(36), _video(), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("blob_name", sa.String(1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("config_hash", sa.String(64), nullable=False),
        sa.Column("gap_before", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.UniqueConstraint("video_id", "start_ms", "sequence", name="uq_segments_position"),
    )
    op.create_index("ix_segments_video_start", "segments", ["video_id", "start_ms"])


def downgrade() -> None:
    op.drop_table("segments")
    op.drop_table("init_segments")
