"""The entity store: what a module keeps across restarts, how, and what it never shows."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from ova.common.clock import FrozenClock
from ova.contracts.topology import validate_edge_topology
from ova.edge.entities import MAX_TOPOLOGIES, EntityStore, check_name
from ova.edge.errors import MethodRequestInvalid
from unit.edge.pipeline_doubles import CAMERA, START, Module, published_topologies


async def test_entities_survive_a_restart_with_their_times(tmp_path: Path) -> None:
    module = Module(tmp_path)
    await module.add_recording()
    module.clock.advance(timedelta(minutes=5))
    await module.add_recording()  # both updated five minutes later

    reopened = Module(tmp_path, FrozenClock(START + timedelta(hours=1)))
    status, topology = await reopened.call("pipelineTopologyGet", name="CVRToVideoSink")
    assert status == 200
    assert topology["systemData"] == {
        "createdAt": "2026-12-04T12:00:00Z",
        "lastModifiedAt": "2026-12-04T12:05:00Z",
    }
    assert (
        topology["properties"]
        == (await module.call("pipelineTopologyGet", name="CVRToVideoSink"))[1]["properties"]
    )
    status, pipeline = await reopened.call("livePipelineGet", name="camera1")
    assert status == 200 and pipeline["properties"]["parameters"][0] == {"name": "rtspUrl", "value": CAMERA}
    assert pipeline["systemData"]["createdAt"] == "2026-12-04T12:00:00Z"


async def test_files_are_private_and_hold_what_reads_hide(tmp_path: Path) -> None:
    module = Module(tmp_path)
    body = published_topologies()["cvr-video-sink"]
    for parameter in body["properties"]["parameters"]:
        parameter["type"] = "secretString" if parameter["name"] == "rtspPassword" else parameter["type"]
    await module.add_recording(body=body)
    folder = tmp_path / "entities"
    files = sorted(folder.rglob("*.json"))
    assert [path.relative_to(folder).as_posix() for path in files] == [
        "livePipelines/camera1.json",
        "pipelineTopologies/CVRToVideoSink.json",
    ]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "s3cret-pw" in (folder / "livePipelines" / "camera1.json").read_text()  # kept, so it can run
    assert list((folder / "tmp").iterdir()) == []


async def test_deleted_entities_stay_deleted(tmp_path: Path) -> None:
    module = Module(tmp_path)
    await module.add_recording()
    assert (await module.call("livePipelineDelete", name="camera1"))[0] == 200
    assert (await module.call("pipelineTopologyDelete", name="CVRToVideoSink"))[0] == 200
    reopened = Module(tmp_path)
    assert (await reopened.call("pipelineTopologyList"))[1] == {"value": []}
    assert (await reopened.call("livePipelineList"))[1] == {"value": []}


async def test_unreadable_files_are_skipped_and_leftovers_swept(tmp_path: Path) -> None:
    module = Module(tmp_path)
    await module.add_recording()
    folder = tmp_path / "entities"
    (folder / "pipelineTopologies" / "broken.json").write_text("{not json")
    (folder / "pipelineTopologies" / "renamed.json").write_text(
        (folder / "pipelineTopologies" / "CVRToVideoSink.json").read_text()
    )
    (folder / "tmp" / "0123abcd").write_bytes(b"half a file")
    store = EntityStore.open(tmp_path, module.clock)
    assert sorted(store.topologies) == ["CVRToVideoSink"]
    assert sorted(store.pipelines) == ["camera1"]
    assert list((folder / "tmp").iterdir()) == []


@pytest.mark.parametrize("name", ["camera-1", "A", "a" * 32, "x9-y8"])
def test_valid_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["-camera", "camera-", "a" * 33, "cam_1", "cam 1", "", "../etc", 7, None])
def test_invalid_names(name: object) -> None:
    with pytest.raises(MethodRequestInvalid, match="not a valid name"):
        check_name(name)


def test_topology_count_is_bounded(tmp_path: Path) -> None:
    store = EntityStore.open(tmp_path, FrozenClock(START))
    body = published_topologies()["cvr-video-sink"]
    for index in range(MAX_TOPOLOGIES):
        store.put_topology(validate_edge_topology({**body, "name": f"t{index}"}))
    store.put_topology(validate_edge_topology({**body, "name": "t0"}))  # an update still fits
    with pytest.raises(MethodRequestInvalid, match=f"at most {MAX_TOPOLOGIES}"):
        store.put_topology(validate_edge_topology({**body, "name": "one-more"}))
    assert len(json.loads((tmp_path / "entities" / "pipelineTopologies" / "t0.json").read_text())) == 3
