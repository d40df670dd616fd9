"""The node graph of a topology and the checks every topology passes, cloud or edge.

Nodes are named uniquely across sources, processors and sinks; each input names an
existing node; inputs never form a cycle; a topology has at most ``MAX_NODES`` nodes and
at least one sink.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ova.common.errors import Problems
from ova.contracts.topology_model import Node, NodeInput, SourceNode, WiredNode
from ova.contracts.topology_values import MAX_NODES

TOPOLOGY_ERROR = "PipelineValidationError"


class NodeLists(Protocol):
    """What a topology's ``properties`` holds, for both flavours."""

    @property
    def sources(self) -> Sequence[SourceNode]: ...

    @property
    def processors(self) -> Sequence[WiredNode]: ...

    @property
    def sinks(self) -> Sequence[WiredNode]: ...


@dataclass(frozen=True)
class GraphInput:
    """One entry of a node's ``inputs``, with the JSON path of its ``nodeName``."""

    spec: NodeInput
    path: str


@dataclass(frozen=True)
class GraphNode:
    node: Node
    path: str
    inputs: tuple[GraphInput, ...] = ()

    @property
    def name(self) -> str:
        return self.node.name


@dataclass
class TopologyGraph:
    """Nodes in document order, looked up by name (the first of duplicates wins)."""

    nodes: list[GraphNode] = field(default_factory=list)
    by_name: dict[str, GraphNode] = field(default_factory=dict)

    @classmethod
    def of(cls, properties: NodeLists) -> TopologyGraph:
        graph = cls()
        for index, source in enumerate(properties.sources):
            graph._add(GraphNode(source, f"properties.sources[{index}]"))
        for section, nodes in (("processors", properties.processors), ("sinks", properties.sinks)):
            for index, node in enumerate(nodes):
                path = f"properties.{section}[{index}]"
                inputs = tuple(
                    GraphInput(spec, f"{path}.inputs[{number}].nodeName")
                    for number, spec in enumerate(node.inputs)
                )
                graph._add(GraphNode(node, path, inputs))
        return graph

    def _add(self, node: GraphNode) -> None:
        self.nodes.append(node)
        self.by_name.setdefault(node.name, node)

    def upstream(self, node: GraphNode) -> list[tuple[GraphInput, GraphNode]]:
        """Each input of ``node`` that names an existing node, with that node."""
        found = ((item, self.by_name.get(item.spec.node_name)) for item in node.inputs)
        return [(item, up) for item, up in found if up is not None]

    def downstream(self, node: GraphNode) -> list[tuple[GraphInput, GraphNode]]:
        """Each input, anywhere in the topology, that names ``node``, with the node it belongs to."""
        return [
            (item, other) for other in self.nodes for item in other.inputs if item.spec.node_name == node.name
        ]

    def of_type(self, model: type[Node]) -> list[GraphNode]:
        return [node for node in self.nodes if isinstance(node.node, model)]


def check_graph(graph: TopologyGraph, problems: Problems) -> None:
    """Add a problem for every violation of the rules shared by all topologies."""
    if len(graph.nodes) > MAX_NODES:
        problems.add(
            "properties", f"A topology has at most {MAX_NODES} nodes, not {len(graph.nodes)}.", TOPOLOGY_ERROR
        )
    if not any(node.path.startswith("properties.sinks") for node in graph.nodes):
        problems.add("properties.sinks", "A topology needs at least one sink.", TOPOLOGY_ERROR)
    _check_unique_names(graph, problems)
    _check_inputs_exist(graph, problems)
    _check_cycles(graph, problems)


def _check_unique_names(graph: TopologyGraph, problems: Problems) -> None:
    for node in graph.nodes:
        first = graph.by_name[node.name]
        if first is not node:
            message = f"The node name '{node.name}' is already used by {first.path}; names must be unique."
            problems.add(f"{node.path}.name", message, TOPOLOGY_ERROR)


def _check_inputs_exist(graph: TopologyGraph, problems: Problems) -> None:
    for node in graph.nodes:
        for item in node.inputs:
            if item.spec.node_name not in graph.by_name:
                message = f"The input '{item.spec.node_name}' does not name a node of this topology."
                problems.add(item.path, message, TOPOLOGY_ERROR)


def _check_cycles(graph: TopologyGraph, problems: Problems) -> None:
    """Depth-first search along inputs; report the input that closes each cycle."""
    finished: set[str] = set()
    stack: list[str] = []

    def visit(node: GraphNode) -> None:
        stack.append(node.name)
        for item, up in graph.upstream(node):
            if up.name in stack:
                cycle = " <- ".join([*stack[stack.index(up.name) :], up.name])
                problems.add(item.path, f"The inputs form a cycle: {cycle}.", TOPOLOGY_ERROR)
            elif up.name not in finished:
                visit(up)
        stack.pop()
        finished.add(node.name)

    for node in graph.nodes:
        if node.name not in finished:
            visit(node)
