"""Initial schema: accounts, nested resources, API keys, provisioning tokens, operations, signing keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def _audit_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("modified_at", _TS, nullable=False),
        sa.Column("modified_by", sa.String(128), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("resource_group", sa.String(90), nullable=False),
        sa.Column("resource_group_key", sa.String(90), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("name_key", sa.String(64), nullable=False, unique=True),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        *_audit_columns(),
    )
    op.create_index("ix_accounts_scope", "accounts", ["subscription_id", "resource_group_key"])
    op.create_table(
        "resources",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "account_id", sa.String(36), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(260), nullable=False),
        sa.Column("name_key", sa.String(260), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        *_audit_columns(),
        sa.UniqueConstraint("account_id", "kind", "name_key", name="uq_resources_name"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(128), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
    )
    op.create_table(
        "provisioning_tokens",
        sa.Column("jti", sa.String(36), primary_key=True),
        sa.Column(
            "resource_id", sa.String(36), sa.ForeignKey("resources.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("consumed_at", _TS, nullable=True),
    )
    op.create_index("ix_provisioning_tokens_resource_id", "provisioning_tokens", ["resource_id"])
    op.create_table(
        "operations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("target_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("ended_at", _TS, nullable=True),
    )
    op.create_index("ix_operations_target_id", "operations", ["target_id"])
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("alg", sa.String(16), nullable=False),
        sa.Column("private_pem", sa.String(4096), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("retired_at", _TS, nullable=True),
    )


def downgrade() -> None:
    for table in ("signing_keys", "operations", "provisioning_tokens", "api_keys", "resources", "accounts"):
        op.drop_table(table)
