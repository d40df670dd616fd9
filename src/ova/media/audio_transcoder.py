"""``G711Transcoder``: G.711 (µ-law, A-law) frames in, AAC-LC frames out, at the same rate.

Browsers' Media Source Extensions play no G.711 in fMP4 (``ulaw``/``alaw`` sample entries are
refused by Chromium, Firefox and Safari alike), so a camera's G.711 is recorded as AAC: PyAV's
``pcm_mulaw``/``pcm_alaw`` decoder, then its ``aac`` encoder at the camera's rate and channel
count (8 kHz mono: about 2 % of one core), 1024 samples a frame. It is the one decode on the
record path, and it is audio only; run ``push`` off the event loop.

Output frames keep the input's clock: an AAC frame's time is its first sample's, counted from
the first G.711 frame of the run, on that frame's wall-clock anchor (the encoder's priming
frame lies 1024 samples before it and is dropped by the segmenter). A discontinuity or a new
anchor epoch starts a new run with a fresh encoder, so no frame straddles a gap.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import av

from ova.media.codec import AAC, G711, CodecParameters, StreamKind, audio_parameters
from ova.media.errors import InvalidMedia, UnsupportedMedia
from ova.media.packet import IngestPacket
from ova.media.wallclock import ClockAnchor

BITRATE_PER_CHANNEL = 32_000
FRAME_SAMPLES = 1024


class G711Transcoder:
    """One G.711 configuration to AAC (not thread-safe; one call at a time)."""

    def __init__(self, source: CodecParameters) -> None:
        if source.codec not in G711:
            raise UnsupportedMedia(f"{source.codec!r} is not G.711")
        self.source = source
        self._rate = source.sample_rate
        self._layout = "mono" if source.channels == 1 else "stereo"
        if source.channels > 2:
            raise UnsupportedMedia("G.711 with more than two channels is not supported")
        self._time_base = Fraction(1, self._rate)
        self._start()
        extradata = bytes(self._encoder.extradata or b"")
        self.config = audio_parameters(AAC, extradata, self._rate, source.channels)
        """The AAC configuration every output frame carries."""
        self._run: tuple[ClockAnchor, int] | None = None
        """The anchor and first sample (input clock) of the current run."""
        self._gap = False

    def _start(self) -> None:
        decoder = av.CodecContext.create(self.source.codec, "r")
        assert isinstance(decoder, av.AudioCodecContext)
        decoder.sample_rate, decoder.layout = self._rate, self._layout
        encoder = av.CodecContext.create(AAC, "w")
        assert isinstance(encoder, av.AudioCodecContext)
        encoder.sample_rate, encoder.layout, encoder.format = self._rate, self._layout, "fltp"
        encoder.bit_rate = BITRATE_PER_CHANNEL * self.source.channels
        encoder.open()
        self._decoder, self._encoder = decoder, encoder
        self._resampler = av.AudioResampler("fltp", self._layout, self._rate, frame_size=FRAME_SAMPLES)

    def push(self, packet: IngestPacket) -> list[IngestPacket]:
        """The AAC frames completed by one G.711 packet (often none: 1024 samples a frame)."""
        first = round(packet.media_time * self._rate)
        restarted = self._run is None or packet.discontinuity or packet.anchor.epoch != self._run[0].epoch
        if restarted:
            if self._run is not None:
                self._start()
            self._run = (packet.anchor, first)
            self._gap = packet.discontinuity
        assert self._run is not None
        anchor, origin = self._run
        try:
            out = [
                frame
                for decoded in self._decode(packet.data, first - origin)
                for frame in self._encode(decoded)
            ]
        except av.FFmpegError as error:
            raise InvalidMedia(f"a G.711 frame does not decode ({error.strerror})") from None
        packets = [self._packet(data, pts + origin, anchor) for data, pts in out]
        if packets and self._gap:
            packets[0] = replace(packets[0], discontinuity=True)
            self._gap = False
        return packets

    def drain(self) -> list[IngestPacket]:
        """The frames still inside the encoder (the end of a session); the next push starts anew."""
        if self._run is None:
            return []
        anchor, origin = self._run
        try:
            tail = [frame for chunk in self._resampler.resample(None) for frame in self._encoded(chunk)]
            tail += self._encoded(None)
        except av.FFmpegError:
            tail = []
        self._run = None
        self._start()
        return [self._packet(data, pts + origin, anchor) for data, pts in tail]

    def _decode(self, data: bytes, pts: int) -> list[av.AudioFrame]:
        source = av.Packet(data)
        source.pts = source.dts = pts
        source.time_base = self._time_base
        return [frame for frame in self._decoder.decode(source) if isinstance(frame, av.AudioFrame)]

    def _encode(self, frame: av.AudioFrame) -> list[tuple[bytes, int]]:
        return [encoded for chunk in self._resampler.resample(frame) for encoded in self._encoded(chunk)]

    def _encoded(self, chunk: av.AudioFrame | None) -> list[tuple[bytes, int]]:
        return [(bytes(p), p.pts if p.pts is not None else 0) for p in self._encoder.encode(chunk)]

    def _packet(self, data: bytes, sample: int, anchor: ClockAnchor) -> IngestPacket:
        return IngestPacket(
            kind=StreamKind.AUDIO,
            data=data,
            dts=sample,
            pts=sample,
            time_base=self._time_base,
            is_keyframe=True,
            codec=self.config,
            anchor=anchor,
        )
