"""What the edge-integration domain needs beyond the cloud's services: the key-encryption key
(module keys are sealed with it) and the telemetry family's address and key (for the policy)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ova.cloud.domain.services import CloudServices
from ova.cloud.key_encryption import KeyEncryptionKey
from ova.contracts.topology_values import parse_duration


@dataclass(frozen=True)
class EdgeLink:
    services: CloudServices
    kek: KeyEncryptionKey
    telemetry_url: str | None
    """The telemetry family's report URL; None when no listener serves it."""
    telemetry_key: str | None
    """The telemetry pre-shared key; None when telemetry is off."""


def duration(text: str) -> timedelta:
    """A duration the settings validated (ISO 8601)."""
    seconds = parse_duration(text)
    if seconds is None:
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    return timedelta(seconds=seconds)


async def take_write_lock(session: AsyncSession) -> None:
    """On SQLite, make the transaction a writer before it reads what it will write.

    A SQLite transaction that read, then writes after another connection committed, fails at
    once with "database is locked" (its snapshot is stale; the busy timeout does not apply).
    A no-op write first takes the write lock, waiting for it, so racing commits serialize.
    PostgreSQL needs nothing: its unique constraints and row locks decide races.
    """
    if session.bind is not None and session.bind.dialect.name == "sqlite":
        await session.execute(text("UPDATE module_keys SET key_id = key_id WHERE 1 = 0"))
