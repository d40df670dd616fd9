"""The audio track: a generated tone encoded as AAC-LC (PyAV's ``aac``) or G.711 (PCMU/PCMA).

The tone is a 1 kHz beep for the first 100 ms of every second of stream time, silence the
rest, so audio/video offsets can be checked by ear or by eye on a waveform. An AAC frame
holds 1024 samples at 48 kHz (``mpeg4-generic``, RFC 3640); a G.711 packet 160 samples
(20 ms) at 8 kHz (static payload types 0 and 8, RFC 3551). The RTP timestamp counts samples
from the start of the stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np

from ova.camera import rtp_aac, rtp_g711
from ova.camera.interleaved import PacketBurst
from ova.camera.rtp import RtpPayload
from ova.camera.sdp import MediaDescription
from ova.camera.stream import AUDIO_TRACK, MediaUnit, Track

SAMPLES_PER_FRAME = 1024
"""Samples in one AAC frame."""
TONE_HZ = 1000
BEEP_SECONDS = 0.1
AMPLITUDE = 0.3


@dataclass(frozen=True)
class AudioFormat:
    sample_rate: int = 48_000
    bitrate_kbps: int = 64
    codec: str = "aac"
    """``aac``, or G.711: ``pcmu`` (µ-law), ``pcma`` (A-law), always 8 kHz."""

    @classmethod
    def of(cls, codec: str) -> AudioFormat:
        if codec in rtp_g711.PAYLOAD_TYPES:
            return cls(sample_rate=rtp_g711.CLOCK_RATE, bitrate_kbps=64, codec=codec)
        return cls(codec=codec)

    @property
    def frame_samples(self) -> int:
        return rtp_g711.PACKET_SAMPLES if self.codec in rtp_g711.PAYLOAD_TYPES else SAMPLES_PER_FRAME


@dataclass(frozen=True)
class AacFrame:
    """One encoded audio frame (AAC, or a G.711 packet's samples) and its timestamp in samples."""

    timestamp: int
    data: bytes


def tone(first_sample: int, count: int, sample_rate: int) -> np.ndarray:
    """``count`` mono float32 samples of the beep signal from ``first_sample`` on."""
    samples = np.arange(first_sample, first_sample + count, dtype=np.int64)
    beeping = (samples % sample_rate) < BEEP_SECONDS * sample_rate
    wave = AMPLITUDE * np.sin(2 * np.pi * TONE_HZ * (samples % sample_rate) / sample_rate)
    return np.where(beeping, wave, 0.0).astype(np.float32).reshape(1, count)


class ToneEncoder:
    """Generates and encodes the tone, frame by frame, in stream order."""

    def __init__(self, audio: AudioFormat) -> None:
        self.sample_rate = audio.sample_rate
        self.codec = audio.codec
        self.frame_samples = audio.frame_samples
        self._format = "fltp" if audio.codec == "aac" else "s16"
        context = av.CodecContext.create(rtp_g711.ENCODERS.get(audio.codec, "aac"), "w")
        assert isinstance(context, av.AudioCodecContext)
        context.sample_rate = audio.sample_rate
        context.layout = "mono"
        context.format = self._format
        context.bit_rate = audio.bitrate_kbps * 1000
        context.open()
        self._context = context
        self.config = bytes(context.extradata or b"")
        self._next_sample = 0
        self._emitted = 0

    def encode_until(self, sample: int) -> list[AacFrame]:
        """The encoded frames for every whole frame that starts before ``sample``."""
        frames = []
        while self._next_sample < sample:
            samples = tone(self._next_sample, self.frame_samples, self.sample_rate)
            if self._format == "s16":
                samples = (samples * 32767).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(samples, format=self._format, layout="mono")
            frame.sample_rate = self.sample_rate
            frame.pts = self._next_sample
            self._next_sample += self.frame_samples
            for packet in self._context.encode(frame):
                frames.append(AacFrame(self._emitted * self.frame_samples, bytes(packet)))
                self._emitted += 1
        return frames


def audio_track(encoder: ToneEncoder) -> Track:
    """The mpeg4-generic track (``config`` from the encoder's extradata), or the G.711 one."""
    if encoder.codec in rtp_g711.PAYLOAD_TYPES:
        payload_type = rtp_g711.PAYLOAD_TYPES[encoder.codec]
        media = MediaDescription(
            "audio", payload_type, rtp_g711.rtpmap(encoder.codec), {}, f"trackID={AUDIO_TRACK}"
        )
        return Track(AUDIO_TRACK, encoder.sample_rate, encoder.frame_samples, media)
    media = MediaDescription(
        media="audio",
        payload_type=rtp_aac.PAYLOAD_TYPE,
        rtpmap=f"MPEG4-GENERIC/{encoder.sample_rate}/1",
        fmtp=rtp_aac.fmtp(encoder.config),
        control=f"trackID={AUDIO_TRACK}",
    )
    return Track(AUDIO_TRACK, encoder.sample_rate, SAMPLES_PER_FRAME, media)


def audio_unit(frame: AacFrame, stamp_ms: int, codec: str = "aac") -> MediaUnit:
    """One frame as its track's unit: an AAC-hbr packet, or the G.711 samples as they are."""
    if codec in rtp_g711.PAYLOAD_TYPES:
        burst = PacketBurst.build([RtpPayload(frame.data, marker=False)], rtp_g711.PAYLOAD_TYPES[codec])
    else:
        payload = RtpPayload(rtp_aac.aac_hbr_payload(frame.data), marker=True)
        burst = PacketBurst.build([payload], rtp_aac.PAYLOAD_TYPE)
    return MediaUnit(AUDIO_TRACK, True, burst, frame.timestamp, stamp_ms)
