"""Camera URLs in topologies: every RTSP source's endpoint URL must name an RTSP server.

A literal URL is checked when the topology is written. A URL holding ``${parameter}``
references is checked once a pipeline supplies its parameters (the topology's defaults
filling the rest), when the pipeline is written and again when it is activated. Messages
name the source, never the URL (it may carry credentials).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from ova.common.errors import Problems
from ova.contracts.camera_url import camera_url_problem
from ova.contracts.topology_cloud import CloudRtspSource
from ova.contracts.topology_edge import EdgeRtspSource
from ova.contracts.topology_graph import TOPOLOGY_ERROR
from ova.contracts.topology_model import Node
from ova.contracts.topology_values import REFERENCE, references

PARAMETER_ERROR = "InvalidParameter"


def substitute(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``${name}`` that ``values`` knows replaced by its value."""
    return REFERENCE.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def rtsp_source_urls(sources: Sequence[Node]) -> Iterator[tuple[int, str, str]]:
    """``(index, node name, endpoint URL as written)`` of every RTSP source."""
    for index, source in enumerate(sources):
        if isinstance(source, CloudRtspSource | EdgeRtspSource):
            yield index, source.name, source.endpoint.url


def check_literal_camera_urls(sources: Sequence[Node], problems: Problems) -> None:
    """Topology write: a URL without references is checked as it stands."""
    for index, name, url in rtsp_source_urls(sources):
        problem = None if references(url) else camera_url_problem(url)
        if problem is not None:
            message = f"The camera URL of source '{name}' {problem}."
            problems.add(f"properties.sources[{index}].endpoint.url", message, TOPOLOGY_ERROR)


def check_resolved_camera_urls(
    sources: Sequence[Node], values: Mapping[str, str], supplied: Sequence[str], problems: Problems
) -> None:
    """Pipeline write or activation: each URL with its parameters substituted.

    ``supplied`` lists the pipeline's parameter names in the order written, so a problem
    points at the value that made the URL (``properties.parameters[i].value``), or at
    ``properties.parameters`` when the URL came from the topology's defaults alone.
    """
    for _, name, url in rtsp_source_urls(sources):
        problem = camera_url_problem(substitute(url, values))
        if problem is not None:
            target = _target(references(url), supplied)
            problems.add(target, f"The camera URL of source '{name}' {problem}.", PARAMETER_ERROR)


def _target(referenced: Sequence[str], supplied: Sequence[str]) -> str:
    for position, parameter in enumerate(supplied):
        if parameter in referenced:
            return f"properties.parameters[{position}].value"
    return "properties.parameters" if referenced else "properties.topologyName"
