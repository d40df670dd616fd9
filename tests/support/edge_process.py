"""A real ``ova edge`` process, started as IoT Edge starts a module: a connection string and a CA.

``EdgeProcess(root, connection_string, ca_cert)`` runs ``python -m ova.cli edge`` with the
module's connection string in its environment (``OVA_EDGE_CONNECTION_STRING``, never on the
command line where ``ps`` shows it), the test CA for the hub and the cloud
(``OVA_EDGE_CA_FILE``, ``OVA_EDGE_CLOUD_CA_FILE``) and its metrics on a
free port, logging to ``root/edge.log``.
``start()`` returns once the process runs; the module's own readiness is what a test observes
through the hub (its twin's reported properties, a direct method that answers). ``stop()``
sends SIGTERM (a module's graceful stop) and waits, bounded.

``wait_for(what, probe, timeout_s)`` polls a probe until it answers, bounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

STOP_TIMEOUT_SECONDS = 30.0
CONNECTION_STRING_ENV = "OVA_EDGE_CONNECTION_STRING"
CA_ENV = "OVA_EDGE_CA_FILE"

T = TypeVar("T")


class EdgeProcessError(RuntimeError):
    """The edge process exited, or what a test waited for did not happen in time."""


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float, interval_s: float = 0.5) -> T:
    """``probe()``'s first answer that is not None, polled until ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = probe()
        if answer is not None:
            return answer
        if time.monotonic() > deadline:
            raise EdgeProcessError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)


class EdgeProcess:
    def __init__(
        self,
        root: Path,
        connection_string: str,
        ca_cert: Path,
        *,
        args: Sequence[str] = (),
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.log_path = root / "edge.log"
        self._connection_string = connection_string
        self._ca_cert = ca_cert
        self._args = list(args)
        self._extra_environment = dict(environment or {})
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "ova.cli", "edge", *self._args]

    def environment(self) -> dict[str, str]:
        """This environment without ``OVA_*`` settings, plus the module's own."""
        base = {key: value for key, value in os.environ.items() if not key.startswith("OVA_")}
        return {
            **base,
            CONNECTION_STRING_ENV: self._connection_string,
            CA_ENV: str(self._ca_cert),
            "OVA_EDGE_CLOUD_CA_FILE": str(self._ca_cert),
            "OVA_EDGE_METRICS_PORT": "0",
            "OVA_EDGE_DATA_DIR": str(self.root / "data"),
            **self._extra_environment,
        }

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, env=self.environment()
            )

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def check_running(self) -> None:
        if self._process is not None and self._process.poll() is not None:
            raise EdgeProcessError(f"ova edge exited with {self._process.returncode}:\n{self.log_tail()}")

    def log_tail(self, size: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except FileNotFoundError:
            return ""

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL past ``STOP_TIMEOUT_SECONDS``; the exit status."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode
