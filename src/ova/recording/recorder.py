"""``Recorder``: one camera into one archive, never decoding on the record path.

RTSP packets go through the CMAF segmenter; each init and media segment is handed to a
``SegmentSink`` (the cloud's writes blobs and the segment index; the edge's spools and
uploads). Audio goes through ``audio_path`` first: AAC as it is, G.711 transcoded to AAC on
a worker thread (the one decode on the record path, audio only). A preview set is made from a
keyframe once per media segment. The camera is retried with back-off when it drops or sends
more than ``bitrate_kbps`` allows.

By default the recorder reads the camera itself (an ``RtspIngest`` of its URL). A pipeline
graph that shares one camera between sinks, or gates it (a signal gate), hands it ``items``
instead: each call opens one run of the same packets and ingest events, already gated. A
``Pause`` among them says the stream stops for a while (the gate closed): what is buffered is
stored at once, and the packet that resumes it carries ``discontinuity``, so the next segment
says ``gap_before``.

A media segment is handed on only when its first keyframe decodes into an intact picture
(``segment_check``, run by a ``KeyframeCheck``: in services a ``KeyframePool`` of limited child
processes); a segment that does not, or whose check crashes or times out, is dropped, counted
and reported, and the next stored one says ``gap_before``. When the check is too busy to take
a segment, the segment is stored unchecked and without previews, and counted. An init
segment is handed on just before the first stored segment that needs it, so a configuration
that never produced playable media is never stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Protocol, cast

from ova.media.cmaf import CmafSegmenter, InitSegment, MediaSegment, SegmenterSettings
from ova.media.codec import StreamKind
from ova.media.demuxer import redact_url
from ova.media.ingest_events import Connected, Disconnected
from ova.media.ingest_settings import IngestSettings
from ova.media.packet import IngestPacket
from ova.media.preview import PreviewImage
from ova.media.rtsp_ingest import RtspIngest
from ova.recording.audio_path import AudioPath
from ova.recording.bitrate import BitrateMeter
from ova.recording.segment_check import InProcessKeyframeCheck, KeyframeVerdict

log = logging.getLogger(__name__)
# As many codec configurations as the segmenter remembers; older ones are announced again.
REMEMBERED_INITS = 64


@dataclass(frozen=True)
class Pause:
    """Among a recorder's ``items``: no media follows for a while; store what is buffered."""

    reason: str


ItemSource = Callable[[], AsyncIterator[object]]
"""One run of packets and ingest events (``IngestPacket``, ``Connected``, ``Disconnected``, ``Pause``)."""


class SegmentSink(Protocol):
    """Where a recording goes. Calls come in order; a segment's init always comes first."""

    async def init_segment(self, init: InitSegment) -> None: ...

    async def media_segment(self, segment: MediaSegment) -> None: ...

    async def preview(self, images: list[PreviewImage], at_ms: int) -> None: ...


class KeyframeCheck(Protocol):
    """Checks that a segment opens with a picture, and makes its previews from that picture."""

    async def check(self, init: InitSegment, segment: MediaSegment, previews: bool) -> KeyframeVerdict: ...

    async def close(self) -> None: ...


@dataclass
class RecorderStatus:
    """What an operator (or a test) can see of a running recording.

    ``last_error`` is the newest problem; it is cleared once a segment is stored again.
    """

    connected: bool = False
    last_error: str | None = None
    segments: int = 0
    rejected_segments: int = 0
    check_failures: int = 0
    """Segments dropped because their check crashed, timed out or hit a limit (in ``rejected_segments``)."""
    unchecked_segments: int = 0
    """Segments stored without a check (and without previews): the check was too busy."""
    store_failures: int = 0
    bytes: int = 0
    reconnects: int = 0
    bitrate_disconnects: int = 0
    previews: int = 0
    first_segment: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class RecorderSettings:
    segment_ms: int = 30_000
    bitrate_kbps: int | None = None
    previews: bool = True
    ingest: IngestSettings = field(default_factory=IngestSettings)
    first_sequence: int = 0


class BitrateExceeded(Exception):
    pass


