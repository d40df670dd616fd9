"""Edge link: edge module instances, their sealed module keys, telemetry reports.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "edge_module_instances",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "resource_id", sa.String(36), sa.ForeignKey("resources.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.Column("module_version", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.UniqueConstraint("resource_id", "instance_id", name="uq_edge_module_instances"),
    )
    op.create_index("ix_edge_module_instances_resource_id", "edge_module_instances", ["resource_id"])
    op.create_table(
        "module_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column(
            "instance_row_id",
            sa.String(36),
            sa.ForeignKey("edge_module_instances.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("sealed_key", sa.String(512), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("superseded_at", _TS, nullable=True),
    )
    op.create_index("ix_module_keys_instance_row_id", "module_keys", ["instance_row_id"])
    op.create_table(
        "telemetry_reports",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("edge_module_id", sa.String(64), nullable=False),
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("period_end", sa.String(40), nullable=False),
        sa.Column("active_live_pipelines", sa.Integer(), nullable=False),
        sa.Column("segments_recorded", sa.BigInteger(), nullable=False),
        sa.Column("segments_uploaded", sa.BigInteger(), nullable=False),
        sa.Column("bytes_uploaded", sa.BigInteger(), nullable=False),
        sa.Column("data_dropped", sa.BigInteger(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
    )
    op.create_index("ix_telemetry_reports_edge_module_id", "telemetry_reports", ["edge_module_id"])


def downgrade() -> None:
    for table in ("telemetry_reports", "module_keys", "edge_module_instances"):
        op.drop_table(table)
