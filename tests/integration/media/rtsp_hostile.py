"""Hostile RTSP servers on 127.0.0.1, scripted by the tests (matrix rows R2, R4, R7, R8)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from ova.camera.encoder import H264Encoder, VideoFormat

Streamer = Callable[[asyncio.StreamWriter], Awaitable[None]]
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Served:
    url: str
    connections: list[int] = field(default_factory=list)


@contextlib.asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[Served]:
    tasks: set[asyncio.Task[None]] = set()
    served = Served("")

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.connections.append(1)
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            await handler(reader, writer)
        writer.transport.abort()

    server = await asyncio.start_server(connection, "127.0.0.1", 0)
    served.url = f"rtsp://127.0.0.1:{server.sockets[0].getsockname()[1]}/cam"
    try:
        yield served
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def next_request(reader: asyncio.StreamReader) -> tuple[str, str]:
    """``(method, cseq)`` of the next request."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    lines = head.split("\r\n")
    cseq = next((line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("cseq:")), "0")
    return lines[0].split(" ", 1)[0], cseq


def ok(cseq: str, headers: str = "", body: bytes = b"") -> bytes:
    length = f"Content-Length: {len(body)}\r\n" if body else ""
    return f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n{headers}{length}\r\n".encode() + body


def sdp(media: str) -> bytes:
    return ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\na=control:*\r\n" + media).encode()


def h264_media(sets: list[bytes]) -> str:
    sprop = ",".join(base64.b64encode(nal).decode() for nal in sets)
    return (
        "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
        f"a=fmtp:96 packetization-mode=1;sprop-parameter-sets={sprop}\r\na=control:trackID=0\r\n"
    )


def camera(description: bytes, stream: Streamer | None = None) -> Handler:
    """A camera that answers the set-up with ``description`` and then runs ``stream``."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            method, cseq = await next_request(reader)
            headers = {
                "OPTIONS": "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER\r\n",
                "SETUP": "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 42;timeout=60\r\n",
            }.get(method, "Session: 42\r\n")
            body = description if method == "DESCRIBE" else b""
            writer.write(ok(cseq, headers, body))
            await writer.drain()
            if method == "PLAY" and stream is not None:
                await stream(writer)

    return handler


def rtp(sequence: int, timestamp: int, payload: bytes, marker: bool) -> bytes:
    packet = (
        struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | 96, sequence & 0xFFFF, timestamp, 7) + payload
    )
    return b"$\x00" + struct.pack("!H", len(packet)) + packet


@dataclass(frozen=True)
class H264Sample:
    """A tiny real H.264 stream: parameter sets and intra-only access units (NAL units)."""

    sets: list[bytes]
    frames: list[tuple[bytes, ...]]


def h264_sample(frames: int = 4) -> H264Sample:
    encoder = H264Encoder(VideoFormat(width=160, height=96, fps=10, gop=1, bitrate_kbps=100))
    encoded = [encoder.encode(index, 0) for index in range(frames + 5)]
    units = [frame.nals for frame in encoded if frame is not None][:frames]
    assert encoder.parameter_sets is not None and len(units) == frames
    return H264Sample([encoder.parameter_sets.sps, encoder.parameter_sets.pps], units)


def huge_sps(width_mbs: int, height_mbs: int) -> bytes:
    """A baseline SPS for a picture of whole macroblocks (emulation prevention included)."""

    def ue(value: int) -> str:
        code = bin(value + 1)[2:]
        return "0" * (len(code) - 1) + code

    bits = "01000010" + "11000000" + "00011111"
    bits += ue(0) + ue(0) + ue(2) + ue(1) + "0" + ue(width_mbs - 1) + ue(height_mbs - 1) + "1" + "1" + "0"
    bits += "0" + "1"
    bits += "0" * (-len(bits) % 8)
    return b"\x67" + int(bits, 2).to_bytes(len(bits) // 8, "big").replace(b"\x00\x00", b"\x00\x00\x03")


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1])
