"""Fixtures of the management API tests: one account to work in, its topologies, a keyless client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ova.cloud.runtime import Cloud
from support.management import Arm, batch_topology, live_topology


@pytest.fixture
async def arm(api: httpx.AsyncClient, cloud: Cloud) -> Arm:
    """The management API of a freshly created account ``acct1`` in resource group ``rg1``."""
    client = Arm(api, cloud)
    await client.create_account()
    return client


@pytest.fixture
async def topologies(arm: Arm) -> Arm:
    """``arm`` with a Live topology ``live`` and a Batch topology ``batch``."""
    await arm.ok("PUT", "pipelineTopologies/live", live_topology())
    await arm.ok("PUT", "pipelineTopologies/batch", batch_topology())
    return arm


@pytest.fixture
async def anonymous(cloud: Cloud) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same listener as ``api`` that sends no credential unless told to."""
    listener, app = cloud.listeners[0]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url=listener.base_url()) as client:
        yield client
