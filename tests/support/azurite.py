"""A throwaway Azurite blob server for the test session: loopback, a temp location, a free port.

Azurite comes from the repository's ``package.json`` (pinned 3.35.0, the last release that runs
on Node 20); when ``node_modules`` lacks it, ``npm ci`` installs it first. The blob server's
``main.js`` is run with ``node`` directly (not ``npx``, whose child would outlive a kill), with
telemetry off and the API-version check skipped (the SDK speaks a newer version than Azurite).
"""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
REPO_ROOT = Path(__file__).resolve().parents[2]
MAIN_JS = REPO_ROOT / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"
START_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_installed() -> Path:
    """The blob server's ``main.js``, installing the npm dependencies when it is missing."""
    if MAIN_JS.is_file():
        return MAIN_JS
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("Azurite needs Node.js 20 and npm: install them (Debian: nodejs, npm)")
    command = "ci" if (REPO_ROOT / "package-lock.json").is_file() else "install"
    subprocess.run(
        [npm, command, "--no-audit", "--no-fund"], cwd=REPO_ROOT, check=True, capture_output=True, timeout=600
    )
    return MAIN_JS


class AzuriteServer:
    def __init__(self) -> None:
        self.location = Path(tempfile.mkdtemp(prefix="ova-azurite-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def blob_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    def start(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("Azurite needs Node.js 20: install it (Debian: nodejs)")
        main_js = ensure_installed()
        self.process = subprocess.Popen(
            [
                node,
                str(main_js),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(self.port),
                "--location",
                str(self.location),
                "--silent",
                "--skipApiVersionCheck",
                "--disableTelemetry",
                "--loose",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Azurite exited with status {self.process.returncode}")
            if self._answers():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("Azurite did not answer within 30 s")

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
        try:
            connection.request("GET", f"/{ACCOUNT}?comp=list")
            connection.getresponse().read()
            return True
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.location, ignore_errors=True)
