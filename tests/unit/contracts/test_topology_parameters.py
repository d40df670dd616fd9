"""Pipelines supply parameter values: defaults fill gaps, unknown or ill-typed values are refused."""

from __future__ import annotations

import pytest

from ova.contracts.topology import (
    SYSTEM_VARIABLES,
    resolve_parameters,
    secret_parameter_names,
    validate_cloud_topology,
    validate_edge_topology,
)
from ova.contracts.topology_values import parse_duration, references

from .topology_builders import cloud_live, edge_topology, edited, failure

SUPPLIED = {"rtspUrl": "rtsp://camera/stream", "videoName": "lobby"}


def test_defaults_fill_in_parameters_the_pipeline_leaves_out() -> None:
    topology = validate_cloud_topology(cloud_live())

    values = resolve_parameters(topology, SUPPLIED)

    assert values == {**SUPPLIED, "rtspUserName": "admin", "rtspPassword": "dummyPassword"}


def test_a_supplied_value_wins_over_the_default() -> None:
    topology = validate_cloud_topology(cloud_live())

    values = resolve_parameters(topology, {**SUPPLIED, "rtspPassword": "s3cret"})

    assert values["rtspPassword"] == "s3cret"


def test_a_parameter_without_default_must_be_supplied() -> None:
    topology = validate_cloud_topology(cloud_live())

    error = failure(lambda supplied: resolve_parameters(topology, supplied), {"rtspUrl": "rtsp://camera"})

    assert [(d.code, d.target) for d in error.details] == [("MissingParameter", "properties.parameters")]
    assert "'videoName'" in error.message


def test_an_undeclared_parameter_is_refused() -> None:
    topology = validate_cloud_topology(cloud_live())

    error = failure(lambda supplied: resolve_parameters(topology, supplied), {**SUPPLIED, "rtspURL": "x"})

    assert [d.code for d in error.details] == ["InvalidParameter"]
    assert "'rtspURL'" in error.message


def test_a_value_must_fit_the_declared_type() -> None:
    body = edited(cloud_live(), {"properties.parameters[1]": {"name": "rtspUserName", "type": "Int"}})
    body = edited(body, {"properties.sources[0].endpoint.credentials.username": "user-${rtspUserName}"})
    topology = validate_cloud_topology(body)

    error = failure(
        lambda supplied: resolve_parameters(topology, supplied), {**SUPPLIED, "rtspUserName": "bob"}
    )

    assert "not an integer" in error.message
    assert resolve_parameters(topology, {**SUPPLIED, "rtspUserName": "42"})["rtspUserName"] == "42"


def test_all_parameter_problems_are_reported_together_at_the_callers_target() -> None:
    topology = validate_cloud_topology(cloud_live())

    error = failure(
        lambda supplied: resolve_parameters(topology, supplied, target="parameters"), {"other": "1"}
    )

    assert [d.target for d in error.details] == ["parameters"] * 3
    assert error.message == "The pipeline parameters are invalid. 3 problems found."


def test_secret_parameters_are_named_for_redaction_in_both_flavours() -> None:
    cloud = validate_cloud_topology(cloud_live())
    edge = validate_edge_topology(edge_topology())

    assert secret_parameter_names(cloud) == {"rtspPassword"}
    assert secret_parameter_names(edge) == {"rtspPassword"}


def test_system_variables_need_no_declaration() -> None:
    pattern = "-".join(f"${{{name}}}" for name in sorted(SYSTEM_VARIABLES))
    body = edge_topology()
    body["properties"]["sinks"][0]["videoName"] = "${System.TopologyName}-${System.PipelineName}"
    body["properties"]["sources"][0]["endpoint"]["url"] = f"rtsp://camera/{pattern}"

    topology = validate_edge_topology(body)

    assert (
        topology.properties.sinks[0].model_dump()["videoName"]
        == "${System.TopologyName}-${System.PipelineName}"
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT30S", 30), ("PT5M", 300), ("PT1M30S", 90), ("-PT5S", -5), ("P1DT1H", 90000), ("PT0.5S", 0.5)],
)
def test_iso_durations_are_read_in_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["P", "PT", "P1DT", "30S", "PT5X", ""])
def test_malformed_durations_are_refused(text: str) -> None:
    assert parse_duration(text) is None


def test_references_are_found_in_order() -> None:
    assert references("${a}/x/${System.PipelineName}${b}") == ["a", "System.PipelineName", "b"]
