"""Module keys: the symmetric keys that sign every request of an edge module instance after its handshake.

A key is stored sealed by the key-encryption key (its ``keyId`` bound in as associated data),
lives ``edge_api.module_key_lifetime`` and is replaced by ``rotate``: the presented key is then
*superseded* and keeps working for ``edge_api.module_key_grace_period``, so a module whose
rotation answer was lost (or that rotated just before going offline) still gets in. A request
is signed as ``SharedAccessSignature sr={edgeModuleId}&sig=…&se=…&skn={keyId}`` (``ova.auth.iot_sas``),
at most ``MAX_REQUEST_TOKEN_SECONDS`` ahead; the signature is compared in constant time. Deleting
the edge module deletes its instances and keys (foreign keys), so its keys stop working at once.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ova.auth import iot_sas
from ova.cloud.db.models import EdgeModuleInstanceRow, ModuleKeyRow, ResourceRow
from ova.cloud.domain.edge_link.link import EdgeLink, duration, take_write_lock
from ova.common.clock import isoformat
from ova.common.errors import Unauthenticated
from ova.contracts.edge_api import MAX_REQUEST_TOKEN_SECONDS, ModuleKey

MAX_KEYS_PER_INSTANCE = 4
"""Keys kept per instance (the newest, and superseded ones within their grace); older go."""
REFUSED = "The module credential is not valid."


@dataclass(frozen=True)
class ModuleCaller:
    """An authenticated edge module instance."""

    module: ResourceRow
    """The edge module resource."""
    instance: EdgeModuleInstanceRow
    key_id: str

    @property
    def edge_module_id(self) -> str:
        return str(self.module.document["internal"]["edgeModuleId"])


def context(key_id: str) -> str:
    return f"module-key:{key_id}"


async def issue(link: EdgeLink, session: AsyncSession, instance: EdgeModuleInstanceRow) -> ModuleKey:
    """A new key for ``instance``: stored sealed, answered once in plain."""
    now = link.services.clock.now()
    key_id, key = secrets.token_urlsafe(18), iot_sas.new_key()
    expires = now + duration(link.services.settings.edge_api.module_key_lifetime)
    session.add(
        ModuleKeyRow(
            key_id=key_id,
            instance_row_id=instance.id,
            sealed_key=link.kek.seal(key, context(key_id)),
            created_at=now,
            expires_at=expires,
            superseded_at=None,
        )
    )
    await session.flush()
    return ModuleKey(key_id=key_id, key=key, expires_at=isoformat(expires))


async def rotate(link: EdgeLink, session: AsyncSession, caller: ModuleCaller) -> ModuleKey:
    """A new key; the presented one (and any other older key) is superseded and keeps its grace."""
    await take_write_lock(session)
    now = link.services.clock.now()
    rows = await instance_keys(session, caller.instance.id)
    for row in rows:
        if row.superseded_at is None:
            row.superseded_at = now
    key = await issue(link, session, caller.instance)
    await forget_stale(link, session, caller.instance.id, now)
    return key


async def instance_keys(session: AsyncSession, instance_row_id: str) -> list[ModuleKeyRow]:
    """The keys of one instance, newest first."""
    statement = (
        select(ModuleKeyRow)
        .where(ModuleKeyRow.instance_row_id == instance_row_id)
        .order_by(ModuleKeyRow.created_at.desc())
    )
    return list((await session.execute(statement)).scalars())


async def forget_stale(link: EdgeLink, session: AsyncSession, instance_row_id: str, now: datetime) -> None:
    """Delete keys past their grace or expiry, and all but the newest ``MAX_KEYS_PER_INSTANCE``."""
    rows = await instance_keys(session, instance_row_id)
    stale = [row.key_id for row in rows if not is_usable(link, row, now)]
    stale += [row.key_id for row in rows[MAX_KEYS_PER_INSTANCE:] if row.key_id not in stale]
    if stale:
        await session.execute(delete(ModuleKeyRow).where(ModuleKeyRow.key_id.in_(stale)))


async def revoke_instance(session: AsyncSession, instance_row_id: str) -> None:
    """Every key of an instance stops working (a new handshake replaces them)."""
    await session.execute(delete(ModuleKeyRow).where(ModuleKeyRow.instance_row_id == instance_row_id))


def is_usable(link: EdgeLink, row: ModuleKeyRow, now: datetime) -> bool:
    """Not expired, and not superseded longer ago than the grace period."""
    if as_utc(row.expires_at) <= now:
        return False
    if row.superseded_at is None:
        return True
    grace = duration(link.services.settings.edge_api.module_key_grace_period)
    return now < as_utc(row.superseded_at) + grace


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for what was stored as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def authenticate(link: EdgeLink, session: AsyncSession, authorization: str) -> ModuleCaller:
    """The module instance that signed ``authorization``, or ``Unauthenticated`` (one message for all)."""
    try:
        token = iot_sas.parse(authorization)
    except iot_sas.InvalidSignature:
        raise Unauthenticated(REFUSED) from None
    now = link.services.clock.now()
    found = await find_key(session, token.key_name or "")
    key_row, instance, module = found if found else (None, None, None)
    key = dummy_key() if key_row is None else link.kek.open(key_row.sealed_key, context(key_row.key_id))
    resource = module.document["internal"]["edgeModuleId"] if module is not None else token.resource
    try:
        iot_sas.verify(token, [key], resource=resource, now=now, max_lifetime_s=MAX_REQUEST_TOKEN_SECONDS)
    except iot_sas.InvalidSignature:
        raise Unauthenticated(REFUSED) from None
    if key_row is None or instance is None or module is None or not is_usable(link, key_row, now):
        raise Unauthenticated(REFUSED)
    if token.resource.lower() != str(resource).lower():  # a token for a resource below the module id
        raise Unauthenticated(REFUSED)
    return ModuleCaller(module=module, instance=instance, key_id=key_row.key_id)


async def find_key(
    session: AsyncSession, key_id: str
) -> tuple[ModuleKeyRow, EdgeModuleInstanceRow, ResourceRow] | None:
    if not key_id or len(key_id) > 64:
        return None
    statement = (
        select(ModuleKeyRow, EdgeModuleInstanceRow, ResourceRow)
        .join(EdgeModuleInstanceRow, EdgeModuleInstanceRow.id == ModuleKeyRow.instance_row_id)
        .join(ResourceRow, ResourceRow.id == EdgeModuleInstanceRow.resource_id)
        .where(ModuleKeyRow.key_id == key_id)
    )
    row = (await session.execute(statement)).first()
    return (row[0], row[1], row[2]) if row is not None else None


def dummy_key() -> str:
    """A key nobody holds: an unknown key id costs the same HMAC as a known one."""
    return iot_sas.new_key()


def new_instance_row_id() -> str:
    return str(uuid.uuid4())
