"""Edge modules and their single-use provisioning tokens."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ova.auth.service_tokens import PROVISIONING, InvalidServiceToken, ServiceTokenSigner
from ova.cloud.db.models import ProvisioningTokenRow, ResourceRow
from ova.cloud.domain.resources import Document, KindContext, ResourceKind, get, register
from ova.cloud.settings import Family
from ova.common.clock import isoformat
from ova.common.errors import ValidationFailed
from ova.contracts.arm_resources import ProvisioningTokenRequest
from ova.contracts.model_errors import parse_model

MAX_TOKEN_LIFETIME = timedelta(days=365)


class EdgeModuleKind(ResourceKind):
    collection = "edgeModules"
    noun = "edge module"
    max_per_account = 1000
    patchable = False
    read_only_properties = frozenset({"edgeModuleId"})

    async def prepare(
        self, ctx: KindContext, name: str, body: Mapping[str, Any], existing: ResourceRow | None
    ) -> Document:
        if body.get("properties"):
            raise ValidationFailed("An edge module has no writable properties.", target="properties")
        module_id = existing.document["internal"]["edgeModuleId"] if existing else str(uuid.uuid4())
        return {"properties": {}, "internal": {"edgeModuleId": module_id}}

    async def render_properties(self, ctx: KindContext, row: ResourceRow) -> Document:
        return {"edgeModuleId": row.document["internal"]["edgeModuleId"]}


def parse_expiration(body: Mapping[str, Any], now: datetime) -> datetime:
    request = parse_model(ProvisioningTokenRequest, body, "")
    try:
        expires = datetime.fromisoformat(request.expiration_date.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            "expirationDate must be an ISO 8601 date and time.", target="expirationDate"
        ) from None
    if expires.tzinfo is None:
        raise ValidationFailed(
            "expirationDate must carry a time zone (for example Z).", target="expirationDate"
        )
    if expires <= now or expires - now > MAX_TOKEN_LIFETIME:
        raise ValidationFailed(
            "expirationDate must be in the future and at most 365 days away.", target="expirationDate"
        )
    return expires


async def list_provisioning_token(ctx: KindContext, name: str, body: Mapping[str, Any]) -> Document:
    """Issue a token that lets one edge module instance make its first handshake, once."""
    row = await get(ctx.session, ctx.account, KIND, name)
    now = ctx.services.clock.now()
    expires = parse_expiration(body, now)
    jti = str(uuid.uuid4())
    claims = {
        "sub": f"{ctx.account_arm_id()}/edgeModules/{row.name}",
        "edgeModuleId": row.document["internal"]["edgeModuleId"],
        "jti": jti,
        "iat": int(now.timestamp()),
    }
    edge_base = ctx.services.urls.bases.get(Family.EDGE)
    if edge_base:
        claims["iss"] = f"{edge_base}/edge"  # where the module shakes hands: it needs only the token
    token = ctx.services.tokens.issue(PROVISIONING, claims, expires)
    ctx.session.add(ProvisioningTokenRow(jti=jti, resource_id=row.id, expires_at=expires, created_at=now))
    await ctx.session.flush()
    return {"token": token, "expirationDate": isoformat(expires)}


async def redeem_provisioning_token(
    session: AsyncSession, signer: ServiceTokenSigner, token: str, now: datetime
) -> ResourceRow:
    """Consume a provisioning token; the edge module it names, or ``InvalidServiceToken``.

    A token works once: the update below succeeds for exactly one caller even when two
    instances race. Deleting the edge module deleted its tokens, so they fail here too.
    """
    claims = signer.verify(PROVISIONING, token, now)
    jti = claims.get("jti")
    if not isinstance(jti, str):
        raise InvalidServiceToken("The token is invalid.")
    consumed = await session.execute(
        update(ProvisioningTokenRow)
        .where(ProvisioningTokenRow.jti == jti, ProvisioningTokenRow.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    if consumed.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidServiceToken("The token is invalid or was already used.")
    statement = select(ResourceRow).join(
        ProvisioningTokenRow, ProvisioningTokenRow.resource_id == ResourceRow.id
    )
    row = (await session.execute(statement.where(ProvisioningTokenRow.jti == jti))).scalar_one()
    if row.document["internal"]["edgeModuleId"] != claims.get("edgeModuleId"):
        raise InvalidServiceToken("The token is invalid.")
    return row


KIND = register(EdgeModuleKind())
