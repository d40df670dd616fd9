"""The RTSP server in-process on loopback, driven by a raw client: each method, each refusal,
the limits, and what actually arrives on the interleaved channels."""

from __future__ import annotations

import asyncio
import base64
import socket
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import av
import pytest
from camera_rtsp_client import RawRtspClient

from ova.camera.h264 import NAL_IDR, NAL_PPS, NAL_SPS, join_annexb, nal_type
from ova.camera.pattern import read_stamp
from ova.camera.rtcp import parse_sender_report
from ova.camera.rtp import RtpPacket
from ova.camera.rtp_h264 import Depacketizer
from ova.camera.server import CameraServer
from ova.camera.settings import CameraSettings
from ova.camera.sink import RtpSink

MakeServer = Callable[..., Awaitable[CameraServer]]


@pytest.fixture
async def make_server() -> AsyncIterator[MakeServer]:
    servers: list[CameraServer] = []

    async def make(**overrides: object) -> CameraServer:
        options: dict[str, object] = {"port": 0, "width": 320, "height": 240, "bitrate_kbps": 400}
        server = CameraServer(CameraSettings.model_validate(options | overrides))
        servers.append(server)
        await server.start()
        await server.wait_ready(10)
        return server

    yield make
    for server in servers:
        await server.close()


Connect = Callable[..., Awaitable[RawRtspClient]]


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """Opens raw clients and closes them at teardown, even when a test fails."""
    clients: list[RawRtspClient] = []

    async def open_client(port: int, **options: Any) -> RawRtspClient:
        client = await RawRtspClient.connect(port, **options)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        await client.close()


async def next_access_unit(client: RawRtspClient) -> tuple[list[RtpPacket], list[bytes], list[bytes]]:
    """RTP packets and NAL units up to the next marker bit, plus any RTCP seen on the way."""
    packets, nals, rtcp = [], [], []
    depacketizer = Depacketizer()
    while True:
        channel, data = await asyncio.wait_for(client.frame(), 5)
        if channel == 1:
            rtcp.append(data)
            continue
        packet = RtpPacket.parse(data)
        packets.append(packet)
        nals += depacketizer.push(packet.payload)
        if packet.marker:
            return packets, nals, rtcp


async def test_options_describe_setup_play_teardown(make_server: MakeServer, connect: Connect) -> None:
    server = await make_server()
    client = await connect(server.port)
    options = await client.request("OPTIONS", "*")
    assert options.status == 200
    assert set(options.header("Public").split(", ")) >= {
        "DESCRIBE",
        "SETUP",
        "PLAY",
        "TEARDOWN",
        "GET_PARAMETER",
    }
    describe = await client.request("DESCRIBE", Accept="application/sdp")
    assert describe.status == 200 and describe.header("Content-Type") == "application/sdp"
    assert describe.header("Content-Base") == client.url + "/"
    assert "m=video 0 RTP/AVP 96" in describe.body.decode()
    track = client.url + "/trackID=0"
    udp = await client.request("SETUP", track, Transport="RTP/AVP;unicast;client_port=5000-5001")
    assert udp.status == 461
    setup = await client.request("SETUP", track, Transport="RTP/AVP/TCP;unicast;interleaved=0-1")
    assert setup.status == 200
    assert setup.header("Transport") == "RTP/AVP/TCP;unicast;interleaved=0-1"
    assert setup.header("Session").endswith(";timeout=60")
    play = await client.request("PLAY", client.url + "/")
    assert play.status == 200 and play.header("Range") == "npt=0.000-"
    assert play.header("RTP-Info").startswith(f"url={track};seq=")
    assert (await client.request("GET_PARAMETER", client.url + "/")).status == 200
    assert (await client.request("TEARDOWN", client.url + "/")).status == 200


async def test_stream_starts_at_a_decodable_keyframe_announced_by_rtp_info(
    make_server: MakeServer, connect: Connect
) -> None:
    server = await make_server()
    client = await connect(server.port)
    play = await client.play()
    info = dict(item.split("=", 1) for item in play.header("RTP-Info").split(";")[1:])
    packets, nals, rtcp = await next_access_unit(client)
    assert packets[0].sequence == int(info["seq"])
    assert packets[0].timestamp >= int(info["rtptime"])
    assert [nal_type(nal) for nal in nals[:3]] == [NAL_SPS, NAL_PPS, NAL_IDR]
    sdp = server.mounts["cam"].describe("127.0.0.1")
    sprop = sdp.split("sprop-parameter-sets=")[1].split()[0].split(",")
    assert [base64.b64decode(value) for value in sprop] == nals[:2]
    assert parse_sender_report(rtcp[0])[0] == packets[0].ssrc
    frames = av.CodecContext.create("h264", "r").decode(av.Packet(join_annexb(nals)))
    assert [(frame.width, frame.height) for frame in frames] == [(320, 240)]
    stamp = read_stamp(frames[0].to_ndarray(format="rgb24"))
    assert stamp is not None and abs(time.time() * 1000 - stamp) < 1500
    second, _, _ = await next_access_unit(client)
    assert second[0].sequence == (packets[-1].sequence + 1) & 0xFFFF
    step = second[0].timestamp - packets[0].timestamp
    assert step > 0 and step % 3000 == 0  # one frame at 90 kHz, more if the encoder skipped under load


