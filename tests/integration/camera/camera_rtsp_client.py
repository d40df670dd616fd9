"""A minimal RTSP/TCP client for protocol tests: requests, responses and interleaved frames."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers[name.lower()]


class RawRtspClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str) -> None:
        self.reader, self.writer, self.url = reader, writer, url
        self.cseq = 0
        self.session: str | None = None

    @classmethod
    async def connect(cls, port: int, mount: str = "cam", receive_buffer: int | None = None) -> RawRtspClient:
        """Connect; ``receive_buffer`` shrinks the socket's receive buffer before connecting."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock)
        return cls(reader, writer, f"rtsp://127.0.0.1:{port}/{mount}")

    async def send(self, method: str, uri: str, headers: dict[str, str] | None = None) -> None:
        self.cseq += 1
        lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {self.cseq}"]
        if self.session is not None:
            lines.append(f"Session: {self.session}")
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()

    async def request(self, method: str, uri: str | None = None, **headers: str) -> Response:
        await self.send(method, uri or self.url, {k.replace("_", "-"): v for k, v in headers.items()})
        while True:
            first = await self.reader.readexactly(1)
            if first == b"$":
                await self._skip_frame()
                continue
            return await self.read_response(first)

    async def read_response(self, first: bytes = b"") -> Response:
        head = first + await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers.setdefault(name.strip().lower(), value.strip())
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if "session" in headers:
            self.session = headers["session"].split(";")[0]
        return Response(status, headers, body)

    async def _skip_frame(self) -> None:
        header = await self.reader.readexactly(3)
        await self.reader.readexactly(int.from_bytes(header[1:], "big"))

    async def frame(self) -> tuple[int, bytes]:
        """The next interleaved frame (responses are not expected while this is called)."""
        magic = await self.reader.readexactly(1)
        assert magic == b"$", magic
        header = await self.reader.readexactly(3)
        return header[0], await self.reader.readexactly(int.from_bytes(header[1:], "big"))

    async def play(self, tracks: int = 1) -> Response:
        await self.request("DESCRIBE")
        for track in range(tracks):
            transport = f"RTP/AVP/TCP;unicast;interleaved={2 * track}-{2 * track + 1}"
            response = await self.request("SETUP", f"{self.url}/trackID={track}", Transport=transport)
            assert response.status == 200
        return await self.request("PLAY", f"{self.url}/")

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()
