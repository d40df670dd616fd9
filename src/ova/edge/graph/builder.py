"""From an activated live pipeline (``PipelineSpec``) to a wired graph of running nodes.

``resolve`` substitutes the pipeline's values into its topology (``contracts.topology.
substitute``; the ``System.Runtime`` date-time variables are left for the file sinks to fill
per file) and checks the result as a topology again, so a value that breaks a rule is caught
before anything runs. ``build`` makes one node per topology node through the registry and
connects each to its inputs' outlets (an input with ``mediaType is video`` takes no audio);
the nodes come back downstream first, the order they start in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ova.common.errors import ValidationFailed
from ova.contracts.topology import validate_edge_topology
from ova.contracts.topology_camera_urls import substitute
from ova.contracts.topology_edge import EdgeNodeInput, EdgeRtspSource, EdgeTopology
from ova.contracts.topology_graph import GraphNode, TopologyGraph
from ova.contracts.topology_parameters import DATE_TIME_VARIABLES
from ova.edge.errors import PipelineValidation
from ova.edge.graph.context import GraphContext, NodeScope
from ova.edge.graph.node import Outlet, RunningNode
from ova.edge.graph.registry import NodeBuild, factory
from ova.edge.ports import PipelineSpec
from ova.media.demuxer import redact_url
from ova.recording.plan import NotRecordable, rtsp_camera_url


def substituted(value: object, values: Mapping[str, str]) -> Any:
    """``value`` (JSON) with ``${name}`` references replaced in every string."""
    if isinstance(value, str):
        return substitute(value, values)
    if isinstance(value, Mapping):
        return {key: substituted(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [substituted(item, values) for item in value]
    return value


def build_values(spec: PipelineSpec) -> dict[str, str]:
    """The parameter defaults, overridden by the pipeline's values (date-time variables left out)."""
    properties = spec.topology.get("properties")
    declared = properties.get("parameters", []) if isinstance(properties, Mapping) else []
    values = {
        str(item["name"]): str(item["default"])
        for item in declared
        if isinstance(item, Mapping) and "name" in item and item.get("default") is not None
    }
    values.update(spec.values)
    return {name: value for name, value in values.items() if name not in DATE_TIME_VARIABLES}


def resolve(spec: PipelineSpec) -> EdgeTopology:
    """The topology with the pipeline's values in, checked; ``PipelineValidation`` if it breaks a rule."""
    try:
        return validate_edge_topology(substituted(spec.topology, build_values(spec)))
    except ValidationFailed as failed:
        raise PipelineValidation(
            f"The live pipeline '{spec.name}' does not make a valid topology with its parameters: "
            f"{failed.message}",
            details=failed.details,
        ) from None


def camera_url(spec: PipelineSpec, topology: EdgeTopology) -> str | None:
    """The RTSP source's URL, credentials written in (None when the topology has no RTSP source)."""
    if not any(isinstance(source, EdgeRtspSource) for source in topology.properties.sources):
        return None
    properties = topology.model_dump(by_alias=True, exclude_none=True)["properties"]
    cameras = [source for source in properties["sources"] if source["@type"] == EdgeRtspSource.TYPE]
    try:
        return rtsp_camera_url({"sources": cameras}, build_values(spec))
    except NotRecordable as error:
        raise PipelineValidation(f"The live pipeline '{spec.name}' cannot record: {error}") from None


@dataclass(frozen=True)
class BuiltNode:
    spec: GraphNode
    running: RunningNode


def _depths(graph: TopologyGraph) -> dict[str, int]:
    """Each node's distance from the sources (a topology has no cycles)."""
    depths: dict[str, int] = {}

    def depth(node: GraphNode, seen: frozenset[str]) -> int:
        if node.name not in depths:
            ups = [up for _, up in graph.upstream(node) if up.name not in seen]
            depths[node.name] = 1 + max((depth(up, seen | {node.name}) for up in ups), default=-1)
        return depths[node.name]

    for node in graph.nodes:
        depth(node, frozenset())
    return depths


def build(spec: PipelineSpec, topology: EdgeTopology, context: GraphContext) -> list[BuiltNode]:
    """One running node per topology node, wired, downstream first."""
    graph = TopologyGraph.of(topology.properties)
    url = camera_url(spec, topology) or ""
    label = redact_url(url) if url else spec.name
    outlets = {node.name: Outlet() for node in graph.nodes}
    built: dict[str, BuiltNode] = {}
    for node in graph.nodes:
        make = factory(node.node.TYPE)
        if make is None:
            raise PipelineValidation(f"The node '{node.name}' ({node.node.TYPE}) cannot run on this module.")
        kind = node.path.split(".")[1].split("[")[0]
        scope = NodeScope(context, spec.name, kind, node.name)
        built[node.name] = BuiltNode(node, make(NodeBuild(node.node, scope, outlets[node.name], url, label)))
    for node in graph.nodes:
        for item, up in graph.upstream(node):
            video_only = isinstance(item.spec, EdgeNodeInput) and item.spec.video_only
            outlets[up.name].connect(built[node.name].running, video_only=video_only)
    depths = _depths(graph)
    return sorted(built.values(), key=lambda entry: -depths[entry.spec.name])
