"""Events to IoT Hub: the ``ports.EventSink`` that turns ``EdgeEvent``s into module-output messages.

Each event becomes one message: the JSON body (UTF-8) and the application properties of
``EdgeEvent.properties(topic)`` (``topic``, ``subject``, ``eventType``, ``eventTime``,
``dataVersion``). Where it goes:

- Operational events → the twin's ``OperationalEventsOutputName``;
- Diagnostics events → the twin's ``DiagnosticsEventsOutputName``;
- Analytics events → the ``hubOutputName`` of the ``IotHubMessageSink`` that raised them
  (``HubEventSink.for_output`` gives each sink node its own ``EventSink``).

An absent or empty output name drops the event silently, as Video Analyzer did (those events
are switched off). Output names are dynamic twin properties: ``set_outputs`` changes them
while the module runs, for events emitted from then on.

``emit`` never blocks a pipeline: events wait in a bounded queue (1000 by default) that
``run`` drains; an event that finds the queue full, or whose message cannot be sent, is
dropped and counted (``dropped``, and the ``on_dropped`` callback that feeds the metric
``va_data_dropped_total{data_kind="events"}``). ``emit`` must be called from the event loop's
thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from ova.contracts.edge_events import EdgeEvent, EventKind
from ova.edge.ports import EventSink, HubOutput

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 1000
MAX_OUTPUT_NAME = 128


@dataclass(frozen=True)
class _Outgoing:
    output_name: str
    event: EdgeEvent


class HubEventSink:
    """Sends events on the module's outputs, in the order they were emitted."""

    def __init__(
        self,
        output: HubOutput,
        topic: str,
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        on_dropped: Callable[[], None] | None = None,
    ) -> None:
        self._output = output
        self._topic = topic
        self._queue: asyncio.Queue[_Outgoing] = asyncio.Queue(maxsize=queue_size)
        self._on_dropped = on_dropped
        self._outputs: dict[EventKind, str | None] = {}
        self.dropped = 0
        self.sent = 0

    def set_outputs(self, operational: str | None, diagnostics: str | None) -> None:
        """The twin's ``OperationalEventsOutputName`` and ``DiagnosticsEventsOutputName`` (None or
        empty: those events are not sent)."""
        self._outputs = {
            EventKind.OPERATIONAL: _output_name(operational),
            EventKind.DIAGNOSTICS: _output_name(diagnostics),
        }

    def emit(self, event: EdgeEvent) -> None:
        """Queue an operational or diagnostics event for the output the twin names."""
        self._enqueue(self._outputs.get(event.kind), event)

    def for_output(self, hub_output_name: str) -> EventSink:
        """The ``EventSink`` of one ``IotHubMessageSink`` node: every event it emits goes to
        ``hub_output_name``."""
        return _BoundSink(self, _output_name(hub_output_name))

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def _enqueue(self, output_name: str | None, event: EdgeEvent) -> None:
        if not output_name:
            return
        try:
            self._queue.put_nowait(_Outgoing(output_name, event))
        except asyncio.QueueFull:
            self._drop()

    def _drop(self) -> None:
        self.dropped += 1
        if self._on_dropped is not None:
            self._on_dropped()

    async def run(self) -> None:
        """Send queued events until cancelled."""
        while True:
            await self._send(await self._queue.get())

    async def drain(self, timeout_s: float) -> bool:
        """Send what is queued now; True when the queue emptied within ``timeout_s``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while not self._queue.empty():
                    await self._send(self._queue.get_nowait())
        return self._queue.empty()

    async def _send(self, outgoing: _Outgoing) -> None:
        event = outgoing.event
        try:
            body = json.dumps(event.body, separators=(",", ":"), default=str).encode()
            await self._output.send_to_output(outgoing.output_name, body, event.properties(self._topic))
        except Exception as error:  # the hub client failed: the event is lost, and counted
            log.warning(
                "event %s not sent on %s: %s", event.event_type, outgoing.output_name, type(error).__name__
            )
            self._drop()
        else:
            self.sent += 1


class _BoundSink:
    def __init__(self, sink: HubEventSink, output_name: str | None) -> None:
        self._sink = sink
        self._output_name = output_name

    def emit(self, event: EdgeEvent) -> None:
        self._sink._enqueue(self._output_name, event)


def _output_name(name: str | None) -> str | None:
    """A usable output name, or None (absent, empty, or too long to be one)."""
    if not name or len(name) > MAX_OUTPUT_NAME:
        return None
    return name
