"""The processes of a recording test, each a real ``ova`` command on loopback.

- ``CameraProcess``: ``ova camera`` on a fixed free port, so it can be stopped and started
  again (with another picture size, say) at the same URL;
- ``CloudProcess``: ``ova cloud`` on plain HTTP with a YAML config, plus an operator key
  from ``ova admin create-key``;
- ``record``: ``ova record`` into a video of that deployment, as a child process.

Every process gets this environment minus ``OVA_*`` settings, logs to a file under its
root, and is ended by ``stop()`` (terminate, then kill): use them as context managers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import yaml

STOP_TIMEOUT_S = 10.0
API_VERSION = "2021-11-01-preview"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("OVA_")}


def ova(*args: str) -> list[str]:
    return [sys.executable, "-m", "ova.cli", *args]


def end(process: subprocess.Popen[bytes] | None, *, kill: bool = False) -> None:
    """End ``process`` (SIGKILL when ``kill``, else SIGTERM and SIGKILL after a grace period)."""
    if process is None or process.poll() is not None:
        return
    if kill:
        process.kill()
    else:
        process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class ManagedProcess:
    """One child process with a log file; a context manager that always ends it."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def launch(self, command: list[str]) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=environment()
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for(self, ready: Any, what: str, limit_s: float = 30.0) -> None:
        """Poll ``ready()`` until true; fail with the log tail when the process ends or time runs out."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{what}: the process ended early\n{self.log()[-3000:]}")
            if ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{what}: not ready within {limit_s:g} s\n{self.log()[-3000:]}")

    def stop(self, *, kill: bool = False) -> None:
        process, self.process = self.process, None
        end(process, kill=kill)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


class CameraProcess(ManagedProcess):
    """``ova camera`` serving ``rtsp://127.0.0.1:PORT/cam``; ``start`` again after ``stop`` to restart it."""

    def __init__(self, root: Path, name: str = "camera") -> None:
        super().__init__(root / f"{name}.log")
        self.port = free_port()
        self.url = f"rtsp://127.0.0.1:{self.port}/cam"

    def start(self, width: int = 640, height: int = 360, bitrate_kbps: int = 2000, *extra: str) -> None:
        """Serve (again), with ``extra`` flags of ``ova camera`` such as ``--fps``."""
        starts = self.log().count("ova camera: ready")
        flags = ["--width", str(width), "--height", str(height), "--bitrate-kbps", str(bitrate_kbps), *extra]
        self.launch(ova("camera", "--host", "127.0.0.1", "--port", str(self.port), *flags))
        self.wait_for(lambda: self.log().count("ova camera: ready") > starts, "ova camera")


class CloudProcess(ManagedProcess):
    """``ova cloud`` on ``http://127.0.0.1:PORT`` with ``settings`` (YAML) and an operator key."""

    def __init__(self, root: Path, settings: dict[str, Any]) -> None:
        super().__init__(root / "cloud.log")
        self.root, self.data_dir, self.port = root, root / "data", free_port()
        self.config = root / "ova-cloud.yaml"
        listener = {"host": "127.0.0.1", "port": self.port}
        self.config.write_text(yaml.safe_dump({"listeners": [listener], **settings}))
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.operator_key = ""

    def cli(self, *args: str) -> list[str]:
        return ova(*args, "--config", str(self.config), "--data-dir", str(self.data_dir))

    def start(self) -> None:
        created = subprocess.run(
            self.cli("admin", "create-key", "--label", "recording-tests"),
            capture_output=True,
            text=True,
            env=environment(),
            timeout=60,
            check=True,
        )
        self.operator_key = created.stdout.strip().splitlines()[-1]
        self.launch(self.cli("cloud"))
        self.wait_for(self._answers, "ova cloud")

    def _answers(self) -> bool:
        try:
            httpx.get(f"{self.base_url}/openapi/management.json", timeout=1)
        except httpx.TransportError:
            return False
        return True

    def operator(self) -> httpx.Client:
        """An HTTP client of the management API, as the operator."""
        headers = {"Authorization": f"Bearer {self.operator_key}"}
        return httpx.Client(base_url=self.base_url, headers=headers, params={"api-version": API_VERSION})

    def record(
        self, url: str, account: str, video: str, seconds: float, segment_seconds: float
    ) -> ManagedProcess:
        """``ova record`` into ``video`` of ``account`` (an ARM id), running as a child process."""
        recorder = ManagedProcess(self.root / f"record-{video}.log")
        flags = ["--account", account, "--video", video, "--seconds", str(seconds)]
        recorder.launch(self.cli("record", url, *flags, "--segment-seconds", str(segment_seconds)))
        return recorder
