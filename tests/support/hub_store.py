"""A hub store on a fresh SQLite file (the hub's tables only) and a real AES-GCM key wrapper."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from ova.cloud.key_encryption import KeyEncryptionKey
from ova.hub.store import HubBase


async def open_store(tmp_path: Path) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(HubBase.metadata.create_all)
    return engine, async_sessionmaker(engine, expire_on_commit=False)


def key_wrapper() -> KeyEncryptionKey:
    return KeyEncryptionKey(secrets.token_bytes(32))
