"""RTSP 1.0 messages (RFC 2326 §6-7, §12): bounded request parsing and response encoding.

Everything read from a client is bounded by ``RtspLimits``: the request line and each header
line, the number of headers, the whole head and the body. Anything malformed or too large
raises ``BadRequest`` (or ``RtspError`` with 413/505), which the connection answers and then
closes. Interleaved binary data (``$``) that a client sends, such as RTCP receiver reports, is
returned as ``InterleavedData`` so the caller can skip it.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from ova.camera.errors import BadRequest, RtspError

RTSP_VERSION = "RTSP/1.0"
SERVER = "ova-camera"
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
MAX_BLANK_LINES = 8

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "RTSP Version Not Supported",
}


@dataclass(frozen=True)
class RtspLimits:
    """Caps on what one client may send in one message."""

    max_line: int = 4096
    max_headers: int = 64
    max_head_bytes: int = 16_384
    max_body: int = 4096


@dataclass(frozen=True)
class RtspRequest:
    """A parsed request; header names are matched case-insensitively."""

    method: str
    uri: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def cseq(self) -> str | None:
        return self.header("CSeq")


@dataclass(frozen=True)
class InterleavedData:
    """A ``$``-framed binary packet sent by the client on the control connection."""

    channel: int
    data: bytes


def _text(line: bytes) -> str:
    text = line.decode("latin-1").rstrip("\r\n")
    if _FORBIDDEN.search(text):
        raise BadRequest("control characters in the request")
    return text


def parse_request_line(line: bytes) -> tuple[str, str]:
    """``(method, uri)`` of an RTSP/1.0 request line."""
    parts = _text(line).split(" ")
    if len(parts) != 3 or not _TOKEN.match(parts[0]) or not parts[1]:
        raise BadRequest("malformed request line")
    if parts[2] != RTSP_VERSION:
        if parts[2].startswith("RTSP/"):
            raise RtspError(505, "only RTSP/1.0 is supported")
        raise BadRequest("malformed request line")
    return parts[0], parts[1]


def parse_header_line(line: bytes) -> tuple[str, str]:
    """``(name, value)`` of one header line; folded (continued) lines are refused."""
    text = _text(line)
    if text[:1] in (" ", "\t"):
        raise BadRequest("folded header lines are not accepted")
    name, colon, value = text.partition(":")
    if not colon or not _TOKEN.match(name):
        raise BadRequest("malformed header line")
    return name, value.strip(" \t")


def content_length(headers: tuple[tuple[str, str], ...], limits: RtspLimits) -> int:
    values = [value for key, value in headers if key.lower() == "content-length"]
    if not values:
        return 0
    if len(values) > 1 or not values[0].isdigit() or len(values[0]) > 9:
        raise BadRequest("bad Content-Length")
    length = int(values[0])
    if length > limits.max_body:
        raise RtspError(413, "request body too large")
    return length


async def _read_line(reader: asyncio.StreamReader, limits: RtspLimits) -> bytes:
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError as exc:
        raise BadRequest("request line or header too long") from exc
    except asyncio.IncompleteReadError as exc:
        raise BadRequest("connection closed mid-request") from exc
    if len(line) > limits.max_line:
        raise BadRequest("request line or header too long")
    return line


async def _read_head(reader: asyncio.StreamReader, first: bytes, limits: RtspLimits) -> list[bytes]:
    """The request line and header lines, the blank line excluded; ``first`` is already read."""
    lines: list[bytes] = []
    size = 0
    blanks = 0
    pending = first
    while True:
        line = pending + await _read_line(reader, limits)
        pending = b""
        size += len(line)
        if size > limits.max_head_bytes:
            raise BadRequest("request head too large")
        if line.strip(b"\r\n"):
            lines.append(line)
            if len(lines) > limits.max_headers + 1:
                raise BadRequest("too many headers")
        elif lines:
            return lines
        else:
            blanks += 1
            if blanks > MAX_BLANK_LINES:
                raise BadRequest("too many blank lines")


async def read_message(
    reader: asyncio.StreamReader, limits: RtspLimits, first: bytes
) -> RtspRequest | InterleavedData:
    """The next message whose first byte ``first`` was already read."""
    if first == b"$":
        channel, high, low = await reader.readexactly(3)
        return InterleavedData(channel, await reader.readexactly(high << 8 | low))
    head = await _read_head(reader, first, limits)
    method, uri = parse_request_line(head[0])
    headers = tuple(parse_header_line(line) for line in head[1:])
    body = await reader.readexactly(content_length(headers, limits))
    return RtspRequest(method, uri, headers, body)


@dataclass
class RtspResponse:
    """A response; ``encode`` adds CSeq, Server and Content-Length."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def encode(self, cseq: str | None) -> bytes:
        reason = REASONS.get(self.status, "Error")
        lines = [f"{RTSP_VERSION} {self.status} {reason}"]
        if cseq is not None and cseq.strip().isdigit():
            lines.append(f"CSeq: {cseq.strip()}")
        lines.append(f"Server: {SERVER}")
        for name, value in self.headers:
            if _FORBIDDEN.search(name + value):
                raise ValueError("response header with control characters")
            lines.append(f"{name}: {value}")
        if self.body:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass(frozen=True)
class TransportSpec:
    """One alternative of a ``Transport`` header (RFC 2326 §12.39)."""

    profile: str
    lower: str
    parameters: dict[str, str]

    @property
    def interleaved(self) -> tuple[int, int] | None:
        value = self.parameters.get("interleaved")
        if value is None:
            return None
        first, _, second = value.partition("-")
        if not first.isdigit() or (second and not second.isdigit()):
            raise BadRequest("bad interleaved channels")
        low = int(first)
        high = int(second) if second else low + 1
        if not (0 <= low <= 255 and 0 <= high <= 255):
            raise BadRequest("interleaved channels out of range")
        return low, high


def parse_transport(value: str) -> list[TransportSpec]:
    """The alternatives a client offers, in its order of preference."""
    specs = []
    for alternative in value.split(","):
        fields = [part.strip() for part in alternative.split(";") if part.strip()]
        if not fields:
            continue
        protocol = fields[0].upper().split("/")
        if len(protocol) < 2:
            raise BadRequest("bad Transport header")
        lower = protocol[2] if len(protocol) > 2 else "UDP"
        parameters = dict(
            (name.strip().lower(), val.strip()) for name, _, val in (f.partition("=") for f in fields[1:])
        )
        specs.append(TransportSpec("/".join(protocol[:2]), lower, parameters))
    return specs
