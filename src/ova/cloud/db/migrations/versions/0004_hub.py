"""Device hub: identities (sealed keys), twins, device-to-cloud messages and hub access policies.

The tables are ``ova.hub.store``'s (the hub's own declarative base); the cloud's store holds them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _identity_columns() -> list[sa.Column[str]]:
    return [
        sa.Column("device_id", sa.String(128), primary_key=True),
        sa.Column("module_id", sa.String(128), primary_key=True),
    ]


def upgrade() -> None:
    op.create_table(
        "hub_identities",
        *_identity_columns(),
        sa.Column("generation_id", sa.String(64), nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.String(128), nullable=True),
        sa.Column("managed_by", sa.String(128), nullable=True),
        sa.Column("primary_key", sa.String(512), nullable=False),
        sa.Column("secondary_key", sa.String(512), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("status_updated_at", _TS, nullable=False),
    )
    op.create_table(
        "hub_twins",
        *_identity_columns(),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("desired", sa.JSON(), nullable=False),
        sa.Column("reported", sa.JSON(), nullable=False),
        sa.Column("desired_version", sa.BigInteger(), nullable=False),
        sa.Column("reported_version", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
    )
    op.create_table(
        "hub_messages",
        sa.Column("sequence", _ID, primary_key=True, autoincrement=True),
        sa.Column("device_id", sa.String(128), nullable=False),
        sa.Column("module_id", sa.String(128), nullable=False),
        sa.Column("enqueued_at", _TS, nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_hub_messages_identity", "hub_messages", ["device_id", "module_id", "sequence"])
    op.create_index("ix_hub_messages_enqueued", "hub_messages", ["enqueued_at"])
    op.create_table(
        "hub_policies",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("rights", sa.String(128), nullable=False),
        sa.Column("primary_key", sa.String(512), nullable=False),
        sa.Column("secondary_key", sa.String(512), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hub_policies")
    op.drop_index("ix_hub_messages_enqueued", "hub_messages")
    op.drop_index("ix_hub_messages_identity", "hub_messages")
    op.drop_table("hub_messages")
    op.drop_table("hub_twins")
    op.drop_table("hub_identities")
