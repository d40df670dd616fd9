"""Live pipelines over the management API: validation, the state machine, secrets, recorded videos."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from support.management import (
    Arm,
    Refused,
    arm_error,
    check_refused,
    live_pipeline,
    live_topology,
)

BAD_NAMES = {"33-characters": "p" * 33, "underscore": "cam_1", "trailing-dash": "cam-", "newline": "cam2%0A"}


def props(**changes: Any) -> dict[str, Any]:
    """``live_pipeline()`` with properties replaced (``None`` removes one)."""
    body = live_pipeline()
    for key, value in changes.items():
        if value is None:
            body["properties"].pop(key)
        else:
            body["properties"][key] = value
    return body


REFUSED = [
    *(
        Refused(f"name-{case}", "PUT", f"livePipelines/{name}", live_pipeline(), code="InvalidResourceName")
        for case, name in BAD_NAMES.items()
    ),
    *(
        Refused(
            f"bitrate-{value!r}",
            "PUT",
            "livePipelines/cam2",
            props(bitrateKbps=value),
            target="properties.bitrateKbps",
        )
        for value in (400, 499, 3001, 3100, 550, 0, -500, "fast", 1000.5, [1000])
    ),
    Refused(
        "no-bitrate", "PUT", "livePipelines/cam2", props(bitrateKbps=None), target="properties.bitrateKbps"
    ),
    Refused(
        "no-topology", "PUT", "livePipelines/cam2", props(topologyName=None), target="properties.topologyName"
    ),
    Refused(
        "unknown-topology",
        "PUT",
        "livePipelines/cam2",
        live_pipeline("nosuch"),
        target="properties.topologyName",
    ),
    Refused(
        "batch-topology",
        "PUT",
        "livePipelines/cam2",
        live_pipeline("batch"),
        target="properties.topologyName",
    ),
    Refused(
        "topology-name-number",
        "PUT",
        "livePipelines/cam2",
        props(topologyName=5),
        target="properties.topologyName",
    ),
    Refused("unknown-parameter", "PUT", "livePipelines/cam2", live_pipeline(zoom="2"), code="InvalidRequest"),
    Refused(
        "missing-parameter", "PUT", "livePipelines/cam2", props(parameters=[]), target="properties.parameters"
    ),
    Refused(
        "parameter-value-number",
        "PUT",
        "livePipelines/cam2",
        props(parameters=[{"name": "rtspUrl", "value": 5}]),
        target="properties.parameters[0].value",
    ),
    Refused(
        "parameters-object",
        "PUT",
        "livePipelines/cam2",
        props(parameters={"rtspUrl": "x"}),
        target="properties.parameters",
    ),
    Refused(
        "description-2049",
        "PUT",
        "livePipelines/cam2",
        props(description="d" * 2049),
        target="properties.description",
    ),
    Refused("unknown-property", "PUT", "livePipelines/cam2", props(colour="red"), target="properties.colour"),
    Refused("patch-bitrate", "PATCH", "livePipelines/cam1", {"properties": {"bitrateKbps": 3100}}),
    Refused(
        "patch-unknown-pipeline", "PATCH", "livePipelines/cam2", {"properties": {"description": "x"}}, 404
    ),
    Refused("put-invalid-json", "PUT", "livePipelines/cam2", raw=b'{"properties": }', target="body"),
    Refused("put-non-object", "PUT", "livePipelines/cam2", raw=b"1500", target="body"),
    Refused("get-unknown", "GET", "livePipelines/cam2", status=404, code="ResourceNotFound"),
    Refused("activate-unknown", "POST", "livePipelines/cam2/activate", status=404),
    Refused("deactivate-unknown", "POST", "livePipelines/cam2/deactivate", status=404),
    Refused(
        "unknown-operation",
        "GET",
        "livePipelines/cam1/operationStatuses/nope",
        status=404,
        code="OperationNotFound",
    ),
]


async def test_refused_live_pipeline_requests_change_nothing(topologies: Arm, subtests: Any) -> None:
    await topologies.ok("PUT", "livePipelines/cam1", live_pipeline())
    await check_refused(topologies, subtests, REFUSED)


async def test_bitrate_limits_are_inclusive(topologies: Arm, subtests: Any) -> None:
    for bitrate in (500, 600, 2900, 3000):
        with subtests.test(msg=str(bitrate)):
            response = await topologies.call("PUT", "livePipelines/cam1", live_pipeline(bitrate=bitrate))
            assert response.status_code in (200, 201), response.text
            assert response.json()["properties"]["bitrateKbps"] == bitrate


async def activate(arm: Arm, name: str) -> httpx.Response:
    response = await arm.call("POST", f"livePipelines/{name}/activate")
    assert response.status_code == 202, response.text
    return response


async def state(arm: Arm, name: str) -> str:
    value: str = (await arm.get(f"livePipelines/{name}"))["properties"]["state"]
    return value


async def test_state_machine(topologies: Arm, subtests: Any) -> None:
    arm = topologies
    await arm.ok("PUT", "pipelineTopologies/other", live_topology())
    created = await arm.ok("PUT", "livePipelines/cam1", live_pipeline(description="gate"))
    assert created["properties"]["state"] == "Inactive"

    first = await activate(arm, "cam1")
    status = await arm.client.get(first.headers["Azure-AsyncOperation"])
    assert status.status_code == 200 and status.json()["status"] == "Succeeded", status.text
    await activate(arm, "cam1")
    assert await state(arm, "cam1") == "Active", "activating an active pipeline is a no-op"

    frozen = "OperationNotAllowedInState"
    await check_refused(
        arm,
        subtests,
        [
            Refused("delete-active", "DELETE", "livePipelines/cam1", status=409, code=frozen),
            Refused(
                "bitrate-while-active", "PUT", "livePipelines/cam1", live_pipeline(bitrate=2000), 409, frozen
            ),
            Refused(
                "parameters-while-active",
                "PATCH",
                "livePipelines/cam1",
                {"properties": {"parameters": [{"name": "rtspUrl", "value": "rtsp://other.example/"}]}},
                409,
                frozen,
            ),
            Refused(
                "topology-while-active", "PUT", "livePipelines/cam1", live_pipeline("other"), 409, frozen
            ),
        ],
    )
    patched = await arm.ok("PATCH", "livePipelines/cam1", {"properties": {"description": "north gate"}})
    assert patched["properties"]["description"] == "north gate"
    assert patched["properties"]["state"] == "Active"
    ignored = await arm.ok("PATCH", "livePipelines/cam1", {"properties": {"state": "Inactive"}})
    assert ignored["properties"]["state"] == "Active", "state is read-only"

    deactivated = await arm.call("POST", "livePipelines/cam1/deactivate")
    assert deactivated.status_code == 202
    assert (await arm.client.get(deactivated.headers["Azure-AsyncOperation"])).json()["status"] == "Succeeded"
    assert (await arm.call("POST", "livePipelines/cam1/deactivate")).status_code == 202
    assert await state(arm, "cam1") == "Inactive"

    assert (await arm.ok("PUT", "livePipelines/cam1", live_pipeline("other", bitrate=2000)))["properties"][
        "bitrateKbps"
    ] == 2000
    assert (await arm.call("DELETE", "livePipelines/cam1")).status_code == 200


async def test_activation_records_into_a_new_video(topologies: Arm) -> None:
    arm = topologies
    await arm.ok("PUT", "livePipelines/cam1", live_pipeline(videoName="lot-east"))
    arm_error(await arm.call("GET", "videos/lot-east"), 404)

    await activate(arm, "cam1")

    video = (await arm.get("videos/lot-east"))["properties"]
    assert (video["title"], video["description"]) == ("Parking lot", "Continuous recording")
    assert video["flags"]["isInUse"] is True
    assert video["mediaInfo"]["segmentLength"] == "PT30S"
    assert video["archival"] == {"retentionPeriod": "P30D"}
    await arm.ok("POST", "livePipelines/cam1/deactivate")
    assert (await arm.get("videos/lot-east"))["properties"]["flags"]["isInUse"] is False


async def test_video_creation_properties_take_parameters(arm: Arm, subtests: Any) -> None:
    topology = live_topology(
        {"name": "segment", "type": "String", "default": "PT60S"},
        {"name": "retention", "type": "String", "default": "P7D"},
        video_name="camera-${System.PipelineName}",
    )
    topology["properties"]["sinks"][0]["videoCreationProperties"] = {
        "title": "Camera ${System.PipelineName} of ${System.TopologyName}",
        "segmentLength": "${segment}",
        "retentionPeriod": "${retention}",
    }
    await arm.ok("PUT", "pipelineTopologies/per-camera", topology)
    await arm.ok("PUT", "livePipelines/door", live_pipeline("per-camera"))
    await arm.ok("PUT", "livePipelines/gate", live_pipeline("per-camera", segment="PT45S"))

    await activate(arm, "door")

    video = (await arm.get("videos/camera-door"))["properties"]
    assert video["title"] == "Camera door of per-camera"
    assert video["mediaInfo"]["segmentLength"] == "PT60S"
    assert video["archival"] == {"retentionPeriod": "P7D"}
    await check_refused(
        arm, subtests, [Refused("segment-not-in-30s-steps", "POST", "livePipelines/gate/activate")]
    )


async def test_failed_activation_changes_nothing(topologies: Arm, subtests: Any) -> None:
    await topologies.ok("PUT", "livePipelines/cam1", live_pipeline(videoName="not a valid name!"))

    await check_refused(
        topologies,
        subtests,
        [Refused("invalid-video-name", "POST", "livePipelines/cam1/activate", code="InvalidResourceName")],
    )
    assert await state(topologies, "cam1") == "Inactive"


async def test_two_pipelines_cannot_record_into_one_video(topologies: Arm, subtests: Any) -> None:
    arm = topologies
    for name in ("cam1", "cam2"):
        await arm.ok("PUT", f"livePipelines/{name}", live_pipeline(videoName="shared"))
    await activate(arm, "cam1")

    await check_refused(arm, subtests, [Refused("second", "POST", "livePipelines/cam2/activate", status=409)])
    assert await state(arm, "cam2") == "Inactive"

    await arm.ok("POST", "livePipelines/cam1/deactivate")
    await activate(arm, "cam2")
    assert await state(arm, "cam2") == "Active"


async def test_secret_parameter_values_are_never_returned(topologies: Arm) -> None:
    arm = topologies
    secret = "cam1-password-value"
    reads = [await arm.call("PUT", "livePipelines/cam1", live_pipeline(rtspPassword=secret))]
    reads.append(await arm.call("PATCH", "livePipelines/cam1", {"properties": {"description": "d"}}))
    await activate(arm, "cam1")
    reads += [await arm.call("GET", "livePipelines/cam1"), await arm.call("GET", "livePipelines")]

    for response in reads:
        assert response.status_code in (200, 201), response.text
        assert secret not in response.text
    parameters = {p["name"]: p for p in reads[-2].json()["properties"]["parameters"]}
    assert parameters["rtspPassword"] == {"name": "rtspPassword"}
    assert parameters["rtspUrl"]["value"] == "rtsp://camera.example/stream", "plain values are returned"


async def test_a_parameter_made_secret_later_is_hidden_too(topologies: Arm) -> None:
    arm = topologies
    await arm.ok("PUT", "livePipelines/cam1", live_pipeline())
    topology = copy.deepcopy(live_topology())
    topology["properties"]["parameters"][0]["type"] = "SecretString"
    assert (await arm.call("PUT", "pipelineTopologies/live", topology)).status_code == 200

    response = await arm.call("GET", "livePipelines/cam1")

    assert "rtsp://camera.example/stream" not in response.text
