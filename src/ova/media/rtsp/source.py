"""``RtspSource``: one session with a camera, as ingest items (no threads, no PyAV).

It opens the session (``handshake.start_session``, within ``open_timeout_s``), announces
``Connected``, then reads the interleaved stream on the event loop: video RTP goes through a
``VideoTrack`` into the ``AccessUnitAssembler``; audio RTP becomes ``IngestPacket(kind=AUDIO)``
once the video has started; RTCP sender reports give the wall-clock mapper the camera's clock
for an RTP time. A keep-alive (GET_PARAMETER, else OPTIONS) goes out every half session timeout.
The session ends when no RTP arrives for ``read_timeout_s`` (``SourceTimeout``), when the
camera closes, or on a broken bound (``SourceProtocolError``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator

from ova.media.access_units import AccessUnitAssembler, IngestStats
from ova.media.codec import CodecParameters
from ova.media.errors import SourceTimeout, SourceUnavailable
from ova.media.ingest_events import Connected, IngestEvent
from ova.media.ingest_settings import IngestSettings
from ova.media.packet import IngestPacket
from ova.media.rtsp.audio_track import AudioReceiver
from ova.media.rtsp.client import RtspClient
from ova.media.rtsp.handshake import PlayingSession, start_session
from ova.media.rtsp.message import Interleaved
from ova.media.rtsp.rtcp import sender_reports
from ova.media.rtsp.rtp import parse_rtp
from ova.media.rtsp.track_sync import TrackSync
from ova.media.rtsp.tracks import AUDIO_CHANNEL, VIDEO_CHANNEL, announced_parameter_sets, announced_video
from ova.media.rtsp.video import VideoTrack
from ova.media.wallclock import WallClockMapper

IngestItem = IngestPacket | IngestEvent


class RtspSource:
    def __init__(
        self, url: str, source: str, settings: IngestSettings, mapper: WallClockMapper, stats: IngestStats
    ) -> None:
        self._client = RtspClient(url, settings.camera_networks)
        self._source, self._settings, self._mapper, self._stats = source, settings, mapper, stats

    async def items(self) -> AsyncGenerator[IngestItem, None]:
        try:
            session = await self._start()
            async for item in self._stream(session):
                yield item
        finally:
            await self._client.teardown()

    async def _start(self) -> PlayingSession:
        try:
            async with asyncio.timeout(self._settings.open_timeout_s):
                return await start_session(self._client, self._settings.with_audio)
        except TimeoutError:
            limit = self._settings.open_timeout_s
            raise SourceTimeout(f"the camera did not open within {limit:g} s (no session set up)") from None

    async def _stream(self, session: PlayingSession) -> AsyncIterator[IngestItem]:
        tracks = session.tracks
        sets = announced_parameter_sets(tracks.video)
        video = announced_video(tracks.codec, sets)
        audio = AudioReceiver.create(tracks.audio, self._mapper, self._stats)
        yield Connected(self._source, video, audio.codec if audio is not None else None)
        limit, mapper = self._settings.max_access_unit_bytes, self._mapper
        assembler = AccessUnitAssembler(tracks.codec, tracks.time_base, sets, mapper, self._stats, limit)
        receiver = VideoTrack(tracks.depacketizer())
        if audio is not None:
            audio.sync = _sync(session, receiver, audio)
        async for message in self._media(session.timeout_s):
            if message.channel == VIDEO_CHANNEL:
                header, payload = parse_rtp(message.data)
                if header.payload_type != tracks.video.payload_type:
                    self._stats.dropped_foreign_payload += 1
                    continue
                for unit in receiver.push(header, payload):
                    for item in assembler.push(unit):
                        yield item
            elif message.channel == VIDEO_CHANNEL + 1:
                for report in sender_reports(message.data):
                    media_time = receiver.extended(report.rtp_timestamp) * tracks.time_base
                    self._mapper.refer(media_time, report.unix_ms)
                    if audio is not None and audio.sync is not None:
                        audio.sync.video_report(report.rtp_timestamp, report.unix_ms)
            elif message.channel == AUDIO_CHANNEL and audio is not None and assembler.started:
                for packet in audio.push(message.data, receiver.newest):
                    yield packet
            elif message.channel == AUDIO_CHANNEL + 1 and audio is not None and audio.sync is not None:
                for report in sender_reports(message.data):
                    audio.sync.audio_report(report.rtp_timestamp, report.unix_ms)
        self._stats.lost_packets += receiver.lost_packets

    async def _media(self, session_timeout_s: float) -> AsyncIterator[Interleaved]:
        """Interleaved frames until the stream ends; RTP on the video channel keeps it alive."""
        watchdog = _Watchdog(self._client, self._settings.read_timeout_s, session_timeout_s / 2)
        task = asyncio.create_task(watchdog.run(), name="ova-rtsp-watchdog")
        try:
            while True:
                try:
                    message = await self._client.read()
                except SourceUnavailable:
                    if watchdog.timed_out:
                        limit = self._settings.read_timeout_s
                        raise SourceTimeout(f"no RTP from the camera for {limit:g} s") from None
                    raise
                if isinstance(message, Interleaved):
                    if message.channel == VIDEO_CHANNEL:
                        watchdog.last_rtp = watchdog.clock()
                    yield message
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _sync(session: PlayingSession, video: VideoTrack, audio: AudioReceiver) -> TrackSync:
    rates = (int(1 / session.tracks.time_base), int(1 / audio.time_base))
    rtptimes = (session.rtptimes.get(VIDEO_CHANNEL), session.rtptimes.get(AUDIO_CHANNEL))
    return TrackSync(rates, (video.extended, audio.clock.peek), rtptimes)


class _Watchdog:
    """Closes a connection that sent no video RTP for ``read_timeout_s``; sends the keep-alives."""

    def __init__(self, client: RtspClient, read_timeout_s: float, keepalive_s: float) -> None:
        self.clock = asyncio.get_running_loop().time
        self._client, self._read_timeout, self._keepalive = client, read_timeout_s, keepalive_s
        self.last_rtp = self._last_keepalive = self.clock()
        self.timed_out = False

    async def run(self) -> None:
        while True:
            now = self.clock()
            if now - self.last_rtp >= self._read_timeout:
                self.timed_out = True
                self._client.close()
                return
            if now - self._last_keepalive >= self._keepalive:
                self._last_keepalive = now
                method = "GET_PARAMETER" if self._client.get_parameter else "OPTIONS"
                with contextlib.suppress(OSError, SourceUnavailable):
                    self._client.send(method, self._client.uri)
            wake = min(self.last_rtp + self._read_timeout, self._last_keepalive + self._keepalive)
            await asyncio.sleep(max(0.05, wake - now))


__all__ = ["CodecParameters", "RtspSource"]
