"""Cameras that are not: loopback RTSP servers that misbehave in one precise way.

- ``dribbling_camera``: accepts the connection, then answers one byte per second;
- ``garbage_camera``: answers DESCRIBE/SETUP/PLAY like a real H.264 camera (the SDP even
  carries real parameter sets), then sends well-formed interleaved RTP packets whose payloads
  are random bytes.

Each is an async context manager yielding the ``rtsp://`` URL; leaving it closes the server
and every connection it accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

# The SDP ``ova camera`` sends for 640x360 (sprop-parameter-sets of a real encoder).
SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=impostor\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\n"
    "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1;profile-level-id=42C01E;"
    "sprop-parameter-sets=Z0LAHtoCgL/lhAAAAwAEAAADAPI8WLqA,aM48gA==\r\n"
    "a=control:trackID=0\r\n"
)
SESSION = "6b8b4567"
FRAMES_PER_SECOND = 30
PACKETS_PER_FRAME = 20


@contextlib.asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    tasks: set[asyncio.Task[None]] = set()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            tasks.discard(task)

    server = await asyncio.start_server(connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"rtsp://127.0.0.1:{port}/cam"
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def dribbling_camera() -> contextlib.AbstractAsyncContextManager[str]:
    async def dribble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        for byte in b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY\r\n\r\n" * 100:
            writer.write(bytes((byte,)))
            await writer.drain()
            await asyncio.sleep(1)

    return serving(dribble)


def reply(request: str) -> tuple[str, bool]:
    """The answer to one RTSP request, and whether it starts the media."""
    lines = request.split("\r\n")
    method = lines[0].split(" ", 1)[0]
    cseq = next((line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("cseq:")), "0")
    headers = {
        "OPTIONS": "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER\r\n",
        "DESCRIBE": f"Content-Type: application/sdp\r\nContent-Length: {len(SDP)}\r\n",
        "SETUP": f"Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: {SESSION};timeout=60\r\n",
        "PLAY": f"Session: {SESSION}\r\nRange: npt=0.000-\r\n",
    }.get(method, f"Session: {SESSION}\r\n")
    body = SDP if method == "DESCRIBE" else ""
    return f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n{headers}\r\n{body}", method == "PLAY"


async def random_rtp(writer: asyncio.StreamWriter, rng: random.Random) -> None:
    """Interleaved RTP on channel 0 at a camera's pace: valid headers, random payloads."""
    sequence = rng.randrange(1 << 16)
    timestamp = rng.randrange(1 << 32)
    while True:
        for index in range(PACKETS_PER_FRAME):
            marker = 0x80 if index == PACKETS_PER_FRAME - 1 else 0
            header = struct.pack(
                "!BBHII", 0x80, marker | 96, sequence & 0xFFFF, timestamp & 0xFFFFFFFF, 0x1234
            )
            packet = header + rng.randbytes(rng.randint(20, 1400))
            writer.write(b"$\x00" + struct.pack("!H", len(packet)) + packet)
            sequence += 1
        timestamp += 90_000 // FRAMES_PER_SECOND
        await writer.drain()
        await asyncio.sleep(1 / FRAMES_PER_SECOND)


def garbage_camera(seed: int = 7) -> contextlib.AbstractAsyncContextManager[str]:
    rng = random.Random(seed)

    async def handshake_then_noise(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            answer, play = reply(request)
            writer.write(answer.encode())
            await writer.drain()
            if play:
                await random_rtp(writer, rng)

    return serving(handshake_then_noise)
