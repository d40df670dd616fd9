"""``MediaFeed``: the bounded queue between a graph and one sink's recorder.

The graph hands items (``accept``) without waiting; the recorder reads them (``items``, a
``recording.recorder.ItemSource``). When the queue is full a packet is dropped and counted,
and the next packet that gets in is flagged ``discontinuity``, so the recording shows a gap
rather than joining media across the hole. Session events and ``Pause`` are never dropped
while there is room for them; a full queue drops them too (counted) rather than block.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import replace

from ova.media.packet import IngestPacket

QUEUE_SIZE = 1024
"""About half a minute of 30 fps video with audio."""


class MediaFeed:
    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self._queue: asyncio.Queue[object] = asyncio.Queue(queue_size)
        self._hole = False
        self.dropped = 0

    def put(self, item: object) -> None:
        if isinstance(item, IngestPacket) and self._hole:
            item = replace(item, discontinuity=True)
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1
            self._hole = True
            return
        if isinstance(item, IngestPacket):
            self._hole = False

    async def items(self) -> AsyncGenerator[object, None]:
        while True:
            yield await self._queue.get()
