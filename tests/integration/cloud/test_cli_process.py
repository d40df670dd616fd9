"""The ``ova`` command line as a deployment runs it: real processes on free loopback ports.

Every process a test starts is stopped at teardown (SIGINT, then SIGKILL after a bound).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.postgres import free_port

API_VERSION = "2021-11-01-preview"
OPERATIONS = f"/providers/Microsoft.Media/operations?api-version={API_VERSION}"
KEY_FORMAT = re.compile(r"ova_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")
READY_SECONDS = 20.0
STOP_SECONDS = 10.0


def environment(**extra: str) -> dict[str, str]:
    """This environment without ``OVA_*`` settings, plus ``extra``."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("OVA_")}
    return {**clean, "PYTHONUNBUFFERED": "1", **extra}


def ova(*args: str) -> list[str]:
    return [sys.executable, "-m", "ova.cli", *args]


class Processes:
    """Starts ``ova`` processes and guarantees none outlives the test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log_path = self.root / f"process-{len(self.started)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                ova(*args), stdout=log, stderr=subprocess.STDOUT, env=environment(), cwd=self.root
            )
        self.started.append((process, log_path))
        return process

    def log(self, process: subprocess.Popen[bytes]) -> str:
        path = next(path for started, path in self.started if started is process)
        return path.read_text(errors="replace")[-4000:]

    def wait_for_port(self, process: subprocess.Popen[bytes], port: int) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"ova exited with {process.returncode}:\n{self.log(process)}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"ova did not listen on {port} within {READY_SECONDS:.0f} s:\n{self.log(process)}")

    def stop(self, process: subprocess.Popen[bytes]) -> int:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def stop_all(self) -> None:
        for process, _ in self.started:
            self.stop(process)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def create_key(data_dir: Path) -> str:
    done = subprocess.run(
        ova("admin", "create-key", "--data-dir", str(data_dir)),
        capture_output=True,
        text=True,
        env=environment(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout.rstrip("\n").splitlines()[-1]


def test_a_created_key_authenticates_against_ova_cloud(tmp_path: Path, processes: Processes) -> None:
    data_dir = tmp_path / "data"
    key = create_key(data_dir)
    assert KEY_FORMAT.fullmatch(key), key

    port = free_port()
    cloud = processes.start("cloud", "--data-dir", str(data_dir), "--port", str(port))
    processes.wait_for_port(cloud, port)

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        assert client.get(OPERATIONS, headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert client.get(OPERATIONS).status_code == 401
        wrong = key[:-1] + ("A" if key[-1] != "A" else "B")
        assert client.get(OPERATIONS, headers={"Authorization": f"Bearer {wrong}"}).status_code == 401

    assert processes.stop(cloud) == 0  # Ctrl-C is a clean exit
    assert "Traceback" not in processes.log(cloud)


def test_production_refuses_a_public_listener_without_tls(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    done = subprocess.run(
        ova("cloud", "--data-dir", str(data_dir), "--host", "0.0.0.0", "--port", str(port)),
        capture_output=True,
        text=True,
        env=environment(OVA_PROFILE="production"),
        timeout=60,
    )

    assert done.returncode == 2
    assert "production profile requires TLS" in done.stderr
    assert f"0.0.0.0:{port}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not data_dir.exists()  # refused before touching the store


def test_demo_writes_what_a_script_needs_to_connect(tmp_path: Path, processes: Processes) -> None:
    data_dir = tmp_path / "demo"
    port = free_port()
    demo = processes.start("demo", "--data-dir", str(data_dir), "--port", str(port))
    processes.wait_for_port(demo, port)

    info = json.loads((data_dir / "demo.json").read_text())
    base = f"http://127.0.0.1:{port}"
    assert info["managementUrl"] == base
    assert KEY_FORMAT.fullmatch(info["operatorKey"])
    assert info["account"].startswith("/subscriptions/")
    assert info["clientApiUrl"].startswith(f"{base}/client/")

    account_url = f"{info['managementUrl']}{info['account']}?api-version={API_VERSION}"
    with httpx.Client(timeout=5) as client:
        account = client.get(account_url, headers={"Authorization": f"Bearer {info['operatorKey']}"})
        anonymous = client.get(account_url)
    assert account.status_code == 200
    assert account.json()["id"] == info["account"]
    assert account.json()["properties"]["endpoints"][0]["endpointUrl"] == info["clientApiUrl"]
    assert anonymous.status_code == 401
    assert info["operatorKey"] in processes.log(demo)  # printed for the person at the terminal
