"""The camera server: one TCP listener, its mounts and their connections; the ``ova camera`` main."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket

from ova.camera.connection import RtspConnection, ServerContext
from ova.camera.digest_auth import Authenticator
from ova.camera.errors import MountNotReady
from ova.camera.live_source import LiveSource
from ova.camera.loop_source import LoopLibrary, LoopSource
from ova.camera.mount import MediaSource, Mount
from ova.camera.rtsp_message import RtspResponse
from ova.camera.settings import CameraSettings

log = logging.getLogger(__name__)
CLOSE_TIMEOUT_SECONDS = 5.0
STARTUP_TIMEOUT_SECONDS = 900.0  # the longest loop, 600 s of 4K, takes minutes to pre-encode


class CameraServer:
    """An RTSP server streaming the generated camera picture on every configured mount."""

    def __init__(self, settings: CameraSettings) -> None:
        self.settings = settings
        self.library = LoopLibrary()
        self.mounts = {name: Mount(name, self._source()) for name in settings.mounts}
        authenticator = None
        if settings.username is not None and settings.password is not None:
            authenticator = Authenticator(settings.username, settings.password, settings.auth_scheme)
        self.context = ServerContext(settings, self.mounts, authenticator)
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], RtspConnection] = {}

    def _source(self) -> MediaSource:
        key = self.settings.loop_key
        if key is not None:
            return LoopSource(self.library, key)
        return LiveSource(self.settings.video, self.settings.mtu, self.settings.audio_format)

    async def start(self) -> None:
        for mount in self.mounts.values():
            await mount.start()
        self._server = await asyncio.start_server(
            self._accept, self.settings.host, self.settings.port, limit=self.settings.limits.max_line
        )

    async def wait_ready(self, limit_s: float) -> None:
        """Wait until every mount has its stream (a loop may take seconds to pre-encode)."""
        async with asyncio.timeout(limit_s):
            await asyncio.gather(*(mount.wait_ready(limit_s) for mount in self.mounts.values()))

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return int(self._server.sockets[0].getsockname()[1])

    def url(self, mount: str) -> str:
        host = self.settings.host
        host = "127.0.0.1" if host in ("", "0.0.0.0") else "[::1]" if host == "::" else host
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        return f"rtsp://{host}:{self.port}/{mount}"

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._connections) >= self.settings.max_connections:
            writer.write(RtspResponse(503).encode(None))
            writer.close()
            return
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.settings.send_buffer_bytes)
        connection = RtspConnection(self.context, reader, writer)
        self._connections[task] = connection
        try:
            await connection.serve()
        finally:
            del self._connections[task]

    async def close(self) -> None:
        """Stop listening, end every connection, stop the encoders."""
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections.values()):
            connection.close()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=CLOSE_TIMEOUT_SECONDS)
        if self._server is not None:
            await self._server.wait_closed()
        for mount in self.mounts.values():
            await mount.stop()
        await self.library.close()


async def run_camera(settings: CameraSettings) -> int:
    """Serve until SIGINT or SIGTERM; print each mount's URL once all are streaming."""
    server = CameraServer(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await server.start()
    ready = asyncio.create_task(server.wait_ready(STARTUP_TIMEOUT_SECONDS))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({ready, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if ready.done():
            ready.result()
            for name in server.mounts:
                print(f"ova camera: {server.url(name)}", flush=True)
            print("ova camera: ready", flush=True)
            await stopping
        return 0
    except (TimeoutError, MountNotReady):
        log.error("camera: the mounts did not start streaming")
        return 1
    finally:
        ready.cancel()
        stopping.cancel()
        await server.close()