class Recorder:
    def __init__(
        self,
        url: str,
        sink: SegmentSink,
        settings: RecorderSettings,
        *,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        keyframes: KeyframeCheck | None = None,
        items: ItemSource | None = None,
    ) -> None:
        """``keyframes`` defaults to a check in this process, for tests and trusted media;
        ``items`` to an ``RtspIngest`` of ``url`` (then ``url`` only names the source in logs)."""
        self._url, self._sink, self._settings, self._now_ms = url, sink, settings, now_ms
        self._items = items
        self._keyframes = keyframes or InProcessKeyframeCheck()
        self.status = RecorderStatus()
        self._segmenter = CmafSegmenter(
            SegmenterSettings(target_duration_ms=settings.segment_ms, first_sequence=settings.first_sequence)
        )
        self._meter = BitrateMeter(settings.bitrate_kbps)
        self.audio = AudioPath()
        self._inits: OrderedDict[str, InitSegment] = OrderedDict()
        self._stored_inits: set[str] = set()
        self._hole = False
        self._source = redact_url(url)

    async def run(self, stop: asyncio.Event) -> RecorderStatus:
        """Record until ``stop`` is set, then flush what is buffered; returns the final status."""
        items = self._items or RtspIngest(self._url, self._settings.ingest).run
        stopper = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                try:
                    await self._record(items, stopper)
                except BitrateExceeded as exceeded:
                    await self._flush()
                    self._disconnected(str(exceeded))
                    self.status.bitrate_disconnects += 1
                    await self._wait(stop, min(60.0, 2.0**self.status.bitrate_disconnects))
        finally:
            stopper.cancel()
            await self._flush()
        return self.status

    async def _record(self, source: ItemSource, stopper: asyncio.Task[bool]) -> None:
        self._meter.reset()
        items = cast(AsyncGenerator[object, None], source())
        async with contextlib.aclosing(items):
            iterator = aiter(items)
            while True:
                next_item = asyncio.ensure_future(anext(iterator))
                try:
                    await asyncio.wait({next_item, stopper}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    # Stopped or cancelled: the generator can only be closed once its step is over.
                    if not next_item.done():
                        next_item.cancel()
                        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                            await next_item
                if next_item.cancelled():
                    return
                try:
                    item = next_item.result()
                except StopAsyncIteration:
                    return
                await self._handle(item)

    async def _handle(self, item: object) -> None:
        if isinstance(item, IngestPacket):
            await self._packet(item)
        elif isinstance(item, Connected):
            self._segmenter.expect_audio(await self.audio.announced(item.audio))
            self.status.connected = True
            log.info("camera connected: %s", item.source)
        elif isinstance(item, Disconnected):
            await self._flush()
            self._disconnected(item.reason)
            self.status.reconnects += 1
        elif isinstance(item, Pause):
            await self._flush()

    async def _packet(self, packet: IngestPacket) -> None:
        now = self._now_ms()
        self._meter.add(now, len(packet.data))
        if self._meter.exceeded(now):
            rate, allowed = self._meter.kbps(now), self._settings.bitrate_kbps
            raise BitrateExceeded(f"the camera sends {rate:.0f} kbit/s, over the allowed {allowed}")
        if packet.kind is StreamKind.AUDIO:
            for frame in await self.audio.recorded(packet):
                await self._deliver(self._segmenter.push(frame))  # a segment waiting for its audio
            return
        await self._deliver(self._segmenter.push(packet))

    async def _deliver(self, segments: list[InitSegment | MediaSegment]) -> None:
        for segment in segments:
            if isinstance(segment, InitSegment):
                self._inits[segment.config_hash] = segment
                while len(self._inits) > REMEMBERED_INITS:
                    self._inits.popitem(last=False)
            else:
                verdict = await self._verdict(segment)
                if verdict is not None:
                    await self._store(segment, verdict.images)

    async def _verdict(self, segment: MediaSegment) -> KeyframeVerdict | None:
        """What the check found; ``None`` (and the segment dropped) when it does not play."""
        init = self._inits.get(segment.config_hash)
        if init is None:
            verdict = KeyframeVerdict(defect="its init segment is unknown")
        else:
            self._inits.move_to_end(segment.config_hash)
            verdict = await self._keyframes.check(init, segment, self._settings.previews)
        if not verdict.checked:
            if not self.status.unchecked_segments:
                log.warning("the keyframe check is busy: segments of %s are stored unchecked", self._source)
            self.status.unchecked_segments += 1
            return verdict
        if verdict.defect is None:
            return verdict
        self._hole = True
        self.status.rejected_segments += 1
        self.status.check_failures += verdict.check_failed
        self.status.last_error = (
            f"the camera sent media that does not play; a segment was dropped: {verdict.defect}"
        )
        log.warning("dropped segment %d of %s: %s", segment.sequence, self._source, verdict.defect)
        return None

    async def _store(self, segment: MediaSegment, images: tuple[PreviewImage, ...]) -> None:
        """Hand a playable segment to the sink; a sink failure loses that segment, not the recording."""
        try:
            await self._write(segment)
        except Exception as error:  # the archive may be briefly unwritable; the camera keeps going
            self._hole = True
            self.status.store_failures += 1
            self.status.last_error = f"a segment could not be stored: {type(error).__name__}"
            log.warning("could not store segment %d: %s", segment.sequence, type(error).__name__)
            return
        if self._settings.previews and images:
            try:
                await self._sink.preview(list(images), segment.start_ms)
                self.status.previews += 1
            except Exception as error:  # a missing preview is not worth a recording; it is logged
                log.warning("could not store preview images: %s", type(error).__name__)

    async def _write(self, segment: MediaSegment) -> None:
        if segment.config_hash not in self._stored_inits:
            await self._sink.init_segment(self._inits[segment.config_hash])
            self._stored_inits.add(segment.config_hash)
        if self._hole and self.status.segments and not segment.gap_before:
            segment = replace(segment, gap_before=True)
        await self._sink.media_segment(segment)
        self._hole = False
        self.status.segments += 1
        self.status.bytes += len(segment.data)
        self.status.last_error = None
        self.status.first_segment.set()

    async def _flush(self) -> None:
        for frame in await self.audio.drain():
            await self._deliver(self._segmenter.push(frame))
        await self._deliver(self._segmenter.flush())

    def _disconnected(self, reason: str) -> None:
        self.status.connected, self.status.last_error = False, reason
        log.warning("camera disconnected: %s", reason)

    @staticmethod
    async def _wait(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
