"""Runs a built cloud service: one uvicorn server per listener, all in this process.

With TLS on, a listener refuses handshakes below TLS 1.2. The production profile refuses
to start unless every listener that is reachable from other machines has TLS. Each
listener bounds slow and numerous clients (``ova.cloud.http_deadlines``): a request head
must arrive within ``header_timeout_seconds``, a body may not pause for
``body_timeout_seconds``, at most ``max_connections`` are open, and past
``limit_concurrency`` connections or requests in flight new requests get 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import ssl
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from ova.cloud.guards import is_loopback
from ova.cloud.http_deadlines import deadline_protocol
from ova.cloud.runtime import Cloud
from ova.cloud.settings import CloudSettings, ListenerSettings
from ova.common.logging import redact_server_logs

log = logging.getLogger("ova.cloud")

MAX_HEADER_BYTES = 16 * 1024


class UnsafeConfiguration(Exception):
    """The settings would expose a listener in a way the profile forbids."""


def check_profile(settings: CloudSettings) -> None:
    if settings.profile != "production":
        return
    exposed = [
        f"{item.host}:{item.port}"
        for item in settings.listeners
        if not item.tls and not is_loopback(item.host)
    ]
    mqtt = settings.hub.mqtt
    if settings.hub.enabled and mqtt.tls_cert is None and not is_loopback(mqtt.host):
        exposed.append(f"{mqtt.host}:{mqtt.listen_port} (hub MQTT)")
    if exposed:
        raise UnsafeConfiguration(
            "The production profile requires TLS on every public listener; without TLS: " + ", ".join(exposed)
        )


def server_ssl_context(listener: ListenerSettings) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(listener.tls_cert), str(listener.tls_key))
    return context


def uvicorn_server(listener: ListenerSettings, app: ASGIApp) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host=listener.host,
        port=listener.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=5,
        # h11, not httptools (uvicorn's default when installed): httptools buffers a header
        # block of any size, so a client could make the server read megabytes before any
        # check; h11 refuses one that is still incomplete past MAX_HEADER_BYTES.
        http=deadline_protocol(
            listener.header_timeout_seconds, listener.body_timeout_seconds, listener.max_connections
        ),
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        limit_concurrency=listener.limit_concurrency,
    )
    # uvicorn.Config has just (re)installed uvicorn's own log handlers: mask what they print,
    # tracebacks of "Exception in ASGI application" included.
    redact_server_logs()
    config.load()
    if listener.tls:
        # uvicorn builds its context from a protocol constant; replace it with one that
        # pins the minimum version, which is what "TLS 1.2 or better" needs.
        config.ssl = server_ssl_context(listener)
    return ListenerServer(config)


class ListenerServer(uvicorn.Server):
    """A uvicorn server that leaves signals to ``serve``, which stops every listener at once.

    (Each uvicorn server would otherwise take SIGTERM for itself alone, then re-raise it
    after stopping, ending the process before recordings are flushed.)
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def stop_on_signals(servers: list[uvicorn.Server]) -> list[signal.Signals]:
    def stop_all() -> None:
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop_all)
            installed.append(signum)
    return installed


async def serve(cloud: Cloud) -> None:
    """Serve every listener until SIGINT or SIGTERM, then stop recordings (flushing) and close."""
    check_profile(cloud.settings)
    servers = [uvicorn_server(listener, app) for listener, app in cloud.listeners]
    installed = stop_on_signals(servers)
    await cloud.start()
    # Everything built so far lives as long as the process: keep it out of the cyclic collector,
    # whose full passes over it were the p99 tail of 24-hour manifests (bench/manifest_latency.py).
    gc.collect()
    gc.freeze()
    for listener, _ in cloud.listeners:
        log.info("listening on %s (%s)", listener.base_url(), ", ".join(f.value for f in listener.families))
    try:
        await asyncio.gather(*(server.serve() for server in servers))
    finally:
        for signum in installed:
            asyncio.get_running_loop().remove_signal_handler(signum)
        await cloud.close()
