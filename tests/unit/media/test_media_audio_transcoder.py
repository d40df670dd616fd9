"""G711Transcoder: µ-law and A-law frames in, AAC frames on the same clock out."""

from __future__ import annotations

import itertools
from dataclasses import replace
from fractions import Fraction

import av
import numpy as np
import pytest
from media_packets import anchor

from ova.media.audio_transcoder import G711Transcoder
from ova.media.codec import StreamKind, audio_parameters
from ova.media.errors import UnsupportedMedia
from ova.media.packet import IngestPacket

RATE, PACKET = 8000, 160  # 20 ms frames, as cameras send them


def g711_packets(codec: str, seconds: float, first: int = 0) -> list[IngestPacket]:
    """A 400 Hz tone as G.711 RTP-sized packets, timed in samples from ``first``."""
    encoder = av.CodecContext.create(codec, "w")
    assert isinstance(encoder, av.AudioCodecContext)
    encoder.sample_rate, encoder.layout, encoder.format = RATE, "mono", "s16"
    encoder.open()
    params = audio_parameters(codec, b"", RATE, 1)
    out = []
    for index in range(int(seconds * RATE / PACKET)):
        start = first + index * PACKET
        wave = (np.sin(np.arange(start, start + PACKET) * 2 * np.pi / 20) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(wave.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts = RATE, start
        data = b"".join(bytes(packet) for packet in encoder.encode(frame))
        out.append(
            IngestPacket(StreamKind.AUDIO, data, start, start, Fraction(1, RATE), True, params, anchor())
        )
    return out


@pytest.mark.parametrize("codec", ["pcm_mulaw", "pcm_alaw"])
def test_g711_becomes_aac_frames_on_the_input_clock(codec: str) -> None:
    packets = g711_packets(codec, 2.0, first=80_000)
    transcoder = G711Transcoder(packets[0].codec)
    out = [frame for packet in packets for frame in transcoder.push(packet)]
    assert transcoder.config.codec_string == "mp4a.40.2"
    assert (transcoder.config.sample_rate, transcoder.config.channels) == (RATE, 1)
    assert len(out) >= 2 * RATE // 1024 - 2
    assert out[0].dts == 80_000 - 1024  # the encoder's priming frame, just before the first input
    assert [b.dts - a.dts for a, b in itertools.pairwise(out)] == [1024] * (len(out) - 1)
    decoder = av.CodecContext.create("aac", "r")
    assert isinstance(decoder, av.AudioCodecContext)
    decoder.extradata = transcoder.config.extradata
    loudness = [np.abs(f.to_ndarray()).max() for p in out[2:] for f in decoder.decode(av.Packet(p.data))]
    assert min(loudness) > 0.1  # the tone survives (amplitude 8000/32768)


def test_a_discontinuity_starts_a_new_run_on_its_own_clock() -> None:
    first, later = g711_packets("pcm_mulaw", 1.0), g711_packets("pcm_mulaw", 1.0, first=400_000)
    transcoder = G711Transcoder(first[0].codec)
    for packet in first:
        transcoder.push(packet)
    later[0] = replace(later[0], discontinuity=True)
    out = [frame for packet in later for frame in transcoder.push(packet)]
    assert out[0].discontinuity and out[0].dts == 400_000 - 1024


def test_only_g711_is_transcoded() -> None:
    with pytest.raises(UnsupportedMedia):
        G711Transcoder(audio_parameters("aac", b"\x15\x88", RATE, 1))


def test_drain_hands_over_the_frames_the_encoder_still_holds() -> None:
    packets = g711_packets("pcm_mulaw", 1.0)
    transcoder = G711Transcoder(packets[0].codec)
    out = [frame for packet in packets for frame in transcoder.push(packet)]
    out += transcoder.drain()
    assert out[-1].dts + 1024 >= RATE  # the last input sample is inside the last frame
    assert transcoder.drain() == []
