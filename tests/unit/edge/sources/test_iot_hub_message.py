"""IotHubMessageSource: hub messages become graph events; oversized ones are dropped."""

from __future__ import annotations

from ova.edge.graph.context import NodeScope
from ova.edge.graph.node import GraphEvent, Outlet
from ova.edge.sources.iot_hub_message import MAX_MESSAGE_BYTES, IotHubMessageSourceNode
from support.edge_graph import GraphWorld


class Kept:
    name = "kept"

    def __init__(self) -> None:
        self.items: list[object] = []

    async def start(self) -> None: ...

    async def accept(self, item: object) -> None:
        self.items.append(item)

    async def stop(self, flush_timeout_s: float) -> bool:
        return True


async def test_messages_on_the_input_become_events_until_the_node_stops() -> None:
    world = GraphWorld()
    context = world.context(now_ms=lambda: 1_000)
    outlet, kept = Outlet(), Kept()
    outlet.connect(kept)
    node = IotHubMessageSourceNode(NodeScope(context, "p1", "sources", "hub"), "trigger", outlet)
    await node.start()
    await world.inputs.deliver("trigger", b'{"motion": true}')
    await world.inputs.deliver("trigger", b"not json")
    await world.inputs.deliver("trigger", b"x" * (MAX_MESSAGE_BYTES + 1))
    assert kept.items == [
        GraphEvent(1_000, {"motion": True}, {"source": "test"}),
        GraphEvent(1_000, {"body": "not json"}, {"source": "test"}),
    ]
    assert node.dropped == 1
    await node.stop(1.0)
    assert "trigger" not in world.inputs.handlers
