"""The identity registry: CRUD with etags, sealed keys, and CONNECT authentication with both keys."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ova.auth import iot_sas
from ova.common.clock import FrozenClock
from ova.contracts import iot_hub
from ova.hub.errors import ConnectRefused, IdentityExists, IdentityNotFound, PreconditionFailed
from ova.hub.namespace import Identity
from ova.hub.registry import IdentitySpec, Registry, etag_matches
from ova.hub.store import IdentityRow
from support.hub_store import key_wrapper, open_store

HOST = "hub.example.net"
MODULE = Identity("camera-1", "avaedge")


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine, factory = await open_store(tmp_path)
    yield factory
    await engine.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC))


@pytest.fixture
async def registry(sessions: async_sessionmaker[AsyncSession], clock: FrozenClock) -> Registry:
    registry = Registry(sessions, key_wrapper(), clock, HOST, max_token_lifetime_s=7 * 24 * 3600)
    await registry.put(Identity("camera-1"), IdentitySpec(), None)
    return registry


def token(key: str, *, host: str = HOST, ttl: int = 3600, identity: Identity = MODULE) -> str:
    resource = iot_hub.sas_resource(host, identity.device_id, identity.module_id)
    return iot_sas.sign(resource, key, int(time.time()) + ttl)


async def connect(registry: Registry, password: str, identity: Identity = MODULE) -> Identity:
    username = iot_hub.username(HOST, identity.device_id, identity.module_id)
    return await registry.authenticate(identity.client_id, username, password, "127.0.0.1")


async def test_both_keys_authenticate_and_the_host_may_carry_a_port(registry: Registry) -> None:
    record = await registry.put(MODULE, IdentitySpec(), None)
    assert await connect(registry, token(record.keys.primary)) == MODULE
    assert await connect(registry, token(record.keys.secondary, host="HUB.example.net:8883")) == MODULE


@pytest.mark.parametrize("case", ["other key", "other host", "expired", "too long", "unknown", "garbage"])
async def test_refusals_never_say_why(registry: Registry, case: str) -> None:
    record = await registry.put(MODULE, IdentitySpec(), None)
    password = {
        "other key": token(iot_sas.new_key()),
        "other host": token(record.keys.primary, host="evil.example.net"),
        "expired": token(record.keys.primary, ttl=-1),
        "too long": token(record.keys.primary, ttl=30 * 24 * 3600),
        "unknown": token(record.keys.primary, identity=Identity("camera-1", "ghost")),
        "garbage": "SharedAccessSignature nonsense",
    }[case]
    identity = Identity("camera-1", "ghost") if case == "unknown" else MODULE
    with pytest.raises(ConnectRefused) as refused:
        await connect(registry, password, identity)
    assert refused.value.message == "Not authorized."


async def test_a_disabled_device_refuses_its_modules_and_revokes_them(registry: Registry) -> None:
    record = await registry.put(MODULE, IdentitySpec(), None)
    revoked: list[Identity] = []

    async def revoke(identity: Identity) -> None:
        revoked.append(identity)

    registry.revoker = revoke
    device = await registry.get(Identity("camera-1"))
    await registry.put(Identity("camera-1"), IdentitySpec(status="disabled"), device.etag)
    assert revoked == [Identity("camera-1"), MODULE]
    with pytest.raises(ConnectRefused):
        await connect(registry, token(record.keys.primary))


async def test_rolling_one_key_revokes_and_keeps_the_other_valid(registry: Registry) -> None:
    record = await registry.put(MODULE, IdentitySpec(), None)
    revoked: list[Identity] = []

    async def revoke(identity: Identity) -> None:
        revoked.append(identity)

    registry.revoker = revoke
    unchanged = await registry.put(MODULE, IdentitySpec(managed_by="ova"), record.etag)
    assert revoked == [] and unchanged.keys == record.keys
    rolled = await registry.regenerate_key(MODULE, "primary")
    assert revoked == [MODULE] and rolled.keys.primary != record.keys.primary
    assert rolled.keys.secondary == record.keys.secondary
    with pytest.raises(ConnectRefused):
        await connect(registry, token(record.keys.primary))
    assert await connect(registry, token(record.keys.secondary)) == MODULE


async def test_etags_guard_updates_and_deletes(registry: Registry) -> None:
    record = await registry.put(MODULE, IdentitySpec(), None)
    with pytest.raises(IdentityExists):
        await registry.put(MODULE, IdentitySpec(), None)
    with pytest.raises(PreconditionFailed):
        await registry.put(MODULE, IdentitySpec(), '"stale"')
    updated = await registry.put(MODULE, IdentitySpec(status_reason="maintenance"), f'"{record.etag}"')
    assert updated.etag != record.etag and updated.generation_id == record.generation_id
    with pytest.raises(PreconditionFailed):
        await registry.delete(MODULE, record.etag)
    await registry.delete(Identity("camera-1"), "*")
    with pytest.raises(IdentityNotFound):
        await registry.get(MODULE)


async def test_keys_are_sealed_in_the_store(
    registry: Registry, sessions: async_sessionmaker[AsyncSession]
) -> None:
    record = await registry.put(MODULE, IdentitySpec(), None)
    async with sessions() as session:
        row = (await session.scalars(select(IdentityRow).where(IdentityRow.module_id == "avaedge"))).one()
    assert record.keys.primary not in row.primary_key and row.primary_key.startswith("ova-kek1:")
    assert "…" in repr(record.keys)


def test_if_match_compares_weakly() -> None:
    assert etag_matches(None, "abc") and etag_matches('"*"', "abc") and etag_matches('W/"abc"', "abc")
    assert not etag_matches('"abd"', "abc")


async def test_tokens_are_checked_against_the_clock(registry: Registry, clock: FrozenClock) -> None:
    record = await registry.put(MODULE, IdentitySpec(), None)
    password = token(record.keys.primary, ttl=600)
    clock.advance(timedelta(seconds=601))
    with pytest.raises(ConnectRefused):
        await connect(registry, password)
