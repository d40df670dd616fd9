"""``RtspIngest``: receive one camera, reconnecting with exponential backoff and jitter.

A camera (``rtsp://``, ``rtsps://``) is read on the event loop by our own bounded RTSP client
(``media.rtsp.source.RtspSource``): no thread, no FFmpeg. Any other URL is refused with
``SourceRefused`` before anything is opened, unless internal code asks for a local file
(``IngestSettings(local_file=True)``, benchmarks and tests): then PyAV's blocking reads run in
a worker thread (``Demuxer``) that feeds a bounded queue. The consumer iterates
asynchronously::

    ingest = RtspIngest("rtsp://camera/stream")
    async with contextlib.aclosing(ingest.run()) as items:
        async for item in items:
            match item:
                case IngestPacket():  ...        # feed a CmafSegmenter
                case Disconnected(reason=reason, retry_in_s=delay):  ...   # report
                case Connected() | CodecChanged() | Discontinuity():  ...

``session()`` is one connection and ends with ``Disconnected(reason)``; ``run()`` chains
sessions, replacing each ``Disconnected`` with one that carries the retry delay. A session
ends at the end of the stream, on an error, or when no packet arrives for
``read_timeout_s``. A ``SourceProtocolError`` (a camera past a bound) ends the session like any
error, is counted in ``stats.protocol_errors`` and logged once. Leaving the iteration closes the
connection (or stops the worker thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from ova.contracts.camera_url import camera_url_problem
from ova.media.access_units import IngestStats
from ova.media.demuxer import Demuxer, IngestItem, redact_url
from ova.media.errors import MediaError, SourceProtocolError
from ova.media.ingest_events import Connected, Disconnected
from ova.media.ingest_settings import IngestSettings
from ova.media.packet import IngestPacket
from ova.media.rtsp.source import RtspSource
from ova.media.wallclock import WallClockMapper, system_time_ms

log = logging.getLogger(__name__)

_POLL_S = 0.2


@dataclass(frozen=True)
class _Ended:
    reason: str


class Backoff:
    """Exponential delays, capped, each scaled by a random factor in ``1 ± jitter``."""

    def __init__(self, initial_s: float, max_s: float, jitter: float, rng: random.Random) -> None:
        self._initial, self._max, self._jitter, self._rng = initial_s, max_s, jitter, rng
        self._attempt = 0

    def next_delay(self) -> float:
        base = min(self._max, self._initial * 2.0**self._attempt)
        self._attempt = min(self._attempt + 1, 62)
        return base * (1.0 + self._rng.uniform(-self._jitter, self._jitter))

    def reset(self) -> None:
        self._attempt = 0


class RtspIngest:
    """Packets and events from one camera URL (``rtsp://``/``rtsps://``; a local file only with
    ``settings.local_file``, for internal code)."""

    def __init__(
        self,
        url: str,
        settings: IngestSettings | None = None,
        *,
        now_ms: Callable[[], int] = system_time_ms,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._url = url
        self.settings = settings or IngestSettings()
        self.stats = IngestStats()
        live = self.settings.max_drift_ms is not None and not self.settings.local_file
        self._mapper = WallClockMapper(
            now_ms,
            jump_ms=self.settings.jump_ms,
            max_drift_ms=self.settings.max_drift_ms,
            max_ahead_ms=self.settings.max_ahead_ms if live else None,
        )
        self._backoff = Backoff(
            self.settings.backoff_initial_s,
            self.settings.backoff_max_s,
            self.settings.backoff_jitter,
            rng or random.Random(),  # noqa: S311 - jitter, not a secret
        )
        self._sleep = sleep

    @property
    def source(self) -> str:
        return redact_url(self._url)

    async def run(self) -> AsyncGenerator[IngestItem, None]:
        """Sessions one after another until ``max_attempts`` consecutive sessions fail."""
        failures = 0
        while True:
            delivered = False
            async for item in self.session():
                if isinstance(item, Disconnected):
                    reason = item.reason
                    break
                delivered = delivered or isinstance(item, IngestPacket)
                yield item
            failures = 0 if delivered else failures + 1
            if delivered:
                self._backoff.reset()
            attempts = self.settings.max_attempts
            if attempts is not None and failures >= attempts:
                yield Disconnected(f"{reason}; gave up after {failures} attempts", None)
                return
            delay = self._backoff.next_delay()
            yield Disconnected(reason, delay)
            await self._sleep(delay)
            self.stats.reconnects += 1

    async def session(self) -> AsyncGenerator[IngestItem, None]:
        """One connection: its packets and events, then ``Disconnected(reason)``."""
        self.stats.sessions += 1
        self._mapper.restart()
        if self.settings.local_file:
            async for item in self._file_session():
                yield item
            return
        problem = camera_url_problem(self._url)
        if problem is not None:
            yield Disconnected(f"refused: the camera URL {problem}")
            return
        reason = "end of stream"
        try:
            source = RtspSource(self._url, self.source, self.settings, self._mapper, self.stats)
            async with contextlib.aclosing(source.items()) as items:
                async for item in items:
                    yield item
        except SourceProtocolError as error:
            self.stats.protocol_errors += 1
            log.warning("camera %s broke the protocol: %s", self.source, error.message)
            reason = error.message
        except MediaError as error:
            reason = error.message
        except OSError as error:
            reason = f"the camera connection failed ({type(error).__name__})"
        except Exception as error:  # a bug must cost this camera a reconnect, never the process
            log.error("ingest of %s failed unexpectedly: %s", self.source, type(error).__name__)
            reason = f"unexpected error ({type(error).__name__})"
        yield Disconnected(reason)

    async def _file_session(self) -> AsyncIterator[IngestItem]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[IngestItem | _Ended] = asyncio.Queue()
        slots = threading.Semaphore(self.settings.queue_size)
        stop = threading.Event()
        worker = threading.Thread(
            target=self._work, args=(loop, queue, slots, stop), name="ova-ingest", daemon=True
        )
        worker.start()
        reason = "stopped"
        try:
            timeout = self.settings.open_timeout_s + self.settings.read_timeout_s
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), timeout)
                except TimeoutError:
                    reason = f"no packet for {timeout:g} s"
                    break
                if isinstance(item, _Ended):
                    reason = item.reason
                    break
                slots.release()
                if isinstance(item, Connected):
                    timeout = self.settings.read_timeout_s
                yield item
            yield Disconnected(reason)
        finally:
            stop.set()
            await asyncio.to_thread(worker.join, self.settings.read_timeout_s + 1.0)

    def _work(
        self,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[IngestItem | _Ended],
        slots: threading.Semaphore,
        stop: threading.Event,
    ) -> None:
        demuxer = Demuxer(self._url, self.settings, self._mapper, self.stats, stop)
        ended = _Ended("end of stream")
        try:
            for item in demuxer.items():
                if not _offer(loop, queue, slots, stop, item):
                    return
        except MediaError as error:
            ended = _Ended(error.message)
        except Exception as error:
            log.error("ingest of %s failed unexpectedly: %s", self.source, type(error).__name__)
            ended = _Ended(f"unexpected error ({type(error).__name__})")
        _post(loop, queue, ended)


def _offer(
    loop: asyncio.AbstractEventLoop,
    queue: asyncio.Queue[IngestItem | _Ended],
    slots: threading.Semaphore,
    stop: threading.Event,
    item: IngestItem,
) -> bool:
    """Queues ``item`` once a slot frees up; ``False`` when the consumer went away."""
    while not slots.acquire(timeout=_POLL_S):
        if stop.is_set():
            return False
    return not stop.is_set() and _post(loop, queue, item)


def _post(
    loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[IngestItem | _Ended], item: IngestItem | _Ended
) -> bool:
    try:
        loop.call_soon_threadsafe(queue.put_nowait, item)
    except RuntimeError:  # the loop is closed: nobody is listening any more
        return False
    return True
