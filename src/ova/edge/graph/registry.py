"""The node types this module runs: each topology ``@type`` and the implementation it builds.

One module per node type holds its implementation (``edge.sources``, ``edge.processors``,
``edge.sinks``); its configuration model is in ``contracts.topology_edge``. The analytics
node types are accepted in topologies but arrive with the analytics work: a pipeline that
uses one cannot be activated yet (``NOT_YET_AVAILABLE``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from ova.contracts.topology_edge import (
    CognitiveServicesVisionProcessor,
    EdgeRtspSource,
    EdgeVideoSink,
    FileSink,
    GrpcExtension,
    HttpExtension,
    IotHubMessageSink,
    IotHubMessageSource,
    LineCrossingProcessor,
    MotionDetectionProcessor,
    ObjectTrackingProcessor,
    SignalGateProcessor,
)
from ova.contracts.topology_model import Node
from ova.edge.graph.context import NodeScope
from ova.edge.graph.node import Outlet, RunningNode
from ova.edge.processors.signal_gate import GateTiming, SignalGateNode
from ova.edge.sinks.file import FileSinkNode
from ova.edge.sinks.iot_hub_message import IotHubMessageSinkNode
from ova.edge.sinks.video import VideoSinkNode
from ova.edge.sources.iot_hub_message import IotHubMessageSourceNode
from ova.edge.sources.rtsp import RtspSourceNode


@dataclass(frozen=True)
class NodeBuild:
    """What building one node takes: its configuration (values substituted), where it sits,
    its outlet, and the pipeline's camera (URL with credentials, and a name safe for logs)."""

    node: Node
    scope: NodeScope
    outlet: Outlet
    camera_url: str
    camera_label: str


NodeFactory = Callable[[NodeBuild], RunningNode]


def _rtsp_source(build: NodeBuild) -> RunningNode:
    return RtspSourceNode(build.scope, build.camera_url, build.scope.context.ingest, build.outlet)


def _hub_source(build: NodeBuild) -> RunningNode:
    node = cast(IotHubMessageSource, build.node)
    return IotHubMessageSourceNode(build.scope, node.hub_input_name or node.name, build.outlet)


def _signal_gate(build: NodeBuild) -> RunningNode:
    return SignalGateNode(build.node.name, GateTiming.of(cast(SignalGateProcessor, build.node)), build.outlet)


def _video_sink(build: NodeBuild) -> RunningNode:
    return VideoSinkNode(build.scope, cast(EdgeVideoSink, build.node), build.camera_label)


def _file_sink(build: NodeBuild) -> RunningNode:
    return FileSinkNode(build.scope, cast(FileSink, build.node), build.camera_label)


def _hub_sink(build: NodeBuild) -> RunningNode:
    return IotHubMessageSinkNode(build.scope, cast(IotHubMessageSink, build.node).hub_output_name)


IMPLEMENTED: dict[str, NodeFactory] = {
    EdgeRtspSource.TYPE: _rtsp_source,
    IotHubMessageSource.TYPE: _hub_source,
    SignalGateProcessor.TYPE: _signal_gate,
    EdgeVideoSink.TYPE: _video_sink,
    FileSink.TYPE: _file_sink,
    IotHubMessageSink.TYPE: _hub_sink,
}

NOT_YET_AVAILABLE: frozenset[str] = frozenset(
    model.TYPE
    for model in (
        MotionDetectionProcessor,
        HttpExtension,
        GrpcExtension,
        ObjectTrackingProcessor,
        LineCrossingProcessor,
        CognitiveServicesVisionProcessor,
    )
)


def factory(type_name: str) -> NodeFactory | None:
    """The implementation of ``type_name`` (canonical ``@type``), or None when this module has none."""
    return IMPLEMENTED.get(type_name)
