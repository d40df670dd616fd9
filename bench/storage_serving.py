"""Serving 1 MB blobs: the storage family (SAS-checked, under granian and uvicorn) vs nginx with sendfile.

Writes FILES random 1 MB blobs into a temporary filesystem store, then serves that same
directory three ways on loopback and runs ``wrk -t1 -c50 -d10s`` against each (three runs,
cycling over the files; medians and the ratio to nginx are printed):

- the storage family app (``/storage/<container>/<blob>?<SAS>``, every request verified) under
  granian, which sends files natively through the ASGI ``http.response.pathsend`` extension;
- the same app under uvicorn (httptools; the file is read and sent in 64 KiB chunks);
- Debian's nginx with ``sendfile on``, serving ``<root>/<container>/<blob>`` without any check.

Needs ``wrk`` and ``nginx`` (``apt-get install -y nginx wrk``) and, for the granian row,
``pip install granian`` in the venv. Run: ``.venv/bin/python bench/storage_serving.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount

from ova.cloud.api.storage.app import create_app
from ova.common.clock import SystemClock
from ova.storage.filesystem import FilesystemBlobStore
from ova.storage.sas import SasSigner

ACCOUNT = "bench"
CONTAINER = "bench"
FILE_SIZE = 1024 * 1024
BENCH_DIR = Path(__file__).resolve().parent


def app_from_env() -> Starlette:
    """The storage family mounted at /storage, for the server processes (granian/uvicorn --factory)."""
    store = FilesystemBlobStore(Path(os.environ["OVA_BENCH_ROOT"]))
    signer = SasSigner(ACCOUNT, base64.b64decode(os.environ["OVA_BENCH_KEY"]))
    family = create_app(store, signer, ACCOUNT, SystemClock())
    return Starlette(routes=[Mount("/storage", app=family)])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("server did not start")


@contextmanager
def running(command: list[str], port: int, env: dict[str, str]) -> Iterator[None]:
    process = subprocess.Popen(
        command,
        cwd=BENCH_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, process)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def nginx_config(work: Path, root: Path, port: int) -> Path:
    config = work / "nginx.conf"
    config.write_text(
        f"""worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    sendfile on; tcp_nopush on; access_log off;
    client_body_temp_path {work}/body; proxy_temp_path {work}/proxy; fastcgi_temp_path {work}/fcgi;
    uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
    default_type application/octet-stream;
    server {{ listen 127.0.0.1:{port}; root {root}; }}
}}
"""
    )
    return config


def wrk_script(work: Path, paths: list[str], name: str) -> Path:
    script = work / f"{name}.lua"
    listed = ", ".join(f'"{path}"' for path in paths)
    script.write_text(
        f"local paths = {{{listed}}}\nlocal i = 0\n"
        'request = function()\n  i = i % #paths + 1\n  return wrk.format("GET", paths[i])\nend\n'
    )
    return script


def run_wrk(port: int, script: Path, args: argparse.Namespace) -> tuple[float, float]:
    """Requests/s and MB/s of one wrk run."""
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "-s", str(script)]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}"], check=True, capture_output=True, text=True
    ).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    requests = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", output)
    assert transfer is not None
    scale = {"B": 1e-6, "KB": 1e-3, "MB": 1.0, "GB": 1e3}[transfer.group(2)] * 1.048576
    return requests, float(transfer.group(1)) * scale


def prepare(root: Path, files: int, key: bytes) -> tuple[list[str], list[str]]:
    """Write the blobs; the SAS paths for the family and the plain paths for nginx."""
    store = FilesystemBlobStore(root)
    names = [f"segments/{n:04d}.m4s" for n in range(files)]

    async def write() -> None:
        await store.create_container(CONTAINER)
        for name in names:
            await store.put(CONTAINER, name, os.urandom(FILE_SIZE), "video/iso.segment")

    asyncio.run(write())
    query = SasSigner(ACCOUNT, key).sign(
        CONTAINER, None, "r", datetime.now(UTC) + timedelta(hours=1), allow_http=True
    )
    return [f"/storage/{CONTAINER}/{n}?{query}" for n in names], [f"/{CONTAINER}/{n}" for n in names]


def servers(work: Path, root: Path, key: bytes) -> list[tuple[str, list[str], bool]]:
    """(name, command with {port}, serves the family) for each server that is installed."""
    bin_dir = Path(sys.executable).parent
    found: list[tuple[str, list[str], bool]] = []
    if (bin_dir / "granian").exists():
        granian = [str(bin_dir / "granian"), "--interface", "asgi", "--host", "127.0.0.1", "--port", "{port}"]
        found.append(
            (
                "storage family / granian",
                [*granian, "--workers", "1", "--no-access-log", "--factory", "storage_serving:app_from_env"],
                True,
            )
        )
    uvicorn = [str(bin_dir / "uvicorn"), "--factory", "storage_serving:app_from_env", "--host", "127.0.0.1"]
    found.append(
        (
            "storage family / uvicorn",
            [*uvicorn, "--port", "{port}", "--no-access-log", "--log-level", "warning"],
            True,
        )
    )
    if shutil.which("nginx"):
        found.append(("nginx sendfile (no auth)", ["nginx", "-c", str(work / "nginx.conf")], False))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk nginx")
    key = os.urandom(64)
    with tempfile.TemporaryDirectory(prefix="ova-bench-") as temp:
        work, root = Path(temp), Path(temp) / "root"
        work.chmod(0o755)  # nginx workers run as an unprivileged user
        family_paths, plain_paths = prepare(root, args.files, key)
        env = {**os.environ, "OVA_BENCH_ROOT": str(root), "OVA_BENCH_KEY": base64.b64encode(key).decode()}
        results: list[tuple[str, list[tuple[float, float]]]] = []
        for name, template, family in servers(work, root, key):
            port = free_port()
            nginx_config(work, root, port)
            script = wrk_script(work, family_paths if family else plain_paths, f"s{len(results)}")
            with running([part.replace("{port}", str(port)) for part in template], port, env):
                runs = [run_wrk(port, script, args) for _ in range(args.runs)]
            results.append((name, runs))
        report(results, args)


def report(results: list[tuple[str, list[tuple[float, float]]]], args: argparse.Namespace) -> None:
    baseline = next(
        (statistics.median(r for r, _ in runs) for name, runs in results if "nginx" in name), None
    )
    load = f"wrk -t1 -c{args.connections} -d{args.duration}s"
    print(f"\n{args.files} x 1 MiB files, {load}, {args.runs} runs, medians")
    print(f"{'server':<28}{'req/s runs':<28}{'req/s':>9}{'MB/s':>9}{'vs nginx':>10}")
    for name, runs in results:
        median = statistics.median(r for r, _ in runs)
        mbps = statistics.median(m for _, m in runs)
        each = " ".join(f"{r:.0f}" for r, _ in runs)
        ratio = f"{median / baseline:.2f}x" if baseline else "-"
        print(f"{name:<28}{each:<28}{median:>9.0f}{mbps:>9.0f}{ratio:>10}")


if __name__ == "__main__":
    main()
