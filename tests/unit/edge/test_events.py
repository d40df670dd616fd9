"""Events as IoT Hub messages: which output, which properties, and what happens when they pile up."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime

import pytest

from ova.contracts.edge_events import EdgeEvent, EventKind, subject
from ova.edge.events import HubEventSink

TOPIC = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Media/videoAnalyzers/ava1"
WHEN = datetime(2026, 12, 4, 12, 0, 1, 250_000, tzinfo=UTC)


class RecordingOutput:
    """A ``ports.HubOutput`` that keeps what it was given (the MQTT client is tested on its own)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, object], dict[str, str]]] = []
        self.failing = False
        self.arrived = asyncio.Event()

    async def send_to_output(self, output_name: str, body: bytes, properties: Mapping[str, str]) -> None:
        if self.failing:
            raise ConnectionError("not connected")
        self.sent.append((output_name, json.loads(body), dict(properties)))
        self.arrived.set()


def event(kind: EventKind, type_: str, **body: object) -> EdgeEvent:
    where = subject("avaedge", "camera1", "sinks", "videoSink")
    return EdgeEvent(kind=kind, type=type_, subject=where, body=body, time=WHEN)


@contextlib.asynccontextmanager
async def running(sink: HubEventSink) -> AsyncIterator[None]:
    task = asyncio.create_task(sink.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
def output() -> RecordingOutput:
    return RecordingOutput()


async def test_events_go_to_the_outputs_the_twin_names(output: RecordingOutput) -> None:
    sink = HubEventSink(output, TOPIC)
    sink.set_outputs(operational="operational", diagnostics="diagnostics")
    sink.emit(
        event(EventKind.OPERATIONAL, "RecordingStarted", outputType="videoName", outputLocation="camera1")
    )
    sink.emit(event(EventKind.DIAGNOSTICS, "MediaSessionEstablished", sdp="v=0"))
    assert await sink.drain(5)
    (first_output, first_body, properties), (second_output, _, second_properties) = output.sent
    assert first_output == "operational"
    assert first_body == {"outputType": "videoName", "outputLocation": "camera1"}
    assert properties == {
        "topic": TOPIC,
        "subject": "/edgeModules/avaedge/livePipelines/camera1/sinks/videoSink",
        "eventType": "Microsoft.VideoAnalyzer.Operational.RecordingStarted",
        "eventTime": "2026-12-04T12:00:01.250000Z",
        "dataVersion": "1.0",
    }
    assert second_output == "diagnostics"
    assert second_properties["eventType"] == "Microsoft.VideoAnalyzer.Diagnostics.MediaSessionEstablished"


async def test_absent_or_empty_output_names_drop_silently(output: RecordingOutput) -> None:
    sink = HubEventSink(output, TOPIC)
    sink.emit(event(EventKind.OPERATIONAL, "RecordingStarted"))
    sink.set_outputs(operational="", diagnostics=None)
    sink.emit(event(EventKind.OPERATIONAL, "RecordingStopped"))
    sink.emit(event(EventKind.DIAGNOSTICS, "NetworkError", errorCode="ECONNREFUSED"))
    sink.emit(event(EventKind.ANALYTICS, "Inference", inferences=[]))  # only through an IotHubMessageSink
    assert await sink.drain(5)
    assert output.sent == [] and sink.dropped == 0


async def test_output_names_change_while_running(output: RecordingOutput) -> None:
    sink = HubEventSink(output, TOPIC)
    async with running(sink):
        sink.set_outputs(operational="first", diagnostics=None)
        sink.emit(event(EventKind.OPERATIONAL, "RecordingStarted"))
        await asyncio.wait_for(output.arrived.wait(), 5)
        output.arrived.clear()
        sink.set_outputs(operational="second", diagnostics=None)
        sink.emit(event(EventKind.OPERATIONAL, "RecordingAvailable"))
        await asyncio.wait_for(output.arrived.wait(), 5)
    assert [name for name, _, _ in output.sent] == ["first", "second"]


async def test_analytics_go_to_their_sink_nodes_output(output: RecordingOutput) -> None:
    sink = HubEventSink(output, TOPIC)
    inference = {"type": "motion", "motion": {"box": {"l": 0.1, "t": 0.2, "w": 0.3, "h": 0.4}}}
    sink.for_output("inferenceOutput").emit(
        event(EventKind.ANALYTICS, "Inference", timestamp=1, inferences=[inference])
    )
    sink.for_output("").emit(event(EventKind.ANALYTICS, "Inference", timestamp=2, inferences=[]))
    assert await sink.drain(5)
    ((name, body, properties),) = output.sent
    assert name == "inferenceOutput" and body["inferences"] == [inference]
    assert properties["eventType"] == "Microsoft.VideoAnalyzer.Analytics.Inference"


async def test_a_full_queue_drops_and_counts_without_blocking(output: RecordingOutput) -> None:
    counted: list[int] = []
    sink = HubEventSink(output, TOPIC, queue_size=3, on_dropped=lambda: counted.append(1))
    sink.set_outputs(operational="operational", diagnostics="diagnostics")
    for number in range(5):
        sink.emit(event(EventKind.DIAGNOSTICS, "DataDropped", dataType="video", number=number))
    assert sink.pending == 3 and sink.dropped == 2 and len(counted) == 2
    assert await sink.drain(5)
    assert [body["number"] for _, body, _ in output.sent] == [0, 1, 2]  # the oldest kept, in order


async def test_a_message_the_hub_refuses_is_counted(output: RecordingOutput) -> None:
    counted: list[int] = []
    sink = HubEventSink(output, TOPIC, on_dropped=lambda: counted.append(1))
    sink.set_outputs(operational="operational", diagnostics=None)
    output.failing = True
    sink.emit(event(EventKind.OPERATIONAL, "RecordingStopped"))
    assert await sink.drain(5)
    assert sink.dropped == 1 and counted == [1] and sink.sent == 0
    output.failing = False
    sink.emit(event(EventKind.OPERATIONAL, "RecordingStopped"))
    assert await sink.drain(5)
    assert sink.sent == 1
