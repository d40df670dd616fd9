"""Operator credentials for the management and hub families.

``OperatorAuthenticator`` is the seam: API keys are one implementation; an OIDC issuer
can be another, tried in turn by ``ChainAuthenticator``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ova.auth import api_key
from ova.cloud.db.models import ApiKeyRow
from ova.cloud.domain.arm import Principal
from ova.common.clock import Clock


class OperatorAuthenticator(Protocol):
    async def authenticate(self, bearer: str) -> Principal | None:
        """The principal a bearer credential stands for, or ``None`` when it is not valid."""
        ...


class ApiKeyAuthenticator:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def authenticate(self, bearer: str) -> Principal | None:
        key = api_key.parse(bearer)
        if key is None:
            return None
        async with self._sessions() as session:
            row = await session.get(ApiKeyRow, key.key_id)
        if row is None or row.revoked_at is not None or not api_key.matches(key, row.secret_hash):
            return None
        return Principal(name=f"key:{row.label or row.id}", type="Key")


class ChainAuthenticator:
    def __init__(self, authenticators: Sequence[OperatorAuthenticator]) -> None:
        self._authenticators = list(authenticators)

    async def authenticate(self, bearer: str) -> Principal | None:
        for authenticator in self._authenticators:
            principal = await authenticator.authenticate(bearer)
            if principal is not None:
                return principal
        return None


async def create_key(session: AsyncSession, clock: Clock, label: str) -> str:
    """Store a new key and return its value, which is shown once and never again."""
    key = api_key.generate()
    session.add(
        ApiKeyRow(id=key.key_id, secret_hash=key.secret_hash, label=label[:128], created_at=clock.now())
    )
    await session.flush()
    return key.value


async def revoke_key(session: AsyncSession, clock: Clock, key_id: str) -> bool:
    row = await session.get(ApiKeyRow, key_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = clock.now()
    await session.flush()
    return True


async def list_keys(session: AsyncSession) -> list[ApiKeyRow]:
    return list((await session.execute(select(ApiKeyRow).order_by(ApiKeyRow.created_at))).scalars())


async def is_live(session: AsyncSession, value: str) -> bool:
    """Whether ``value`` is a stored, unrevoked key (its secret checked against the stored hash)."""
    key = api_key.parse(value)
    if key is None:
        return False
    row = await session.get(ApiKeyRow, key.key_id)
    return row is not None and row.revoked_at is None and api_key.matches(key, row.secret_hash)


async def revoke_labelled(session: AsyncSession, clock: Clock, label: str) -> int:
    """Revoke every live key carrying ``label``; how many were."""
    statement = select(ApiKeyRow).where(ApiKeyRow.label == label, ApiKeyRow.revoked_at.is_(None))
    rows = list((await session.execute(statement)).scalars())
    for row in rows:
        row.revoked_at = clock.now()
    await session.flush()
    return len(rows)
