"""A real cloud served on loopback behind a fault proxy, and an edge module's parts pointed at it.

``running_world`` builds the cloud (``ova.cloud.runtime.build``) with one listener on a free
port whose public URL is the proxy's, so the provisioning token's ``iss``, the edge family and
the filesystem store's SAS URLs all go through the proxy (Azure SAS URLs go to Azurite
directly). It creates account ``acct1`` and edge module ``edge1`` and hands out provisioning
tokens. ``media`` makes small but well-formed fMP4 inits and segments.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from ova.cloud.db.models import ResourceRow, SegmentRow
from ova.cloud.domain.operator_keys import create_key
from ova.cloud.runtime import Cloud, build
from ova.cloud.settings import CloudSettings, EdgeApiSettings, ListenerSettings, StorageSettings
from ova.common.clock import FrozenClock
from ova.recording import archive_layout
from support.fault_proxy import FaultProxy, free_port
from support.listeners import serving
from support.management import Arm


@dataclass
class World:
    cloud: Cloud
    proxy: FaultProxy
    arm: Arm
    clock: FrozenClock

    async def token(self, module: str = "edge1", days: float = 7) -> str:
        expires = (self.clock.now() + timedelta(days=days)).isoformat().replace("+00:00", "Z")
        answer = await self.arm.ok(
            "POST", f"edgeModules/{module}/listProvisioningToken", {"expirationDate": expires}
        )
        token: str = answer["token"]
        return token

    async def indexed(self, video_name: str) -> list[SegmentRow]:
        """The segment index of the account's video ``video_name``, in sequence order."""
        statement = (
            select(SegmentRow)
            .join(ResourceRow, ResourceRow.id == SegmentRow.video_id)
            .where(ResourceRow.name == video_name)
            .order_by(SegmentRow.sequence)
        )
        async with self.cloud.services.sessions() as session:
            return list((await session.execute(statement)).scalars())

    async def blob(self, video_id: str, blob_name: str) -> bytes:
        return await self.cloud.services.blobs.get(archive_layout.container_name(video_id), blob_name)


@asynccontextmanager
async def running_world(
    tmp_path: Path, clock: FrozenClock, *, storage_url: str | None = None, sas_lifetime: str = "PT1H"
) -> AsyncIterator[World]:
    cloud_port = free_port()
    proxy = FaultProxy(cloud_port)
    settings = CloudSettings(
        data_dir=tmp_path / "cloud",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'cloud.db'}",
        listeners=[ListenerSettings(port=cloud_port, public_url=proxy.url)],
        storage=StorageSettings(url=storage_url),
        edge_api=EdgeApiSettings(upload_sas_lifetime=sas_lifetime),
    )
    cloud = await build(settings, clock=clock)
    try:
        async with serving(cloud):
            await proxy.start()
            try:
                async with _operator(cloud) as client:
                    arm = Arm(client, cloud)
                    await arm.create_account()
                    await arm.ok("PUT", "edgeModules/edge1")
                    await arm.ok("PUT", "edgeModules/edge2")
                    yield World(cloud, proxy, arm, clock)
            finally:
                await proxy.stop()
    finally:
        await cloud.close()


@asynccontextmanager
async def _operator(cloud: Cloud) -> AsyncIterator[httpx.AsyncClient]:
    async with cloud.services.sessions.begin() as session:
        key = await create_key(session, cloud.services.clock, "edge tests")
    listener, app = cloud.listeners[0]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50003))
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        transport=transport, base_url=listener.base_url(), headers=headers
    ) as client:
        yield client
