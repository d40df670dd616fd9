"""Graph and parameter rules shared by cloud and edge topologies, reported at the offending JSON path."""

from __future__ import annotations

import pytest

from ova.contracts.topology import validate_edge_topology

from .topology_builders import (
    DELETE,
    Case,
    P,
    check,
    cloud_live,
    edge,
    edge_topology,
    failure,
    hub_sink,
    motion,
    params,
    plain,
    targets,
)

LONG = "x" * 4097
TWO_RANGES = (
    '[["2021-10-05T00:00:00Z","2021-10-05T01:00:00Z"],["2021-10-05T02:00:00Z","2021-10-05T03:00:00Z"]]'
)
CERTIFICATE = "-----BEGIN CERTIFICATE-----" + "A" * (16 * 1024)
TLS = {
    "@type": f"{P}TlsEndpoint",
    "url": "rtsps://camera",
    "credentials": {"@type": f"{P}SymmetricKeyCredentials", "key": "k"},
}

GRAPH_CASES = params(
    Case(
        "duplicate-node-name",
        edge(),
        "properties.sinks[0].name",
        "already used",
        {"properties.sinks[0].name": "rtspSource"},
    ),
    Case(
        "unknown-input",
        edge(),
        "properties.sinks[0].inputs[0].nodeName",
        "does not name a node",
        {"properties.sinks[0].inputs[0].nodeName": "nope"},
    ),
    Case(
        "source-with-inputs",
        edge(),
        "properties.sources[0].inputs",
        "takes no inputs",
        {"properties.sources[0].inputs": [plain("videoSink")]},
    ),
    Case(
        "processor-without-inputs",
        edge(processors=(motion(),), sinks=(hub_sink(),)),
        "properties.processors[0].inputs",
        "at least 1",
        {"properties.processors[0].inputs": []},
    ),
    Case(
        "sink-missing-inputs",
        edge(),
        "properties.sinks[0].inputs",
        "required",
        {"properties.sinks[0].inputs": DELETE},
    ),
    Case("no-sink", edge(), "properties.sinks", "at least one sink", {"properties.sinks": []}),
    Case(
        "cycle",
        edge(
            processors=(motion("a", [plain("b")]), motion("b", [plain("a")])), sinks=(hub_sink(source="a"),)
        ),
        "properties.processors[1].inputs[0].nodeName",
        "cycle",
    ),
    Case(
        "self-loop",
        edge(processors=(motion("a", [plain("a")]),), sinks=(hub_sink(source="a"),)),
        "properties.processors[0].inputs[0].nodeName",
        "cycle",
    ),
    Case(
        "name-too-long",
        edge(),
        "properties.sources[0].name",
        "not a valid name",
        {"properties.sources[0].name": "a" * 33},
    ),
    Case(
        "name-leading-dash",
        edge(),
        "properties.sinks[0].name",
        "not a valid name",
        {"properties.sinks[0].name": "-sink"},
    ),
    Case(
        "name-with-space",
        edge(),
        "properties.sinks[0].name",
        "not a valid name",
        {"properties.sinks[0].name": "video sink"},
    ),
    Case("topology-name", edge(), "name", "not a valid name", {"name": "topology-"}),
    Case(
        "description-too-long",
        edge(),
        "properties.description",
        "2048",
        {"properties.description": "d" * 2049},
    ),
    Case(
        "too-many-parameters",
        edge(),
        "properties.parameters",
        "at most 50",
        {"properties.parameters": [{"name": f"p{i}", "type": "string"} for i in range(51)]},
    ),
    Case(
        "string-too-long",
        edge(),
        "properties.sources[0].endpoint.url",
        "4096",
        {"properties.sources[0].endpoint.url": LONG},
    ),
    Case(
        "certificate-too-long",
        edge(),
        "properties.sources[0].endpoint.trustedCertificates.certificates[0]",
        "16384",
        {
            "properties.sources[0].endpoint": {
                **TLS,
                "trustedCertificates": {"@type": f"{P}PemCertificateList", "certificates": [CERTIFICATE]},
            }
        },
    ),
    Case(
        "too-many-nodes",
        edge(
            processors=tuple(motion(f"m{i}") for i in range(60)),
            sinks=tuple(hub_sink(f"s{i}", source="m0") for i in range(40)),
        ),
        "properties",
        "at most 100 nodes",
    ),
    Case(
        "unknown-credentials-type",
        edge(),
        "properties.sources[0].endpoint.credentials.@type",
        "HttpHeaderCredentials",
        {"properties.sources[0].endpoint.credentials.@type": f"{P}Password"},
    ),
    Case("api-version", edge(), "@apiVersion", "1.1", {"@apiVersion": "2.0"}),
)

