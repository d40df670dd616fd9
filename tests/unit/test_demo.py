"""``ova demo`` across restarts (one live operator key, kept in a demo.json of mode 0600; the same hub
policy and module identity), and the topology it sets on its edge module."""

from __future__ import annotations

import json
from pathlib import Path

from ova import demo, demo_edge
from ova.cloud.domain.operator_keys import is_live, list_keys
from ova.cloud.runtime import Cloud, build
from ova.cloud.settings import CloudSettings
from ova.contracts.iot_hub import ConnectionString
from ova.hub.namespace import Identity

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


# --- the demo's edge module -------------------------------------------------------------------

PUBLISHED = Path(__file__).parents[1] / "data" / "ava-topologies" / "cvr-video-sink.json"


def test_the_demo_sets_the_published_continuous_recording_topology_with_its_video_as_a_parameter() -> None:
    published = json.loads(PUBLISHED.read_text())
    mine = demo_edge.cvr_topology(Path("/var/lib/videoanalyzer/tmp"))

    assert (mine["name"], mine["@apiVersion"]) == (published["name"], "1.1")
    assert mine["properties"]["sources"] == published["properties"]["sources"]
    sink, published_sink = mine["properties"]["sinks"][0], published["properties"]["sinks"][0]
    assert sink["videoName"] == "${videoName}"
    assert sink["localMediaCachePath"] == "/var/lib/videoanalyzer/tmp/"
    assert sink["inputs"] == published_sink["inputs"]
    declared = {parameter["name"] for parameter in mine["properties"]["parameters"]}
    assert declared == {p["name"] for p in published["properties"]["parameters"]} | {"videoName"}
    pipeline = demo_edge.live_pipeline("cam1", "rtsp://127.0.0.1:8554/cam", "cam1")
    assert pipeline["properties"]["parameters"] == [
        {"name": "rtspUrl", "value": "rtsp://127.0.0.1:8554/cam"},
        {"name": "videoName", "value": "cam1"},
    ]


async def test_the_hub_policy_and_the_module_key_survive_a_restart_of_the_demo(tmp_path: Path) -> None:
    cloud = await build(CloudSettings(data_dir=tmp_path))  # the hub is built, not started: no network
    try:
        await demo.provision(cloud, CAMERA)
        first = await demo_edge.hub_details(cloud, None)
        again = await demo_edge.hub_details(cloud, first["hubConnectionString"])
        assert again == first
        connection = ConnectionString.parse(first["hubConnectionString"])
        assert connection.host_name == "127.0.0.1:8080"  # the service API's host and port
        assert connection.shared_access_key_name == "demo"
        lost = await demo_edge.hub_details(cloud, "HostName=x;SharedAccessKeyName=demo;SharedAccessKey=AAAA")
        assert lost["hubConnectionString"] != first["hubConnectionString"]  # a new policy, not the old key

        assert cloud.hub is not None
        identity = Identity(demo_edge.DEVICE_ID, demo_edge.MODULE_ID)
        key = await demo_edge.module_key(cloud.hub, identity)
        assert await demo_edge.module_key(cloud.hub, identity) == key
        assert await demo_edge.provisioning_token(
            cloud, demo.DEMO_SCOPE
        ) != await demo_edge.provisioning_token(cloud, demo.DEMO_SCOPE)
    finally:
        await cloud.close()
