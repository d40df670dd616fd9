"""Direct methods as Video Analyzer's SDK sends them: payloads, status codes and the error envelope."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from azure.media.videoanalyzeredge import (
    LivePipeline,
    LivePipelineActivateRequest,
    LivePipelineDeactivateRequest,
    LivePipelineDeleteRequest,
    LivePipelineGetRequest,
    LivePipelineListRequest,
    LivePipelineProperties,
    LivePipelineSetRequest,
    MethodRequest,
    ParameterDefinition,
    PipelineTopology,
    PipelineTopologyDeleteRequest,
    PipelineTopologyGetRequest,
    PipelineTopologyListRequest,
    PipelineTopologySetRequest,
)

from ova.edge.methods import MAX_PAYLOAD_BYTES
from unit.edge.pipeline_doubles import CAMERA, Module, published_topologies


@pytest.fixture
def module(tmp_path: Path) -> Module:
    return Module(tmp_path)


async def send(module: Module, request: MethodRequest) -> tuple[int, Any]:
    """As the official Python sample does: ``CloudToDeviceMethod(method_name, payload=serialize())``."""
    payload = json.dumps(request.serialize()).encode()
    return await module.methods.handle(request.method_name, payload)


def error_code(answer: Any) -> tuple[str, list[str]]:
    return answer["error"]["code"], [detail["code"] for detail in answer["error"]["details"]]


@pytest.mark.parametrize("name", sorted(published_topologies()))
async def test_every_published_topology_is_accepted_unchanged(module: Module, name: str) -> None:
    body = published_topologies()[name]
    status, answer = await module.call("pipelineTopologySet", body)
    assert status == 201, answer
    assert answer["name"] == body["name"]
    assert set(answer["systemData"]) == {"createdAt", "lastModifiedAt"}
    assert [node["name"] for node in answer["properties"]["sinks"]] == [
        node["name"] for node in body["properties"]["sinks"]
    ]


async def test_sdk_requests_drive_a_whole_lifecycle(module: Module) -> None:
    body = published_topologies()["cvr-video-sink"]
    topology = PipelineTopology.deserialize(body)
    status, answer = await send(module, PipelineTopologySetRequest(pipeline_topology=topology))
    assert status == 201, answer
    status, again = await send(module, PipelineTopologySetRequest(pipeline_topology=topology))
    assert status == 200 and again["systemData"]["createdAt"] == answer["systemData"]["createdAt"]

    pipeline = LivePipeline(
        name="camera-1",
        properties=LivePipelineProperties(
            topology_name=body["name"], parameters=[ParameterDefinition(name="rtspUrl", value=CAMERA)]
        ),
    )
    status, created = await send(module, LivePipelineSetRequest(live_pipeline=pipeline))
    assert status == 201, created
    assert created["properties"]["state"] == "inactive"
    assert LivePipeline.deserialize(created).properties.topology_name == body["name"]

    assert (await send(module, LivePipelineActivateRequest(name="camera-1")))[0] == 200
    status, got = await send(module, LivePipelineGetRequest(name="camera-1"))
    assert status == 200 and got["properties"]["state"] == "active"
    status, listed = await send(module, LivePipelineListRequest())
    assert [item["name"] for item in listed["value"]] == ["camera-1"]
    status, topologies = await send(module, PipelineTopologyListRequest())
    assert [item["name"] for item in topologies["value"]] == [body["name"]]

    assert (await send(module, LivePipelineDeactivateRequest(name="camera-1")))[0] == 200
    assert (await send(module, LivePipelineDeleteRequest(name="camera-1")))[0] == 200
    assert (await send(module, LivePipelineDeleteRequest(name="camera-1")))[0] == 204
    assert (await send(module, PipelineTopologyDeleteRequest(name=body["name"])))[0] == 200
    status, missing = await send(module, PipelineTopologyGetRequest(name=body["name"]))
    assert status == 404 and error_code(missing)[0] == "NotFound"
    assert (await send(module, PipelineTopologyDeleteRequest(name=body["name"])))[0] == 204


@pytest.mark.parametrize("version", ["1.0", "2.0", None])
async def test_api_version_other_than_1_1_is_refused(module: Module, version: str | None) -> None:
    payload: dict[str, Any] = {"name": "x"} if version is None else {"@apiVersion": version, "name": "x"}
    status, answer = await module.methods.handle("pipelineTopologyGet", json.dumps(payload))
    assert status == 400
    assert error_code(answer) == ("InvalidVersion", ["ApiVersionNotSupported"])


async def test_bad_payloads_answer_400_in_the_envelope(module: Module) -> None:
    status, answer = await module.methods.handle("pipelineTopologyList", b"{not json")
    assert status == 400 and set(answer["error"]) >= {"code", "message", "details"}
    big = json.dumps({"@apiVersion": "1.1", "name": "x", "pad": "a" * MAX_PAYLOAD_BYTES}).encode()
    status, answer = await module.methods.handle("pipelineTopologySet", big)
    assert status == 400 and "128 KiB" in answer["error"]["message"]
    status, answer = await module.call("pipelineTopologyGet", name="-bad-")
    assert status == 400 and "not a valid name" in answer["error"]["message"]
    status, answer = await module.call("pipelineTopologyGet", name="a" * 33)
    assert status == 400


async def test_unknown_and_unsupported_methods(module: Module) -> None:
    status, answer = await module.call("graphTopologySet", name="x")
    assert status == 404 and error_code(answer) == ("NotFound", ["MethodNotFound"])
    for method in ("remoteDeviceAdapterSet", "onvifDeviceDiscover"):
        status, answer = await module.call(method, name="x")
        assert status == 501 and error_code(answer) == ("NotImplemented", ["MethodNotSupported"])
        assert "not supported by this module" in answer["error"]["message"]


async def test_invalid_topology_lists_its_problems(module: Module) -> None:
    body = copy.deepcopy(published_topologies()["cvr-video-sink"])
    body["properties"]["sinks"][0]["inputs"][0]["nodeName"] = "nowhere"
    status, answer = await module.call("pipelineTopologySet", body)
    assert status == 400
    code, details = error_code(answer)
    assert code == "InvalidResource" and details[0] == "PipelineValidationError"
    assert "nowhere" in answer["error"]["message"]
    assert answer["error"]["target"] == "properties.sinks[0].inputs[0].nodeName"


async def test_topology_in_use_cannot_be_deleted(module: Module) -> None:
    await module.add_recording()
    status, answer = await module.call("pipelineTopologyDelete", name="CVRToVideoSink")
    assert status == 409 and error_code(answer) == ("Conflict", ["PipelineTopologyInUse"])
    assert "camera1" in answer["error"]["message"]


async def test_active_pipeline_cannot_be_deleted_or_rewired(module: Module) -> None:
    await module.add_recording()
    assert (await module.call("livePipelineActivate", name="camera1"))[0] == 200
    status, answer = await module.call("livePipelineDelete", name="camera1")
    assert status == 409 and error_code(answer) == ("Conflict", ["OperationNotAllowedInState"])
    other_camera = [{"name": "rtspUrl", "value": "rtsp://127.0.0.1:8554/other"}]
    properties = {"topologyName": "CVRToVideoSink", "parameters": other_camera}
    status, answer = await module.call("livePipelineSet", name="camera1", properties=properties)
    assert status == 409 and error_code(answer)[1] == ["OperationNotAllowedInState"]
    assert (await module.call("livePipelineDeactivate", name="camera1"))[0] == 200
    status, answer = await module.call("livePipelineSet", name="camera1", properties=properties)
    assert status == 200 and answer["properties"]["parameters"] == other_camera


async def test_active_pipeline_may_change_its_description(module: Module) -> None:
    await module.add_recording()
    await module.call("livePipelineActivate", name="camera1")
    parameters = [{"name": "rtspUrl", "value": CAMERA}, {"name": "rtspPassword", "value": "s3cret-pw"}]
    properties = {"topologyName": "CVRToVideoSink", "description": "lobby", "parameters": parameters}
    status, answer = await module.call("livePipelineSet", name="camera1", properties=properties)
    assert status == 200 and answer["properties"]["description"] == "lobby"
    assert answer["properties"]["state"] == "active"


async def test_pipeline_set_checks_its_topology_and_parameters(module: Module) -> None:
    await module.call("pipelineTopologySet", published_topologies()["cvr-video-sink"])
    status, answer = await module.call("livePipelineSet", name="p", properties={"topologyName": "nope"})
    assert status == 400 and "does not exist" in answer["error"]["message"]
    status, answer = await module.call(
        "livePipelineSet", name="p", properties={"topologyName": "CVRToVideoSink"}
    )
    assert status == 400 and "rtspUrl" in json.dumps(answer)  # no default: must be given
    bad_url = {"topologyName": "CVRToVideoSink", "parameters": [{"name": "rtspUrl", "value": "http://x/"}]}
    status, answer = await module.call("livePipelineSet", name="p", properties=bad_url)
    assert status == 400 and error_code(answer)[1][0] == "PipelineValidationError"
    unknown = {
        "topologyName": "CVRToVideoSink",
        "parameters": [{"name": "zzz", "value": "1"}],
        "color": "red",
    }
    status, answer = await module.call("livePipelineSet", name="p", properties=unknown)
    assert status == 400


async def test_topology_update_must_fit_its_pipelines(module: Module) -> None:
    await module.add_recording()
    body = copy.deepcopy(published_topologies()["cvr-video-sink"])
    body["properties"]["parameters"].append({"name": "extra", "type": "String"})
    status, answer = await module.call("pipelineTopologySet", body)
    assert status == 409 and error_code(answer)[1][0] == "PipelineTopologyInUse"
    assert "camera1" in json.dumps(answer["error"]["details"])

    removed = copy.deepcopy(published_topologies()["cvr-video-sink"])
    removed["properties"]["parameters"] = [
        p for p in removed["properties"]["parameters"] if p["name"] != "rtspPassword"
    ]
    credentials = removed["properties"]["sources"][0]["endpoint"]["credentials"]
    credentials["password"] = "fixed"
    status, answer = await module.call("pipelineTopologySet", removed)
    assert status == 409  # camera1 still sets rtspPassword

    body["properties"]["parameters"][-1]["default"] = "x"
    status, answer = await module.call("pipelineTopologySet", body)
    assert status == 200 and answer["properties"]["parameters"][-1]["name"] == "extra"


async def test_topology_update_waits_for_inactive_pipelines(module: Module) -> None:
    await module.add_recording()
    await module.call("livePipelineActivate", name="camera1")
    status, answer = await module.call("pipelineTopologySet", published_topologies()["cvr-video-sink"])
    assert status == 409 and error_code(answer)[1] == ["OperationNotAllowedInState"]


def secret_topology() -> dict[str, Any]:
    body = copy.deepcopy(published_topologies()["cvr-video-sink"])
    for parameter in body["properties"]["parameters"]:
        if parameter["name"] == "rtspPassword":
            parameter["type"] = "secretString"
    return body


async def test_secret_values_are_never_returned(module: Module, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    status, answer = await module.call("pipelineTopologySet", secret_topology())
    assert status == 201 and "dummyPassword" not in json.dumps(answer)
    await module.add_recording(body=secret_topology())
    for method, payload in (("livePipelineGet", {"name": "camera1"}), ("livePipelineList", {})):
        status, answer = await module.call(method, payload)
        assert status == 200 and "s3cret-pw" not in json.dumps(answer)
        assert "rtspPassword" in json.dumps(answer)
    status, answer = await module.call("pipelineTopologyGet", name="CVRToVideoSink")
    assert "dummyPassword" not in json.dumps(answer)
    assert (await module.call("livePipelineActivate", name="camera1"))[0] == 200
    assert module.runner.started[0].values["rtspPassword"] == "s3cret-pw"  # the graph gets it
    assert "s3cret-pw" not in caplog.text


async def test_unsecured_endpoints_refused_when_the_twin_says_so(module: Module) -> None:
    await module.add_recording()
    module.methods.options.allow_unsecured_endpoints = False
    status, answer = await module.call("pipelineTopologySet", published_topologies()["motion-detection"])
    assert status == 400 and "UnsecuredEndpoint" in answer["error"]["message"]
    status, answer = await module.call("livePipelineActivate", name="camera1")
    assert status == 400 and module.runner.started == []
    module.methods.options.allow_unsecured_endpoints = True
    assert (await module.call("livePipelineActivate", name="camera1"))[0] == 200


async def test_unavailable_node_types_answer_module_validation_error(module: Module) -> None:
    module.runner.unavailable = {"HttpExtension"}
    await module.add_recording(topology="httpExtension")
    status, answer = await module.call("livePipelineActivate", name="camera1")
    assert status == 400 and error_code(answer) == ("InvalidResource", ["ModuleValidationError"])
    assert "httpExtension" in answer["error"]["message"]
    status, got = await module.call("livePipelineGet", name="camera1")
    assert got["properties"]["state"] == "inactive"


async def test_missing_entities_answer_404(module: Module) -> None:
    for method in (
        "pipelineTopologyGet",
        "livePipelineGet",
        "livePipelineActivate",
        "livePipelineDeactivate",
    ):
        status, answer = await module.call(method, name="ghost")
        assert status == 404 and "ghost" in answer["error"]["message"], method


@pytest.mark.parametrize("name", sorted(published_topologies()))
async def test_every_published_topology_is_accepted_through_the_sdk(module: Module, name: str) -> None:
    body = published_topologies()[name]
    request = PipelineTopologySetRequest(pipeline_topology=PipelineTopology.deserialize(body))
    status, answer = await send(module, request)
    assert status == 201, answer
    assert PipelineTopology.deserialize(answer).name == body["name"]
    status, listed = await send(module, PipelineTopologyListRequest())
    assert [item["name"] for item in listed["value"]] == [body["name"]]
