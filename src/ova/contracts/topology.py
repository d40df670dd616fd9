"""Pipeline topology validation: the one entry point for cloud and edge topologies.

``validate_cloud_topology`` takes the management API resource (``kind``, ``sku``,
``properties``); ``validate_edge_topology`` takes the ``pipelineTopologySet`` payload
(``@apiVersion``, ``name``, ``properties``). Both return the parsed model, whose
``model_dump(exclude_none=True)`` is the topology in canonical spelling, or raise one
``ValidationFailed`` listing every problem with its JSON path as ``target``.

Validation runs in two passes: the shape of every object (types, required and unknown
properties, value formats and ranges) and then, once the shape is right, the rules
that span objects (names, inputs, cycles, parameters, kinds, wiring). A request that
fails the first pass reports only first-pass problems.

Modules: ``topology_values`` (scalars), ``topology_model`` (bases, ``@type`` registry),
``topology_blocks`` (parameters, credentials, endpoints), ``topology_cloud`` and
``topology_edge`` (node catalogues), ``topology_graph``, ``topology_parameters`` and
``topology_rules`` (cross-object checks), ``topology_camera_urls`` (RTSP source URLs),
``topology_problems`` (error reporting).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ova.common.errors import Problems, ValidationFailed
from ova.contracts.topology_blocks import ParameterDeclaration
from ova.contracts.topology_camera_urls import (
    check_literal_camera_urls,
    check_resolved_camera_urls,
    substitute,
)
from ova.contracts.topology_cloud import CloudTopology
from ova.contracts.topology_edge import EdgeTopology
from ova.contracts.topology_graph import TopologyGraph, check_graph
from ova.contracts.topology_parameters import (
    SYSTEM_VARIABLES,
    check_parameters,
    resolve_parameters,
    secret_parameter_names,
)
from ova.contracts.topology_problems import add_validation_errors, raise_if_any
from ova.contracts.topology_rules import check_cloud_rules, check_edge_rules

__all__ = [
    "SYSTEM_VARIABLES",
    "CloudTopology",
    "EdgeTopology",
    "ParameterDeclaration",
    "check_resolved_camera_urls",
    "resolve_parameters",
    "secret_parameter_names",
    "substitute",
    "validate_cloud_topology",
    "validate_edge_topology",
]

SUMMARY = "The pipeline topology is invalid."
ModelT = TypeVar("ModelT", bound=BaseModel)


def validate_cloud_topology(body: Mapping[str, object]) -> CloudTopology:
    """Parse and check a management API pipeline topology, or raise ``ValidationFailed``."""
    problems = Problems()
    topology = _parse(CloudTopology, body, problems)
    graph = TopologyGraph.of(topology.properties)
    check_graph(graph, problems)
    check_parameters(topology.properties, problems)
    check_literal_camera_urls(topology.properties.sources, problems)
    check_cloud_rules(topology, problems)
    raise_if_any(problems, SUMMARY)
    return topology


def validate_edge_topology(body: Mapping[str, object]) -> EdgeTopology:
    """Parse and check a ``pipelineTopologySet`` payload, or raise ``ValidationFailed``."""
    problems = Problems()
    topology = _parse(EdgeTopology, body, problems)
    graph = TopologyGraph.of(topology.properties)
    check_graph(graph, problems)
    check_parameters(topology.properties, problems)
    check_literal_camera_urls(topology.properties.sources, problems)
    check_edge_rules(graph, problems)
    raise_if_any(problems, SUMMARY)
    return topology


def _parse(model: type[ModelT], body: object, problems: Problems) -> ModelT:
    if not isinstance(body, Mapping):
        raise ValidationFailed("The pipeline topology must be a JSON object.")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        add_validation_errors(problems, error)
    raise_if_any(problems, SUMMARY)
    raise AssertionError("unreachable: a failed validation always reports a problem")
