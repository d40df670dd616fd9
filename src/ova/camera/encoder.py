"""The H.264 encoder: PyAV libx264, tuned like a low-latency IP camera.

Constrained Baseline (no B-frames, so decode order is presentation order), ``ultrafast`` +
``zerolatency`` (one packet out per frame in), a fixed GOP with scene-cut detection off, and a
VBV cap at the target bitrate. Each ``EncodedFrame`` is an access unit ready for RTP: no AUD
or SEI, SPS and PPS in front of every IDR picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av
from av.video.frame import PictureType

from ova.camera.h264 import ParameterSets, find_parameter_sets, split_annexb, stream_nals
from ova.camera.pattern import Picture


@dataclass(frozen=True)
class VideoFormat:
    """What a mount streams; mounts with equal formats can share pre-encoded loops."""

    width: int = 1280
    height: int = 720
    fps: int = 30
    bitrate_kbps: int = 2000
    gop: int = 30
    noise: int = 4


@dataclass(frozen=True)
class EncodedFrame:
    """One access unit: frame ``index`` of the stream, drawn with stamp ``stamp_ms``."""

    index: int
    stamp_ms: int
    keyframe: bool
    nals: tuple[bytes, ...]


def _codec_context(video: VideoFormat) -> av.VideoCodecContext:
    context = av.CodecContext.create("libx264", "w")
    assert isinstance(context, av.VideoCodecContext)
    context.width, context.height, context.pix_fmt = video.width, video.height, "yuv420p"
    context.framerate = Fraction(video.fps)
    context.time_base = Fraction(1, video.fps)
    context.bit_rate = video.bitrate_kbps * 1000
    context.gop_size = video.gop
    context.max_b_frames = 0
    rate = video.bitrate_kbps
    context.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "profile": "baseline",
        "x264-params": (
            f"keyint={video.gop}:min-keyint={video.gop}:scenecut=0:vbv-maxrate={rate}:vbv-bufsize={rate}"
        ),
    }
    context.open()
    return context


class H264Encoder:
    """Draws and encodes frames of one ``VideoFormat``; use from one thread at a time."""

    def __init__(self, video: VideoFormat) -> None:
        self.video = video
        self.picture = Picture(video.width, video.height, video.noise)
        self._context = _codec_context(video)
        self.parameter_sets: ParameterSets | None = None

    def encode(self, index: int, stamp_ms: int) -> EncodedFrame | None:
        """Frame ``index`` stamped ``stamp_ms``, encoded; ``None`` until the first keyframe."""
        frame = av.VideoFrame.from_ndarray(self.picture.draw(index, stamp_ms), format="yuv420p")
        frame.pts = index
        frame.time_base = Fraction(1, self.video.fps)
        frame.pict_type = PictureType.NONE
        packets = self._context.encode(frame)
        nals = [nal for packet in packets for nal in split_annexb(bytes(packet))]
        found = find_parameter_sets(nals)
        if found is not None:
            self.parameter_sets = found
        if not nals or self.parameter_sets is None:
            return None
        keyframe = any(packet.is_keyframe for packet in packets)
        return EncodedFrame(index, stamp_ms, keyframe, stream_nals(nals, self.parameter_sets))