async def test_refusals(make_server: MakeServer, connect: Connect) -> None:
    server = await make_server()
    client = await connect(server.port)
    assert (await client.request("DESCRIBE", client.url.replace("/cam", "/nope"))).status == 404
    assert (await client.request("PLAY", client.url + "/")).status == 454
    assert (await client.request("SETUP", client.url + "/trackID=0")).status == 461
    assert (await client.request("SETUP", client.url + "/trackID=7", Transport="RTP/AVP/TCP")).status == 404
    assert (await client.request("ANNOUNCE")).status == 405
    assert (await client.request("BREW")).status == 501
    setup = await client.request("SETUP", client.url + "/trackID=0", Transport="RTP/AVP/TCP;unicast")
    assert setup.header("Transport").endswith("interleaved=0-1")
    client.session = "wrong"
    assert (await client.request("PLAY", client.url + "/")).status == 454
    assert (await client.request("GET_PARAMETER", client.url + "/")).status == 454


@pytest.mark.parametrize(
    "data",
    [b"HELLO\r\n\r\n", b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX: " + b"a" * 10_000 + b"\r\n\r\n"],
)
async def test_malformed_input_is_answered_400_and_closed(
    make_server: MakeServer, connect: Connect, data: bytes
) -> None:
    server = await make_server()
    client = await connect(server.port)
    client.writer.write(data)
    response = await asyncio.wait_for(client.read_response(), 5)
    assert response.status == 400
    assert await asyncio.wait_for(client.reader.read(), 5) == b""


async def test_idle_and_slow_clients_are_cut(make_server: MakeServer, connect: Connect) -> None:
    server = await make_server(session_timeout_s=1, request_timeout_s=0.5)
    idle = await connect(server.port)
    slow = await connect(server.port)
    slow.writer.write(b"OPTIONS * RT")
    started = time.monotonic()
    assert await asyncio.wait_for(slow.reader.read(), 5) == b""
    assert await asyncio.wait_for(idle.reader.read(), 5) == b""
    assert time.monotonic() - started < 3


async def test_authentication_required(make_server: MakeServer, connect: Connect) -> None:
    server = await make_server(username="admin", password="pw")
    client = await connect(server.port)
    assert (await client.request("OPTIONS", "*")).status == 200
    denied = await client.request("DESCRIBE")
    assert denied.status == 401
    assert denied.header("WWW-Authenticate").startswith('Digest realm="ova-camera", nonce="')
    assert (await client.request("DESCRIBE", Authorization="Basic YWRtaW46bm8=")).status == 401
    credential = base64.b64encode(b"admin:pw").decode()
    assert (await client.request("DESCRIBE", Authorization=f"Basic {credential}")).status == 200


async def count_frames(client: RawRtspClient, seconds: float) -> tuple[int, set[int]]:
    """Video frames (marker bits) received in ``seconds``, and the SSRCs they came with."""
    frames, ssrcs, deadline = 0, set(), time.monotonic() + seconds
    while time.monotonic() < deadline:
        channel, data = await asyncio.wait_for(client.frame(), 5)
        if channel == 0:
            packet = RtpPacket.parse(data)
            frames += packet.marker
            ssrcs.add(packet.ssrc)
    return frames, ssrcs


async def test_abrupt_and_stalled_clients_do_not_disturb_others(
    make_server: MakeServer, connect: Connect
) -> None:
    server = await make_server(
        width=640,
        height=480,
        bitrate_kbps=4000,
        noise=40,
        gop=10,
        client_buffer_bytes=65_536,
        send_buffer_bytes=65_536,
    )
    steady = await connect(server.port)
    assert (await steady.play()).status == 200
    stalled = await connect(server.port, receive_buffer=4096)
    assert (await stalled.play()).status == 200
    abrupt = await connect(server.port)
    assert (await abrupt.play()).status == 200
    await abrupt.frame()
    linger = struct.pack("ii", 1, 0)
    abrupt.writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    abrupt.writer.transport.abort()
    frames, ssrcs = await count_frames(steady, 2.5)
    assert frames >= 65  # 30 fps for 2.5 s, give or take the first GOP
    assert server.connection_count == 2
    sinks = {
        sink.tracks[0].ssrc: sink for sink in server.mounts["cam"].subscribers if isinstance(sink, RtpSink)
    }
    assert len(sinks) == 2
    (steady_ssrc,) = ssrcs
    (stalled_sink,) = [sink for ssrc, sink in sinks.items() if ssrc != steady_ssrc]
    assert stalled_sink.stalls >= 1 and stalled_sink.dropped_units > 0
