"""What every management handler needs: the operator, the api-version check, a transaction.

Operator credentials are compared in constant time (``ova.auth.api_key``), and refused ones
are throttled per client address (``CredentialThrottle``: 401 up to
``credential_throttle.failures_per_client`` per window, then 429 with ``Retry-After``,
while a key seen valid recently still gets in).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from ova.cloud.domain import accounts
from ova.cloud.domain.arm import API_VERSION, AccountScope, Principal
from ova.cloud.domain.credential_throttle import CredentialThrottle
from ova.cloud.domain.operator_keys import OperatorAuthenticator
from ova.cloud.domain.resources import KindContext
from ova.cloud.domain.services import CloudServices
from ova.common.errors import Unauthenticated, ValidationFailed

MAX_BEARER_LENGTH = 8192
MAX_JSON_DEPTH = 64
"""Deepest nesting a request body may have (topologies need about ten levels)."""


def services_of(request: Request) -> CloudServices:
    services: CloudServices = request.app.state.services
    return services


async def operator(request: Request) -> Principal:
    """FastAPI dependency: the authenticated operator, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()[: MAX_BEARER_LENGTH + 1]
    client = request.client.host if request.client else "unknown"
    with operator_throttle(request).guard(client, credential):
        if scheme.lower() != "bearer" or not credential or len(credential) > MAX_BEARER_LENGTH:
            raise Unauthenticated("An operator credential is required (Authorization: Bearer <key>).")
        authenticator: OperatorAuthenticator = request.app.state.authenticator
        principal = await authenticator.authenticate(credential)
        if principal is None:
            raise Unauthenticated("The operator credential is not valid.")
    return principal


def operator_throttle(request: Request) -> CredentialThrottle:
    """The management family's throttle of refused operator credentials."""
    settings = services_of(request).settings.credential_throttle
    return CredentialThrottle.shared(request.app.state, "operator_throttle", settings)


def check_api_version(request: Request) -> None:
    """FastAPI dependency: ARM requires ``api-version`` on every call."""
    version = request.query_params.get("api-version")
    if version is None:
        raise ValidationFailed(
            "The api-version query parameter is required.", code="MissingApiVersionParameter"
        )
    if version != API_VERSION:
        raise ValidationFailed(
            f"The api-version '{version[:32]}' is not supported; use '{API_VERSION}'.",
            code="InvalidApiVersionParameter",
        )


@asynccontextmanager
async def transaction(request: Request) -> AsyncIterator[AsyncSession]:
    async with services_of(request).sessions.begin() as session:
        yield session


@asynccontextmanager
async def in_account(request: Request, scope: AccountScope, who: Principal) -> AsyncIterator[KindContext]:
    """A transaction with the account loaded; 404 when the account does not exist."""
    async with transaction(request) as session:
        account = await accounts.get(session, scope)
        yield KindContext(services=services_of(request), session=session, account=account, principal=who)


async def json_body(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The JSON object body (empty when absent and not required), or a 400."""
    raw = await request.body()
    if not raw.strip():
        if required:
            raise ValidationFailed("A JSON request body is required.", target="body")
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValidationFailed("The request body is not valid JSON.", target="body") from None
    if not isinstance(value, dict):
        raise ValidationFailed("The request body must be a JSON object.", target="body")
    if nested_deeper_than(value, MAX_JSON_DEPTH):
        raise ValidationFailed(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.", target="body")
    return value


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` (parsed JSON) has objects or arrays nested over ``limit`` deep.

    Walked with an explicit stack, so a deep document cannot exhaust Python's own.
    """
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        if children and depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False
