"""A toggleable TCP proxy on loopback, put in front of a server to inject network faults.

``FaultProxy(target_port)`` listens on a free loopback port and copies bytes both ways. Its
``mode`` is read for every chunk, so a switch applies at once, even on pooled connections:

- ``PASS``: copy faithfully.
- ``REFUSE``: an outage: connections are cut (RST) as soon as they open or send.
- ``RESET_AFTER``: pass ``reset_after_bytes`` bytes of the server's answers, then cut both sides.
- ``DELAY``: hold each chunk of the answer ``delay_s`` seconds (a slow or stalled link).
- ``DROP_RESPONSE``: the request reaches the server whole, its answer is thrown away and the
  client cut: the server did the work, the client never learns it (a lost ack). With
  ``drop_matching`` set, only answers to requests whose request line contains it.
- ``UNAVAILABLE``: answer every request ``503 Service Unavailable`` with ``Retry-After:
  retry_after_s`` without reaching the server (an overloaded front end).

``faults`` counts the connections (or answers) each fault hit.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum

CHUNK = 64 * 1024
_METHODS = {b"GET", b"PUT", b"POST", b"HEAD", b"DELETE", b"PATCH", b"OPTIONS"}


class Mode(Enum):
    PASS = "pass"
    REFUSE = "refuse"
    RESET_AFTER = "reset-after"
    DELAY = "delay"
    DROP_RESPONSE = "drop-response"
    UNAVAILABLE = "unavailable"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FaultProxy:
    def __init__(self, target_port: int, port: int | None = None) -> None:
        self.target_port = target_port
        self.port = port or free_port()
        self.mode = Mode.PASS
        self.reset_after_bytes = 0
        self.delay_s = 0.0
        self.retry_after_s = 1
        self.drop_matching = ""
        self.faults: Counter[Mode] = Counter()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._transports: set[asyncio.WriteTransport] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def stop(self) -> None:
        """Stop listening and cut every connection (the handlers end on their own)."""
        if self._server is not None:
            self._server.close()
        for transport in list(self._transports):
            transport.abort()
        async with asyncio.timeout(5):
            await asyncio.gather(*self._tasks, return_exceptions=True)
            if self._server is not None:
                await self._server.wait_closed()

    def set(self, mode: Mode, **options: float | str) -> None:
        self.mode = mode
        for name, value in options.items():
            setattr(self, name, value)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._transports.add(writer.transport)
        try:
            await self._serve(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.transport.abort()
            self._transports.discard(writer.transport)
            self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode is Mode.REFUSE:
            self.faults[Mode.REFUSE] += 1
            return
        if self.mode is Mode.UNAVAILABLE:
            await self._unavailable(reader, writer)
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._transports.add(up_writer.transport)
        try:
            heads: list[bytes] = [b""]
            upstream = asyncio.create_task(self._requests(reader, up_writer, heads))
            try:
                await self._answers(up_reader, writer, heads)
            finally:
                upstream.cancel()
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await upstream
        finally:
            up_writer.transport.abort()
            self._transports.discard(up_writer.transport)

    async def _requests(
        self, reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter, heads: list[bytes]
    ) -> None:
        while chunk := await reader.read(CHUNK):
            if chunk[:8].split(b" ")[0] in _METHODS:
                heads[0] = chunk.split(b"\r\n", 1)[0]
            if self.mode is Mode.REFUSE:
                self.faults[Mode.REFUSE] += 1
                up_writer.transport.abort()
                return
            up_writer.write(chunk)
            await up_writer.drain()
        up_writer.write_eof()

    async def _answers(
        self, up_reader: asyncio.StreamReader, writer: asyncio.StreamWriter, heads: list[bytes]
    ) -> None:
        budget = self.reset_after_bytes
        while chunk := await up_reader.read(CHUNK):
            mode = self.mode
            if mode is Mode.REFUSE:
                self.faults[mode] += 1
                return
            if mode is Mode.DROP_RESPONSE and self.drop_matching.encode() in heads[0]:
                self.faults[mode] += 1
                return
            if mode is Mode.RESET_AFTER:
                if len(chunk) >= budget:
                    writer.write(chunk[:budget])
                    await writer.drain()
                    self.faults[mode] += 1
                    return
                budget -= len(chunk)
            if mode is Mode.DELAY:
                await asyncio.sleep(self.delay_s)
            writer.write(chunk)
            await writer.drain()

    async def _unavailable(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")  # the request head; the connection closes after the answer
        self.faults[Mode.UNAVAILABLE] += 1
        body = b'{"error":{"code":"ServiceUnavailable","message":"Try again later."}}'
        head = (
            f"HTTP/1.1 503 Service Unavailable\r\nRetry-After: {int(self.retry_after_s)}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()


@contextmanager
def fault(proxy: FaultProxy, mode: Mode, **options: float | str) -> Iterator[FaultProxy]:
    """``proxy`` in ``mode`` for the ``with`` block, then passing faithfully again."""
    proxy.set(mode, **options)
    try:
        yield proxy
    finally:
        proxy.set(Mode.PASS)
