"""RTSP responses read within bounds; requests that cannot inject lines."""

from __future__ import annotations

import asyncio
import time

import pytest

from ova.media.errors import SourceProtocolError, SourceUnavailable
from ova.media.rtsp.limits import MAX_BODY_BYTES, MAX_HEADERS, MAX_LINE_BYTES
from ova.media.rtsp.message import Interleaved, Response, encode_request, read_message


def reader_of(data: bytes, eof: bool = True) -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=MAX_LINE_BYTES)
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return reader


async def test_a_response_with_a_body_and_an_interleaved_frame() -> None:
    reader = reader_of(b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 3\r\n\r\nv=0$\x01\x00\x02ab")
    response = await read_message(reader)
    assert response == Response(200, (("CSeq", "2"), ("Content-Length", "3")), b"v=0")
    assert response.header("cseq") == "2"
    assert await read_message(reader) == Interleaved(1, b"ab")


async def test_a_two_gigabyte_content_length_is_refused_before_any_body_is_read() -> None:
    reader = reader_of(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 2000000000\r\n\r\n", eof=False)
    started = time.monotonic()
    with pytest.raises(SourceProtocolError, match=str(MAX_BODY_BYTES)):
        await asyncio.wait_for(read_message(reader), 1)
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(
    "head",
    [
        b"RTSP/1.0 200 OK\r\nX: " + b"a" * 1_000_000 + b"\r\n\r\n",
        b"RTSP/1.0 200 OK\r\n" + b"X: y\r\n" * 10_000 + b"\r\n",
        b"RTSP/1.0 200 OK\r\nX: a\x00b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n",
        b"RTSP/1.0 200 OK\r\nno colon\r\n\r\n",
        b"RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"\r\n",
    ],
    ids=["1-MB-line", "10k-headers", "control-char", "http", "no-colon", "negative-length", "blank"],
)
async def test_oversized_or_malformed_heads_are_protocol_errors(head: bytes) -> None:
    with pytest.raises(SourceProtocolError):
        await read_message(reader_of(head))
    assert MAX_HEADERS < 10_000


async def test_a_connection_closed_mid_response_is_unavailable() -> None:
    with pytest.raises(SourceUnavailable):
        await read_message(reader_of(b"RTSP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc"))


def test_requests_refuse_header_injection() -> None:
    assert encode_request("OPTIONS", "rtsp://h/cam", 1, []).startswith(
        b"OPTIONS rtsp://h/cam RTSP/1.0\r\nCSeq: 1"
    )
    with pytest.raises(SourceProtocolError):
        encode_request("SETUP", "rtsp://h/cam", 2, [("Transport", "x\r\nEvil: 1")])
