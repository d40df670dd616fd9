"""The live-pipeline state machine, over a graph-runner double (the real graph is task 6's)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from ova.edge.errors import NotAllowedInState
from ova.edge.pipelines import PipelineState
from ova.edge.ports import PipelineSpec
from unit.edge.pipeline_doubles import CAMERA, GraphRunnerDouble, Module


@pytest.fixture
async def module(tmp_path: Path) -> Module:
    module = Module(tmp_path)
    await module.add_recording()
    return module


async def wait_for_state(module: Module, name: str, state: PipelineState) -> None:
    """Wait until the graph's ``stop`` was called: the pipeline is then deactivating."""
    await asyncio.wait_for(module.runner.stopping.wait(), 5)
    assert module.pipelines.state(name) is state


async def test_activation_hands_the_graph_every_resolved_value(module: Module) -> None:
    await module.pipelines.activate("camera1")
    (spec,) = module.runner.started
    assert spec.name == "camera1" and spec.topology_name == "CVRToVideoSink"
    assert spec.values["rtspUrl"] == CAMERA
    assert spec.values["rtspUserName"] == "dummyUserName"  # the topology's default
    assert spec.values["System.PipelineName"] == "camera1"
    assert spec.values["System.TopologyName"] == "CVRToVideoSink"
    assert "System.Runtime.DateTime" not in spec.values  # resolved per file by the file sink
    assert spec.topology["properties"]["sources"][0]["endpoint"]["url"] == "${rtspUrl}"
    assert module.pipelines.state("camera1") is PipelineState.ACTIVE
    assert module.pipelines.active_count == 1


async def test_activate_is_idempotent_even_when_concurrent(module: Module) -> None:
    await asyncio.gather(*(module.call("livePipelineActivate", name="camera1") for _ in range(3)))
    await module.pipelines.activate("camera1")
    assert len(module.runner.started) == 1


async def test_deactivate_waits_for_the_cache_flush(module: Module) -> None:
    await module.pipelines.activate("camera1")
    module.runner.release_stop.clear()
    deactivating = asyncio.create_task(module.call("livePipelineDeactivate", name="camera1"))
    await wait_for_state(module, "camera1", PipelineState.DEACTIVATING)
    assert (await module.call("livePipelineGet", name="camera1"))[1]["properties"]["state"] == "deactivating"
    status, answer = await module.call("livePipelineActivate", name="camera1")
    assert status == 409 and answer["error"]["details"][0]["code"] == "OperationNotAllowedInState"
    status, answer = await module.call("livePipelineDelete", name="camera1")
    assert status == 409
    assert not deactivating.done()
    module.runner.release_stop.set()
    assert (await asyncio.wait_for(deactivating, 5))[0] == 200
    assert module.pipelines.state("camera1") is PipelineState.INACTIVE
    assert module.runner.stop_timeouts == [7.5]  # the configured flush timeout
    assert module.runner.running == {}


async def test_deactivate_reports_a_cache_that_did_not_drain(module: Module) -> None:
    await module.pipelines.activate("camera1")
    module.runner.flushed = False
    assert await module.pipelines.deactivate("camera1") is False
    assert module.pipelines.state("camera1") is PipelineState.INACTIVE
    assert await module.pipelines.deactivate("camera1") is True  # nothing left to flush


async def test_one_slow_pipeline_does_not_hold_up_another(module: Module) -> None:
    await module.add_recording(pipeline="camera2")
    await module.pipelines.activate("camera1")
    module.runner.release_stop.clear()
    slow = asyncio.create_task(module.pipelines.deactivate("camera1"))
    await wait_for_state(module, "camera1", PipelineState.DEACTIVATING)
    await asyncio.wait_for(module.pipelines.activate("camera2"), 5)
    assert module.pipelines.state("camera2") is PipelineState.ACTIVE
    module.runner.release_stop.set()
    await asyncio.wait_for(slow, 5)


async def test_active_pipelines_resume_after_a_restart(module: Module, tmp_path: Path) -> None:
    await module.add_recording(pipeline="camera2")
    await module.pipelines.activate("camera1")
    await module.pipelines.activate("camera2")
    await module.pipelines.deactivate("camera2")
    await module.pipelines.close()  # shutdown: stops camera1 but keeps its wish to run

    restarted = Module(tmp_path, runner=GraphRunnerDouble())
    assert restarted.pipelines.state("camera1") is PipelineState.INACTIVE
    assert await restarted.pipelines.resume() == []
    assert [spec.name for spec in restarted.runner.started] == ["camera1"]
    assert (await restarted.call("livePipelineGet", name="camera1"))[1]["properties"]["state"] == "active"


class FailingRunner(GraphRunnerDouble):
    async def start(self, spec: PipelineSpec) -> object:  # type: ignore[override]
        raise NotAllowedInState("the camera's video is in use by another module")


async def test_a_pipeline_that_fails_to_start_stays_inactive(tmp_path: Path) -> None:
    module = Module(tmp_path, runner=FailingRunner())
    await module.add_recording()
    status, answer = await module.call("livePipelineActivate", name="camera1")
    assert status == 409 and "in use" in answer["error"]["message"]
    assert module.pipelines.state("camera1") is PipelineState.INACTIVE
    stored = json.loads((tmp_path / "entities" / "livePipelines" / "camera1.json").read_text())
    assert stored["desiredActive"] is False
    assert await Module(tmp_path).pipelines.resume() == []
