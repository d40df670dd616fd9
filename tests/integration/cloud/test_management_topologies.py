"""Pipeline topologies over the management API: validation, secrets, and the rules while in use."""

from __future__ import annotations

import copy
from typing import Any

from support.management import (
    Arm,
    P,
    Refused,
    batch_topology,
    check_refused,
    live_pipeline,
    live_topology,
    pipeline_job,
)

BAD_NAMES = {
    "33-characters": "t" * 33,
    "underscore": "live_2",
    "leading-dash": "-live",
    "newline": "live2%0A",
}


def changed(path: str, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """``live_topology()`` with one dotted path (list indexes as numbers) set to ``value``."""
    body = copy.deepcopy(base or live_topology())
    *parents, last = [int(step) if step.isdigit() else step for step in path.split(".")]
    node: Any = body
    for step in parents:
        node = node[step]
    node[last] = value
    return body


REFUSED = [
    *(
        Refused(
            f"name-{case}", "PUT", f"pipelineTopologies/{name}", live_topology(), code="InvalidResourceName"
        )
        for case, name in BAD_NAMES.items()
    ),
    Refused(
        "unknown-source-type",
        "PUT",
        "pipelineTopologies/t2",
        changed("properties.sources.0.@type", f"{P}UsbSource"),
    ),
    Refused(
        "unknown-sink-type",
        "PUT",
        "pipelineTopologies/t2",
        changed("properties.sinks.0.@type", f"{P}FileSink"),
    ),
    Refused(
        "unknown-endpoint-type",
        "PUT",
        "pipelineTopologies/t2",
        changed("properties.sources.0.endpoint.@type", f"{P}CarrierPigeonEndpoint"),
    ),
    Refused(
        "unknown-processor-type",
        "PUT",
        "pipelineTopologies/t2",
        changed("properties.processors.0.@type", f"{P}MotionDetectionProcessor", batch_topology()),
    ),
    Refused("unknown-kind", "PUT", "pipelineTopologies/t2", changed("kind", "Stream"), target="kind"),
    Refused(
        "sku-of-other-kind",
        "PUT",
        "pipelineTopologies/t2",
        changed("sku.name", "Batch_S1"),
        target="sku.name",
    ),
    Refused("sources-not-a-list", "PUT", "pipelineTopologies/t2", changed("properties.sources", {})),
    Refused(
        "parameter-name-number", "PUT", "pipelineTopologies/t2", changed("properties.parameters.0.name", 7)
    ),
    Refused(
        "unknown-parameter-type",
        "PUT",
        "pipelineTopologies/t2",
        changed("properties.parameters.0.type", "Blob"),
    ),
    Refused(
        "undeclared-reference",
        "PUT",
        "pipelineTopologies/t2",
        changed("properties.sinks.0.videoName", "${nope}"),
    ),
    Refused(
        "description-2049", "PUT", "pipelineTopologies/t2", changed("properties.description", "d" * 2049)
    ),
    Refused(
        "patch-unknown-sink-type",
        "PATCH",
        "pipelineTopologies/live",
        changed("properties.sinks.0.@type", f"{P}X"),
    ),
    Refused("patch-kind", "PATCH", "pipelineTopologies/live", {"kind": "Batch"}),
    Refused("put-invalid-json", "PUT", "pipelineTopologies/t2", raw=b"{kind: Live}", target="body"),
    Refused("put-non-object", "PUT", "pipelineTopologies/t2", raw=b"[]", target="body"),
    Refused("get-unknown", "GET", "pipelineTopologies/t2", status=404, code="ResourceNotFound"),
]


async def test_refused_topology_requests_change_nothing(topologies: Arm, subtests: Any) -> None:
    await check_refused(topologies, subtests, REFUSED)


async def test_secret_defaults_are_never_returned(topologies: Arm) -> None:
    one = await topologies.client.get(topologies.url("pipelineTopologies/live"))
    listed = await topologies.client.get(topologies.url("pipelineTopologies"))

    for response in (one, listed):
        assert "topology-default-pw" not in response.text
    declared = {p["name"]: p for p in one.json()["properties"]["parameters"]}
    assert declared["rtspPassword"] == {"name": "rtspPassword", "type": "SecretString"}
    assert declared["rtspUserName"]["default"] == "admin", "only secrets are redacted"
    assert one.json()["sku"] == {"name": "Live_S1", "tier": "Standard"}


async def test_a_topology_in_use_cannot_be_deleted(topologies: Arm, subtests: Any) -> None:
    await topologies.ok("PUT", "livePipelines/cam1", live_pipeline())
    await topologies.ok("PUT", "pipelineJobs/job1", pipeline_job())

    await check_refused(
        topologies,
        subtests,
        [
            Refused(
                f"delete-{name}",
                "DELETE",
                f"pipelineTopologies/{name}",
                status=409,
                code="PipelineTopologyInUse",
            )
            for name in ("live", "batch")
        ],
    )
    await topologies.ok("DELETE", "livePipelines/cam1")
    await topologies.ok("POST", "pipelineJobs/job1/cancel")
    await topologies.ok("DELETE", "pipelineJobs/job1")
    for name in ("live", "batch"):
        assert (await topologies.call("DELETE", f"pipelineTopologies/{name}")).status_code == 200


async def test_a_topology_in_use_changes_only_compatibly(topologies: Arm, subtests: Any) -> None:
    await topologies.ok("PUT", "livePipelines/cam1", live_pipeline())
    parameters = live_topology()["properties"]["parameters"]
    without_url = [p for p in parameters if p["name"] != "rtspUrl"]

    await check_refused(
        topologies,
        subtests,
        [
            Refused(
                "new-parameter-without-default",
                "PUT",
                "pipelineTopologies/live",
                live_topology({"name": "site", "type": "String"}),
                409,
                "PipelineTopologyInUse",
                "properties.parameters",
            ),
            Refused(
                "remove-parameter-a-pipeline-sets",
                "PUT",
                "pipelineTopologies/live",
                changed(
                    "properties.sources.0.endpoint.url",
                    "rtsp://fixed.example/",
                    changed("properties.parameters", without_url),
                ),
                409,
                "PipelineTopologyInUse",
            ),
            Refused(
                "change-kind",
                "PUT",
                "pipelineTopologies/live",
                batch_topology(),
                409,
                "PipelineTopologyInUse",
            ),
        ],
    )
    compatible = live_topology({"name": "site", "type": "String", "default": "hq"})
    assert (await topologies.call("PUT", "pipelineTopologies/live", compatible)).status_code == 200
    patched = await topologies.ok("PATCH", "pipelineTopologies/live", {"properties": {"description": "v2"}})
    assert patched["properties"]["description"] == "v2"
    assert len(patched["properties"]["parameters"]) == 5
