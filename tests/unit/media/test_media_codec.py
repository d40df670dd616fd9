"""NAL units, sequence parameter sets and codec configurations, read without decoding."""

from __future__ import annotations

from fractions import Fraction

import av
import pytest

from ova.media.codec import CodecParameters, audio_parameters, video_parameters
from ova.media.errors import InvalidMedia, UnsupportedMedia
from ova.media.nal import (
    from_extradata,
    join_annexb,
    merge_parameter_sets,
    parameter_sets,
    split_annexb,
    split_length_prefixed,
)
from ova.media.sample_entry import avc_configuration, hevc_configuration


def encoded_keyframe(encoder: str, width: int, height: int, options: dict[str, str]) -> bytes:
    context = av.CodecContext.create(encoder, "w")
    assert isinstance(context, av.VideoCodecContext)
    context.width, context.height, context.pix_fmt = width, height, "yuv420p"
    context.time_base, context.framerate = Fraction(1, 30), Fraction(30)
    context.options = options
    frame = av.VideoFrame(width, height, "yuv420p")
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.pts = 0
    return bytes((context.encode(frame) + context.encode(None))[0])


def configuration(codec: str, encoder: str, width: int, height: int, **options: str) -> CodecParameters:
    keyframe = encoded_keyframe(encoder, width, height, {"preset": "ultrafast", **options})
    return video_parameters(codec, parameter_sets(codec, split_annexb(keyframe)))


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720), (640, 360), (322, 242)])
@pytest.mark.parametrize("profile", ["baseline", "high"])
def test_h264_picture_size_and_codec_string(width: int, height: int, profile: str) -> None:
    preset = {"baseline": "ultrafast", "high": "veryfast"}[profile]
    params = configuration("h264", "libx264", width, height, profile=profile, preset=preset)
    assert (params.width, params.height) == (width, height)
    expected_profile = {"baseline": "42C0", "high": "6400"}[profile]
    assert params.codec_string.startswith(f"avc1.{expected_profile}")


@pytest.mark.parametrize(("width", "height", "codec"), [(1920, 1080, "hvc1.1.6.L120.90"), (322, 242, None)])
def test_hevc_picture_size_and_codec_string(width: int, height: int, codec: str | None) -> None:
    params = configuration("hevc", "libx265", width, height, **{"x265-params": "log-level=error"})
    assert (params.width, params.height) == (width, height)
    assert params.codec_string.startswith("hvc1.1.6.L")
    if codec is not None:
        assert params.codec_string == codec


def test_the_config_hash_names_the_parameter_sets() -> None:
    small = configuration("h264", "libx264", 320, 240)
    again = configuration("h264", "libx264", 320, 240)
    large = configuration("h264", "libx264", 640, 360)
    assert small.config_hash == again.config_hash != large.config_hash
    assert len(small.config_hash) == 64


def test_configuration_records_read_back_to_the_same_parameter_sets() -> None:
    for codec, encoder, build in (
        ("h264", "libx264", avc_configuration),
        ("hevc", "libx265", hevc_configuration),
    ):
        params = configuration(codec, encoder, 320, 240)
        record = build(params, params.sequence())
        nals, length_size = from_extradata(codec, record)
        assert tuple(nals) == params.parameter_sets and length_size == 4
        assert from_extradata(codec, params.annexb_extradata) == (list(params.parameter_sets), None)


def test_a_truncated_configuration_record_is_invalid() -> None:
    params = configuration("h264", "libx264", 320, 240)
    record = avc_configuration(params, params.sequence())
    with pytest.raises(InvalidMedia):
        from_extradata("h264", record[:12])


def test_annexb_and_length_prefixed_framing() -> None:
    nals = [b"\x67\x01\x02", b"\x68\x03", b"\x65\x00\x00\x03\x01"]
    stream = (
        b"\x00\x00\x01" + nals[0] + b"\x00\x00\x00\x00\x01" + nals[1] + b"\x00\x00\x01" + nals[2] + b"\x00"
    )
    assert split_annexb(stream) == nals  # zero bytes between NAL units are not payload
    assert split_annexb(join_annexb(nals[:2])) == nals[:2]
    prefixed = b"".join(len(nal).to_bytes(4, "big") + nal for nal in nals)
    assert split_length_prefixed(prefixed, 4) == nals
    with pytest.raises(InvalidMedia):
        split_length_prefixed(prefixed[:-1], 4)


def test_merging_parameter_sets_replaces_only_the_types_given() -> None:
    current = (b"\x67old-sps", b"\x68old-pps")
    assert merge_parameter_sets("h264", current, [b"\x67new-sps"]) == (b"\x67new-sps", b"\x68old-pps")


def test_streams_without_an_sps_or_with_a_foreign_codec_are_refused() -> None:
    with pytest.raises(InvalidMedia):
        video_parameters("h264", [b"\x68\xce\x3c\x80"])
    with pytest.raises(UnsupportedMedia):
        video_parameters("mpeg4", [b"\x00"])
    with pytest.raises(InvalidMedia):
        video_parameters("h264", [b"\x67\x42"])  # an SPS cut short


def _h264_sps(width_mbs: int, height_mbs: int) -> bytes:
    """A baseline SPS for a picture of whole macroblocks, emulation prevention included."""
    bits = "01000010" + "11000000" + "00011111"  # profile 66, constraints, level 3.1

    def ue(value: int) -> str:
        code = bin(value + 1)[2:]
        return "0" * (len(code) - 1) + code

    bits += ue(0) + ue(0) + ue(2) + ue(1) + "0" + ue(width_mbs - 1) + ue(height_mbs - 1) + "1" + "1" + "0"
    bits += "0" + "1"  # no VUI, then the RBSP stop bit
    bits += "0" * (-len(bits) % 8)
    payload = int(bits, 2).to_bytes(len(bits) // 8, "big")
    return b"\x67" + payload.replace(b"\x00\x00", b"\x00\x00\x03")


def test_a_picture_above_8192_pixels_is_refused() -> None:
    assert video_parameters("h264", [_h264_sps(512, 9)]).width == 8192
    with pytest.raises(UnsupportedMedia, match=r"8208x144"):
        video_parameters("h264", [_h264_sps(513, 9)])


def test_aac_configuration() -> None:
    params = audio_parameters("aac", b"\x11\x88", 48_000, 1)
    assert params.codec_string == "mp4a.40.2"
    with pytest.raises(UnsupportedMedia):
        audio_parameters("opus", b"", 48_000, 2)
