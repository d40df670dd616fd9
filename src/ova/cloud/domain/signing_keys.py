"""The service's token-signing keys, kept in the metadata store so every replica shares them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ova.auth.service_tokens import ALGORITHM, SigningKey
from ova.cloud.db.models import SigningKeyRow
from ova.common.clock import Clock


async def load_or_create(session: AsyncSession, clock: Clock) -> list[SigningKey]:
    """Unretired keys, newest first; creates the first key of a new deployment."""
    statement = (
        select(SigningKeyRow)
        .where(SigningKeyRow.retired_at.is_(None))
        .order_by(SigningKeyRow.created_at.desc())
    )
    rows = list((await session.execute(statement)).scalars())
    if not rows:
        return [await rotate(session, clock)]
    return [SigningKey.from_pem(row.kid, row.private_pem) for row in rows]


async def rotate(session: AsyncSession, clock: Clock) -> SigningKey:
    """Add a new signing key; older keys keep verifying until retired."""
    key = SigningKey.generate()
    session.add(SigningKeyRow(kid=key.kid, alg=ALGORITHM, private_pem=key.to_pem(), created_at=clock.now()))
    await session.flush()
    return key
