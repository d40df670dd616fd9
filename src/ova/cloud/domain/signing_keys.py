"""The service's token-signing keys, kept in the metadata store so every replica shares them.

The private key is never stored in plain text: the ``private_pem`` column holds it sealed by
the key-encryption key (``ova.cloud.key_encryption``), the ``kid`` bound in as associated
data. Keys an older version stored as plain PEM are sealed at start-up, retired ones too.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ova.auth.service_tokens import ALGORITHM, SigningKey
from ova.cloud.db.models import SigningKeyRow
from ova.cloud.key_encryption import KeyEncryptionKey, is_sealed
from ova.common.clock import Clock


async def load_or_create(session: AsyncSession, clock: Clock, kek: KeyEncryptionKey) -> list[SigningKey]:
    """Unretired keys, newest first; seals plain keys and creates the first key of a new deployment."""
    await seal_plain_keys(session, kek)
    statement = (
        select(SigningKeyRow)
        .where(SigningKeyRow.retired_at.is_(None))
        .order_by(SigningKeyRow.created_at.desc())
    )
    rows = list((await session.execute(statement)).scalars())
    if not rows:
        return [await rotate(session, clock, kek)]
    return [SigningKey.from_pem(row.kid, kek.open(row.private_pem, row.kid)) for row in rows]


async def rotate(session: AsyncSession, clock: Clock, kek: KeyEncryptionKey) -> SigningKey:
    """Add a new signing key; older keys keep verifying until retired."""
    key = SigningKey.generate()
    sealed = kek.seal(key.to_pem(), key.kid)
    session.add(SigningKeyRow(kid=key.kid, alg=ALGORITHM, private_pem=sealed, created_at=clock.now()))
    await session.flush()
    return key


async def seal_plain_keys(session: AsyncSession, kek: KeyEncryptionKey) -> int:
    """Seal every key still stored as plain PEM (written by an older version); how many were."""
    rows = [row for row in (await session.execute(select(SigningKeyRow))).scalars()]
    plain = [row for row in rows if not is_sealed(row.private_pem)]
    for row in plain:
        row.private_pem = kek.seal(row.private_pem, row.kid)
    await session.flush()
    return len(plain)
