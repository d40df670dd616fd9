"""``RecordingNode``: the part a VideoSink and a FileSink share, a recorder fed by the graph.

Each sink runs one ``recording.recorder.Recorder`` on its own task, reading a ``MediaFeed``
(never the camera: the RTSP source reads it once for every sink). The recorder's segments go
to the sink's ``SegmentSink`` through ``Announcing``, which raises the operational events on
the sink's subject: ``RecordingStarted {outputType, outputLocation}`` when media starts being
stored (at activation, and at each opening of an upstream signal gate) and
``RecordingStopped`` with the same body when it stops (the gate closed, or the pipeline was
deactivated).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable

from ova.contracts.edge_events import EventKind
from ova.edge.graph.context import NodeScope
from ova.edge.graph.node import GraphEvent
from ova.edge.sinks.media_feed import MediaFeed
from ova.media.cmaf import InitSegment, MediaSegment
from ova.media.preview import PreviewImage
from ova.recording.recorder import Pause, Recorder, RecorderSettings, SegmentSink

log = logging.getLogger(__name__)
STOP_TIMEOUT_S = 30.0
"""Longest wait for a recorder to store what it buffered when the pipeline stops."""


class Announcing:
    """A ``SegmentSink`` that passes everything on and says when recording starts and stops."""

    def __init__(
        self, scope: NodeScope, output_type: str, sink: SegmentSink, where: Callable[[], str]
    ) -> None:
        """``where`` names the place the last segment went (a video name, a file path)."""
        self._scope, self._output_type, self._sink, self._where = scope, output_type, sink, where
        self.location: str | None = None

    async def init_segment(self, init: InitSegment) -> None:
        await self._sink.init_segment(init)

    async def media_segment(self, segment: MediaSegment) -> None:
        await self._sink.media_segment(segment)
        self.started(self._where())

    async def preview(self, images: list[PreviewImage], at_ms: int) -> None:
        await self._sink.preview(images, at_ms)

    def started(self, location: str) -> None:
        if self.location is not None and self.location != location:
            self.stopped()
        if self.location is None:
            self.location = location
            self._scope.emit(EventKind.OPERATIONAL, "RecordingStarted", self._body(location))

    def stopped(self) -> None:
        location, self.location = self.location, None
        if location is not None:
            self._scope.emit(EventKind.OPERATIONAL, "RecordingStopped", self._body(location))

    def _body(self, location: str) -> dict[str, object]:
        return {"outputType": self._output_type, "outputLocation": location}


class RecordingNode(ABC):
    """A sink node around a recorder; subclasses open the place the segments go."""

    def __init__(self, scope: NodeScope, source: str) -> None:
        self.name, self._scope, self._source = scope.name, scope, source
        self.feed = MediaFeed()
        self.recorder: Recorder | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[object] | None = None
        self.announcing: Announcing | None = None

    @abstractmethod
    async def _open(self) -> tuple[Announcing, RecorderSettings]:
        """The sink the recorder writes to and the recorder's settings."""

    async def start(self) -> None:
        self.announcing, settings = await self._open()
        context = self._scope.context
        self.recorder = Recorder(
            self._source,
            self.announcing,
            settings,
            now_ms=context.now_ms,
            keyframes=context.keyframes,
            items=self.feed.items,
        )
        self._task = asyncio.create_task(self.recorder.run(self._stop), name=f"recorder-{self.name}")

    async def accept(self, item: object) -> None:
        if isinstance(item, GraphEvent):
            return  # events open gates upstream; a recording takes media
        self.feed.put(item)
        if isinstance(item, Pause) and self.announcing is not None:
            self.announcing.stopped()

    async def _stop_recorder(self) -> bool:
        """Stop the recorder, letting it store what it buffered; False when it did not in time."""
        self._stop.set()
        task, self._task = self._task, None
        if task is None:
            return True
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=STOP_TIMEOUT_S)
        except TimeoutError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return False
        except Exception as error:  # a failed recorder must not keep the others from stopping
            log.warning("recorder of %s failed: %s", self.name, type(error).__name__)
            return False
        finally:
            if self.announcing is not None:
                self.announcing.stopped()
        return True
