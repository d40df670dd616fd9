"""The identity registry: devices and their modules, their keys and status, and CONNECT authentication.

Each identity has a primary and a secondary symmetric key, both valid at once so a key can be
rolled without downtime (IoT Hub's rotation: give the clients the secondary, replace the primary,
then the other way round). The keys are sealed in the store by the injected ``KeyWrapper``.

``Registry.authenticate`` is the gateway's ``DeviceAuthenticator``: the MQTT password is an IoT
Hub SAS token whose ``sr`` is ``{host}/devices/{d}[/modules/{m}]`` (the host compared without
case, with or without a ``:port``), signed with either key, unexpired and not living longer than
``max_token_lifetime_s``; the identity (and its device) must exist and be enabled. Revocation:
when an update removes a key that was valid, disables the identity or deletes it, the registry
calls its ``Revoker`` (the gateway's ``disconnect``) for the identity, and for a device's modules
too, so a live connection signed with a retired key is closed at once and cannot come back.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ova.auth import iot_sas
from ova.common.clock import Clock
from ova.contracts import iot_hub
from ova.hub.errors import (
    ConnectRefused,
    IdentityExists,
    IdentityNotFound,
    PreconditionFailed,
    ServiceRequestInvalid,
)
from ova.hub.namespace import Identity
from ova.hub.store import DEVICE_MODULE, IdentityRow, KeyWrapper, MessageRow, TwinRow, key_context

Status = Literal["enabled", "disabled"]
Revoker = Callable[[Identity], Awaitable[object]]
MAX_TOKEN_LIFETIME_S = 366 * 24 * 3600
MAX_LIST = 1000
EMPTY_TWIN_ETAG = "AAAAAAAAAAE="


@dataclass(frozen=True)
class SymmetricKeys:
    primary: str
    secondary: str

    def __repr__(self) -> str:  # never print a key
        return "SymmetricKeys(…)"


@dataclass(frozen=True)
class IdentitySpec:
    """What a client asks an identity to be; keys None are generated (create) or kept (update)."""

    status: Status = "enabled"
    status_reason: str | None = None
    managed_by: str | None = None
    primary_key: str | None = None
    secondary_key: str | None = None

    def __repr__(self) -> str:
        return f"IdentitySpec(status={self.status!r}, managed_by={self.managed_by!r})"


@dataclass(frozen=True)
class IdentityRecord:
    identity: Identity
    generation_id: str
    etag: str
    status: Status
    status_reason: str | None
    managed_by: str | None
    keys: SymmetricKeys
    created_at: datetime
    updated_at: datetime
    status_updated_at: datetime


def new_etag() -> str:
    return secrets.token_urlsafe(12)


def etag_matches(if_match: str | None, etag: str) -> bool:
    """RFC 7232 ``If-Match`` (weak comparison): absent or ``*`` match anything."""
    if if_match is None:
        return True
    candidates = [part.strip().removeprefix("W/").strip('"') for part in if_match.split(",")]
    return "*" in candidates or etag in candidates


def _module_key(identity: Identity) -> str:
    return identity.module_id if identity.module_id is not None else DEVICE_MODULE


class Registry:
    """Devices and modules of the hub, in the store, and the gateway's authenticator."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        keys: KeyWrapper,
        clock: Clock,
        host_name: str,
        *,
        max_token_lifetime_s: int = MAX_TOKEN_LIFETIME_S,
    ) -> None:
        self._sessions = sessions
        self._wrapper = keys
        self._clock = clock
        self._host = host_name.lower().split(":", 1)[0]
        self._max_lifetime = max_token_lifetime_s
        self.revoker: Revoker | None = None

    # Reading

    async def get(self, identity: Identity) -> IdentityRecord:
        async with self._sessions() as session:
            row = await self._row(session, identity)
            if row is None:
                raise _not_found(identity)
            return self._record(row)

    async def list_devices(self, top: int = MAX_LIST) -> list[IdentityRecord]:
        query = select(IdentityRow).where(IdentityRow.module_id == DEVICE_MODULE)
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(IdentityRow.device_id).limit(min(top, MAX_LIST)))
            return [self._record(row) for row in rows]

    async def list_modules(self, device_id: str) -> list[IdentityRecord]:
        await self.get(Identity(device_id))
        query = select(IdentityRow).where(
            IdentityRow.device_id == device_id, IdentityRow.module_id != DEVICE_MODULE
        )
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(IdentityRow.module_id).limit(MAX_LIST))
            return [self._record(row) for row in rows]

    # Writing

    async def put(self, identity: Identity, spec: IdentitySpec, if_match: str | None) -> IdentityRecord:
        """Create the identity (no ``If-Match``) or update it (``If-Match`` its etag or ``*``)."""
        for key in (spec.primary_key, spec.secondary_key):
            if key is not None:
                _check_key(key)
        async with self._sessions.begin() as session:
            row = await self._row(session, identity)
            if row is None:
                record = await self._create(session, identity, spec)
                revoke = False
            else:
                if if_match is None:
                    raise _exists(identity)
                if not etag_matches(if_match, row.etag):
                    raise PreconditionFailed("The etag does not match the identity's.")
                revoke = self._update(row, spec)
                record = self._record(row)
        if revoke:
            await self._revoke([identity, *await self._modules_of(identity)])
        return record

    async def regenerate_key(
        self, identity: Identity, which: Literal["primary", "secondary"]
    ) -> IdentityRecord:
        """Replace one key with a fresh one (sessions signed with the old one are disconnected)."""
        record = await self.get(identity)
        keys = {"primary_key": record.keys.primary, "secondary_key": record.keys.secondary}
        keys[f"{which}_key"] = iot_sas.new_key()
        spec = IdentitySpec(record.status, record.status_reason, record.managed_by, **keys)
        return await self.put(identity, spec, record.etag)

    async def delete(self, identity: Identity, if_match: str | None) -> None:
        async with self._sessions.begin() as session:
            row = await self._row(session, identity)
            if row is None:
                raise _not_found(identity)
            if not etag_matches(if_match, row.etag):
                raise PreconditionFailed("The etag does not match the identity's.")
            gone = [identity, *await self._modules_of(identity, session)]
            for table in (IdentityRow, TwinRow, MessageRow):
                statement = delete(table).where(table.device_id == identity.device_id)
                if identity.module_id is not None:
                    statement = statement.where(table.module_id == identity.module_id)
                await session.execute(statement)
        await self._revoke(gone)

    # Authentication (the gateway's DeviceAuthenticator)

    async def authenticate(self, client_id: str, username: str, password: str, peer: str) -> Identity:
        """The identity a CONNECT proves, or ``ConnectRefused`` (never saying which check failed)."""
        device_id, _, module_id = client_id.partition("/")
        identity = Identity(device_id, module_id or None)
        if not iot_hub.IDENTITY_ID.match(device_id) or (
            module_id and not iot_hub.IDENTITY_ID.match(module_id)
        ):
            raise ConnectRefused("Not authorized.")
        if not username.lower().partition("/?")[0].endswith("/" + client_id.lower()):
            raise ConnectRefused("Not authorized.")
        try:
            token = iot_sas.parse(password)
            host, _, _ = token.resource.partition("/")
            if host.lower().split(":", 1)[0] != self._host:
                raise ConnectRefused("Not authorized.")
            keys = await self._usable_keys(identity)
            resource = iot_hub.sas_resource(host, device_id, identity.module_id)
            iot_sas.verify(
                token, keys, resource=resource, now=self._clock.now(), max_lifetime_s=self._max_lifetime
            )
        except iot_sas.InvalidSignature:
            raise ConnectRefused("Not authorized.") from None
        return identity

    async def _usable_keys(self, identity: Identity) -> list[str]:
        """The keys of an enabled identity of an enabled device; ``ConnectRefused`` otherwise."""
        async with self._sessions() as session:
            row = await self._row(session, identity)
            device = (
                row if identity.module_id is None else await self._row(session, Identity(identity.device_id))
            )
            if row is None or device is None or row.status != "enabled" or device.status != "enabled":
                raise ConnectRefused("Not authorized.")
            record = self._record(row)
        return [record.keys.primary, record.keys.secondary]

    # Rows

    async def _row(self, session: AsyncSession, identity: Identity) -> IdentityRow | None:
        return await session.get(IdentityRow, (identity.device_id, _module_key(identity)))

    async def _modules_of(self, identity: Identity, session: AsyncSession | None = None) -> list[Identity]:
        """A device's modules (none for a module)."""
        if identity.module_id is not None:
            return []
        query = select(IdentityRow.module_id).where(
            IdentityRow.device_id == identity.device_id, IdentityRow.module_id != DEVICE_MODULE
        )
        if session is not None:
            modules = list(await session.scalars(query))
        else:
            async with self._sessions() as own:
                modules = list(await own.scalars(query))
        return [Identity(identity.device_id, module) for module in modules]

    async def _create(self, session: AsyncSession, identity: Identity, spec: IdentitySpec) -> IdentityRecord:
        if identity.module_id is not None and await self._row(session, Identity(identity.device_id)) is None:
            raise IdentityNotFound(f"Device {identity.device_id} does not exist.", code="DeviceNotFound")
        now = self._clock.now()
        row = IdentityRow(
            device_id=identity.device_id,
            module_id=_module_key(identity),
            generation_id=secrets.token_hex(9),
            etag=new_etag(),
            status=spec.status,
            status_reason=spec.status_reason,
            managed_by=spec.managed_by,
            primary_key="",
            secondary_key="",
            created_at=now,
            updated_at=now,
            status_updated_at=now,
        )
        self._seal(
            row, SymmetricKeys(spec.primary_key or iot_sas.new_key(), spec.secondary_key or iot_sas.new_key())
        )
        session.add(row)
        session.add(
            TwinRow(
                device_id=row.device_id,
                module_id=row.module_id,
                tags={},
                desired={},
                reported={},
                desired_version=1,
                reported_version=1,
                version=1,
                etag=EMPTY_TWIN_ETAG,
            )
        )
        return self._record(row)

    def _update(self, row: IdentityRow, spec: IdentitySpec) -> bool:
        """Apply ``spec`` to ``row``; True when live sessions must be revoked."""
        old = self._record(row)
        keys = SymmetricKeys(spec.primary_key or old.keys.primary, spec.secondary_key or old.keys.secondary)
        now = self._clock.now()
        if spec.status != row.status:
            row.status_updated_at = now
        row.status, row.status_reason, row.managed_by = spec.status, spec.status_reason, spec.managed_by
        self._seal(row, keys)
        row.etag, row.updated_at = new_etag(), now
        retired = {old.keys.primary, old.keys.secondary} - {keys.primary, keys.secondary}
        return bool(retired) or spec.status != "enabled"

    def _seal(self, row: IdentityRow, keys: SymmetricKeys) -> None:
        names = (row.device_id, row.module_id)
        row.primary_key = self._wrapper.seal(keys.primary, key_context("identity", *names, "primary"))
        row.secondary_key = self._wrapper.seal(keys.secondary, key_context("identity", *names, "secondary"))

    def _record(self, row: IdentityRow) -> IdentityRecord:
        names = (row.device_id, row.module_id)
        keys = SymmetricKeys(
            self._wrapper.open(row.primary_key, key_context("identity", *names, "primary")),
            self._wrapper.open(row.secondary_key, key_context("identity", *names, "secondary")),
        )
        status: Status = "enabled" if row.status == "enabled" else "disabled"
        return IdentityRecord(
            identity=Identity(row.device_id, row.module_id or None),
            generation_id=row.generation_id,
            etag=row.etag,
            status=status,
            status_reason=row.status_reason,
            managed_by=row.managed_by,
            keys=keys,
            created_at=row.created_at,
            updated_at=row.updated_at,
            status_updated_at=row.status_updated_at,
        )

    async def _revoke(self, identities: list[Identity]) -> None:
        if self.revoker is None:
            return
        for identity in identities:
            await self.revoker(identity)


def _check_key(key: str) -> None:
    try:
        iot_sas.decode_key(key)
    except ValueError:
        raise ServiceRequestInvalid("A symmetric key is base64 of 16 to 128 bytes.") from None


def _not_found(identity: Identity) -> IdentityNotFound:
    if identity.module_id is None:
        return IdentityNotFound(f"Device {identity.device_id} does not exist.", code="DeviceNotFound")
    return IdentityNotFound(f"Module {identity} does not exist.", code="ModuleNotFound")


def _exists(identity: Identity) -> IdentityExists:
    if identity.module_id is None:
        return IdentityExists(f"Device {identity.device_id} already exists.", code="DeviceAlreadyExists")
    return IdentityExists(f"Module {identity} already exists.", code="ModuleAlreadyExistsOnDevice")
