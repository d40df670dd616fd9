"""``EdgeGraphRunner.check`` and the builder: what may run on this module, and how it is wired."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ova.edge.errors import NodeNotAvailable, PipelineValidation
from ova.edge.graph.builder import build, resolve
from ova.edge.graph.runner import EdgeGraphRunner
from ova.edge.processors.signal_gate import SignalGateNode
from ova.edge.sinks.file import FileSinkNode
from ova.edge.sinks.video import VideoSinkNode
from ova.edge.sources.iot_hub_message import IotHubMessageSourceNode
from ova.edge.sources.rtsp import RtspSourceNode
from support.edge_graph import (
    GraphWorld,
    continuous,
    event_based,
    file_sink,
    rtsp_source,
    spec,
    topology,
)

TOPOLOGIES = Path(__file__).parents[3] / "data" / "ava-topologies"
CAMERA = "rtsp://127.0.0.1:8554/cam"
# What each published topology uses that arrives with the analytics work.
NOT_YET = {
    "cvr-video-sink": [],
    "cvr-with-httpExtension": ["httpExtension (HttpExtension)"],
    "cvr-with-motion": ["motionDetection (MotionDetectionProcessor)"],
    "evr-motion-video-sink": ["motionDetection (MotionDetectionProcessor)"],
    "httpExtension": ["httpExtension (HttpExtension)"],
    "motion-detection": ["motionDetection (MotionDetectionProcessor)"],
}


def published(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((TOPOLOGIES / f"{name}.json").read_text())
    return body


@pytest.mark.parametrize("name", sorted(NOT_YET))
def test_check_names_exactly_the_nodes_not_yet_available(name: str) -> None:
    runner = EdgeGraphRunner(GraphWorld().context())
    pipeline = spec(published(name), CAMERA, inferencingUrl="http://127.0.0.1:8000/score")
    if not NOT_YET[name]:
        runner.check(pipeline)
        return
    with pytest.raises(NodeNotAvailable) as raised:
        runner.check(pipeline)
    named = [detail.message.split(":")[0] for detail in raised.value.details]
    assert named == NOT_YET[name]
    assert all(
        "accepted in topologies, not yet available at activation" in d.message for d in raised.value.details
    )
    assert raised.value.status == 400 and raised.value.detail_code == "ModuleValidationError"


def test_unsecured_endpoints_are_refused_when_the_module_does_not_allow_them() -> None:
    runner = EdgeGraphRunner(GraphWorld().context(allow_unsecured_endpoints=False))
    with pytest.raises(PipelineValidation, match="AllowUnsecuredEndpoints is false"):
        runner.check(spec(continuous(), CAMERA))
    tls = topology("tls", [rtsp_source(endpoint="TlsEndpoint")], [], continuous()["properties"]["sinks"])
    runner.check(spec(tls, "rtsps://127.0.0.1:8322/cam"))


def test_a_camera_outside_the_camera_networks_is_refused() -> None:
    runner = EdgeGraphRunner(GraphWorld().context())
    with pytest.raises(PipelineValidation, match="camera networks"):
        runner.check(spec(continuous(), "rtsp://8.8.8.8:554/cam"))
    runner.check(spec(continuous(), "rtsp://camera.local:554/cam"))  # a name is checked when resolved


@pytest.mark.parametrize("url", ["http://127.0.0.1/cam", "file:///etc/passwd", "rtsp://"])
def test_a_url_that_names_no_rtsp_server_is_refused(url: str) -> None:
    with pytest.raises(PipelineValidation, match="camera URL"):
        EdgeGraphRunner(GraphWorld().context()).check(spec(continuous(), url))


def test_rtsp_over_http_is_not_available() -> None:
    body = continuous()
    body["properties"]["sources"][0]["transport"] = "http"
    with pytest.raises(NodeNotAvailable, match="rtspSource"):
        EdgeGraphRunner(GraphWorld().context()).check(spec(body, CAMERA))


def test_a_value_that_breaks_a_rule_is_caught_before_activation() -> None:
    body = event_based(file_sink("/tmp/clips"), offset="${offset}")
    body["properties"]["parameters"].append({"name": "offset", "type": "String"})
    with pytest.raises(PipelineValidation, match="not make a valid topology"):
        EdgeGraphRunner(GraphWorld().context()).check(spec(body, CAMERA, offset="-PT5M"))


def test_the_builder_wires_every_node_downstream_first() -> None:
    world = GraphWorld()
    body = event_based(file_sink("/tmp/clips"))
    pipeline = spec(body, CAMERA)
    built = build(pipeline, resolve(pipeline), world.context())
    kinds = [type(node.running) for node in built]
    assert kinds[0] is FileSinkNode and kinds[1] is SignalGateNode
    assert set(kinds[2:]) == {RtspSourceNode, IotHubMessageSourceNode}
    gate = built[1].running
    assert isinstance(gate, SignalGateNode) and [r.node for r in gate.outlet.readers] == [built[0].running]
    sources = {type(node.running): node.running for node in built[2:]}
    rtsp = sources[RtspSourceNode]
    assert isinstance(rtsp, RtspSourceNode) and [r.node for r in rtsp.outlet.readers] == [gate]


def test_parameters_and_system_variables_are_substituted() -> None:
    world = GraphWorld()
    pipeline = spec(continuous(), CAMERA, pipeline="door")
    built = build(pipeline, resolve(pipeline), world.context())
    sink = built[0].running
    assert isinstance(sink, VideoSinkNode) and sink.config.video_name == "door-video"
    assert sink.segment_ms == 30_000 and sink.publish.enable_preview_image
