"""``EdgeModule`` whole: a plain MQTT broker (Mosquitto) where the test plays IoT Hub (twin, direct
methods), the real cloud (edge family) for provisioning, and the module's metrics listener."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from edge_broker import HubSide, hub_side, mosquitto
from edge_world import World, running_world
from graph_camera import camera
from pydantic import SecretStr

from ova.auth import iot_sas
from ova.common.clock import FrozenClock
from ova.edge.runtime import EdgeModule
from ova.edge.settings import EdgeSettings, HubSettings

KEY = iot_sas.new_key()
TOPOLOGIES = Path(__file__).parents[2] / "data" / "ava-topologies"


class FakeHubTwin:
    """IoT Hub's twin service on the plain topics: answers GET and PATCH, keeps what was reported."""

    def __init__(self, side: HubSide, desired: dict[str, Any]) -> None:
        self.side, self.desired = side, desired
        self.reported: dict[str, Any] = {}
        self.reports: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.answers: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()

    async def serve(self) -> None:
        while True:
            topic, body = await self.side.messages.get()
            rid = topic.rpartition("$rid=")[2]
            if topic.startswith("$iothub/twin/GET/"):
                twin = {"desired": self.desired, "reported": self.reported}
                self.side.publish(f"$iothub/twin/res/200/?$rid={rid}", twin)
            elif topic.startswith("$iothub/twin/PATCH/properties/reported/"):
                patch = json.loads(body)
                self.reported.update(patch)
                self.side.publish(f"$iothub/twin/res/204/?$rid={rid}&$version=2", b"")
                await self.reports.put(patch)
            elif topic.startswith("$iothub/methods/res/"):
                await self.answers.put((topic, body))

    async def call(self, method: str, payload: dict[str, Any], rid: str) -> tuple[int, Any]:
        self.side.publish(f"$iothub/methods/POST/{method}/?$rid={rid}", payload)
        topic, body = await asyncio.wait_for(self.answers.get(), 20)
        assert topic.endswith(f"?$rid={rid}")
        return int(topic.split("/")[3]), json.loads(body)

    async def report_where(self, key: str, value: Any, timeout_s: float = 20) -> dict[str, Any]:
        async with asyncio.timeout(timeout_s):
            while True:
                patch = await self.reports.get()
                if patch.get(key) == value:
                    return patch


@contextlib.asynccontextmanager
async def running_module(
    tmp_path: Path, clock: FrozenClock, segment_ms: int | None = None
) -> AsyncIterator[tuple[World, FakeHubTwin, EdgeModule]]:
    topics = ["$iothub/twin/GET/#", "$iothub/twin/PATCH/properties/reported/#", "$iothub/methods/res/#"]
    with mosquitto(tmp_path) as broker:
        async with running_world(tmp_path, clock) as world, hub_side(broker.port, topics) as side:
            desired = {
                "provisioningToken": await world.token(),
                "applicationDataDirectory": str(tmp_path / "edge-data"),
                "OperationalEventsOutputName": "operational",
                "telemetryOptOut": "true",
                "$version": 3,
            }
            twin = FakeHubTwin(side, desired)
            serving = asyncio.create_task(twin.serve())
            connection = (
                f"HostName=127.0.0.1:{broker.port};DeviceId=box1;ModuleId=avaedge;SharedAccessKey={KEY}"
            )
            settings = EdgeSettings(
                connection_string=SecretStr(connection),
                hub=HubSettings(tls=False, backoff_initial_s=0.05),
                metrics_port=0,
                data_dir=tmp_path / "fallback",
                segment_ms=segment_ms,
            )
            module = EdgeModule(settings, environ={}, clock=clock)
            try:
                await module.start()
                await asyncio.wait_for(module.ready.wait(), 30)
                yield world, twin, module
            finally:
                await module.stop()
                serving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await serving


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


async def test_module_provisions_reports_and_answers_methods(tmp_path: Path, clock: FrozenClock) -> None:
    async with running_module(tmp_path, clock) as (_world, twin, module):
        reported = await twin.report_where("ProvisioningState", "Provisioned")
        assert reported["ApplicationDataDirectory"] == str(tmp_path / "edge-data")
        assert reported["OperationalEventsOutputName"] == "operational"
        assert reported["TelemetryOptOut"] is True and reported["LogLevel"] == "Information"
        assert "ProvisioningToken" not in reported and twin.desired["provisioningToken"] not in json.dumps(
            reported
        )
        assert (tmp_path / "edge-data" / "edge-link.json").stat().st_mode & 0o777 == 0o600

        topology = json.loads((TOPOLOGIES / "cvr-video-sink.json").read_text())
        status, body = await twin.call("pipelineTopologySet", topology, "1")
        assert status == 201 and body["name"] == topology["name"]
        status, body = await twin.call("pipelineTopologyList", {"@apiVersion": "1.1"}, "2")
        assert status == 200 and [item["name"] for item in body["value"]] == [topology["name"]]
        status, body = await twin.call("pipelineTopologySet", {**topology, "@apiVersion": "1.0"}, "3")
        assert status == 400

        assert module.metrics_server is not None
        url = f"http://127.0.0.1:{module.metrics_server.port}/metrics"
        async with httpx.AsyncClient() as client:
            response = await client.get(url)
            missing = await client.get(url.replace("/metrics", "/other"))
        assert response.status_code == 200 and missing.status_code == 404
        assert response.headers["content-type"].startswith("text/plain")
        assert "# TYPE va_active_live_pipelines gauge" in response.text
        assert 'ova_edge_hub_connected{edge_device="box1",iothub="127.0.0.1:' in response.text


