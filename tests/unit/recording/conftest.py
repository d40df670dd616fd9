"""Streams for the recorder tests, encoded by the tests (no media is committed)."""

from __future__ import annotations

import random
from pathlib import Path

import av
import pytest

from ova.media.nal import join_annexb, nal_type, split_annexb
from ova.media.synthetic import StreamSpec, write_stream

IDR = 5


@pytest.fixture(scope="session")
def recording_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("recording-media")


@pytest.fixture(scope="session")
def camera_file(recording_media: Path) -> Path:
    """Three seconds of 320x240 H.264 at 30 fps, an IDR every second, as a camera sends it."""
    return write_stream(recording_media / "camera.ts", StreamSpec(frames=90, gop=30))


@pytest.fixture(scope="session")
def noise_file(recording_media: Path, camera_file: Path) -> Path:
    """``camera_file`` with the slice data of every IDR replaced by noise (headers kept)."""
    rng = random.Random(5)
    target = recording_media / "noise.ts"
    with av.open(str(camera_file)) as source, av.open(str(target), "w", format="mpegts") as output:
        stream = output.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(video=0):
            if not packet.size:
                continue
            nals = [
                nal[:2] + rng.randbytes(len(nal) - 2) if nal_type("h264", nal) == IDR else nal
                for nal in split_annexb(bytes(packet))
            ]
            noisy = av.Packet(join_annexb(nals))
            noisy.pts, noisy.dts, noisy.time_base = packet.pts, packet.dts, packet.time_base
            noisy.is_keyframe, noisy.stream = packet.is_keyframe, stream
            output.mux(noisy)
    return target
