"""Bounded RTSP request parsing: good requests parse, malformed or oversized ones are refused."""

from __future__ import annotations

import asyncio

import pytest

from ova.camera.errors import BadRequest, RtspError
from ova.camera.rtsp_message import (
    InterleavedData,
    RtspLimits,
    RtspRequest,
    RtspResponse,
    parse_transport,
    read_message,
)
from ova.camera.session import parse_target

LIMITS = RtspLimits(max_line=256, max_headers=8, max_head_bytes=1024, max_body=64)


async def read(data: bytes, limits: RtspLimits = LIMITS) -> RtspRequest | InterleavedData:
    reader = asyncio.StreamReader(limit=limits.max_line)
    reader.feed_data(data[1:])
    reader.feed_eof()
    return await read_message(reader, limits, data[:1])


async def test_a_describe_request_parses() -> None:
    request = await read(
        b"DESCRIBE rtsp://127.0.0.1:8554/cam RTSP/1.0\r\nCSeq: 2\r\naccept: application/sdp\r\n\r\n"
    )
    assert isinstance(request, RtspRequest)
    assert (request.method, request.uri, request.cseq) == ("DESCRIBE", "rtsp://127.0.0.1:8554/cam", "2")
    assert request.header("Accept") == "application/sdp"
    assert request.header("Session") is None


async def test_exactly_the_maximum_number_of_headers_is_accepted() -> None:
    request = await read(b"OPTIONS * RTSP/1.0\r\n" + b"X: y\r\n" * 8 + b"\r\n")
    assert isinstance(request, RtspRequest) and len(request.headers) == 8


async def test_body_is_read_by_content_length() -> None:
    request = await read(b"SET_PARAMETER * RTSP/1.0\r\nCSeq: 3\r\nContent-Length: 5\r\n\r\nhello")
    assert isinstance(request, RtspRequest) and request.body == b"hello"


async def test_interleaved_data_is_returned_for_skipping() -> None:
    message = await read(b"$\x01\x00\x03abc")
    assert message == InterleavedData(1, b"abc")


@pytest.mark.parametrize(
    "data",
    [
        b"GARBAGE\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nCSeq: 1\r\n\r\n",
        b"OPT IONS * RTSP/1.0\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nNo colon here\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n folded\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nX: a\x00b\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nContent-Length: -1\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n",
        b"OPTIONS * RTSP/1.0\r\nX: " + b"a" * 300 + b"\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\n" + b"X: y\r\n" * 9 + b"\r\n",
        b"\r\n" * 12,
    ],
)
async def test_malformed_or_oversized_requests_are_bad_requests(data: bytes) -> None:
    with pytest.raises(BadRequest) as caught:
        await read(data)
    assert caught.value.status == 400


async def test_head_size_is_capped_even_with_short_lines() -> None:
    limits = RtspLimits(max_line=256, max_headers=100, max_head_bytes=300, max_body=64)
    with pytest.raises(BadRequest):
        await read(
            b"OPTIONS * RTSP/1.0\r\n" + b"X-Long: " + b"v" * 40 + b"\r\n" * 1 + b"Y: 1\r\n" * 50, limits
        )


async def test_large_body_is_413_and_wrong_version_505() -> None:
    with pytest.raises(RtspError) as too_large:
        await read(b"SET_PARAMETER * RTSP/1.0\r\nContent-Length: 65\r\n\r\n")
    assert too_large.value.status == 413
    with pytest.raises(RtspError) as version:
        await read(b"OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\n")
    assert version.value.status == 505


def test_response_encoding() -> None:
    data = RtspResponse(200, [("Public", "OPTIONS")], b"v=0\r\n").encode("7")
    assert data == (
        b"RTSP/1.0 200 OK\r\nCSeq: 7\r\nServer: ova-camera\r\nPublic: OPTIONS\r\n"
        b"Content-Length: 5\r\n\r\nv=0\r\n"
    )
    assert b"CSeq" not in RtspResponse(400).encode("1\r\nX: injected")
    with pytest.raises(ValueError):
        RtspResponse(200, [("X", "a\r\nInjected: 1")]).encode("1")


def test_transport_alternatives_in_order() -> None:
    specs = parse_transport("RTP/AVP;unicast;client_port=5000-5001, RTP/AVP/TCP;unicast;interleaved=2-3")
    assert [(spec.profile, spec.lower) for spec in specs] == [("RTP/AVP", "UDP"), ("RTP/AVP", "TCP")]
    assert specs[1].interleaved == (2, 3)
    assert specs[0].interleaved is None
    assert parse_transport("RTP/AVP/TCP;interleaved=4")[0].interleaved == (4, 5)
    with pytest.raises(BadRequest):
        _ = parse_transport("RTP/AVP/TCP;interleaved=300-301")[0].interleaved
    with pytest.raises(BadRequest):
        parse_transport("garbage")


def test_request_targets() -> None:
    target = parse_target("rtsp://user:pw@camera.local:8554/cam2/trackID=1")
    assert (target.base, target.mount, target.track) == ("rtsp://camera.local:8554/cam2/", "cam2", 1)
    assert parse_target("rtsp://[::1]:554/cam/").base == "rtsp://[::1]:554/cam/"
    assert parse_target("rtsp://127.0.0.1/cam").track is None
    for uri in ("http://x/cam", "rtsp:///cam", 'rtsp://a"b/cam', "rtsp://x:99999/cam", "rtsp://h/cam?x=1"):
        with pytest.raises(BadRequest):
            parse_target(uri)
    for uri in ("rtsp://h/", "rtsp://h/a/b", "rtsp://h/cam/trackID=x"):
        with pytest.raises(RtspError) as caught:
            parse_target(uri)
        assert caught.value.status == 404
