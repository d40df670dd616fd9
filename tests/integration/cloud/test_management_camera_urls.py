"""Camera URLs over the management API (matrix row R8): only rtsp:// and rtsps:// are ever accepted.

A live pipeline whose camera URL would make the service fetch or read something else is
refused where it is written (pipeline PUT, topology PUT, activation) with a JSON-path target,
and a pipeline stored with such a URL anyway is never recorded: a loopback HTTP server
standing in for an internal admin port sees no connection.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from ova.cloud.db.models import ResourceRow
from ova.cloud.recording.host import plan_for
from support.management import Arm, Refused, arm_error, check_refused, live_pipeline, live_topology

URL = "properties.sources[0].endpoint.url"


class Listener:
    """A TCP server on 127.0.0.1 that counts the connections it is sent."""

    def __init__(self) -> None:
        self.connections = 0
        self.url = ""

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()


@pytest.fixture
async def admin_port() -> AsyncIterator[Listener]:
    listener = Listener()
    server = await asyncio.start_server(listener._accept, "127.0.0.1", 0)
    listener.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/admin"
    async with server:
        yield listener


def topology_with(url: str | None = None, default: str | None = None) -> dict[str, Any]:
    body = live_topology()
    if url is not None:
        body["properties"]["sources"][0]["endpoint"]["url"] = url
    if default is not None:
        body["properties"]["parameters"][0]["default"] = default
    return body


async def test_pipelines_and_topologies_naming_no_rtsp_server_are_refused(
    topologies: Arm, admin_port: Listener, subtests: Any
) -> None:
    await topologies.ok("PUT", "pipelineTopologies/defaulted", topology_with(default=admin_port.url))
    cases = [
        *(
            Refused(
                f"pipeline-{name}",
                "PUT",
                "livePipelines/cam2",
                live_pipeline(rtspUrl=url),
                code="InvalidRequest",
                target="properties.parameters[0].value",
            )
            for name, url in {
                "http-loopback": admin_port.url,
                "file": "file:///etc/passwd",
                "metadata": "http://169.254.169.254/latest/meta-data/",
                "no-scheme": "camera.example/stream",
            }.items()
        ),
        Refused(
            "pipeline-topology-default",
            "PUT",
            "livePipelines/cam2",
            {"properties": {"topologyName": "defaulted", "bitrateKbps": 1500, "parameters": []}},
            target="properties.parameters",
        ),
        Refused(
            "topology-literal", "PUT", "pipelineTopologies/lit", topology_with(url=admin_port.url), target=URL
        ),
        Refused(
            "topology-literal-file",
            "PUT",
            "pipelineTopologies/lit",
            topology_with(url="file:///x"),
            target=URL,
        ),
    ]
    await check_refused(topologies, subtests, cases)
    assert admin_port.connections == 0


async def test_an_existing_file_and_a_missing_one_are_refused_alike(topologies: Arm) -> None:
    """No file-existence oracle: the answer does not depend on what the path names."""
    answers = []
    for path in ("/etc/passwd", "/nonexistent/camera.mp4"):
        response = await topologies.call("PUT", "livePipelines/cam2", live_pipeline(rtspUrl=f"file://{path}"))
        answers.append(arm_error(response, 400))
    assert answers[0] == answers[1]
    assert "/etc/passwd" not in str(answers[0])


async def test_activation_checks_the_url_again(topologies: Arm) -> None:
    """The topology's default can change after the pipeline was written; activation refuses it."""
    arm = topologies
    await arm.ok("PUT", "pipelineTopologies/defaulted", topology_with(default="rtsp://camera.example/a"))
    body = {"properties": {"topologyName": "defaulted", "bitrateKbps": 1500, "parameters": []}}
    await arm.ok("PUT", "livePipelines/cam2", body)
    await arm.ok("PUT", "pipelineTopologies/defaulted", topology_with(default="file:///etc/passwd"))

    arm_error(await arm.call("POST", "livePipelines/cam2/activate"), 400, target="properties.parameters")
    assert (await arm.get("livePipelines/cam2"))["properties"]["state"] == "Inactive"


async def test_a_stored_pipeline_with_a_bad_url_is_never_recorded(
    topologies: Arm, admin_port: Listener
) -> None:
    arm = topologies
    await arm.ok("PUT", "livePipelines/cam2", live_pipeline())
    await arm.ok("POST", "livePipelines/cam2/activate")
    async with arm.cloud.services.sessions.begin() as session:
        row = (await session.execute(select(ResourceRow).where(ResourceRow.name == "cam2"))).scalar_one()
        assert await plan_for(session, row, None) is not None
        document = copy.deepcopy(row.document)  # as if written before the rule existed
        document["properties"]["parameters"][0]["value"] = admin_port.url
        row.document = document
        assert await plan_for(session, row, None) is None
    await asyncio.sleep(0.1)
    assert admin_port.connections == 0
