"""The ``ova`` command line as a deployment runs it: real processes on free loopback ports.

Every process a test starts runs in its own process group and is stopped at teardown
(SIGINT, then SIGKILL to the whole group after a bound), children such as the demo's camera too.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from support.postgres import free_port

API_VERSION = "2021-11-01-preview"
OPERATIONS = f"/providers/Microsoft.Media/operations?api-version={API_VERSION}"
KEY_FORMAT = re.compile(r"ova_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")
READY_SECONDS = 20.0
PLAYABLE_SECONDS = 60.0  # the demo writes demo.json once its camera's first segment is recorded
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
                ova(*args),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment(),
                cwd=self.root,
                start_new_session=True,
            )
        self.started.append((process, log_path))
        return process

    def log(self, process: subprocess.Popen[bytes]) -> str:
        path = next(path for started, path in self.started if started is process)
        return path.read_text(errors="replace")[-4000:]

    def wait_until(
        self, process: subprocess.Popen[bytes], ready: Callable[[], bool], what: str, seconds: float
    ) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"ova exited with {process.returncode}:\n{self.log(process)}")
            if ready():
                return
            time.sleep(0.1)
        pytest.fail(f"ova did not {what} within {seconds:.0f} s:\n{self.log(process)}")

    def wait_for_port(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.wait_until(process, lambda: listening(port), f"listen on {port}", READY_SECONDS)

    def stop(self, process: subprocess.Popen[bytes]) -> int:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_SECONDS)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever is left of its group
        return process.wait()

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


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


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
    details = data_dir / "demo.json"
    processes.wait_until(demo, details.exists, "write demo.json", PLAYABLE_SECONDS)

    info = json.loads(details.read_text())
    assert details.stat().st_mode & 0o777 == 0o600  # it holds the operator key
    assert data_dir.stat().st_mode & 0o777 == 0o700
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
