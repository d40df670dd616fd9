"""Streams for the media unit tests, encoded by the tests with PyAV (no media is committed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from media_streams import config_of, demux_units

from ova.media.access_units import DemuxedPacket
from ova.media.codec import CodecParameters
from ova.media.synthetic import StreamSpec, write_stream


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def h264_units(media_dir: Path) -> list[DemuxedPacket]:
    """Two seconds of 320x240 H.264 at 30 fps, one IDR every 30 frames."""
    return demux_units(write_stream(media_dir / "h264.ts", StreamSpec(frames=60, gop=30)))


@pytest.fixture(scope="session")
def h264_config(h264_units: list[DemuxedPacket]) -> CodecParameters:
    return config_of("h264", h264_units[0])


@pytest.fixture(scope="session")
def h264_config_640(media_dir: Path) -> CodecParameters:
    units = demux_units(write_stream(media_dir / "h264_640.ts", StreamSpec(width=640, height=360, frames=1)))
    return config_of("h264", units[0])


@pytest.fixture(scope="session")
def hevc_config(media_dir: Path) -> CodecParameters:
    units = demux_units(write_stream(media_dir / "hevc.ts", StreamSpec(codec="hevc", frames=1)))
    return config_of("hevc", units[0])
