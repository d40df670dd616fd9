"""Admission to the client family: the customer JWT (throttled per client), network, rate limit.

Refused tokens are counted per client address and throttled by ``CredentialThrottle``: a
client past its budget is answered 429, except that a well-formed token seen valid recently
(or one within the family's check budget) is still checked and, when valid, served. So an
address that many viewers share (a load balancer, a NAT) cannot be locked out by one of
them sending bad tokens. Admitted requests are counted per account.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from ova.auth.customer_jwt import Grant
from ova.auth.errors import InvalidToken
from ova.cloud.db.models import AccountRow
from ova.cloud.domain import network_access
from ova.cloud.domain.arm import Principal
from ova.cloud.domain.client_access import PolicyCache, RateLimiter
from ova.cloud.domain.credential_throttle import CredentialThrottle
from ova.cloud.domain.resources import KindContext
from ova.cloud.domain.services import CloudServices
from ova.common.errors import ValidationFailed

ACCOUNT_KEY = re.compile(r"^[0-9a-f]{32}$")
SUPPORTED_API_VERSIONS = {"2021-11-01-preview", "2021-05-01-preview"}


@dataclass(frozen=True)
class ClientGate:
    policies: PolicyCache
    limiter: RateLimiter
    """Per account: admitted requests only, so strangers cannot use up an account's quota."""
    throttle: CredentialThrottle
    """Per client address: refused tokens, so guessing is throttled before any cryptography."""


def bearer(request: Request) -> str:
    """The bearer credential, or "" when there is none (refused when checked)."""
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    return credential.strip() if scheme.lower() == "bearer" else ""


async def load_account(session: AsyncSession, account_key: str) -> AccountRow:
    """The account a client URL names; an unknown one is refused like a bad token."""
    if not ACCOUNT_KEY.fullmatch(account_key):
        raise InvalidToken
    account = await session.get(AccountRow, str(uuid.UUID(hex=account_key)))
    if account is None:
        raise InvalidToken
    return account


async def admit(
    request: Request, session: AsyncSession, account_key: str, resource_path: str
) -> tuple[KindContext, Grant]:
    """Check everything a client request needs and return the context to serve it in.

    ``resource_path`` is the resource the request acts on (``/videos`` or ``/videos/{name}``),
    which is what token audiences of the resource-pattern kind are matched against.
    """
    services: CloudServices = request.app.state.services
    gate: ClientGate = request.app.state.gate
    client_host = request.client.host if request.client else None
    token = bearer(request)
    with gate.throttle.guard(client_host or "unknown", token):
        account = await load_account(session, account_key)
        network_access.check(
            account.document,
            network_access.Group.CONSUMPTION,
            client_host,
            services.settings.private_networks,
        )
        policies = await gate.policies.policies(session, account.id)
        url = f"{services.urls.client_api(account_key)}{resource_path}"
        if not token:
            raise InvalidToken
        grant = policies.evaluate(token, url, services.clock.now())
    gate.limiter.hit(account.id)
    version = request.query_params.get("api-version")
    if version is not None and version not in SUPPORTED_API_VERSIONS:
        raise ValidationFailed(
            f"The api-version '{version[:32]}' is not supported.", code="InvalidApiVersionParameter"
        )
    principal = Principal(name=f"policy:{grant.policy_name}", type="User")
    return KindContext(services=services, session=session, account=account, principal=principal), grant
