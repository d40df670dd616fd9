"""Fixtures of the media integration tests: ffmpeg on the PATH and streams generated on demand."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def ffmpeg_tools() -> None:
    missing = [tool for tool in ("ffmpeg", "ffprobe") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: install Debian's ffmpeg "
            "(apt-get install -y --no-install-recommends ffmpeg)"
        )


@pytest.fixture(scope="session")
def streams_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("streams")
