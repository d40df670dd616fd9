"""Pipeline jobs over the management API: batch topologies only, cancel, delete, and what may change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from ova.cloud.db.models import ResourceRow
from ova.cloud.runtime import Cloud
from support.management import Arm, Refused, arm_error, check_refused, pipeline_job

BAD_NAMES = {"33-characters": "j" * 33, "dot": "job.1", "leading-dash": "-job", "newline": "job2%0A"}


def job_props(**changes: Any) -> dict[str, Any]:
    body = pipeline_job()
    body["properties"].update(changes)
    return body


REFUSED = [
    *(
        Refused(f"name-{case}", "PUT", f"pipelineJobs/{name}", pipeline_job(), code="InvalidResourceName")
        for case, name in BAD_NAMES.items()
    ),
    Refused(
        "live-topology", "PUT", "pipelineJobs/job2", pipeline_job("live"), target="properties.topologyName"
    ),
    Refused(
        "unknown-topology",
        "PUT",
        "pipelineJobs/job2",
        pipeline_job("nosuch"),
        target="properties.topologyName",
    ),
    Refused(
        "missing-parameter",
        "PUT",
        "pipelineJobs/job2",
        job_props(parameters=[]),
        target="properties.parameters",
    ),
    Refused(
        "bitrate-on-a-job",
        "PUT",
        "pipelineJobs/job2",
        job_props(bitrateKbps=1000),
        target="properties.bitrateKbps",
    ),
    Refused(
        "parameters-not-a-list",
        "PUT",
        "pipelineJobs/job2",
        job_props(parameters="x"),
        target="properties.parameters",
    ),
    Refused("put-invalid-json", "PUT", "pipelineJobs/job2", raw=b"{", target="body"),
    Refused("change-parameters", "PUT", "pipelineJobs/job1", pipeline_job(outputVideoName="export-2"), 409),
    Refused("patch-parameters", "PATCH", "pipelineJobs/job1", job_props(parameters=[]), 409),
    Refused("patch-topology", "PATCH", "pipelineJobs/job1", {"properties": {"topologyName": "batch2"}}, 409),
    Refused(
        "delete-processing", "DELETE", "pipelineJobs/job1", status=409, code="OperationNotAllowedInState"
    ),
    Refused("cancel-unknown", "POST", "pipelineJobs/job2/cancel", status=404),
    Refused("get-unknown", "GET", "pipelineJobs/job2", status=404, code="ResourceNotFound"),
]


async def test_refused_pipeline_job_requests_change_nothing(topologies: Arm, subtests: Any) -> None:
    await topologies.ok("PUT", "pipelineTopologies/batch2", await topologies.get("pipelineTopologies/batch"))
    await topologies.ok("PUT", "pipelineJobs/job1", pipeline_job(description="first"))
    await check_refused(topologies, subtests, REFUSED)


async def test_description_changes_and_cancel_is_idempotent(topologies: Arm) -> None:
    arm = topologies
    created = await arm.call("PUT", "pipelineJobs/job1", pipeline_job(description="first"))
    assert created.status_code == 201, created.text
    job = created.json()["properties"]
    assert job["state"] == "Processing"
    expiration = datetime.fromisoformat(job["expiration"].replace("Z", "+00:00"))
    assert abs(expiration - datetime.now(UTC) - timedelta(days=7)) < timedelta(minutes=1)

    patched = await arm.ok("PATCH", "pipelineJobs/job1", {"properties": {"description": "second"}})
    assert (patched["properties"]["description"], patched["properties"]["state"]) == ("second", "Processing")
    replaced = await arm.call("PUT", "pipelineJobs/job1", pipeline_job(description="third"))
    assert replaced.status_code == 200 and replaced.json()["properties"]["description"] == "third"

    canceled = await arm.call("POST", "pipelineJobs/job1/cancel")
    assert canceled.status_code == 202, canceled.text
    assert (await arm.client.get(canceled.headers["Azure-AsyncOperation"])).json()["status"] == "Succeeded"
    assert (await arm.call("POST", "pipelineJobs/job1/cancel")).status_code == 202, "cancel twice is fine"
    assert (await arm.get("pipelineJobs/job1"))["properties"]["state"] == "Canceled"

    assert (await arm.call("DELETE", "pipelineJobs/job1")).status_code == 200
    assert (await arm.call("DELETE", "pipelineJobs/job1")).status_code == 204


async def set_state(cloud: Cloud, name: str, state: str) -> None:
    """Finish a job as the batch runner would."""
    async with cloud.services.sessions.begin() as session:
        statement = select(ResourceRow).where(
            ResourceRow.kind == "pipelineJobs", ResourceRow.name_key == name
        )
        row = (await session.execute(statement)).scalar_one()
        row.document = {**row.document, "properties": {**row.document["properties"], "state": state}}


async def test_finished_jobs_cannot_be_canceled_but_can_be_deleted(
    topologies: Arm, cloud: Cloud, subtests: Any
) -> None:
    for state in ("Completed", "Failed"):
        with subtests.test(msg=state):
            await topologies.ok("PUT", "pipelineJobs/job1", pipeline_job())
            await set_state(cloud, "job1", state)

            response = await topologies.call("POST", "pipelineJobs/job1/cancel")

            arm_error(response, 409, "OperationNotAllowedInState")
            assert (await topologies.get("pipelineJobs/job1"))["properties"]["state"] == state
            assert (await topologies.call("DELETE", "pipelineJobs/job1")).status_code == 200


async def test_secret_parameter_values_are_never_returned(topologies: Arm) -> None:
    topology = await topologies.get("pipelineTopologies/batch")
    topology["properties"]["parameters"].append({"name": "apiKey", "type": "SecretString", "default": "x"})
    await topologies.ok("PUT", "pipelineTopologies/batch", topology)
    secret = "job1-secret-value"

    reads = [await topologies.call("PUT", "pipelineJobs/job1", pipeline_job(apiKey=secret))]
    reads.append(await topologies.call("PATCH", "pipelineJobs/job1", {"properties": {"description": "d"}}))
    reads += [await topologies.call("GET", "pipelineJobs/job1"), await topologies.call("GET", "pipelineJobs")]

    for response in reads:
        assert response.status_code in (200, 201), response.text
        assert secret not in response.text
    parameters = {p["name"]: p for p in reads[2].json()["properties"]["parameters"]}
    assert parameters["apiKey"] == {"name": "apiKey"}
    assert parameters["outputVideoName"]["value"] == "export-1"