async def test_desired_patches_apply_dynamic_properties_and_report_restarts(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with running_module(tmp_path, clock) as (_world, twin, module):
        await twin.report_where("ProvisioningState", "Provisioned")
        patch = {
            "LogLevel": "verbose",
            "applicationDataDirectory": "/elsewhere",
            "Surprise": 1,
            "$version": 4,
        }
        twin.side.publish("$iothub/twin/PATCH/properties/desired/?$version=4", patch)
        reported = await twin.report_where("LogLevel", "Verbose")
        assert reported["restartRequired"] == ["ApplicationDataDirectory"]
        assert reported["ApplicationDataDirectory"] == str(tmp_path / "edge-data")  # until a restart
        assert reported["desiredVersion"] == 4
        assert logging.getLogger("ova.edge").level == logging.DEBUG
        assert module.data_dir == tmp_path / "edge-data"

        twin.side.publish("$iothub/twin/PATCH/properties/desired/?$version=5", {"LogLevel": "Loud"})
        reported = await twin.report_where("desiredVersion", 5)
        assert reported["configurationErrors"] == [
            "LogLevel must be one of Verbose, Information, Warning, Error, None."
        ]
        assert reported["LogLevel"] == "Information"  # the default applies


async def test_a_live_pipeline_records_into_the_cloud(
    tmp_path: Path, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    topology = json.loads((TOPOLOGIES / "cvr-video-sink.json").read_text())
    sink = topology["properties"]["sinks"][0]
    sink["localMediaCachePath"] = "media-cache"  # under ApplicationDataDirectory
    password = topology["properties"]["parameters"][1]
    assert password["name"] == "rtspPassword"
    password["type"] = "SecretString"  # the published sample says String: its value would be returned
    with camera(tmp_path / "camera.log") as url:
        async with running_module(tmp_path, clock, segment_ms=1000) as (world, twin, module):
            assert (await twin.call("pipelineTopologySet", topology, "1"))[0] == 201
            pipeline = {
                "@apiVersion": "1.1",
                "name": "camera-1",
                "properties": {
                    "topologyName": topology["name"],
                    "parameters": [
                        {"name": "rtspUrl", "value": url},
                        {"name": "rtspUserName", "value": "user"},
                        {"name": "rtspPassword", "value": "secret-password"},
                    ],
                },
            }
            assert (await twin.call("livePipelineSet", pipeline, "2"))[0] == 201
            status, body = await twin.call(
                "livePipelineActivate", {"@apiVersion": "1.1", "name": "camera-1"}, "3"
            )
            assert status == 200, body
            async with asyncio.timeout(60):
                while len(await world.indexed(sink["videoName"])) < 2:  # noqa: ASYNC110 (bounded poll)
                    await asyncio.sleep(0.2)
            assert module.metrics is not None and module.parts is not None
            module.parts.refresh_metrics()
            assert module.metrics.totals().active_live_pipelines == 1
            status, _ = await twin.call(
                "livePipelineDeactivate", {"@apiVersion": "1.1", "name": "camera-1"}, "4"
            )
            assert status == 200
            status, body = await twin.call("livePipelineGet", {"@apiVersion": "1.1", "name": "camera-1"}, "5")
            assert status == 200 and body["properties"]["state"] == "inactive"
            assert "secret-password" not in json.dumps(body)
            module.parts.refresh_metrics()
            totals = module.metrics.totals()
            assert totals.active_live_pipelines == 0 and totals.segments_uploaded >= 2
    assert "secret-password" not in caplog.text and KEY not in caplog.text


async def test_an_active_pipeline_resumes_after_a_restart(tmp_path: Path, clock: FrozenClock) -> None:
    topology = json.loads((TOPOLOGIES / "cvr-video-sink.json").read_text())
    sink = topology["properties"]["sinks"][0]
    sink["localMediaCachePath"] = "media-cache"
    with camera(tmp_path / "camera.log") as url:
        async with running_module(tmp_path, clock, segment_ms=1000) as (world, twin, module):
            assert (await twin.call("pipelineTopologySet", topology, "1"))[0] == 201
            pipeline = {
                "@apiVersion": "1.1",
                "name": "camera-1",
                "properties": {
                    "topologyName": topology["name"],
                    "parameters": [{"name": "rtspUrl", "value": url}],
                },
            }
            assert (await twin.call("livePipelineSet", pipeline, "2"))[0] == 201
            assert (await twin.call("livePipelineActivate", {"@apiVersion": "1.1", "name": "camera-1"}, "3"))[
                0
            ] == 200
            await indexed_at_least(world, sink["videoName"], 1)
            await module.stop()  # a restart: the pipeline stops, remembering that it should run

            restarted = EdgeModule(module.settings, environ={}, clock=clock)
            try:
                await restarted.start()
                await asyncio.wait_for(restarted.ready.wait(), 30)
                before = len(await world.indexed(sink["videoName"]))
                await indexed_at_least(world, sink["videoName"], before + 2)
                status, body = await twin.call(
                    "livePipelineGet", {"@apiVersion": "1.1", "name": "camera-1"}, "4"
                )
                assert status == 200 and body["properties"]["state"] == "active"
            finally:
                await restarted.stop()
            sequences = [row.sequence for row in await world.indexed(sink["videoName"])]
    assert sequences == sorted(set(sequences))  # the resumed recording continues the numbering


async def indexed_at_least(world: World, video_name: str, count: int, timeout_s: float = 60) -> None:
    async with asyncio.timeout(timeout_s):
        while len(await world.indexed(video_name)) < count:  # noqa: ASYNC110 (bounded poll)
            await asyncio.sleep(0.2)
