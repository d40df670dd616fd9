"""Tables of the cloud's metadata store.

Accounts are tracked resources of their own; every nested ARM resource (videos, access
policies, edge modules, pipeline topologies, live pipelines, pipeline jobs) is a row of
``resources`` told apart by ``kind``: their shared life cycle (names, systemData, paging,
deletion with the account) lives in one place, and each kind's own rules live in its
domain module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(64))
    resource_group: Mapped[str] = mapped_column(String(90))
    resource_group_key: Mapped[str] = mapped_column(String(90))
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64), unique=True)
    location: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))
    modified_at: Mapped[datetime]
    modified_by: Mapped[str] = mapped_column(String(128))

    __table_args__ = (Index("ix_accounts_scope", "subscription_id", "resource_group_key"),)


class ResourceRow(Base):
    __tablename__ = "resources"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(260))
    name_key: Mapped[str] = mapped_column(String(260))
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))
    modified_at: Mapped[datetime]
    modified_by: Mapped[str] = mapped_column(String(128))

    __table_args__ = (UniqueConstraint("account_id", "kind", "name_key", name="uq_resources_name"),)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class ProvisioningTokenRow(Base):
    __tablename__ = "provisioning_tokens"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]


class OperationRow(Base):
    """A long-running operation as ARM pollers see it (``operationStatuses/{id}``)."""

    __tablename__ = "operations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class SigningKeyRow(Base):
    """The service's own token-signing keys; the newest unretired one signs."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16))
    private_pem: Mapped[str] = mapped_column(String(4096))
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class InitSegmentRow(Base):
    """One codec configuration of a video: the init segment players fetch before its media."""

    __tablename__ = "init_segments"

    video_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True)
    config_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    blob_name: Mapped[str] = mapped_column(String(1024))
    codec: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    timescale: Mapped[int]
    created_at: Mapped[datetime]


class SegmentRow(Base):
    """One stored media segment: manifests for any window are range queries over these rows."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    video_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    start_ms: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[int]
    sequence: Mapped[int] = mapped_column(BigInteger)
    blob_name: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    config_hash: Mapped[str] = mapped_column(String(64))
    gap_before: Mapped[bool]
    created_at: Mapped[datetime]
    # Stable numbers for players (assigned on insert from the newest segment before it): the
    # segment's place in the video (HLS media sequence number), how many run boundaries lie
    # before it (HLS discontinuity sequence, DASH Period id) and where its run began.
    ordinal: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    discontinuity: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    run_start_ms: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    __table_args__ = (
        UniqueConstraint("video_id", "start_ms", "sequence", name="uq_segments_position"),
        Index("ix_segments_video_start", "video_id", "start_ms"),
    )


class SegmentDayRow(Base):
    """Per-day coverage of a video's index (UTC days a segment touches), kept with every insert
    and retention delete so day, month and year navigation never reads the segments."""

    __tablename__ = "segment_days"

    video_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True)
    day_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    first_start_ms: Mapped[int] = mapped_column(BigInteger)
    last_end_ms: Mapped[int] = mapped_column(BigInteger)
    segment_count: Mapped[int] = mapped_column(BigInteger)
    total_bytes: Mapped[int] = mapped_column(BigInteger)


class RecordingLeaseRow(Base):
    """A recorder writing into a video holds this lease and renews it; the video is in use (and
    its open-ended manifests are live) only while the lease has not expired."""

    __tablename__ = "recording_leases"

    video_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class BlobTombstoneRow(Base):
    """A blob whose index row is already gone and which is deleted next (retention): written in
    the transaction that deletes the row, removed once the blob is, so a crash leaks nothing."""

    __tablename__ = "blob_tombstones"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    container: Mapped[str] = mapped_column(String(128))
    blob_name: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[datetime]


class EdgeModuleInstanceRow(Base):
    """One running copy of an edge module, made by a provisioning handshake (edge-integration family)."""

    __tablename__ = "edge_module_instances"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[str] = mapped_column(String(64))
    module_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("resource_id", "instance_id", name="uq_edge_module_instances"),)


class ModuleKeyRow(Base):
    """A module key of one instance, sealed by the key-encryption key; a rotated-out key keeps
    working until ``superseded_at`` plus the grace period."""

    __tablename__ = "module_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    instance_row_id: Mapped[str] = mapped_column(
        ForeignKey("edge_module_instances.id", ondelete="CASCADE"), index=True
    )
    sealed_key: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    superseded_at: Mapped[datetime | None]


class TelemetryReportRow(Base):
    """One usage and health report an edge module sent to the telemetry family."""

    __tablename__ = "telemetry_reports"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    edge_module_id: Mapped[str] = mapped_column(String(64), index=True)
    instance_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
    period_end: Mapped[str] = mapped_column(String(40))
    active_live_pipelines: Mapped[int]
    segments_recorded: Mapped[int] = mapped_column(BigInteger)
    segments_uploaded: Mapped[int] = mapped_column(BigInteger)
    bytes_uploaded: Mapped[int] = mapped_column(BigInteger)
    data_dropped: Mapped[int] = mapped_column(BigInteger)
    report: Mapped[dict[str, Any]]
