"""Synthetic H.264/H.265 streams for tests and benchmarks, encoded with PyAV from ``testsrc2``.

Nothing here is on the record path: it makes camera-like media on demand so that no media
file needs to be committed. The default container is MPEG-TS (Annex B, 90 kHz timestamps),
which reads like an RTSP camera.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.video

_ENCODERS = {"h264": ("libx264", "x264-params"), "hevc": ("libx265", "x265-params")}


@dataclass(frozen=True)
class StreamSpec:
    codec: str = "h264"
    width: int = 320
    height: int = 240
    fps: int = 30
    frames: int = 60
    gop: int = 30
    """Frames per GOP; every GOP starts with an IDR frame."""
    bframes: int = 0
    bit_rate: int | None = None
    preset: str = "ultrafast"
    container: str = "mpegts"
    noise: bool = False
    """Add moving grain (bigger, camera-like frames) to the test pattern."""


def write_stream(path: Path, spec: StreamSpec | None = None) -> Path:
    """Encodes ``spec`` into ``path``; returns ``path``."""
    spec = spec or StreamSpec()
    with av.open(str(path), "w", format=spec.container) as output:
        stream = output.add_stream(_ENCODERS[spec.codec][0], rate=spec.fps)
        assert isinstance(stream, av.video.VideoStream)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.codec_context.gop_size = spec.gop
        stream.codec_context.max_b_frames = spec.bframes
        if spec.bit_rate is not None:
            stream.bit_rate = spec.bit_rate
        stream.options = _encoder_options(spec)
        for frame in _frames(spec):
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return path


def _encoder_options(spec: StreamSpec) -> dict[str, object]:
    gop = f"keyint={spec.gop}:min-keyint={spec.gop}:scenecut=0:bframes={spec.bframes}"
    if spec.codec == "hevc":
        gop += ":log-level=error"
    return {"preset": spec.preset, _ENCODERS[spec.codec][1]: gop}


def _frames(spec: StreamSpec) -> Iterator[av.video.VideoFrame]:
    duration = Fraction(spec.frames, spec.fps)
    graph = f"testsrc2=size={spec.width}x{spec.height}:rate={spec.fps}:duration={float(duration)}"
    if spec.noise:
        graph += ",noise=alls=12:allf=t"
    with av.open(graph, format="lavfi") as source:
        for index, frame in enumerate(source.decode(video=0)):
            if index >= spec.frames:
                break
            frame.pts, frame.time_base = index, Fraction(1, spec.fps)
            frame.pict_type = av.video.frame.PictureType.NONE  # lavfi marks every frame I
            yield frame
