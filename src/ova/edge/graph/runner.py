"""``EdgeGraphRunner``: checks that a live pipeline can run here, starts it, and stops it.

``check`` (before a pipeline becomes active) raises:

- ``NodeNotAvailable`` naming every node whose type this module does not run yet: the
  analytics types (``registry.NOT_YET_AVAILABLE``) are accepted in topologies but not at
  activation; an ``RtspSource`` with ``transport: http`` (RTSP tunnelled in HTTP) likewise;
- ``PipelineValidation`` when the values make the topology invalid, when the camera URL does
  not name an RTSP server (``recording.plan.rtsp_camera_url``), when the camera's address is a
  literal outside the camera networks (a host name is checked when it is resolved), or when
  an ``UnsecuredEndpoint`` is used while ``AllowUnsecuredEndpoints`` is false.

``start`` builds the graph (``builder``) and starts its nodes downstream first; ``stop`` of the
``RunningGraph`` stops them upstream first (sources, then processors, then every sink at once,
each storing what it holds) and says whether the video sinks' caches drained in time.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from urllib.parse import urlsplit

from ova.common.errors import ErrorDetail
from ova.contracts.topology_blocks import EdgeUnsecuredEndpoint
from ova.contracts.topology_edge import EdgeRtspSource, EdgeTopology
from ova.contracts.topology_graph import TopologyGraph
from ova.edge.errors import NodeNotAvailable, PipelineValidation
from ova.edge.graph.builder import BuiltNode, build, camera_url, resolve
from ova.edge.graph.context import GraphContext
from ova.edge.graph.registry import IMPLEMENTED, NOT_YET_AVAILABLE
from ova.edge.ports import PipelineSpec, RunningGraph

log = logging.getLogger(__name__)
NOT_YET = "accepted in topologies, not yet available at activation"


def _short(type_name: str) -> str:
    return type_name.rsplit(".", 1)[-1]


def unavailable_nodes(topology: EdgeTopology) -> list[ErrorDetail]:
    """One detail per node this module cannot run, with the node's JSON path as target."""
    details = []
    for node in TopologyGraph.of(topology.properties).nodes:
        type_name = node.node.TYPE
        if type_name in NOT_YET_AVAILABLE or type_name not in IMPLEMENTED:
            message = f"{node.name} ({_short(type_name)}): {NOT_YET}."
        elif isinstance(node.node, EdgeRtspSource) and node.node.transport == "http":
            message = (
                f"{node.name} (RtspSource): the http transport (RTSP over HTTP) is not available; use tcp."
            )
        else:
            continue
        details.append(ErrorDetail("ModuleValidationError", message, node.path))
    return details


class EdgeGraphRunner:
    """``ports.GraphRunner`` over the nodes in ``registry``."""

    def __init__(self, context: GraphContext) -> None:
        self.context = context

    def check(self, spec: PipelineSpec) -> None:
        """Raise when ``spec`` cannot run here (``ports.GraphRunner``)."""
        self.checked(spec)

    def checked(self, spec: PipelineSpec) -> EdgeTopology:
        """``check``, answering the topology with the pipeline's values in."""
        topology = resolve(spec)
        details = unavailable_nodes(topology)
        if details:
            names = ", ".join(detail.message.split(":")[0] for detail in details)
            raise NodeNotAvailable(
                f"The live pipeline '{spec.name}' uses node types this module does not run yet: {names}.",
                details=details,
            )
        self._check_camera(spec, topology)
        return topology

    def _check_camera(self, spec: PipelineSpec, topology: EdgeTopology) -> None:
        for source in topology.properties.sources:
            unsecured = isinstance(source, EdgeRtspSource) and isinstance(
                source.endpoint, EdgeUnsecuredEndpoint
            )
            if unsecured and not self.context.allow_unsecured_endpoints:
                raise PipelineValidation(
                    f"The RTSP source '{source.name}' uses an UnsecuredEndpoint, and this module does not "
                    "allow them (AllowUnsecuredEndpoints is false): use a TlsEndpoint."
                )
        url = camera_url(spec, topology)
        host = urlsplit(url).hostname if url else None
        try:
            address = ipaddress.ip_address(host) if host else None
        except ValueError:
            return  # a host name: the ingest checks the addresses it resolves to
        if address is not None and not self.context.ingest.camera_networks.allows(address):
            raise PipelineValidation(
                f"The camera of the live pipeline '{spec.name}' is not on a network this module may "
                "reach (the camera networks setting)."
            )

    async def start(self, spec: PipelineSpec) -> RunningGraph:
        topology = self.checked(spec)
        graph = LiveGraph(spec.name, build(spec, topology, self.context))
        await graph.start()
        return graph


class LiveGraph:
    """``ports.RunningGraph``: the running nodes of one live pipeline."""

    def __init__(self, pipeline: str, nodes: list[BuiltNode]) -> None:
        self.pipeline, self.nodes = pipeline, nodes
        self._started: list[BuiltNode] = []

    async def start(self) -> None:
        try:
            for node in self.nodes:
                await node.running.start()
                self._started.append(node)
        except BaseException:
            await self.stop(0.0)
            raise

    async def stop(self, flush_timeout_s: float) -> bool:
        started, self._started = self._started, []
        upstream = [node for node in reversed(started) if not _is_sink(node)]
        sinks = [node for node in started if _is_sink(node)]
        drained = True
        for node in upstream:
            drained = await self._stop_one(node, flush_timeout_s) and drained
        results = await asyncio.gather(*(self._stop_one(node, flush_timeout_s) for node in sinks))
        return drained and all(results)

    async def _stop_one(self, node: BuiltNode, flush_timeout_s: float) -> bool:
        try:
            return await node.running.stop(flush_timeout_s)
        except Exception as error:  # one failing node must not keep the others running
            log.warning(
                "node %s of %s did not stop cleanly: %s", node.spec.name, self.pipeline, type(error).__name__
            )
            return False


def _is_sink(node: BuiltNode) -> bool:
    return node.spec.path.startswith("properties.sinks[")
