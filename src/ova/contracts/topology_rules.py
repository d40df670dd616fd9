"""Rules on how nodes combine: cloud kinds and SKUs, and the edge wiring rules.

Edge wiring (Video Analyzer quotas and limitations; "directly after" means the
node's immediate upstream):

- exactly one RTSP source; at most one file sink;
- motion detection: directly after the RTSP source;
- signal gate: directly after the RTSP source (other inputs are its triggers), and read
  only by video or file sinks, so never upstream of an extension;
- object tracker: directly after an HTTP or gRPC extension; line crossing: directly after
  an object tracker;
- video sink: fed by the RTSP source or a signal gate (other inputs add inference metadata);
- file sink: fed by a signal gate, never directly by an extension or motion detection;
- IoT Hub sink: never directly after an IoT Hub source;
- extensions analyse video only: an input from the RTSP source needs an output selector
  that lets only video through (``mediaType is video``).
"""

from __future__ import annotations

from collections.abc import Callable

from ova.common.errors import Problems
from ova.contracts.topology_cloud import (
    SKU_FOR_KIND,
    CloudRtspSource,
    CloudTopology,
    CloudVideoSink,
    VideoSource,
)
from ova.contracts.topology_edge import (
    CognitiveServicesVisionProcessor,
    EdgeNodeInput,
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
from ova.contracts.topology_graph import TOPOLOGY_ERROR, GraphNode, TopologyGraph
from ova.contracts.topology_model import Node

EXTENSIONS = (HttpExtension, GrpcExtension)
VIDEO_ANALYSERS = (HttpExtension, GrpcExtension, CognitiveServicesVisionProcessor)
SOURCE_FOR_KIND: dict[str, type[Node]] = {"Live": CloudRtspSource, "Batch": VideoSource}

Rule = Callable[[TopologyGraph, GraphNode, Problems], None]


# --- cloud ------------------------------------------------------------------------------------


def check_cloud_rules(topology: CloudTopology, problems: Problems) -> None:
    kind, sources = topology.kind, topology.properties.sources
    if topology.sku.name != SKU_FOR_KIND[kind]:
        message = f"A {kind} topology needs the SKU '{SKU_FOR_KIND[kind]}', not '{topology.sku.name}'."
        problems.add("sku.name", message, TOPOLOGY_ERROR)
    if len(sources) != 1:
        problems.add("properties.sources", "A cloud topology has exactly one source.", TOPOLOGY_ERROR)
    wanted = SOURCE_FOR_KIND[kind]
    for index, source in enumerate(sources):
        if not isinstance(source, wanted):
            message = f"{kind} topologies read from {_type_name(wanted)}, not {_type_name(type(source))}."
            problems.add(f"properties.sources[{index}].@type", message, TOPOLOGY_ERROR)
    for index, sink in enumerate(topology.properties.sinks):
        if isinstance(sink, CloudVideoSink):
            _check_cloud_video_sink(kind, sink, f"properties.sinks[{index}]", problems)


def _check_cloud_video_sink(kind: str, sink: CloudVideoSink, path: str, problems: Problems) -> None:
    options, creation = sink.video_publishing_options, sink.video_creation_properties
    if options is not None and options.disable_archive == options.disable_rtsp_publishing == "true":
        message = 'disableArchive and disableRtspPublishing cannot both be "true".'
        problems.add(f"{path}.videoPublishingOptions", message, TOPOLOGY_ERROR)
    if kind == "Live":
        return
    live_only: list[tuple[str, object]] = [
        ("videoPublishingOptions", options),
        ("videoCreationProperties.segmentLength", creation and creation.segment_length),
        ("videoCreationProperties.retentionPeriod", creation and creation.retention_period),
    ]
    for name, value in live_only:
        if value is not None:
            problems.add(f"{path}.{name}", f"'{name}' is only allowed in Live topologies.", TOPOLOGY_ERROR)


# --- edge -------------------------------------------------------------------------------------


def check_edge_rules(graph: TopologyGraph, problems: Problems) -> None:
    rtsp_sources = graph.of_type(EdgeRtspSource)
    if len(rtsp_sources) != 1:
        message = f"An edge topology has exactly one RTSP source, not {len(rtsp_sources)}."
        problems.add("properties.sources", message, TOPOLOGY_ERROR)
    for extra in graph.of_type(FileSink)[1:]:
        problems.add(extra.path, "An edge topology has at most one file sink.", TOPOLOGY_ERROR)
    for node in graph.nodes:
        for model, rule in EDGE_RULES.items():
            if isinstance(node.node, model):
                rule(graph, node, problems)


def _type_name(model: type[Node]) -> str:
    return model.TYPE.rsplit(".", 1)[-1]


def _named(node: GraphNode) -> str:
    return f"'{node.name}' ({_type_name(type(node.node))})"


def _only_after(*allowed: type[Node]) -> Rule:
    """Every input of the node must be one of ``allowed``."""
    names = " or ".join(_type_name(model) for model in allowed)

    def rule(graph: TopologyGraph, node: GraphNode, problems: Problems) -> None:
        for item, up in graph.upstream(node):
            if not isinstance(up.node, allowed):
                message = f"{_type_name(type(node.node))} must come directly after {names}, not {_named(up)}."
                problems.add(item.path, message, TOPOLOGY_ERROR)

    return rule


def _needs_input_from(*wanted: type[Node]) -> Rule:
    """At least one input of the node must be one of ``wanted``."""
    names = " or ".join(_type_name(model) for model in wanted)

    def rule(graph: TopologyGraph, node: GraphNode, problems: Problems) -> None:
        if graph.upstream(node) and not any(isinstance(up.node, wanted) for _, up in graph.upstream(node)):
            message = f"{_type_name(type(node.node))} needs an input from {names}."
            problems.add(f"{node.path}.inputs", message, TOPOLOGY_ERROR)

    return rule


def _never_after(*banned: type[Node]) -> Rule:
    def rule(graph: TopologyGraph, node: GraphNode, problems: Problems) -> None:
        for item, up in graph.upstream(node):
            if isinstance(up.node, banned):
                message = f"{_type_name(type(node.node))} cannot come directly after {_named(up)}."
                problems.add(item.path, message, TOPOLOGY_ERROR)

    return rule


def _signal_gate(graph: TopologyGraph, node: GraphNode, problems: Problems) -> None:
    _needs_input_from(EdgeRtspSource)(graph, node, problems)
    readers = graph.downstream(node)
    if not readers:
        problems.add(node.path, "SignalGateProcessor must feed a VideoSink or FileSink.", TOPOLOGY_ERROR)
    for item, reader in readers:
        if not isinstance(reader.node, (EdgeVideoSink, FileSink)):
            message = f"SignalGateProcessor may only feed VideoSink or FileSink, not {_named(reader)}."
            problems.add(item.path, message, TOPOLOGY_ERROR)


def _video_only(graph: TopologyGraph, node: GraphNode, problems: Problems) -> None:
    for item, up in graph.upstream(node):
        if (
            isinstance(up.node, EdgeRtspSource)
            and isinstance(item.spec, EdgeNodeInput)
            and not item.spec.video_only
        ):
            message = (
                "Extensions analyse video only; add the output selector {mediaType is video} to this input."
            )
            problems.add(item.path.removesuffix(".nodeName"), message, TOPOLOGY_ERROR)


def _file_sink(graph: TopologyGraph, node: GraphNode, problems: Problems) -> None:
    _needs_input_from(SignalGateProcessor)(graph, node, problems)
    _never_after(*EXTENSIONS, MotionDetectionProcessor)(graph, node, problems)


EDGE_RULES: dict[type[Node], Rule] = {
    MotionDetectionProcessor: _only_after(EdgeRtspSource),
    SignalGateProcessor: _signal_gate,
    ObjectTrackingProcessor: _only_after(*EXTENSIONS),
    LineCrossingProcessor: _only_after(ObjectTrackingProcessor),
    HttpExtension: _video_only,
    GrpcExtension: _video_only,
    CognitiveServicesVisionProcessor: _video_only,
    EdgeVideoSink: _needs_input_from(EdgeRtspSource, SignalGateProcessor),
    FileSink: _file_sink,
    IotHubMessageSink: _never_after(IotHubMessageSource),
}
