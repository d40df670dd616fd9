"""What the edge's pipeline-graph tests give a ``GraphContext`` in place of the module's parts.

- ``CollectedEvents`` (``ports.EventSink``), ``SentMessages`` (``ports.HubOutput``) and
  ``HubInputRoutes`` (``ports.HubInputs``, with ``deliver`` to play a routed message);
- ``CollectingSpool``: a ``RecordingSpool`` whose videos keep what they are handed in memory
  (a ``SegmentSink`` of our own seam; the real cache is ``edge.spool``);
- topology builders for the shapes the graph runs: continuous recording, event-based
  recording from a hub message (video sink or file sink), and hub messages to a hub output.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ova.contracts.edge_api import PublishVideoRequest
from ova.contracts.edge_events import EdgeEvent
from ova.edge.graph.context import GraphContext
from ova.edge.ports import HubMessage, PipelineSpec
from ova.media.cmaf import InitSegment, MediaSegment
from ova.media.ingest_settings import IngestSettings
from ova.media.preview import PreviewImage

PREFIX = "#Microsoft.VideoAnalyzer."


class CollectedEvents:
    def __init__(self) -> None:
        self.events: list[EdgeEvent] = []

    def emit(self, event: EdgeEvent) -> None:
        self.events.append(event)

    def of_type(self, type_: str) -> list[EdgeEvent]:
        return [event for event in self.events if event.type == type_]


@dataclass
class SentMessages:
    sent: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    async def send_to_output(self, output_name: str, body: bytes, properties: Mapping[str, str]) -> None:
        self.sent.append((output_name, body, dict(properties)))


class HubInputRoutes:
    def __init__(self) -> None:
        self.handlers: dict[str, Callable[[HubMessage], Awaitable[None]]] = {}

    def on_input(
        self, input_name: str, handler: Callable[[HubMessage], Awaitable[None]]
    ) -> Callable[[], None]:
        self.handlers[input_name] = handler
        return lambda: self.handlers.pop(input_name, None) and None

    async def deliver(self, input_name: str, body: bytes) -> None:
        await self.handlers[input_name](HubMessage(input_name, body, {"source": "test"}))


class CollectedVideo:
    def __init__(self, name: str, publish: PublishVideoRequest, last_sequence: int) -> None:
        self.name, self.publish, self._last = name, publish, last_sequence
        self.inits: list[InitSegment] = []
        self.segments: list[MediaSegment] = []
        self.previews: list[tuple[int, list[PreviewImage]]] = []
        self.closed = False

    @property
    def last_sequence(self) -> int:
        return max([self._last, *(segment.sequence for segment in self.segments)])

    async def init_segment(self, init: InitSegment) -> None:
        self.inits.append(init)

    async def media_segment(self, segment: MediaSegment) -> None:
        self.segments.append(segment)

    async def preview(self, images: list[PreviewImage], at_ms: int) -> None:
        self.previews.append((at_ms, images))

    async def close(self, flush_timeout_s: float) -> bool:
        self.closed = True
        return True


class CollectingSpool:
    """Every cache the graph asks for, and every video opened in one."""

    def __init__(self, last_sequence: int = 0) -> None:
        self.last_sequence = last_sequence
        self.caches: list[tuple[str, int]] = []
        self.videos: dict[str, CollectedVideo] = {}
        self.subjects: dict[str, str] = {}

    def cache(self, path: str, maximum_mib: int) -> CollectingSpool:
        self.caches.append((path, maximum_mib))
        return self

    async def open_video(self, video_name: str, publish: PublishVideoRequest, subject: str) -> CollectedVideo:
        video = CollectedVideo(video_name, publish, self.last_sequence)
        self.videos[video_name], self.subjects[video_name] = video, subject
        return video


@dataclass
class GraphWorld:
    events: CollectedEvents = field(default_factory=CollectedEvents)
    output: SentMessages = field(default_factory=SentMessages)
    inputs: HubInputRoutes = field(default_factory=HubInputRoutes)
    spool: CollectingSpool = field(default_factory=CollectingSpool)

    def context(self, **overrides: Any) -> GraphContext:
        settings: dict[str, Any] = {
            "module_name": "edge1",
            "events": self.events,
            "hub_output": self.output,
            "hub_inputs": self.inputs,
            "spools": self.spool.cache,
            "ingest": IngestSettings(
                open_timeout_s=5, read_timeout_s=5, backoff_initial_s=0.2, backoff_max_s=1
            ),
        }
        return GraphContext(**(settings | overrides))


def rtsp_source(url: str = "${rtspUrl}", endpoint: str = "UnsecuredEndpoint") -> dict[str, Any]:
    return {
        "@type": PREFIX + "RtspSource",
        "name": "rtspSource",
        "transport": "tcp",
        "endpoint": {"@type": PREFIX + endpoint, "url": url},
    }


def video_sink(inputs: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "@type": PREFIX + "VideoSink",
        "name": "videoSink",
        "inputs": inputs,
        "videoName": "${System.PipelineName}-video",
        "localMediaCachePath": "/var/lib/videoanalyzer/tmp/",
        "localMediaCacheMaximumSizeMiB": "2048",
        **extra,
    }


def topology(name: str, sources: list[Any], processors: list[Any], sinks: list[Any]) -> dict[str, Any]:
    parameters = [{"name": "rtspUrl", "type": "String"}]
    properties = {"parameters": parameters, "sources": sources, "processors": processors, "sinks": sinks}
    return {"@apiVersion": "1.1", "name": name, "properties": properties}


def continuous(**sink: Any) -> dict[str, Any]:
    return topology("cvr", [rtsp_source()], [], [video_sink([{"nodeName": "rtspSource"}], **sink)])


def signal_gate(offset: str = "-PT2S", minimum: str = "PT10S", maximum: str = "PT20S") -> dict[str, Any]:
    return {
        "@type": PREFIX + "SignalGateProcessor",
        "name": "gate",
        "inputs": [{"nodeName": "hubSource"}, {"nodeName": "rtspSource"}],
        "activationEvaluationWindow": "PT1S",
        "activationSignalOffset": offset,
        "minimumActivationTime": minimum,
        "maximumActivationTime": maximum,
    }


def event_based(sink: dict[str, Any], **gate: str) -> dict[str, Any]:
    hub = {"@type": PREFIX + "IotHubMessageSource", "name": "hubSource", "hubInputName": "recordingTrigger"}
    return topology("evr", [rtsp_source(), hub], [signal_gate(**gate)], [sink])


def file_sink(directory: str, maximum_mib: int = 64) -> dict[str, Any]:
    return {
        "@type": PREFIX + "FileSink",
        "name": "fileSink",
        "inputs": [{"nodeName": "gate"}],
        "baseDirectoryPath": directory,
        "fileNamePattern": "clip-${System.PipelineName}-${System.Runtime.DateTime}",
        "maximumSizeMiB": str(maximum_mib),
    }


def spec(body: dict[str, Any], camera: str, pipeline: str = "pipeline1", **values: str) -> PipelineSpec:
    resolved = {
        "rtspUrl": camera,
        "System.PipelineName": pipeline,
        "System.TopologyName": body["name"],
        **values,
    }
    return PipelineSpec(pipeline, body["name"], body, resolved)
