"""The codec allowlist: which SDP sections a recording takes, and how each is read.

Video: the first ``H264`` or ``H265`` section (payload type from the ``rtpmap``), with the
parameter sets its ``fmtp`` announces (``sprop-parameter-sets``; ``sprop-vps/sps/pps``),
checked by ``video_parameters`` (so a 65535x65535 SPS is refused here). Audio: the first
``MPEG4-GENERIC`` (AAC-hbr), ``PCMU`` or ``PCMA`` section. Anything else (MJPEG, unknown
payload types, no media at all) is refused with ``UnsupportedMedia`` naming what was offered.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from fractions import Fraction

from ova.media.codec import CodecParameters, audio_parameters, video_parameters
from ova.media.errors import SourceProtocolError, UnsupportedMedia
from ova.media.rtsp.audio import aac_config
from ova.media.rtsp.h264 import H264Depacketizer
from ova.media.rtsp.h265 import H265Depacketizer
from ova.media.rtsp.sdp import MediaSection
from ova.media.rtsp.video import Depacketizer

VIDEO_CHANNEL = 0
AUDIO_CHANNEL = 2
_VIDEO = ("H264", "H265")
_AUDIO = {"MPEG4-GENERIC": "aac", "PCMU": "pcm_mulaw", "PCMA": "pcm_alaw"}
_HEVC_SETS = ("sprop-vps", "sprop-sps", "sprop-pps")


@dataclass(frozen=True)
class AudioTrack:
    section: MediaSection
    codec: str
    extradata: bytes

    @property
    def time_base(self) -> Fraction:
        return Fraction(1, self.section.clock_rate)


@dataclass(frozen=True)
class Tracks:
    video: MediaSection
    audio: AudioTrack | None

    def sections(self) -> list[tuple[int, MediaSection]]:
        chosen = [(VIDEO_CHANNEL, self.video)]
        return chosen + ([(AUDIO_CHANNEL, self.audio.section)] if self.audio is not None else [])

    def depacketizer(self) -> Depacketizer:
        return H264Depacketizer() if self.video.encoding == "H264" else H265Depacketizer()

    @property
    def codec(self) -> str:
        return self.depacketizer().codec

    @property
    def time_base(self) -> Fraction:
        return Fraction(1, self.video.clock_rate)


def choose(media: list[MediaSection], with_audio: bool) -> Tracks:
    video = next((m for m in media if m.media == "video" and m.encoding in _VIDEO), None)
    if video is None:
        offered = ", ".join(f"{m.media} {m.encoding or m.payload_type}" for m in media) or "no media"
        raise UnsupportedMedia(f"the camera offers no H.264 or H.265 video ({offered})")
    if video.encoding == "H265" and video.fmtp.get("sprop-max-don-diff", "0") != "0":
        raise UnsupportedMedia("H.265 with decoding order numbers (sprop-max-don-diff) is not supported")
    audio = _audio(media) if with_audio else None
    return Tracks(video, audio)


def _audio(media: list[MediaSection]) -> AudioTrack | None:
    section = next((m for m in media if m.media == "audio" and m.encoding in _AUDIO), None)
    if section is None or section.clock_rate <= 0:
        return None
    codec = _AUDIO[section.encoding]
    try:
        extradata = aac_config(section.fmtp) if codec == "aac" else b""
    except SourceProtocolError:
        return None
    return AudioTrack(section, codec, extradata)


def audio_codec(track: AudioTrack) -> CodecParameters | None:
    """The audio configuration, or ``None`` when this build cannot record it (counted by the caller)."""
    try:
        section = track.section
        return audio_parameters(track.codec, track.extradata, section.clock_rate, section.channels)
    except UnsupportedMedia:
        return None


def announced_parameter_sets(video: MediaSection) -> list[bytes]:
    """The parameter sets of the SDP (base64), possibly none."""
    if video.encoding == "H264":
        values = video.fmtp.get("sprop-parameter-sets", "").split(",")
    else:
        values = [video.fmtp.get(name, "") for name in _HEVC_SETS]
    try:
        return [base64.b64decode(value, validate=True) for value in values if value]
    except (binascii.Error, ValueError):
        raise SourceProtocolError("the camera's SDP carries parameter sets that are not base64") from None


def announced_video(codec: str, sets: list[bytes]) -> CodecParameters | None:
    """The announced configuration, checked (dimensions bounded); ``None`` when incomplete."""
    return video_parameters(codec, sets) if sets and any(sets) else None
