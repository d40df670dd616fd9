"""SDP parsing: the sections a recorder needs, the codec allowlist, and the bounds."""

from __future__ import annotations

import pytest

from ova.media.errors import SourceProtocolError, UnsupportedMedia
from ova.media.rtsp.handshake import control_url
from ova.media.rtsp.sdp import parse_sdp
from ova.media.rtsp.tracks import announced_parameter_sets, choose

CAMERA_SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\na=control:*\r\n"
    "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0IAHg==,aM4=\r\na=control:trackID=0\r\n"
    "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 mpeg4-generic/48000/2\r\n"
    "a=fmtp:97 streamtype=5;mode=AAC-hbr;sizelength=13;indexlength=3;config=1190\r\na=control:trackID=1\r\n"
)


def test_a_camera_sdp_gives_video_and_aac_audio() -> None:
    sdp = parse_sdp(CAMERA_SDP.encode())
    tracks = choose(sdp.media, with_audio=True)
    assert (tracks.video.encoding, tracks.video.clock_rate, tracks.video.control) == (
        "H264",
        90_000,
        "trackID=0",
    )
    assert announced_parameter_sets(tracks.video) == [b"gB\x00\x1e", b"h\xce"]
    assert tracks.audio is not None and tracks.audio.codec == "aac" and tracks.audio.extradata == b"\x11\x90"
    assert tracks.audio.section.channels == 2
    assert choose(sdp.media, with_audio=False).audio is None


def test_static_g711_payload_types_need_no_rtpmap() -> None:
    sdp = parse_sdp(b"v=0\nm=video 0 RTP/AVP 96\na=rtpmap:96 H265/90000\nm=audio 0 RTP/AVP 8\n")
    tracks = choose(sdp.media, with_audio=True)
    assert tracks.codec == "hevc"
    assert (
        tracks.audio is not None
        and tracks.audio.codec == "pcm_alaw"
        and tracks.audio.section.clock_rate == 8000
    )


@pytest.mark.parametrize(
    ("text", "offered"),
    [
        ("v=0\nm=video 0 RTP/AVP 26\n", "video 26"),
        ("v=0\nm=video 0 RTP/AVP 96\na=rtpmap:96 JPEG/90000\n", "video JPEG"),
        ("v=0\nm=video 0 RTP/AVP 99\na=rtpmap:99 VP8/90000\n", "video VP8"),
        ("v=0\ns=nothing\n", "no media"),
    ],
    ids=["mjpeg-static", "mjpeg", "unknown", "zero-media"],
)
def test_offers_without_h264_or_h265_are_refused_clearly(text: str, offered: str) -> None:
    with pytest.raises(UnsupportedMedia, match=offered):
        choose(parse_sdp(text.encode()).media, with_audio=True)


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe not utf-8",
        b"<html>",
        b"v=0\n" + b"a=x\n" * 600,
        b"v=0\n" + b"m=video 0 RTP/AVP 96\n" * 17,
        b"v=0\nm=video 0 RTP/AVP 96\na=rtpmap:96 H264/zero\n",
        b"v=0\nm=video 0\n",
        b"v=0\na=" + b"x" * 5000 + b"\n",
    ],
    ids=["binary", "html", "lines", "sections", "rtpmap", "m-line", "long-line"],
)
def test_sdp_past_a_bound_or_not_sdp_is_a_protocol_error(data: bytes) -> None:
    with pytest.raises(SourceProtocolError):
        parse_sdp(data)


def test_track_urls_are_resolved_against_the_content_base() -> None:
    assert control_url("rtsp://h/cam/", "trackID=0") == "rtsp://h/cam/trackID=0"
    assert control_url("rtsp://h/cam", "trackID=0") == "rtsp://h/cam/trackID=0"
    assert control_url("rtsp://h/cam/", "*") == "rtsp://h/cam/"
    assert control_url("rtsp://h/cam/", "rtsp://h/other") == "rtsp://h/other"
