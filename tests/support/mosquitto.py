"""A real Mosquitto broker (the Debian ``/usr/sbin/mosquitto``) on a free 127.0.0.1 port.

The generated config has ``set_tcp_nodelay true``, no persistence, ``allow_anonymous false`` and
a password file holding only the hub's internal user, made with ``mosquitto_passwd -b``; with
``tls`` its listener speaks TLS with the test CA's server certificate.
"""

from __future__ import annotations

import getpass
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

from pydantic import SecretStr

from ova.hub.brokers import INTERNAL_USERNAME, BrokerEndpoint
from ova.hub.mqtt.codec import V5, V311
from support.tls import TlsFiles

BINARY = "/usr/sbin/mosquitto"
START_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MosquittoServer:
    """``start`` writes the config and waits until the broker accepts connections.

    ``user`` is set to the current user, so that mosquitto started as root keeps reading the
    test's private directory instead of dropping to the ``mosquitto`` user."""

    def __init__(self, directory: Path, tls: TlsFiles | None = None) -> None:
        self.directory = directory
        self.tls = tls
        self.password = secrets.token_urlsafe(24)
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return Path(BINARY).exists() and shutil.which("mosquitto_passwd") is not None

    def _write_config(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        passwords = self.directory / "passwords"
        subprocess.run(
            ["mosquitto_passwd", "-c", "-b", str(passwords), INTERNAL_USERNAME, self.password],
            check=True,
            capture_output=True,
            timeout=10,
        )
        passwords.chmod(0o600)
        config = self.directory / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            + (f"certfile {self.tls.server_cert}\nkeyfile {self.tls.server_key}\n" if self.tls else "")
            + "allow_anonymous false\n"
            f"password_file {passwords}\n"
            "persistence false\n"
            f"user {getpass.getuser()}\n"
            "set_tcp_nodelay true\n"
            "log_dest stderr\n"
            "log_type error\n"
        )
        return config

    def start(self) -> BrokerEndpoint:
        self.port = free_port()
        config = self._write_config()
        self._process = subprocess.Popen(
            [BINARY, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read() if self._process.stderr else b""
                self.stop()
                raise RuntimeError(f"mosquitto exited: {error!r}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.02)
        else:
            self.stop()
            raise RuntimeError("mosquitto did not start listening")
        return self.endpoint

    @property
    def endpoint(self) -> BrokerEndpoint:
        levels = frozenset({V311, V5})
        return BrokerEndpoint("127.0.0.1", self.port, INTERNAL_USERNAME, SecretStr(self.password), levels)

    def stop(self) -> None:
        if self._process is None:
            return
        process, self._process = self._process, None
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stderr is not None:
            process.stderr.close()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None
