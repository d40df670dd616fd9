"""``ova camera`` as a real process on a free loopback port, stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

READY_TIMEOUT_SECONDS = 30.0


class CameraProcess:
    """Runs ``ova camera --port 0 <args>`` and learns its mount URLs from what it prints."""

    def __init__(self, log_path: Path, *args: str) -> None:
        environment = {key: value for key, value in os.environ.items() if not key.startswith("OVA_")}
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ova.cli", "camera", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=environment,
        )
        self.urls: list[str] = []
        self._ready = threading.Event()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        if not self._ready.wait(READY_TIMEOUT_SECONDS):
            self.stop()
            raise RuntimeError(f"ova camera did not get ready; see {log_path}")

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode().strip()
            if line.startswith("ova camera: rtsp://"):
                self.urls.append(line.removeprefix("ova camera: "))
            elif line == "ova camera: ready":
                self._ready.set()

    @property
    def url(self) -> str:
        return self.urls[0]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()
        return self.process.returncode
