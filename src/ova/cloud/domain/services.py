"""What the domain needs from the deployment, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ova.auth.service_tokens import ServiceTokenSigner
from ova.cloud.settings import CloudSettings, Family
from ova.common.clock import Clock
from ova.storage.blob_store import BlobStore


@dataclass(frozen=True)
class PublicUrls:
    """Where clients reach each endpoint family (absent when no listener serves it)."""

    bases: dict[Family, str]

    @classmethod
    def from_settings(cls, settings: CloudSettings) -> PublicUrls:
        bases = {
            family: listener.base_url() for listener in settings.listeners for family in listener.families
        }
        return cls(bases=bases)

    def client_api(self, account_key: str) -> str | None:
        base = self.bases.get(Family.CLIENT)
        return f"{base}/client/{account_key}" if base else None

    def archive_base(self, account_key: str, video_id: str) -> str | None:
        base = self.bases.get(Family.STREAMING)
        return f"{base}/streaming/{account_key}/videos/{video_id}" if base else None


@dataclass(frozen=True)
class CloudServices:
    settings: CloudSettings
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    urls: PublicUrls
    tokens: ServiceTokenSigner
    blobs: BlobStore
