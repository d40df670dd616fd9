"""The service's signing keys at rest: sealed in the store, old plain ones sealed at start-up, rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ova.auth.service_tokens import ALGORITHM, CONTENT, ServiceTokenSigner, SigningKey
from ova.cloud import key_encryption
from ova.cloud.db.engine import create_engine, session_factory
from ova.cloud.db.models import SigningKeyRow
from ova.cloud.domain import signing_keys
from ova.cloud.key_encryption import KeyEncryptionError, is_sealed
from ova.cloud.runtime import build, prepare_store
from ova.cloud.settings import CloudSettings

CLAIMS = {"sub": "video", "acct": "account"}


def soon() -> datetime:
    return datetime.now(UTC) + timedelta(minutes=5)


async def stored(engine: AsyncEngine) -> dict[str, str]:
    async with session_factory(engine)() as session:
        rows = (await session.execute(select(SigningKeyRow))).scalars()
        return {row.kid: row.private_pem for row in rows}


async def test_keys_an_older_version_stored_in_plain_are_sealed_at_start_up(
    cloud_settings: CloudSettings,
) -> None:
    await prepare_store(cloud_settings)
    old = SigningKey.generate()
    engine = create_engine(cloud_settings.resolved_database_url)
    try:
        async with session_factory(engine).begin() as session:
            row = SigningKeyRow(
                kid=old.kid, alg=ALGORITHM, private_pem=old.to_pem(), created_at=datetime.now()
            )
            session.add(row)
        issued_before = ServiceTokenSigner([old]).issue(CONTENT, CLAIMS, soon())

        cloud = await build(cloud_settings)
        try:
            assert cloud.services.tokens.verify(CONTENT, issued_before, datetime.now(UTC))["sub"] == "video"
        finally:
            await cloud.close()
        [(kid, text)] = (await stored(engine)).items()
    finally:
        await engine.dispose()
    assert kid == old.kid and is_sealed(text) and "PRIVATE KEY" not in text


async def test_after_a_rotation_the_newest_key_signs_and_every_key_verifies(
    cloud_settings: CloudSettings,
) -> None:
    first = await build(cloud_settings)
    try:
        issued_first = first.services.tokens.issue(CONTENT, CLAIMS, soon())
        kek = key_encryption.resolve(cloud_settings)
        async with first.services.sessions.begin() as session:
            newest = await signing_keys.rotate(session, first.services.clock, kek)
    finally:
        await first.close()

    second = await build(cloud_settings)
    try:
        issued_second = second.services.tokens.issue(CONTENT, CLAIMS, soon())
        for token in (issued_first, issued_second):
            assert second.services.tokens.verify(CONTENT, token, datetime.now(UTC))["acct"] == "account"
        assert ServiceTokenSigner([newest]).verify(CONTENT, issued_second, datetime.now(UTC))
        assert all(is_sealed(text) for text in (await stored(second.engine)).values())
    finally:
        await second.close()


async def test_a_store_sealed_under_another_kek_refuses_to_start(cloud_settings: CloudSettings) -> None:
    cloud = await build(cloud_settings)
    await cloud.close()
    (cloud_settings.data_dir / "keys" / "kek").unlink()  # another replica's data directory

    with pytest.raises(KeyEncryptionError, match="replicas sharing a database must share"):
        await build(cloud_settings)
