"""Test doubles of the edge module's own seams (``ports.GraphRunner``, ``ports.Connectivity``) and
builders of direct-method payloads, shared by the unit tests of methods, pipelines and the 36-hour rule.

The graph runner double stands in for ``edge.graph`` (task 6) only in these unit tests; it runs
nothing, but records what the state machine asked of it.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ova.common.clock import FrozenClock
from ova.edge.connectivity import ConnectivityWatchdog
from ova.edge.entities import EntityStore
from ova.edge.errors import NodeNotAvailable
from ova.edge.methods import DirectMethods
from ova.edge.pipelines import LivePipelines
from ova.edge.ports import PipelineSpec

TOPOLOGIES = Path(__file__).parents[2] / "data" / "ava-topologies"
START = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
CAMERA = "rtsp://127.0.0.1:8554/camera1"


def published_topologies() -> dict[str, dict[str, Any]]:
    """The six published edge topologies, by file name."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(TOPOLOGIES.glob("*.json"))}


class RunningGraphDouble:
    def __init__(self, runner: GraphRunnerDouble, spec: PipelineSpec) -> None:
        self.runner = runner
        self.spec = spec

    async def stop(self, flush_timeout_s: float) -> bool:
        self.runner.stop_timeouts.append(flush_timeout_s)
        self.runner.stopping.set()
        await asyncio.wait_for(self.runner.release_stop.wait(), timeout=5)
        self.runner.running.pop(self.spec.name, None)
        return self.runner.flushed


class GraphRunnerDouble:
    """Records ``check``/``start``/``stop``; refuses the node types in ``unavailable``."""

    def __init__(self) -> None:
        self.unavailable: set[str] = set()
        self.started: list[PipelineSpec] = []
        self.running: dict[str, RunningGraphDouble] = {}
        self.stop_timeouts: list[float] = []
        self.release_stop = asyncio.Event()
        self.release_stop.set()
        self.stopping = asyncio.Event()
        self.flushed = True

    def check(self, spec: PipelineSpec) -> None:
        missing = [
            node["name"]
            for section in ("sources", "processors", "sinks")
            for node in spec.topology["properties"].get(section, [])
            if node["@type"].rsplit(".", 1)[-1] in self.unavailable
        ]
        if missing:
            raise NodeNotAvailable(f"This module cannot run the nodes {', '.join(missing)} yet.")

    async def start(self, spec: PipelineSpec) -> RunningGraphDouble:
        self.started.append(spec)
        graph = RunningGraphDouble(self, spec)
        self.running[spec.name] = graph
        return graph


class LinkDouble:
    """A ``ports.Connectivity``: the cloud answers until ``cut``, and again after ``restore``."""

    def __init__(self, clock: FrozenClock, limit: timedelta = timedelta(hours=36)) -> None:
        self._clock = clock
        self._lost_at: datetime | None = None
        self._limit = limit

    def cut(self) -> None:
        self._lost_at = self._clock.now()

    def restore(self) -> None:
        self._lost_at = None

    def disconnected_for(self, now: datetime) -> timedelta:
        return timedelta(0) if self._lost_at is None else now - self._lost_at

    @property
    def maximum_disconnected_period(self) -> timedelta:
        return self._limit


class Module:
    """Store, state machine, watchdog and dispatcher over one data directory, as the runtime wires them."""

    def __init__(
        self, data_dir: Path, clock: FrozenClock | None = None, runner: GraphRunnerDouble | None = None
    ):
        self.data_dir = data_dir
        self.clock = clock or FrozenClock(START)
        self.runner = runner or GraphRunnerDouble()
        self.link = LinkDouble(self.clock)
        self.store = EntityStore.open(data_dir, self.clock)
        self.pipelines = LivePipelines(self.store, self.runner, flush_timeout_s=7.5)
        self.watchdog = ConnectivityWatchdog(self.link, self.pipelines, self.clock)
        self.methods = DirectMethods(self.store, self.pipelines, watchdog=self.watchdog)

    async def call(
        self, method: str, payload: dict[str, Any] | None = None, **fields: Any
    ) -> tuple[int, Any]:
        body = {"@apiVersion": "1.1", **(payload or {}), **fields}
        return await self.methods.handle(method, json.dumps(body).encode())

    async def add_recording(
        self, pipeline: str = "camera1", topology: str = "cvr-video-sink", body: dict[str, Any] | None = None
    ) -> None:
        """A published topology (or ``body``) and one pipeline of it, set through the methods."""
        body = body or published_topologies()[topology]
        status, _ = await self.call("pipelineTopologySet", body)
        assert status in (200, 201)
        status, answer = await self.call(
            "livePipelineSet",
            name=pipeline,
            properties={
                "topologyName": body["name"],
                "parameters": [
                    {"name": "rtspUrl", "value": CAMERA},
                    {"name": "rtspPassword", "value": "s3cret-pw"},
                ],
            },
        )
        assert status in (200, 201), answer
