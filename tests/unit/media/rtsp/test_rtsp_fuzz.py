"""Fuzzing the parsers a camera feeds (matrix row R1): only the package's typed errors escape.

Bounded: ``max_examples`` 200 per target and a deadline per example, so the suite stays fast.
``MediaError`` subclasses are what may come out (``SourceProtocolError``, ``InvalidMedia``;
``SourceUnavailable`` when a response is cut short); anything else is a bug.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from ova.media.errors import MediaError
from ova.media.rtsp.audio import parse_aac_hbr
from ova.media.rtsp.h264 import H264Depacketizer
from ova.media.rtsp.h265 import H265Depacketizer
from ova.media.rtsp.limits import MAX_LINE_BYTES
from ova.media.rtsp.message import read_message
from ova.media.rtsp.rtcp import sender_reports
from ova.media.rtsp.rtp import parse_rtp
from ova.media.rtsp.sdp import parse_sdp
from ova.media.rtsp.tracks import announced_parameter_sets, announced_video, choose
from ova.media.rtsp.video import VideoTrack

BOUNDED = settings(max_examples=200, deadline=500)
RESPONSE_PIECES = st.sampled_from(
    [
        b"RTSP/1.0 200 OK\r\n",
        b"CSeq: 1\r\n",
        b"Content-Length: 4\r\n",
        b"\r\n",
        b"$\x00\x00\x02",
        b"v=0\n",
        b":",
    ]
)
SDP_PIECES = st.sampled_from(
    [
        "v=0\n",
        "m=video 0 RTP/AVP 96\n",
        "m=audio 0 RTP/AVP 0\n",
        "a=rtpmap:96 H264/90000\n",
        "a=rtpmap:96 H265/90000/2\n",
        "a=fmtp:96 sprop-parameter-sets=Z0IAHg==,aM4=;packetization-mode=1\n",
        "a=fmtp:96 sprop-sps=QgEB\n",
        "a=control:trackID=0\n",
        "a=rtpmap:97 MPEG4-GENERIC/48000/2\n",
    ]
)


def swallow_typed(action: Callable[[], object]) -> None:
    with contextlib.suppress(MediaError):
        action()


async def read_all(data: bytes) -> None:
    reader = asyncio.StreamReader(limit=MAX_LINE_BYTES)
    reader.feed_data(data)
    reader.feed_eof()
    for _ in range(64):
        await read_message(reader)


@BOUNDED
@given(st.lists(st.one_of(RESPONSE_PIECES, st.binary(max_size=64)), max_size=40))
def test_response_reader(pieces: list[bytes]) -> None:
    swallow_typed(lambda: asyncio.run(read_all(b"".join(pieces))))


@BOUNDED
@given(st.lists(st.one_of(SDP_PIECES, st.text(max_size=40)), max_size=30))
def test_sdp_and_the_codec_allowlist(pieces: list[str]) -> None:
    def parse() -> None:
        sdp = parse_sdp("".join(pieces).encode())
        tracks = choose(sdp.media, with_audio=True)
        announced_video(tracks.codec, announced_parameter_sets(tracks.video))

    swallow_typed(parse)


@BOUNDED
@given(st.binary(max_size=200))
def test_rtp_and_rtcp_packets(data: bytes) -> None:
    swallow_typed(lambda: parse_rtp(data))
    swallow_typed(lambda: sender_reports(data))
    swallow_typed(lambda: parse_aac_hbr(data))


@BOUNDED
@given(
    st.sampled_from([H264Depacketizer, H265Depacketizer]),
    st.lists(
        st.tuples(st.integers(0, 0xFFFF), st.integers(0, 3), st.booleans(), st.binary(max_size=80)),
        max_size=60,
    ),
)
def test_depacketizers_and_access_units(
    kind: type[H264Depacketizer] | type[H265Depacketizer], packets: list[tuple[int, int, bool, bytes]]
) -> None:
    track = VideoTrack(kind())

    def feed() -> None:
        for sequence, timestamp, marker, payload in packets:
            header = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | 96, sequence, timestamp * 3000, 1)
            track.push(*parse_rtp(header + payload))

    swallow_typed(feed)
