"""``IotHubMessageSource``: messages on one of the module's hub inputs, as events into a graph.

Each message routed to ``hubInputName`` (typically from another module, to trigger a signal
gate) becomes a ``GraphEvent`` at the time it arrived, with its JSON body (a body that is not a
JSON object is kept as ``{"body": <text>}``) and its application properties. A message over
``MAX_MESSAGE_BYTES`` is dropped and counted. With no ``hubInputName`` the node's name is the
input.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from ova.edge.graph.context import NodeScope
from ova.edge.graph.node import GraphEvent, Outlet
from ova.edge.ports import HubMessage

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 256 * 1024
"""IoT Hub's own limit for a device-to-cloud message."""


def event_body(body: bytes) -> dict[str, Any]:
    text = body.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"body": text}
    return parsed if isinstance(parsed, dict) else {"body": parsed}


class IotHubMessageSourceNode:
    def __init__(self, scope: NodeScope, input_name: str, outlet: Outlet) -> None:
        self.name, self.outlet, self.input_name = scope.name, outlet, input_name
        self._scope = scope
        self._unregister: Callable[[], None] | None = None
        self.received = 0
        self.dropped = 0

    async def start(self) -> None:
        self._unregister = self._scope.context.hub_inputs.on_input(self.input_name, self._message)

    async def accept(self, item: object) -> None:
        return None  # a source has no inputs

    async def _message(self, message: HubMessage) -> None:
        if len(message.body) > MAX_MESSAGE_BYTES:
            self.dropped += 1
            log.warning("dropped a message over %d bytes on input %s", MAX_MESSAGE_BYTES, self.input_name)
            return
        self.received += 1
        event = GraphEvent(self._scope.context.now_ms(), event_body(message.body), dict(message.properties))
        await self.outlet.send(event)

    async def stop(self, flush_timeout_s: float) -> bool:
        unregister, self._unregister = self._unregister, None
        if unregister is not None:
            unregister()
        return True
