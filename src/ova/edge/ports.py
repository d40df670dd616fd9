"""Where the edge module's parts meet: the small protocols each part needs from another.

The composition root (``edge.runtime``) builds one implementation of each and passes it down:

- ``HubOutput`` / ``HubInputs``: the IoT Hub module client (``edge.iothub``): messages to a
  module output, messages from a module input.
- ``EventSink``: operational and diagnostics events (``edge.events``), sent on the outputs the
  twin names; never blocks a pipeline (bounded, drops counted).
- ``RecordingSpool`` / ``VideoSpool``: the durable local media cache (``edge.spool``); the
  uploader drains it into the cloud in order.
- ``Connectivity``: how long the module has been without the cloud, and for how long it may be
  (``edge.cloud_link``; the 36-hour rule).
- ``GraphRunner`` / ``RunningGraph``: turns an activated live pipeline into running nodes
  (``edge.graph``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from ova.contracts.edge_api import PublishVideoRequest
from ova.contracts.edge_events import EdgeEvent
from ova.recording.recorder import SegmentSink


@dataclass(frozen=True)
class HubMessage:
    """A message that arrived on one of the module's inputs."""

    input_name: str
    body: bytes
    properties: Mapping[str, str] = field(default_factory=dict)


InputHandler = Callable[[HubMessage], Awaitable[None]]


class HubOutput(Protocol):
    async def send_to_output(self, output_name: str, body: bytes, properties: Mapping[str, str]) -> None:
        """Send a device-to-cloud message on ``output_name`` (JSON, UTF-8)."""
        ...


class HubInputs(Protocol):
    def on_input(
        self, input_name: str, handler: Callable[[HubMessage], Awaitable[None]]
    ) -> Callable[[], None]:
        """Call ``handler`` for each message on ``input_name``; the answer unregisters it."""
        ...


class EventSink(Protocol):
    def emit(self, event: EdgeEvent) -> None:
        """Queue an event for its output; never blocks (a full queue drops and counts)."""
        ...


class VideoSpool(SegmentSink, Protocol):
    """One video sink's part of the local cache; what it is handed is durable once the call returns."""

    @property
    def last_sequence(self) -> int:
        """The highest sequence number cached or uploaded for this video (0: none)."""
        ...

    async def close(self, flush_timeout_s: float) -> bool:
        """Stop taking media and wait for the cache to drain: True when all of it reached the cloud."""
        ...


class RecordingSpool(Protocol):
    async def open_video(self, video_name: str, publish: PublishVideoRequest, subject: str) -> VideoSpool:
        """The cache of ``video_name``; the uploader publishes the video when it can (``subject``
        names the sink in the events it raises)."""
        ...


class Connectivity(Protocol):
    def disconnected_for(self, now: datetime) -> timedelta:
        """Time since the cloud last answered (zero while it answers)."""
        ...

    @property
    def maximum_disconnected_period(self) -> timedelta:
        """The policy's limit (36 h by default)."""
        ...


@dataclass(frozen=True)
class PipelineSpec:
    """An activated live pipeline: its topology (the stored ``pipelineTopologySet`` body) and the
    resolved values of its parameters and system variables."""

    name: str
    topology_name: str
    topology: Mapping[str, Any]
    values: Mapping[str, str]


class RunningGraph(Protocol):
    async def stop(self, flush_timeout_s: float) -> bool:
        """Stop every node; True when the video sinks' caches drained into the cloud in time."""
        ...


class GraphRunner(Protocol):
    def check(self, spec: PipelineSpec) -> None:
        """Raise ``edge.errors.NodeNotAvailable`` (or another ``EdgeError``) for a pipeline that
        cannot run on this module; called before a pipeline becomes active."""
        ...

    async def start(self, spec: PipelineSpec) -> RunningGraph: ...
