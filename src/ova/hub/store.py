"""Tables of the hub: identities, module twins, device-to-cloud messages and hub access policies.

The hub keeps its rows on its own ``HubBase`` (the cloud's migration ``0004`` creates them in
the cloud's database, so one store serves both). A device is the identity row whose
``module_id`` is ``""``; a module names its device. Symmetric keys must stay usable for HMAC,
so they are not hashed: they are sealed by the ``KeyWrapper`` the composition root hands in
(the cloud's AES-GCM key-encryption key), with the identity as associated data, so a sealed
key cannot be moved to another row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DEVICE_MODULE = ""
"""``module_id`` of a device's own row."""
_ID = BigInteger().with_variant(Integer(), "sqlite")


class KeyWrapper(Protocol):
    """Seals secrets for the store (``ova.cloud.key_encryption.KeyEncryptionKey`` is one)."""

    def seal(self, plaintext: str, context: str) -> str: ...

    def open(self, text: str, context: str) -> str: ...


class HubBase(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class IdentityRow(HubBase):
    __tablename__ = "hub_identities"

    device_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    module_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    generation_id: Mapped[str] = mapped_column(String(64))
    etag: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(128))
    managed_by: Mapped[str | None] = mapped_column(String(128))
    primary_key: Mapped[str] = mapped_column(String(512))
    secondary_key: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    status_updated_at: Mapped[datetime]


class TwinRow(HubBase):
    __tablename__ = "hub_twins"

    device_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    module_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tags: Mapped[dict[str, Any]]
    desired: Mapped[dict[str, Any]]
    reported: Mapped[dict[str, Any]]
    desired_version: Mapped[int] = mapped_column(BigInteger)
    reported_version: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str] = mapped_column(String(64))


class MessageRow(HubBase):
    __tablename__ = "hub_messages"

    sequence: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(128))
    module_id: Mapped[str] = mapped_column(String(128))
    enqueued_at: Mapped[datetime]
    properties: Mapped[dict[str, Any]]
    body: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        Index("ix_hub_messages_identity", "device_id", "module_id", "sequence"),
        Index("ix_hub_messages_enqueued", "enqueued_at"),
    )


class PolicyRow(HubBase):
    __tablename__ = "hub_policies"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    rights: Mapped[str] = mapped_column(String(128))
    primary_key: Mapped[str] = mapped_column(String(512))
    secondary_key: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime]


def key_context(kind: str, *names: str) -> str:
    """Associated data of a sealed key: which row and which key it is."""
    return "hub:" + kind + ":" + "/".join(names)
