"""The edge family's credentials: the module-key SAS on every route but the handshake.

Refused credentials (module signatures and provisioning tokens alike) are throttled per client
address by the family's ``CredentialThrottle`` (401 up to ``credential_throttle.failures_per_client``
per window, then 429 with ``Retry-After``; a signature seen valid recently still gets in).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from ova.auth import iot_sas
from ova.cloud.domain.credential_throttle import CredentialThrottle
from ova.cloud.domain.edge_link import module_keys
from ova.cloud.domain.edge_link.link import EdgeLink
from ova.cloud.domain.edge_link.module_keys import ModuleCaller


def link_of(request: Request) -> EdgeLink:
    link: EdgeLink = request.app.state.link
    return link


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def throttle(request: Request) -> CredentialThrottle:
    holder = request.app.state
    existing: CredentialThrottle | None = getattr(holder, "module_throttle", None)
    if existing is None:
        settings = link_of(request).services.settings.credential_throttle
        existing = CredentialThrottle.build(
            settings.failures_per_client, settings.window_seconds, settings, well_formed=well_formed
        )
        holder.module_throttle = existing
    return existing


def well_formed(credential: str) -> bool:
    """A module SAS or a provisioning token (a JWT), by shape only."""
    return credential.startswith(iot_sas.PREFIX) or credential.count(".") == 2


@asynccontextmanager
async def transaction(request: Request) -> AsyncIterator[AsyncSession]:
    async with link_of(request).services.sessions.begin() as session:
        yield session


@asynccontextmanager
async def signed_in(request: Request) -> AsyncIterator[tuple[AsyncSession, ModuleCaller]]:
    """A transaction and the module instance whose key signed the request (401 otherwise)."""
    link = link_of(request)
    authorization = request.headers.get("authorization", "")[: iot_sas.MAX_TOKEN_LENGTH + 1]
    async with transaction(request) as session:
        with throttle(request).guard(client_of(request), authorization):
            caller = await module_keys.authenticate(link, session, authorization)
        yield session, caller
