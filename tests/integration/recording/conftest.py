"""Fixtures of the recording tests: ffmpeg and ffprobe must be on the PATH."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session", autouse=True)
def ffmpeg_tools() -> None:
    missing = [tool for tool in ("ffmpeg", "ffprobe") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: install Debian's ffmpeg "
            "(apt-get install -y --no-install-recommends ffmpeg)"
        )
