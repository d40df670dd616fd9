"""Fixtures of the camera simulator tests: ``ova camera`` processes with different options."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from camera_process import CameraProcess


@pytest.fixture(scope="module")
def camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CameraProcess]:
    """The default camera (1280x720, 30 fps, 2 Mbit/s) on two mounts, cam and cam2."""
    process = CameraProcess(tmp_path_factory.mktemp("camera") / "camera.log", "--mounts", "2")
    yield process
    assert process.stop() == 0, "ova camera should exit cleanly on SIGTERM"


@pytest.fixture(scope="module")
def auth_camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CameraProcess]:
    """A small camera with audio that requires admin / s3cret."""
    log = tmp_path_factory.mktemp("auth-camera") / "camera.log"
    args = ["--width", "640", "--height", "360", "--audio", "--username", "admin", "--password", "s3cret"]
    process = CameraProcess(log, *args)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def loop_camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CameraProcess]:
    """A small camera replaying a pre-encoded 1 s loop with a 15-frame GOP."""
    log = tmp_path_factory.mktemp("loop-camera") / "camera.log"
    args = ["--width", "320", "--height", "240", "--gop", "15", "--loop-seconds", "1", "--mounts", "2"]
    process = CameraProcess(log, *args)
    yield process
    process.stop()
