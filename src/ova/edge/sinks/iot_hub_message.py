"""``IotHubMessageSink``: a graph's events out on one of the module's hub outputs.

Each ``GraphEvent`` that reaches the sink is sent as a JSON message on ``hubOutputName`` with
its properties and ``subject`` (the sink's upstream node's events keep their own subject when
they carry one). Sending happens on the sink's own task from a bounded queue, so a slow hub
never holds up the graph: when the queue is full the event is dropped and counted. Media is
ignored.
"""

from __future__ import annotations

import asyncio
import json
import logging

from ova.edge.graph.context import NodeScope
from ova.edge.graph.node import GraphEvent

log = logging.getLogger(__name__)
QUEUE_SIZE = 256


class IotHubMessageSinkNode:
    def __init__(self, scope: NodeScope, output_name: str, queue_size: int = QUEUE_SIZE) -> None:
        self.name, self.output_name = scope.name, output_name
        self._scope = scope
        self._queue: asyncio.Queue[GraphEvent] = asyncio.Queue(queue_size)
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.dropped = 0
        self.failed = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._send_all(), name=f"hub-sink-{self.name}")

    async def accept(self, item: object) -> None:
        if not isinstance(item, GraphEvent):
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1

    async def _send_all(self) -> None:
        while True:
            event = await self._queue.get()
            await self._send(event)
            self._queue.task_done()

    async def _send(self, event: GraphEvent) -> None:
        properties = {"subject": self._scope.subject, **event.properties}
        body = json.dumps(event.body, separators=(",", ":")).encode()
        try:
            await self._scope.context.hub_output.send_to_output(self.output_name, body, properties)
            self.sent += 1
        except Exception as error:  # the hub may be away; the event is lost, counted and logged
            self.failed += 1
            log.warning("could not send an event on output %s: %s", self.output_name, type(error).__name__)

    async def stop(self, flush_timeout_s: float) -> bool:
        drained = True
        if self._task is not None:
            try:
                await asyncio.wait_for(self._queue.join(), timeout=max(flush_timeout_s, 0.001))
            except TimeoutError:
                drained = False
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        return drained