PARAMETER_CASES = params(
    Case(
        "duplicate-parameter",
        edge(),
        "properties.parameters[1].name",
        "declared twice",
        {"properties.parameters[1].name": "rtspUrl"},
    ),
    Case(
        "unknown-parameter-type",
        edge(),
        "properties.parameters[0].type",
        "secretString",
        {"properties.parameters[0].type": "Integer"},
    ),
    Case(
        "int-default",
        edge(),
        "properties.parameters[1].default",
        "integer",
        {"properties.parameters[1]": {"name": "rtspUserName", "type": "int", "default": "4.5"}},
    ),
    Case(
        "double-default",
        edge(),
        "properties.parameters[1].default",
        "number",
        {"properties.parameters[1]": {"name": "rtspUserName", "type": "double", "default": "fast"}},
    ),
    Case(
        "bool-default",
        edge(),
        "properties.parameters[1].default",
        '"true" or "false"',
        {"properties.parameters[1]": {"name": "rtspUserName", "type": "bool", "default": "yes"}},
    ),
    Case(
        "parameter-name",
        edge(),
        "properties.parameters[0].name",
        "parameter name",
        {"properties.parameters[0].name": "rtsp url"},
    ),
    Case(
        "undeclared-reference",
        edge(),
        "properties.sources[0].endpoint.url",
        "${cameraUrl}",
        {"properties.sources[0].endpoint.url": "${cameraUrl}"},
    ),
    Case(
        "unknown-system-variable",
        edge(),
        "properties.sinks[0].videoName",
        "System.Now",
        {"properties.sinks[0].videoName": "v-${System.Now}"},
    ),
    Case(
        "date-time-in-video-name",
        edge(),
        "properties.sinks[0].videoName",
        "video name",
        {"properties.sinks[0].videoName": "v-${System.Runtime.DateTime}"},
    ),
    Case(
        "precise-date-time-in-cloud-video-name",
        cloud_live,
        "properties.sinks[0].videoName",
        "video name",
        {"properties.sinks[0].videoName": "${System.Runtime.PreciseDateTime}"},
    ),
)


@pytest.mark.parametrize("case", GRAPH_CASES + PARAMETER_CASES)
def test_problem_is_reported_at_its_path(case: Case) -> None:
    check(case)


def test_every_broken_rule_is_reported_together() -> None:
    body = edge_topology(
        processors=[motion("a", [plain("b")]), motion("b", [plain("a")])],
        sinks=[hub_sink("a", source="ghost")],
    )

    error = failure(validate_edge_topology, body)

    assert {
        "properties.sinks[0].name",
        "properties.sinks[0].inputs[0].nodeName",
        "properties.processors[1].inputs[0].nodeName",
        "properties.processors[0].inputs[0].nodeName",
    } <= set(targets(error))
    assert error.message.startswith("The pipeline topology is invalid.")


def test_a_flood_of_problems_is_cut_short() -> None:
    body = edge_topology(sinks=[hub_sink(f"sink{i}", source="ghost") for i in range(60)])

    error = failure(validate_edge_topology, body)

    assert len(error.details) == 51
    assert error.details[-1].message == "10 more problems were not listed."
