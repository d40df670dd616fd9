"""Our RTSP client against hostile cameras on 127.0.0.1: every bound costs a reconnect, never the process.

Matrix rows R2 (oversized RTSP), R4 (huge SPS and access units), R7 (codec allowlist), R8
(camera URLs, redirects and networks, connect side) and issue 7 item 14 (indexed time never
ahead of the wall clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator

import pytest
from rtsp_hostile import (
    H264Sample,
    Handler,
    camera,
    h264_media,
    h264_sample,
    huge_sps,
    next_request,
    ok,
    rss_kib,
    rtp,
    sdp,
    serving,
)

from ova.media.camera_networks import CameraNetworks
from ova.media.ingest_events import Disconnected
from ova.media.ingest_settings import IngestSettings
from ova.media.packet import IngestPacket
from ova.media.rtsp_ingest import RtspIngest

QUICK = IngestSettings(open_timeout_s=5, read_timeout_s=3)


@pytest.fixture(scope="module")
def sample() -> H264Sample:
    return h264_sample()


async def one_session(url: str, settings: IngestSettings = QUICK) -> tuple[RtspIngest, list[object]]:
    ingest = RtspIngest(url, settings)
    items: list[object] = []
    async with contextlib.aclosing(ingest.session()) as session:
        async for item in session:
            items.append(item)
    return ingest, items


def reason_of(items: list[object]) -> str:
    last = items[-1]
    assert isinstance(last, Disconnected)
    return last.reason


async def stream_forever(writer: asyncio.StreamWriter, chunk: bytes) -> None:
    while True:
        writer.write(chunk)
        await writer.drain()


def answer_describe_with(head: bytes, chunk: bytes) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, cseq = await next_request(reader)
        writer.write(ok(cseq, "Public: OPTIONS, DESCRIBE\r\n"))
        await next_request(reader)
        writer.write(head)
        await stream_forever(writer, chunk)

    return handler


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 2000000000\r\n\r\n", "body over 65536 bytes"),
        (b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nX-Long: ", "line over 4096 bytes"),
        (b"RTSP/1.0 200 OK\r\nCSeq: 2\r\n", "more than 64 RTSP headers"),
    ],
    ids=["content-length-2GB", "1MB-header-line", "10k-headers"],
)
async def test_oversized_responses_are_refused_quickly_with_little_memory(head: bytes, expected: str) -> None:
    chunk = (
        b"X-Header: y\r\n" * 10_000
        if b"X-Long" not in head and b"2000000000" not in head
        else b"a" * (1 << 20)
    )
    async with serving(answer_describe_with(head, chunk)) as served:
        before, started = rss_kib(), time.monotonic()
        ingest, items = await one_session(served.url)
        elapsed, grown_mib = time.monotonic() - started, (rss_kib() - before) / 1024
    assert expected in reason_of(items)
    assert ingest.stats.protocol_errors == 1 and ingest.stats.packets == 0
    assert elapsed < 2 and grown_mib < 16


def streaming(sample: H264Sample, payloads: Iterator[bytes]) -> Handler:
    async def stream(writer: asyncio.StreamWriter) -> None:
        for sequence, payload in enumerate(payloads):
            writer.write(rtp(sequence, 0, payload, marker=False))
            await writer.drain()

    return camera(sdp(h264_media(sample.sets)), stream)


def endless_fragment() -> Iterator[bytes]:
    yield bytes((0x7C, 0x85)) + bytes(1400)
    while True:
        yield bytes((0x7C, 0x05)) + bytes(1400)


def endless_nal_units() -> Iterator[bytes]:
    while True:
        yield b"\x41\x9a\x00"


@pytest.mark.parametrize(
    ("payloads", "expected"),
    [(endless_fragment, "NAL unit over 8388608 bytes"), (endless_nal_units, "over 128 NAL units")],
    ids=["fragment-that-never-ends", "nal-units-that-never-end"],
)
async def test_an_access_unit_that_never_ends_costs_a_reconnect(
    sample: H264Sample, payloads: Callable[[], Iterator[bytes]], expected: str
) -> None:
    async with serving(streaming(sample, payloads())) as served:
        before = rss_kib()
        ingest, items = await one_session(served.url)
    assert expected in reason_of(items)
    assert ingest.stats.protocol_errors == 1
    assert (rss_kib() - before) / 1024 < 48


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        ("huge-sps", "65536x65536 picture is outside"),
        ("m=video 0 RTP/AVP 26\r\na=control:trackID=0\r\n", "no H.264 or H.265 video (video 26)"),
        ("m=video 0 RTP/AVP 96\r\na=rtpmap:96 VP9/90000\r\n", "no H.264 or H.265 video (video VP9)"),
        ("", "no H.264 or H.265 video (no media)"),
    ],
    ids=["sps-65536-squared", "mjpeg", "unknown-payload", "zero-media"],
)
async def test_offers_the_recorder_cannot_take_end_with_a_clear_reason(media: str, expected: str) -> None:
    text = h264_media([huge_sps(4096, 4096), b"\x68\xce\x38\x80"]) if media == "huge-sps" else media
    async with serving(camera(sdp(text))) as served:
        _, items = await one_session(served.url)
    assert expected in reason_of(items)


def redirecting(location: str) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            _, cseq = await next_request(reader)
            writer.write(f"RTSP/1.0 301 Moved\r\nCSeq: {cseq}\r\nLocation: {location}\r\n\r\n".encode())

    return handler


async def test_a_redirect_to_another_scheme_is_refused() -> None:
    async with serving(redirecting("http://127.0.0.1:1/admin")) as served:
        _, items = await one_session(served.url)
    assert reason_of(items) == "the camera URL must be an rtsp:// or rtsps:// URL"


async def test_a_redirect_loop_stops_after_three_hops() -> None:
    holder: dict[str, str] = {}

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            _, cseq = await next_request(reader)
            writer.write(f"RTSP/1.0 302 Found\r\nCSeq: {cseq}\r\nLocation: {holder['url']}\r\n\r\n".encode())

    async with serving(handler) as served:
        holder["url"] = served.url
        ingest, items = await one_session(served.url)
    assert "redirected more than 3 times" in reason_of(items)
    assert len(served.connections) == 4 and ingest.stats.protocol_errors == 1


async def test_a_camera_outside_the_allowed_networks_is_refused_without_an_oracle(sample: H264Sample) -> None:
    only_ten = IngestSettings(
        open_timeout_s=2, read_timeout_s=2, camera_networks=CameraNetworks.parse(["10.0.0.0/8"])
    )
    async with serving(camera(sdp(h264_media(sample.sets)))) as served:
        _, listening = await one_session(served.url, only_ten)
        _, closed = await one_session("rtsp://127.0.0.1:1/cam", only_ten)
        _, redirected = await one_session(served.url.replace("/cam", "/x"), only_ten)
    assert served.connections == []
    assert reason_of(listening) == reason_of(closed) == reason_of(redirected)
    assert "not on a network allowed for cameras" in reason_of(listening)
    _, scheme = await one_session("file:///etc/passwd")
    assert reason_of(scheme) == "refused: the camera URL must be an rtsp:// or rtsps:// URL"


async def test_a_redirect_to_a_network_not_allowed_is_refused(sample: H264Sample) -> None:
    local_only = IngestSettings(
        open_timeout_s=2, read_timeout_s=2, camera_networks=CameraNetworks.parse(["127.0.0.1/32"])
    )
    async with serving(camera(sdp(h264_media(sample.sets)))) as target:
        elsewhere = target.url.replace("127.0.0.1", "127.0.0.2")
        async with serving(redirecting(elsewhere)) as served:
            _, items = await one_session(served.url, local_only)
    assert "not on a network allowed for cameras" in reason_of(items) and target.connections == []


async def test_timestamps_faster_than_real_time_never_map_ahead_of_arrival(sample: H264Sample) -> None:
    """Frames stamped 150 ms apart arrive 100 ms apart (a camera starved of CPU, issue 7 item 14)."""

    async def stream(writer: asyncio.StreamWriter) -> None:
        sequence = 0
        for index in range(40):
            nals = sample.frames[index % len(sample.frames)]
            for position, nal in enumerate(nals):
                writer.write(rtp(sequence, index * 13_500, nal, position == len(nals) - 1))
                sequence += 1
            await writer.drain()
            await asyncio.sleep(0.1)

    arrivals: list[tuple[int, int]] = []
    async with serving(camera(sdp(h264_media(sample.sets)), stream)) as served:
        ingest = RtspIngest(served.url, IngestSettings(open_timeout_s=5, read_timeout_s=1))
        async with contextlib.aclosing(ingest.session()) as session:
            async for item in session:
                if isinstance(item, IngestPacket):
                    arrivals.append((item.wall_ms, time.time_ns() // 1_000_000))
    assert len(arrivals) >= 30
    assert QUICK.max_ahead_ms is not None
    assert max(mapped - arrived for mapped, arrived in arrivals) <= QUICK.max_ahead_ms
    assert ingest.stats.ran_ahead >= 1 and ingest.stats.discontinuities >= 1


async def test_credentials_are_not_handed_to_the_host_a_redirect_points_at() -> None:
    seen: list[str] = []

    async def challenger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            seen.append(head)
            cseq = head.split("CSeq: ", 1)[1].split("\r\n", 1)[0]
            challenge = 'WWW-Authenticate: Basic realm="x"'
            writer.write(f"RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\n{challenge}\r\n\r\n".encode())

    async with (
        serving(challenger) as other,
        serving(redirecting(other.url.replace("127.0.0.1", "localhost"))) as served,
    ):
        _, items = await one_session(served.url.replace("rtsp://", "rtsp://admin:secret@"))
    assert "401" in reason_of(items)
    assert seen and not any("Authorization" in head for head in seen)
