"""``Demuxer``: one local file (or FIFO) read with PyAV, blocking (run it in a thread).

Internal code only (benchmarks and tests, ``IngestSettings.local_file``): a URL with any scheme
other than ``file:`` is refused, so no user-supplied camera URL reaches FFmpeg's protocols.
Cameras are read by ``media.rtsp``. It opens the file (open and read timeouts),
picks the first H.264/H.265 video stream and the first AAC or G.711 audio stream, normalises video to
Annex B framing, and hands video packets to an ``AccessUnitAssembler``. Audio passes through
once the video has started, on the same wall-clock anchor. PyAV errors become ``MediaError``s
whose messages never contain the URL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import av
import av.container
import av.stream

from ova.media.access_units import AccessUnitAssembler, DemuxedPacket, IngestStats
from ova.media.codec import AAC, G711, CodecParameters, StreamKind, audio_parameters, video_parameters
from ova.media.errors import (
    InvalidMedia,
    MediaError,
    SourceRefused,
    SourceTimeout,
    SourceUnavailable,
    UnsupportedMedia,
)
from ova.media.ingest_events import Connected, IngestEvent
from ova.media.ingest_settings import IngestSettings
from ova.media.nal import check_codec, from_extradata, join_annexb, split_length_prefixed
from ova.media.packet import IngestPacket
from ova.media.wallclock import WallClockMapper

IngestItem = IngestPacket | IngestEvent


def redact_url(url: str) -> str:
    """``url`` without user name and password (safe for logs and events)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class Demuxer:
    """Reads one session of ``url``; iterate ``items()`` until it ends or raises."""

    def __init__(
        self,
        url: str,
        settings: IngestSettings,
        mapper: WallClockMapper,
        stats: IngestStats,
        stop: threading.Event,
    ) -> None:
        self._url = url
        self._settings = settings
        self._mapper = mapper
        self._stats = stats
        self._stop = stop

    def items(self) -> Iterator[IngestItem]:
        """Packets and events until the source ends (return) or fails (``MediaError``)."""
        container = self._open()
        try:
            yield from self._read(container)
        except av.FFmpegError as error:
            raise translate_error(error) from None
        finally:
            container.close()

    def _open(self) -> av.container.InputContainer:
        options = dict(self._settings.options)
        if urlsplit(self._url).scheme not in ("", "file"):
            raise SourceRefused("the demuxer reads local files only")
        options.setdefault("protocol_whitelist", "file")  # no FFmpeg protocol prefix gets through
        timeouts = (self._settings.open_timeout_s, self._settings.read_timeout_s)
        started = time.monotonic()
        try:
            return av.open(self._url, format=self._settings.format, options=options, timeout=timeouts)
        except av.FFmpegError as error:
            if time.monotonic() - started >= self._settings.open_timeout_s:
                limit, reason = self._settings.open_timeout_s, error.strerror or type(error).__name__
                raise SourceTimeout(f"the source did not open within {limit:g} s ({reason})") from None
            raise translate_error(error) from None

    def _read(self, container: av.container.InputContainer) -> Iterator[IngestItem]:
        video = _pick_video(container)
        audio = _pick_audio(container) if self._settings.with_audio else None
        codec = video.codec_context.name
        initial, length_size = from_extradata(codec, video.codec_context.extradata or b"")
        announced = video_parameters(codec, initial) if initial else None
        audio_params = _audio_parameters(audio) if audio is not None else None
        yield Connected(redact_url(self._url), announced, audio_params)
        assembler = AccessUnitAssembler(
            codec,
            _time_base(video),
            initial,
            self._mapper,
            self._stats,
            self._settings.max_access_unit_bytes,
        )
        streams = [video] if audio is None else [video, audio]
        for packet in container.demux(streams):
            if self._stop.is_set():
                return
            if packet.size == 0:
                continue
            if packet.stream_index == video.index:
                yield from assembler.push(_video_packet(packet, length_size))
            elif audio_params is not None and assembler.started:
                yield from self._audio_packet(packet, audio_params)
        if self._settings.keep_final_access_unit:
            yield from assembler.flush()
        else:
            assembler.discard()

    def _audio_packet(
        self, packet: av.Packet[av.stream.Stream], params: CodecParameters
    ) -> Iterator[IngestItem]:
        if packet.dts is None or packet.time_base is None:
            self._stats.dropped_untimed += 1
            return
        placement = self._mapper.follow(StreamKind.AUDIO, packet.dts * packet.time_base)
        self._stats.audio_packets += 1
        yield IngestPacket(
            kind=StreamKind.AUDIO,
            data=bytes(packet),
            dts=packet.dts,
            pts=packet.pts if packet.pts is not None else packet.dts,
            time_base=packet.time_base,
            is_keyframe=True,
            codec=params,
            anchor=placement.anchor,
            discontinuity=placement.reanchored is not None,
        )


def _pick_video(container: av.container.InputContainer) -> av.stream.Stream:
    if not container.streams.video:
        raise UnsupportedMedia("the source has no video stream")
    stream = container.streams.video[0]
    check_codec(stream.codec_context.name)
    return stream


def _pick_audio(container: av.container.InputContainer) -> av.stream.Stream | None:
    for stream in container.streams.audio:
        if stream.codec_context.name == AAC or stream.codec_context.name in G711:
            return stream
    return None


def _audio_parameters(stream: av.stream.Stream) -> CodecParameters:
    context: Any = stream.codec_context
    extradata = bytes(context.extradata or b"")
    return audio_parameters(context.name, extradata, context.sample_rate, context.channels)


def _time_base(stream: av.stream.Stream) -> Fraction:
    if stream.time_base is None:
        raise InvalidMedia("the video stream has no time base")
    return stream.time_base


def _video_packet(packet: av.Packet[av.stream.Stream], length_size: int | None) -> DemuxedPacket:
    data = bytes(packet)
    if length_size is not None:
        data = join_annexb(split_length_prefixed(data, length_size))
    return DemuxedPacket(data, packet.pts, packet.dts, packet.is_keyframe, packet.is_corrupt)


def translate_error(error: av.FFmpegError) -> MediaError:
    """A ``MediaError`` for a PyAV error; its message names neither the URL nor its secrets."""
    reason = error.strerror or type(error).__name__
    if isinstance(error, av.InvalidDataError):
        return InvalidMedia(f"the source sent data that is not a readable media stream ({reason})")
    if isinstance(error, av.TimeoutError | av.ExitError):
        return SourceTimeout(f"the source did not answer in time ({reason})")
    if isinstance(error, av.EOFError):
        return SourceUnavailable("the source ended before any media could be read")
    return SourceUnavailable(f"the source could not be read ({reason})")
