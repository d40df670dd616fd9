"""Fixtures of the edge family tests: a cloud on a clock the test moves, one account, edge modules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from ova.cloud.runtime import Cloud, build
from ova.cloud.settings import CloudSettings
from ova.common.clock import FrozenClock
from support.edge_api_client import Edge
from support.management import Arm


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def cloud(cloud_settings: CloudSettings, clock: FrozenClock) -> AsyncIterator[Cloud]:
    built = await build(cloud_settings, clock=clock)
    yield built
    await built.close()


@pytest.fixture
async def arm(api: httpx.AsyncClient, cloud: Cloud) -> Arm:
    client = Arm(api, cloud)
    await client.create_account()
    await client.ok("PUT", "edgeModules/edge1")
    await client.ok("PUT", "edgeModules/edge2")
    return client


@pytest.fixture
async def edge(arm: Arm, clock: FrozenClock) -> AsyncIterator[Edge]:
    """A keyless client of the edge family (and the storage family its SAS points at)."""
    listener, app = arm.cloud.listeners[0]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50002))
    async with httpx.AsyncClient(transport=transport, base_url=listener.base_url()) as client:
        yield Edge(client, arm, clock)
