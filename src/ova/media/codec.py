"""Codec parameters: one codec configuration of a stream, and the hash that names it.

A configuration is what an init segment describes: codec, parameter sets (video) or
AudioSpecificConfig (audio). ``config_hash`` (hex SHA-256 over those bytes) names the init
segment in storage (``init/<config-hash>.mp4``), so equal configurations share one init
segment, and a camera restart with new parameter sets gets a new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ova.media.errors import InvalidMedia, UnsupportedMedia
from ova.media.nal import check_codec, is_sps, join_annexb
from ova.media.sps import SequenceParameters, parse_sps

MAX_DIMENSION = 8192
AAC = "aac"
PCM_MULAW, PCM_ALAW = "pcm_mulaw", "pcm_alaw"
G711 = (PCM_MULAW, PCM_ALAW)
"""G.711 µ-law and A-law: received from cameras, recorded as AAC (``media.audio_transcoder``)."""
_SAMPLE_ENTRY_NAMES = {PCM_MULAW: "ulaw", PCM_ALAW: "alaw"}


class StreamKind(StrEnum):
    VIDEO = "video"
    AUDIO = "audio"


@dataclass(frozen=True)
class CodecParameters:
    """One codec configuration. Video carries parameter sets; audio carries extradata."""

    kind: StreamKind
    codec: str
    """FFmpeg's codec name: ``h264``, ``hevc``, ``aac``, ``pcm_mulaw`` or ``pcm_alaw``."""
    codec_string: str
    """RFC 6381 ``codecs`` value, e.g. ``avc1.42C01F`` or ``mp4a.40.2``."""
    config_hash: str
    width: int = 0
    height: int = 0
    parameter_sets: tuple[bytes, ...] = ()
    """Video: VPS/SPS/PPS NAL units without start codes, ordered by NAL type."""
    extradata: bytes = b""
    """Audio: the AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1)."""
    sample_rate: int = 0
    channels: int = 0

    @property
    def annexb_extradata(self) -> bytes:
        """The parameter sets as an Annex B byte stream (what a decoder takes as extradata)."""
        return join_annexb(self.parameter_sets)

    def sequence(self) -> SequenceParameters:
        """The parsed SPS of a video configuration."""
        sps = next(nal for nal in self.parameter_sets if is_sps(self.codec, nal))
        return parse_sps(self.codec, sps)


def video_parameters(codec: str, parameter_sets: Sequence[bytes]) -> CodecParameters:
    """The configuration given by ``parameter_sets``; the picture size comes from the SPS.

    Raises ``UnsupportedMedia`` for codecs other than H.264/H.265 and pictures above
    ``MAX_DIMENSION`` on either side, ``InvalidMedia`` when there is no readable SPS.
    """
    check_codec(codec)
    sets = tuple(parameter_sets)
    sps_units = [nal for nal in sets if is_sps(codec, nal)]
    if not sps_units:
        raise InvalidMedia("the video stream carries no sequence parameter set")
    sequence = parse_sps(codec, sps_units[0])
    if not (0 < sequence.width <= MAX_DIMENSION and 0 < sequence.height <= MAX_DIMENSION):
        raise UnsupportedMedia(
            f"a {sequence.width}x{sequence.height} picture is outside the supported "
            f"{MAX_DIMENSION}x{MAX_DIMENSION}"
        )
    digest = _digest(codec.encode(), *sets)
    return CodecParameters(
        kind=StreamKind.VIDEO,
        codec=codec,
        codec_string=sequence.codec_string,
        config_hash=digest,
        width=sequence.width,
        height=sequence.height,
        parameter_sets=sets,
    )


def audio_parameters(codec: str, extradata: bytes, sample_rate: int, channels: int) -> CodecParameters:
    """An AAC or G.711 configuration (passed through; only its codec string is derived).

    Raises ``UnsupportedMedia`` for other codecs, ``InvalidMedia`` for a rate or channel
    count no decoder takes.
    """
    if codec != AAC and codec not in G711:
        raise UnsupportedMedia(f"audio codec {codec!r} is not supported (AAC and G.711 are)")
    if not (0 < sample_rate <= 192_000 and 0 < channels <= 8):
        raise InvalidMedia(f"audio at {sample_rate} Hz with {channels} channels is not playable")
    if codec == AAC:
        codec_string = f"mp4a.40.{extradata[0] >> 3 if extradata else 2}"
    else:
        codec_string = _SAMPLE_ENTRY_NAMES[codec]
    digest = _digest(codec.encode(), extradata, f"{sample_rate}/{channels}".encode())
    return CodecParameters(
        kind=StreamKind.AUDIO,
        codec=codec,
        codec_string=codec_string,
        config_hash=digest,
        extradata=extradata,
        sample_rate=sample_rate,
        channels=channels,
    )


def recorded_hash(video: CodecParameters, audio: CodecParameters | None) -> str:
    """Names the init segment of ``video`` (and ``audio``): the video's own hash when silent."""
    if audio is None:
        return video.config_hash
    return _digest(video.config_hash.encode(), audio.config_hash.encode())


def recorded_codecs(video: CodecParameters, audio: CodecParameters | None) -> str:
    """The RFC 6381 ``codecs`` list of a recording: ``avc1.42C01F`` or ``avc1.42C01F,mp4a.40.2``."""
    return video.codec_string if audio is None else f"{video.codec_string},{audio.codec_string}"


def _digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(4, "big"))
        hasher.update(part)
    return hasher.hexdigest()
