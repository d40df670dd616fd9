"""RTSP 1.0 messages on the client side (RFC 2326 §6-7): requests out, bounded responses in.

``read_message`` reads what a server sends next on the control connection: an interleaved
binary frame (``$``, channel, 16-bit length, RFC 2326 §10.12) or a response whose status line,
header lines, header count and body are bounded by ``limits``. It never reads a body larger
than ``MAX_BODY_BYTES``: a bigger ``Content-Length`` is refused before one byte is buffered.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from ova.media.errors import SourceProtocolError, SourceUnavailable
from ova.media.rtsp.limits import MAX_BODY_BYTES, MAX_HEAD_BYTES, MAX_HEADERS, MAX_LINE_BYTES

RTSP_VERSION = "RTSP/1.0"
USER_AGENT = "ova"
_STATUS = re.compile(r"^RTSP/1\.[01] ([1-5][0-9][0-9])(?: .*)?$")
_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True)
class Response:
    """A parsed response; header names match case-insensitively."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]


@dataclass(frozen=True)
class Interleaved:
    """One ``$``-framed packet: RTP or RTCP on ``channel``."""

    channel: int
    data: bytes


def encode_request(method: str, uri: str, cseq: int, headers: list[tuple[str, str]]) -> bytes:
    """A request without a body; refuses header values that could inject lines."""
    lines = [f"{method} {uri} {RTSP_VERSION}", f"CSeq: {cseq}", f"User-Agent: {USER_AGENT}"]
    for name, value in headers:
        if _FORBIDDEN.search(name + value) or _FORBIDDEN.search(uri):
            raise SourceProtocolError("a request header would contain control characters")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_status_line(line: bytes) -> int:
    text = _text(line)
    match = _STATUS.match(text)
    if match is None:
        raise SourceProtocolError("the camera sent a malformed RTSP status line")
    return int(match.group(1))


def parse_header_line(line: bytes) -> tuple[str, str]:
    name, colon, value = _text(line).partition(":")
    if not colon or not _NAME.match(name):
        raise SourceProtocolError("the camera sent a malformed RTSP header line")
    return name, value.strip(" \t")


def content_length(headers: tuple[tuple[str, str], ...]) -> int:
    values = [value for key, value in headers if key.lower() == "content-length"]
    if not values:
        return 0
    if len(values) > 1 or not values[0].isdigit() or len(values[0]) > 12:
        raise SourceProtocolError("the camera sent a bad Content-Length")
    length = int(values[0])
    if length > MAX_BODY_BYTES:
        raise SourceProtocolError(f"the camera announced a body over {MAX_BODY_BYTES} bytes")
    return length


def _text(line: bytes) -> str:
    text = line.decode("latin-1").rstrip("\r\n")
    if _FORBIDDEN.search(text):
        raise SourceProtocolError("the camera sent control characters in an RTSP header")
    return text


async def read_message(reader: asyncio.StreamReader) -> Response | Interleaved:
    """The next thing the server sends; ``SourceProtocolError`` past a bound."""
    try:
        first = await reader.readexactly(1)
        if first == b"$":
            channel, high, low = await reader.readexactly(3)
            return Interleaved(channel, await reader.readexactly(high << 8 | low))
        head = await _read_head(reader, first)
        status = parse_status_line(head[0])
        headers = tuple(parse_header_line(line) for line in head[1:])
        body = await reader.readexactly(content_length(headers))
    except asyncio.IncompleteReadError:
        raise SourceUnavailable("the camera closed the connection") from None
    return Response(status, headers, body)


async def _read_head(reader: asyncio.StreamReader, first: bytes) -> list[bytes]:
    lines: list[bytes] = []
    size, pending = 0, first
    while True:
        line = pending + await _read_line(reader)
        pending = b""
        size += len(line)
        if size > MAX_HEAD_BYTES:
            raise SourceProtocolError(f"the camera sent an RTSP head over {MAX_HEAD_BYTES} bytes")
        if line.strip(b"\r\n"):
            lines.append(line)
            if len(lines) > MAX_HEADERS + 1:
                raise SourceProtocolError(f"the camera sent more than {MAX_HEADERS} RTSP headers")
        elif lines:
            return lines
        else:
            raise SourceProtocolError("the camera sent an empty line where a response starts")


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError:
        raise SourceProtocolError(f"the camera sent an RTSP line over {MAX_LINE_BYTES} bytes") from None
    if len(line) > MAX_LINE_BYTES:
        raise SourceProtocolError(f"the camera sent an RTSP line over {MAX_LINE_BYTES} bytes")
    return line
