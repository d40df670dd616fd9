"""The SDP a DESCRIBE returns: what FFmpeg and other players need to set up H.264, AAC and G.711."""

from __future__ import annotations

import base64

from ova.camera.audio import AudioFormat, ToneEncoder, audio_track
from ova.camera.encoder import H264Encoder, VideoFormat
from ova.camera.h264 import ParameterSets
from ova.camera.sdp import MediaDescription, session_description
from ova.camera.stream import video_track

SPS = bytes.fromhex("6742c01fda014016ec0440000003004000000f23c60ca8")
PPS = bytes.fromhex("68ce3c80")


def test_video_section_carries_parameter_sets_and_profile() -> None:
    track = video_track(VideoFormat(fps=30), ParameterSets(SPS, PPS))
    sdp = session_description("ova camera cam", 42, "127.0.0.1", [track.media])
    lines = sdp.split("\r\n")
    assert sdp.endswith("\r\n")
    assert lines[:4] == ["v=0", "o=- 42 1 IN IP4 127.0.0.1", "s=ova camera cam", "c=IN IP4 0.0.0.0"]
    assert "a=control:*" in lines
    assert "m=video 0 RTP/AVP 96" in lines
    assert "a=rtpmap:96 H264/90000" in lines
    assert "a=framerate:30" in lines
    assert lines[-2] == "a=control:trackID=0"
    fmtp = next(line for line in lines if line.startswith("a=fmtp:96 "))
    parameters = dict(item.split("=", 1) for item in fmtp.removeprefix("a=fmtp:96 ").split(";"))
    assert parameters["packetization-mode"] == "1"
    assert parameters["profile-level-id"] == "42C01F"
    sps, pps = (base64.b64decode(value) for value in parameters["sprop-parameter-sets"].split(","))
    assert (sps, pps) == (SPS, PPS)


def test_parameter_sets_come_from_the_real_encoder() -> None:
    encoder = H264Encoder(VideoFormat(1920, 1080, 30, 4000, 30))
    assert encoder.encode(0, 0) is not None
    assert encoder.parameter_sets is not None
    assert encoder.parameter_sets.profile_level_id == "42C028"


def test_audio_section_is_mpeg4_generic_with_the_encoder_config() -> None:
    encoder = ToneEncoder(AudioFormat())
    media = audio_track(encoder).media
    lines = media.lines()
    assert lines[0] == "m=audio 0 RTP/AVP 97"
    assert lines[1] == "a=rtpmap:97 MPEG4-GENERIC/48000/1"
    assert "mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3" in lines[2]
    assert f"config={encoder.config.hex()}" in lines[2]
    assert encoder.config[:2] == bytes.fromhex("1188")  # AAC-LC, 48 kHz, mono
    assert lines[-1] == "a=control:trackID=1"


def test_g711_sections_use_the_static_payload_types_and_20_ms_packets() -> None:
    for codec, payload_type in (("pcmu", 0), ("pcma", 8)):
        encoder = ToneEncoder(AudioFormat.of(codec))
        track = audio_track(encoder)
        lines = track.media.lines()
        assert lines[:2] == [
            f"m=audio 0 RTP/AVP {payload_type}",
            f"a=rtpmap:{payload_type} {codec.upper()}/8000",
        ]
        assert not any(line.startswith("a=fmtp") for line in lines)
        assert (track.clock_rate, track.unit_duration) == (8000, 160)
        frames = encoder.encode_until(8000)
        assert [len(frame.data) for frame in frames] == [160] * 50  # one byte a sample
        assert [frame.timestamp for frame in frames[:3]] == [0, 160, 320]


def test_ipv6_origin() -> None:
    media = MediaDescription("video", 96, "H264/90000", {}, "trackID=0")
    sdp = session_description("x", 1, "::1", [media])
    assert "o=- 1 1 IN IP6 ::1\r\ns=x\r\nc=IN IP6 ::\r\n" in sdp
    assert "a=fmtp" not in sdp
