"""``ova demo`` across restarts: one live operator key, kept in a demo.json of mode 0600."""

from __future__ import annotations

import json
from pathlib import Path

from ova import demo
from ova.cloud.domain.operator_keys import is_live, list_keys
from ova.cloud.runtime import Cloud, build
from ova.cloud.settings import CloudSettings

CAMERA = "rtsp://127.0.0.1:9/cam"  # never dialled: the cloud is not started


async def start(data_dir: Path, *, playable: bool = True) -> str:
    """One demo start up to the point its first segment would be playable; its operator key."""
    cloud: Cloud = await build(CloudSettings(data_dir=data_dir))
    try:
        info = await demo.provision(cloud, CAMERA)
        if playable:
            demo.write_details(data_dir, info)
        key: str = info["operatorKey"]
        return key
    finally:
        await cloud.close()


async def live_demo_keys(data_dir: Path) -> list[str]:
    cloud = await build(CloudSettings(data_dir=data_dir))
    try:
        async with cloud.services.sessions() as session:
            return [row.id for row in await list_keys(session) if row.revoked_at is None]
    finally:
        await cloud.close()


async def test_two_demo_starts_share_one_operator_key(tmp_path: Path) -> None:
    first = await start(tmp_path)
    second = await start(tmp_path)

    assert second == first
    assert await live_demo_keys(tmp_path) == [first.split("_")[1]]
    details = tmp_path / "demo.json"
    assert details.stat().st_mode & 0o777 == 0o600
    assert json.loads(details.read_text())["operatorKey"] == first


async def test_a_new_key_is_minted_only_when_the_last_is_gone_and_the_others_are_revoked(
    tmp_path: Path,
) -> None:
    unannounced = await start(tmp_path, playable=False)  # stopped before demo.json was written
    minted = await start(tmp_path)
    assert minted != unannounced
    assert await live_demo_keys(tmp_path) == [minted.split("_")[1]]

    cloud = await build(CloudSettings(data_dir=tmp_path))
    try:
        async with cloud.services.sessions.begin() as session:
            assert not await is_live(session, unannounced)
            await demo.operator_keys.revoke_key(session, cloud.services.clock, minted.split("_")[1])
    finally:
        await cloud.close()
    replaced = await start(tmp_path)  # the key in demo.json was revoked by an operator
    assert replaced not in (minted, unannounced)
    assert await live_demo_keys(tmp_path) == [replaced.split("_")[1]]
