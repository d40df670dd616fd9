"""IotHubMessageSink: graph events go out on the hub output; a full queue drops, counted."""

from __future__ import annotations

import json

from ova.edge.graph.context import NodeScope
from ova.edge.graph.node import GraphEvent
from ova.edge.sinks.iot_hub_message import IotHubMessageSinkNode
from support.edge_graph import GraphWorld


async def test_events_are_sent_on_the_output_with_the_sink_subject() -> None:
    world = GraphWorld()
    node = IotHubMessageSinkNode(NodeScope(world.context(), "p1", "sinks", "hubSink"), "inferenceOutput")
    await node.start()
    await node.accept(GraphEvent(1, {"motion": True}, {"kind": "motion"}))
    await node.accept(b"media is ignored")
    assert await node.stop(5.0)
    [(output, body, properties)] = world.output.sent
    assert output == "inferenceOutput" and json.loads(body) == {"motion": True}
    assert properties == {"subject": "/edgeModules/edge1/livePipelines/p1/sinks/hubSink", "kind": "motion"}


async def test_a_full_queue_drops_rather_than_blocks() -> None:
    world = GraphWorld()
    node = IotHubMessageSinkNode(NodeScope(world.context(), "p1", "sinks", "hubSink"), "out", queue_size=2)
    for number in range(5):  # not started: nothing drains
        await node.accept(GraphEvent(number, {"n": number}))
    assert node.dropped == 3
