"""``AudioPath``: a camera's audio as the segmenter records it.

AAC passes through untouched. G.711 (µ-law, A-law), which no browser plays from fMP4, is
transcoded to AAC-LC at its own rate (``media.audio_transcoder``) on a worker thread, one
frame at a time, so the event loop never waits on an encoder. A G.711 frame that does not
decode is dropped and counted; other codecs never reach here (the ingest leaves them out).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from ova.media.audio_transcoder import G711Transcoder
from ova.media.codec import G711, CodecParameters
from ova.media.errors import InvalidMedia
from ova.media.packet import IngestPacket

log = logging.getLogger(__name__)


@dataclass
class AudioPathStats:
    transcoded: int = 0
    """G.711 frames turned into AAC."""
    undecodable: int = 0


class AudioPath:
    """Turns audio packets into what is recorded (not thread-safe: one call at a time)."""

    def __init__(self) -> None:
        self.stats = AudioPathStats()
        self._transcoder: G711Transcoder | None = None

    async def announced(self, source: CodecParameters | None) -> CodecParameters | None:
        """The configuration recorded for ``source`` (what a camera announces when it connects)."""
        if source is None or source.codec not in G711:
            return source
        return (await self._transcoder_for(source)).config

    async def recorded(self, packet: IngestPacket) -> list[IngestPacket]:
        """``packet`` as recorded: itself (AAC), or the AAC frames its G.711 samples completed."""
        if packet.codec.codec not in G711:
            return [packet]
        transcoder = await self._transcoder_for(packet.codec)
        try:
            frames = await asyncio.to_thread(transcoder.push, packet)
        except InvalidMedia as error:
            self.stats.undecodable += 1
            log.debug("dropped a G.711 frame: %s", error)
            return []
        self.stats.transcoded += 1
        return frames

    async def drain(self) -> list[IngestPacket]:
        """What the transcoder still holds, at the end of a session (a G.711 source only)."""
        if self._transcoder is None:
            return []
        return await asyncio.to_thread(self._transcoder.drain)

    async def _transcoder_for(self, source: CodecParameters) -> G711Transcoder:
        current = self._transcoder
        if current is None or current.source.config_hash != source.config_hash:
            current = self._transcoder = await asyncio.to_thread(G711Transcoder, source)
        return current
