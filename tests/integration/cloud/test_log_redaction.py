"""Secrets never reach the log of a running process, through any path a log line takes.

A child process configures logging as ``ova`` does, then serves, with the cloud's own
``uvicorn_server``, an app that fails on every request with the request's query and headers
in its exception: uvicorn prints that traceback ("Exception in ASGI application"), the app logs
it with ``exc_info`` first through a handler added after set-up, and it logs camera URLs and
connection strings as well. The test sends secrets in the URL and headers and greps stderr.
A failure inside a family (ARM error handler) is logged once, not again by the server.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from support.postgres import free_port

KEY = "ova_0123456789abcdef_" + "K" * 43
JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ2aWV3ZXIifQ.c2lnbmF0dXJlLXNlY3JldA"
SAS_SIG = "c2FzLXNpZ25hdHVyZQ%3D%3D"
CAMERA_PASSWORD = "hunter2camera"
ACCOUNT_KEY = "QWNjb3VudEtleVNlY3JldA=="
SHARED_KEY = "U2hhcmVkS2V5U2VjcmV0"
HUB_SAS = "sr=hub&sig=aHViLXNpZw&se=1"
SECRETS = [KEY, JWT, SAS_SIG, CAMERA_PASSWORD, ACCOUNT_KEY, SHARED_KEY, "aHViLXNpZw"]

CHILD = f"""
import logging, sys
from fastapi import FastAPI
from ova.cloud.api import arm_errors
from ova.cloud.server import uvicorn_server
from ova.cloud.settings import ListenerSettings
from ova.common.logging import configure

log = logging.getLogger("ova.test")
family = FastAPI()
arm_errors.install(family)

@family.get("/family")
async def fails():
    raise RuntimeError("family-failure token={JWT}")

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/family":
        return await family(scope, receive, send)
    headers = {{k.decode(): v.decode() for k, v in scope["headers"]}}
    log.warning("camera rtsp://admin:{CAMERA_PASSWORD}@10.0.0.9:554/live, store %s",
                "AccountKey={ACCOUNT_KEY};EndpointSuffix=x")
    log.warning("hub HostName=h;SharedAccessKey={SHARED_KEY}, SharedAccessSignature {HUB_SAS}")
    try:
        raise RuntimeError(f"refused {{scope['query_string'].decode()}} {{headers}}")
    except RuntimeError:
        log.exception("request failed")
        raise

configure()
server = uvicorn_server(ListenerSettings(host="127.0.0.1", port=int(sys.argv[1])), app)
late = logging.StreamHandler(sys.stderr)
late.setFormatter(logging.Formatter("late: %(message)s"))
log.addHandler(late)
server.run()
"""


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the child process exited before it listened"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the child process did not listen")


def test_secrets_in_urls_headers_and_tracebacks_are_masked(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    port = free_port()
    stderr_path = tmp_path / "stderr.txt"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, str(script), str(port)], stderr=stderr)
        try:
            wait_for_port(port, process)
            response = httpx.get(
                f"http://127.0.0.1:{port}/v?token={JWT}&sp=r&sig={SAS_SIG}",
                headers={"Authorization": f"Bearer {KEY}", "X-Forward": f"access_token={JWT}"},
                timeout=5,
            )
            family = httpx.get(f"http://127.0.0.1:{port}/family", timeout=5)
        finally:
            process.terminate()
            process.wait(timeout=10)
    logged = stderr_path.read_text()

    assert (response.status_code, family.status_code) == (500, 500)
    assert family.json()["error"]["code"] == "InternalServerError"
    # The family's handler logged its error (with the correlation id); the server did not again.
    assert logged.count("RuntimeError: family-failure") == 1
    assert logged.count("Exception in ASGI application") == 1
    assert "late: request failed" in logged
    assert logged.count("Traceback (most recent call last)") >= 3  # root, late handler, uvicorn
    assert "[REDACTED]" in logged
    leaked = [secret for secret in SECRETS if secret in logged]
    assert not leaked, f"secrets in the log: {leaked}\n{logged[-3000:]}"
