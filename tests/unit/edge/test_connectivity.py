"""The 36-hour rule (security matrix D8): 40 hours offline on an injected clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ova.edge.pipelines import PipelineState
from unit.edge.pipeline_doubles import GraphRunnerDouble, Module, published_topologies


@pytest.fixture
async def module(tmp_path: Path) -> Module:
    module = Module(tmp_path)
    await module.add_recording()
    await module.add_recording(pipeline="camera2")
    await module.watchdog.check()  # the first tick: online, nothing to resume yet
    assert (await module.call("livePipelineActivate", name="camera1"))[0] == 200
    return module


async def forty_hours_offline(module: Module) -> None:
    module.link.cut()
    for _ in range(40):  # one tick an hour, as a slow watchdog would
        module.clock.advance(timedelta(hours=1))
        await module.watchdog.check()


async def test_pipelines_keep_running_within_the_limit(module: Module) -> None:
    module.link.cut()
    module.clock.advance(timedelta(hours=35, minutes=59))
    await module.watchdog.check()
    assert module.pipelines.state("camera1") is PipelineState.ACTIVE
    assert (await module.call("livePipelineActivate", name="camera2"))[0] == 200


async def test_forty_hours_offline_deactivates_and_blocks_what_needs_the_cloud(module: Module) -> None:
    await forty_hours_offline(module)
    assert module.pipelines.state("camera1") is PipelineState.INACTIVE
    assert module.runner.running == {}
    assert module.watchdog.suspended
    for method, payload in (
        ("livePipelineActivate", {"name": "camera2"}),
        ("pipelineTopologySet", published_topologies()["motion-detection"]),
        ("livePipelineSet", {"name": "camera3", "properties": {"topologyName": "CVRToVideoSink"}}),
    ):
        status, answer = await module.call(method, payload)
        assert status == 402, method
        assert answer["error"]["code"] == "ConnectivityRequired"
        assert "36 hours" in answer["error"]["message"]
    assert (await module.call("livePipelineGet", name="camera1"))[1]["properties"]["state"] == "inactive"
    assert (await module.call("pipelineTopologyList"))[0] == 200
    assert (await module.call("livePipelineDeactivate", name="camera2"))[0] == 200
    assert (await module.call("livePipelineDelete", name="camera2"))[0] == 200


async def test_pipelines_come_back_when_the_cloud_answers(module: Module) -> None:
    await forty_hours_offline(module)
    module.link.restore()
    await module.watchdog.check()
    assert module.pipelines.state("camera1") is PipelineState.ACTIVE
    assert module.pipelines.state("camera2") is PipelineState.INACTIVE  # it never was active
    assert [spec.name for spec in module.runner.started] == ["camera1", "camera1"]
    assert (await module.call("livePipelineActivate", name="camera2"))[0] == 200


async def test_a_pipeline_deactivated_while_offline_stays_inactive(module: Module) -> None:
    await forty_hours_offline(module)
    assert (await module.call("livePipelineDeactivate", name="camera1"))[0] == 200
    module.link.restore()
    await module.watchdog.check()
    assert module.pipelines.state("camera1") is PipelineState.INACTIVE


async def test_a_restart_while_offline_waits_for_the_cloud(module: Module, tmp_path: Path) -> None:
    await forty_hours_offline(module)
    restarted = Module(tmp_path, module.clock, GraphRunnerDouble())
    restarted.link.cut()
    restarted.clock.advance(timedelta(hours=37))
    await restarted.watchdog.check()
    assert restarted.runner.started == []
    restarted.link.restore()
    await restarted.watchdog.check()
    assert [spec.name for spec in restarted.runner.started] == ["camera1"]
