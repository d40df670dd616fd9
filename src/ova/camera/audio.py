"""The audio track: a generated tone encoded as AAC-LC by PyAV's ``aac`` encoder.

The tone is a 1 kHz beep for the first 100 ms of every second of stream time, silence the
rest, so audio/video offsets can be checked by ear or by eye on a waveform. Each AAC frame
holds 1024 samples; its RTP timestamp counts samples from the start of the stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np

from ova.camera import rtp_aac
from ova.camera.interleaved import PacketBurst
from ova.camera.rtp import RtpPayload
from ova.camera.sdp import MediaDescription
from ova.camera.stream import AUDIO_TRACK, MediaUnit, Track

SAMPLES_PER_FRAME = 1024
TONE_HZ = 1000
BEEP_SECONDS = 0.1
AMPLITUDE = 0.3


@dataclass(frozen=True)
class AudioFormat:
    sample_rate: int = 48_000
    bitrate_kbps: int = 64


@dataclass(frozen=True)
class AacFrame:
    """One encoded AAC frame and its timestamp in samples."""

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
        context = av.CodecContext.create("aac", "w")
        assert isinstance(context, av.AudioCodecContext)
        context.sample_rate = audio.sample_rate
        context.layout = "mono"
        context.format = "fltp"
        context.bit_rate = audio.bitrate_kbps * 1000
        context.open()
        self._context = context
        self.config = bytes(context.extradata or b"")
        self._next_sample = 0
        self._emitted = 0

    def encode_until(self, sample: int) -> list[AacFrame]:
        """The AAC frames for every whole 1024-sample frame that starts before ``sample``."""
        frames = []
        while self._next_sample < sample:
            samples = tone(self._next_sample, SAMPLES_PER_FRAME, self.sample_rate)
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate = self.sample_rate
            frame.pts = self._next_sample
            self._next_sample += SAMPLES_PER_FRAME
            for packet in self._context.encode(frame):
                frames.append(AacFrame(self._emitted * SAMPLES_PER_FRAME, bytes(packet)))
                self._emitted += 1
        return frames


def audio_track(encoder: ToneEncoder) -> Track:
    """The mpeg4-generic track, with ``config`` taken from the encoder's extradata."""
    media = MediaDescription(
        media="audio",
        payload_type=rtp_aac.PAYLOAD_TYPE,
        rtpmap=f"MPEG4-GENERIC/{encoder.sample_rate}/1",
        fmtp=rtp_aac.fmtp(encoder.config),
        control=f"trackID={AUDIO_TRACK}",
    )
    return Track(AUDIO_TRACK, encoder.sample_rate, SAMPLES_PER_FRAME, media)


def audio_unit(frame: AacFrame, stamp_ms: int) -> MediaUnit:
    payload = RtpPayload(rtp_aac.aac_hbr_payload(frame.data), marker=True)
    burst = PacketBurst.build([payload], rtp_aac.PAYLOAD_TYPE)
    return MediaUnit(AUDIO_TRACK, True, burst, frame.timestamp, stamp_ms)
