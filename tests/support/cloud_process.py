"""A real ``ova cloud`` process on a free loopback port, with TLS, as a deployment runs it.

``start()`` creates an operator key with ``ova admin create-key`` (the key is the last
line it prints), starts ``ova cloud`` and waits until the port completes a TLS handshake
against the test CA. ``stop()`` ends the process; use it in a ``finally`` or fixture teardown.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import yaml

from support.postgres import free_port
from support.tls import TlsFiles

READY_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 10.0


class CloudProcessError(RuntimeError):
    """The cloud process did not start, or a CLI step failed."""


class CloudProcess:
    def __init__(self, root: Path, tls: TlsFiles, database_url: str | None = None) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.data_dir = root / "data"
        self.tls = tls
        self.port = free_port()
        self.log_path = root / "cloud.log"
        self.config_path: Path | None = None
        if database_url is not None:
            self.config_path = root / "ova-cloud.yaml"
            self.config_path.write_text(yaml.safe_dump({"database_url": database_url}))
        self.operator_key = ""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _cli(self, *args: str) -> list[str]:
        command = [sys.executable, "-m", "ova.cli", *args, "--data-dir", str(self.data_dir)]
        if self.config_path is not None:
            command += ["--config", str(self.config_path)]
        return command

    def _environment(self) -> dict[str, str]:
        """This environment without ``OVA_*`` settings, so only the flags and config file apply."""
        return {key: value for key, value in os.environ.items() if not key.startswith("OVA_")}

    def create_key(self) -> str:
        done = subprocess.run(
            self._cli("admin", "create-key", "--label", "sdk-acceptance"),
            capture_output=True,
            text=True,
            env=self._environment(),
            timeout=60,
        )
        if done.returncode != 0:
            raise CloudProcessError(f"ova admin create-key failed:\n{done.stderr[-4000:]}")
        return done.stdout.strip().splitlines()[-1]

    def start(self) -> None:
        self.operator_key = self.create_key()
        command = self._cli(
            "cloud",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--tls-cert",
            str(self.tls.server_cert),
            "--tls-key",
            str(self.tls.server_key),
        )
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=self._environment()
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.tls.ca_cert))

    def _handshake(self) -> bool:
        try:
            with (
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock,
                self.client_context().wrap_socket(sock, server_hostname="127.0.0.1"),
            ):
                return True
        except OSError:
            return False

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise CloudProcessError(
                    f"ova cloud exited with {self._process.returncode}:\n{self.log_tail()}"
                )
            if self._handshake():
                return
            time.sleep(0.1)
        raise CloudProcessError(
            f"ova cloud did not accept TLS within {READY_TIMEOUT_SECONDS:.0f} s:\n{self.log_tail()}"
        )

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
